"""The context every operator-scoped hook receives."""

from __future__ import annotations

import enum
from datetime import date

import msgspec


class Role(enum.StrEnum):
    BENEFICIARY = "beneficiary"
    COUNSELLOR = "counsellor"
    MANAGER = "manager"
    ADMIN = "admin"
    SYSTEM = "system"


class OperatorContext(msgspec.Struct, frozen=True, kw_only=True):
    """Who is acting, for which operator, on which day.

    `operator` scopes the call: only that operator's plugin (plus capability and policy
    plugins) sees it. `today` is passed in rather than read from the clock so rules stay pure
    and tests can travel in time.
    """

    operator: str
    today: date
    actor: str | None = None
    role: Role = Role.SYSTEM

"""What every page controller needs: the form, its errors, the signed-in user, a blocking call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import anyio.to_thread
import msgspec
from litestar import Request

from cep_core.domain.accounts import StaffUser
from cep_core.domain.context import Role
from cep_core.kit import Kit
from cep_core.web.sessions import CSRF_FIELD, require_staff, signed_in

T = TypeVar("T")

# Page forms are small; a field longer than this is an error, not data (SEC-05).
MAX_FIELD_LENGTH = 10_000
STAFF_ROLES = (Role.COUNSELLOR, Role.MANAGER)


class FormError(msgspec.Struct, frozen=True, kw_only=True):
    """One error shown in the summary at the top and next to its field (``field`` = its id)."""

    message: str
    field: str | None = None


class FormData:
    """A submitted form, as plain strings (the CSRF field removed), bounded in size."""

    def __init__(self, values: dict[str, list[str]]) -> None:
        self._values = values

    def get(self, name: str, default: str = "") -> str:
        found = self._values.get(name)
        return found[0].strip() if found else default

    def get_all(self, name: str) -> list[str]:
        return [value.strip() for value in self._values.get(name, [])]

    def has(self, name: str) -> bool:
        return name in self._values

    def as_dict(self) -> dict[str, str]:
        return {name: values[0] for name, values in self._values.items() if values}


async def read_form(request: Request[Any, Any, Any]) -> FormData:
    form = await request.form()
    values: dict[str, list[str]] = {}
    for name, value in form.multi_items():
        if name == CSRF_FIELD or not isinstance(value, str):
            continue
        values.setdefault(name[:200], []).append(value[:MAX_FIELD_LENGTH])
    return FormData(values)


async def blocking(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a synchronous service call (database, hashing) off the event loop."""
    return await anyio.to_thread.run_sync(lambda: function(*args, **kwargs))


async def current_staff(request: Request[Any, Any, Any], kit: Kit, *roles: Role) -> StaffUser:
    """The signed-in staff member (redirect to sign in otherwise), restricted to `roles`."""
    return require_staff(await signed_in(request, kit), *roles)


async def operator_staff(request: Request[Any, Any, Any], kit: Kit) -> tuple[StaffUser, str]:
    """A counsellor or manager and their operator: the tenant every query is filtered by."""
    user = await current_staff(request, kit, *STAFF_ROLES)
    assert user.operator is not None  # the schema requires it for these roles
    return user, user.operator

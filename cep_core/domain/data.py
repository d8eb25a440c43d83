"""Data-protection vocabulary: who may receive data, how long it is kept, who may act."""

from __future__ import annotations

import enum

import msgspec


class DataRecipient(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    legal_basis: str
    purpose: str
    requires_consent: bool = False


class RetentionPhase(enum.StrEnum):
    ACTIVE = "active"
    ARCHIVE = "archive"


class RetentionRule(msgspec.Struct, frozen=True, kw_only=True):
    """Keep `what` for `days` after the last contact in `phase`, then move on or erase."""

    operator: str | None  # None: every operator
    what: str
    phase: RetentionPhase
    days: int
    then: str  # "archive", "anonymise" or "delete"


class Permission(msgspec.Struct, frozen=True, kw_only=True):
    action: str  # e.g. "case.read", "case.export", "health.read"
    resource: str  # e.g. "case", "beneficiary", "synthesis"
    resource_id: str | None = None

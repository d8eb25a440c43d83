"""Funding vocabulary: amounts are integer cents, never floats."""

from __future__ import annotations

import enum
from datetime import date

import msgspec

Cents = int


class FunderKind(enum.StrEnum):
    CPF = "cpf"
    EMPLOYER = "employer"
    OPCO = "opco"
    FRANCE_TRAVAIL = "france_travail"
    REGION = "region"
    TRANSITIONS_PRO = "transitions_pro"
    AGEFIPH = "agefiph"
    HOLDER = "holder"
    OTHER = "other"


class FundingStatus(enum.StrEnum):
    PLANNED = "planned"
    REQUESTED = "requested"
    GRANTED = "granted"
    TACITLY_GRANTED = "tacitly_granted"
    REFUSED = "refused"


class Project(msgspec.Struct, frozen=True, kw_only=True):
    """The training or service the person wants funded."""

    objective: str
    price: Cents
    start_date: date | None = None
    certification_code: str | None = None  # RNCP/RS code, or a CPF exception kind
    provider_qualiopi: bool | None = None


class FundingOption(msgspec.Struct, frozen=True, kw_only=True):
    funder: FunderKind
    label: str
    max_amount: Cents | None
    rule: str  # reference of the rule and its source
    conditions: tuple[str, ...] = ()


class FundingLine(msgspec.Struct, frozen=True, kw_only=True):
    funder: FunderKind
    label: str
    amount: Cents
    status: FundingStatus = FundingStatus.PLANNED
    rule: str | None = None


class FundingPlan(msgspec.Struct, frozen=True, kw_only=True):
    total_cost: Cents
    lines: tuple[FundingLine, ...]
    cpf_participation: Cents = 0
    remaining: Cents = 0  # reste à charge, never negative


class FundingRequest(msgspec.Struct, frozen=True, kw_only=True):
    project: Project
    options: tuple[FundingOption, ...]
    cpf_balance: Cents | None = None
    purchase_date: date | None = None

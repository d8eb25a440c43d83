"""Funding vocabulary: what is to be paid, by whom, under which rule. Amounts are cents.

The Structs here are data only (the rules are in `cep_core.domain.rules`); they are
JSON-serialisable so a `FundingPlan` can be stored with its case and sent over the API.

- `Project`: the training or service to fund (teaching price, hours, kind, code, dates).
- `FundingSituation`: the career facts funding needs, which orientation's `Situation` does
  not hold (contract, months salaried, CPF balance, employer top-up, qualification...).
- `FundingOption`: what a funder offers, contributed by plugins through
  ``cep_funding_options``: conditions, documents, amount or ceiling, and how it is applied.
- `FundingRequest` -> `build_plan` -> `FundingPlan`: one line per funder, the CPF
  participation with its payer, and the reste à charge.

Funder ids are stable lowercase words (``cpf``, ``employer``, ``opco``, ``region``,
``france_travail``, ``transitions_pro``, ``agefiph``, ``fiphfp``...): `FunderKind` names the
ones the kit knows, and a plugin may add its own id.
"""

from __future__ import annotations

import enum
from datetime import date
from typing import Annotated

import msgspec

from cep_core.domain.money import Cents
from cep_core.domain.situation import Status

__all__ = [
    "CddKind",
    "Cents",
    "ContractKind",
    "CostKind",
    "FunderDecision",
    "FunderKind",
    "FundingLine",
    "FundingOption",
    "FundingPlan",
    "FundingRequest",
    "FundingSituation",
    "FundingStatus",
    "ParticipationLine",
    "ParticipationPayer",
    "Project",
    "PtpVerdict",
    "TrainingKind",
    "Verdict",
]

FunderId = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{1,39}$", max_length=40)]


class FunderKind(enum.StrEnum):
    CPF = "cpf"
    EMPLOYER = "employer"
    OPCO = "opco"
    REGION = "region"
    FRANCE_TRAVAIL = "france_travail"
    TRANSITIONS_PRO = "transitions_pro"
    AGEFIPH = "agefiph"
    FIPHFP = "fiphfp"
    HOLDER = "holder"
    OTHER = "other"


class FundingStatus(enum.StrEnum):
    REQUESTED = "requested"
    GRANTED = "granted"
    TACITLY_GRANTED = "tacitly_granted"
    REFUSED = "refused"


class CostKind(enum.StrEnum):
    """The parts of the total cost; each funder says which parts it may pay."""

    TEACHING = "teaching"  # coût pédagogique (the price of the training)
    PAY = "pay"  # pay during a PTP
    OTHER = "other"  # ancillary costs: transport, meals, lodging (outside the CPF)


class TrainingKind(enum.StrEnum):
    CERTIFICATION = "certification"  # RNCP or RS
    BILAN = "bilan"  # bilan de compétences
    VAE = "vae"
    PERMIS = "permis"  # driving licence
    CREATION = "creation"  # business creation or takeover
    OTHER = "other"


class ContractKind(enum.StrEnum):
    CDI = "cdi"
    CDD = "cdd"


class CddKind(enum.StrEnum):
    """Fixed-term contracts; all but ``standard`` are excluded from the PTP's CDD condition."""

    STANDARD = "standard"
    APPRENTICESHIP = "apprenticeship"
    PROFESSIONALISATION = "professionalisation"
    CAE_PEC = "cae_pec"
    STUDENT = "student"
    CDD_TO_CDI = "cdd_to_cdi"


class ParticipationPayer(enum.StrEnum):
    """Who pays the CPF participation; ``none`` when there is nothing to pay (exemption)."""

    HOLDER = "holder"
    EMPLOYER = "employer"
    OPCO = "opco"
    TRAINING_BODY = "training_body"  # never allowed: a plan with it is refused
    NONE = "none"


class PayerChoice(enum.StrEnum):
    """Who a request may name to pay the CPF participation: a training body never may, and
    ``none`` is the plan's verdict (an exemption), not a choice. Input fields use this, so
    the API's schema offers only what it accepts."""

    HOLDER = "holder"
    EMPLOYER = "employer"
    OPCO = "opco"


class Project(msgspec.Struct, frozen=True, kw_only=True):
    """The training or service to fund. ``price`` is the teaching cost, all taxes included."""

    kind: TrainingKind
    price: Cents
    title: str = ""
    hours: int | None = None
    start_date: date | None = None
    end_date: date | None = None
    certification_code: str | None = None  # RNCP or RS code
    provider_qualiopi: bool | None = None  # None: not checked yet
    other_costs: Cents = 0  # transport, meals, lodging: outside the CPF
    ptp: bool = False  # carried out as a projet de transition professionnelle
    part_time: bool = False  # part-time or discontinuous training (PTP notice period)
    vae_applications_this_year: int = 0  # earlier VAE applications, same certification, year


class FundingSituation(msgspec.Struct, frozen=True, kw_only=True):
    """The career facts the funding rules read; orientation's `Situation` does not hold them.

    Durations are whole months as the person states them; the rules take them at face value
    and say so when they look inconsistent.
    """

    status: Status
    disability_recognition: bool = False  # BOETH (RQTH or equivalent): health data
    registered_jobseeker: bool = False
    region: str | None = None
    cpf_balance: Cents | None = None  # None: not given (counted as 0, with a warning)
    employer_topup: Cents = 0  # employer top-up (abondement) on this purchase
    low_qualified: bool = False  # declared: no certification at level 3 or above
    working_time_percent: int = 100  # share of the legal working time over the year
    activity_months_this_year: int = 12  # self-employed: months of activity this year
    contract: ContractKind | None = None
    cdd_kind: CddKind | None = None
    cdd_end_date: date | None = None
    months_salaried_total: int = 0
    months_current_employer: int = 0
    months_salaried_last_60: int = 0
    months_cdd_last_12: int = 0
    reemployed_after_dismissal: bool = False  # economic or unfitness, no training in between
    occupational_disease_absence: bool = False  # in the 24 months before the request
    absence_months_last_24: int = 0  # accident or illness
    reference_monthly_salary: Cents | None = None  # PTP pay estimate
    days_worked_last_60_months: int | None = None  # démission-reconversion
    c2p_points_used: bool = False
    atmp_reconversion_topup: bool = False  # AT/MP top-up (IPP >= 10 %)
    employer_headcount: int | None = None
    professional_reviews_held: bool | None = None  # all entretiens professionnels (6 years)
    non_compulsory_training: bool | None = None  # at least one in 6 years

    @property
    def is_jobseeker(self) -> bool:
        return self.status == Status.JOBSEEKER or self.registered_jobseeker

    @property
    def is_salaried(self) -> bool:
        return self.status in (Status.EMPLOYEE, Status.APPRENTICE)


class FundingOption(msgspec.Struct, frozen=True, kw_only=True):
    """What one funder offers for a project: conditions, documents, amount, and how it applies.

    How `build_plan` uses it: an option with a known ``amount`` contributes that amount (capped
    by ``max_amount`` and by what is left); an option that ``covers_gap`` pays what is left,
    up to ``max_amount``; any other option is listed but contributes nothing until someone
    gives its amount (a decision). Known amounts are applied before gap-fillers, each group
    in ``order`` then funder id.
    """

    funder: str
    label: str
    rule: str  # the rule it relies on, with its source
    conditions: tuple[str, ...] = ()
    documents: tuple[str, ...] = ()
    amount: Cents | None = None
    min_amount: Cents | None = None
    max_amount: Cents | None = None
    covers_gap: bool = False
    covers: tuple[CostKind, ...] = (CostKind.TEACHING,)
    public_money: bool = True  # public or mutualised money: Qualiopi required
    exempts_participation: bool = False
    status: FundingStatus = FundingStatus.REQUESTED
    order: int = 100
    request_working_days_before_start: int | None = None
    answer_working_days: int | None = None  # silence after this many working days = yes
    operator: str | None = None  # the plugin that offered it (None: the core)
    notes: tuple[str, ...] = ()  # caveats shown as warnings when the option is used


class FunderDecision(msgspec.Struct, frozen=True, kw_only=True):
    """What is known of one funder's answer: amount and status (from the counsellor or input)."""

    funder: str
    status: FundingStatus = FundingStatus.REQUESTED
    amount: Cents | None = None
    requested_on: date | None = None


class FundingRequest(msgspec.Struct, frozen=True, kw_only=True):
    """Everything `build_plan` needs; it reads no clock and no file."""

    project: Project
    situation: FundingSituation
    purchase_date: date  # the CPF purchase (or funding request) date
    options: tuple[FundingOption, ...] = ()
    decisions: tuple[FunderDecision, ...] = ()
    participation_payer: ParticipationPayer = ParticipationPayer.HOLDER
    as_of: date | None = None  # today, for tacit acceptances; defaults to purchase_date


class FundingLine(msgspec.Struct, frozen=True, kw_only=True):
    funder: str
    label: str
    amount: Cents
    status: FundingStatus = FundingStatus.REQUESTED
    rule: str | None = None
    ceiling: Cents | None = None  # the most this funder may pay here (None: not stated)
    covers: tuple[CostKind, ...] = (CostKind.TEACHING,)
    public_money: bool = True
    request_deadline: date | None = None  # ask no later than this date


class ParticipationLine(msgspec.Struct, frozen=True, kw_only=True):
    """The CPF participation: part of the price, paid by ``payer`` (``none`` when exempt)."""

    amount: Cents
    payer: ParticipationPayer
    flat_amount: Cents = 0  # the amount in force on the purchase date, before min(·, price)
    exemptions: tuple[str, ...] = ()
    rule: str = ""


class Verdict(msgspec.Struct, frozen=True, kw_only=True):
    """One rule's answer: ``eligible`` says whether the rule's condition holds (for the
    participation: whether it is due; for the abondement correctif: whether it is owed), and
    is None when the facts given cannot settle it. ``uncertain`` flags a rule whose sources
    disagree (the démission-reconversion seniority)."""

    rule: str
    label: str
    eligible: bool | None
    reasons: tuple[str, ...]
    uncertain: bool = False
    amount: Cents | None = None
    ceiling: Cents | None = None


class PtpVerdict(msgspec.Struct, frozen=True, kw_only=True):
    eligible: bool
    reasons: tuple[str, ...]
    seniority_waived: bool = False
    leave_request_deadline: date | None = None
    employer_answer_days: int | None = None
    pay_estimate: Cents | None = None
    monthly_pay: Cents | None = None
    months: int | None = None


class FundingPlan(msgspec.Struct, frozen=True, kw_only=True):
    """The plan de financement: total, one line per funder, participation, reste à charge.

    ``total_cost = teaching + pay + other``; ``sum(line.amount) + remaining == total_cost``;
    ``remaining`` (what the beneficiary pays, the participation included when they pay it) is
    never negative. A participation paid by the employer or the OPCO is one of the lines.
    """

    total_cost: Cents
    lines: tuple[FundingLine, ...]
    participation: ParticipationLine
    remaining: Cents
    teaching_cost: Cents = 0
    pay_cost: Cents = 0
    other_costs: Cents = 0
    project: Project | None = None
    situation: FundingSituation | None = None
    purchase_date: date | None = None
    ptp: PtpVerdict | None = None
    verdicts: tuple[Verdict, ...] = ()
    warnings: tuple[str, ...] = ()
    options: tuple[FundingOption, ...] = ()

    @property
    def funded(self) -> Cents:
        return sum(line.amount for line in self.lines)

    @property
    def cpf_participation(self) -> Cents:
        return self.participation.amount

    def line(self, funder: str) -> FundingLine | None:
        return next((line for line in self.lines if line.funder == funder), None)

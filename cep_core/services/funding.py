"""Funding use cases: the stateless simulator, and the plan of a case's action plan.

Both call the same pure `build_plan`, so for the same project, facts and options they give
the same figures (the simulator is the case plan without a case).

**Simulator semantics** (``POST /api/v1/funding/simulate``, ``cep funding simulate``):

- Amounts are euros (JSON numbers) outside and cents inside; the boundary rounds half up to
  the cent (see `cep_core.domain.money`) and refuses negative, non-finite and > 1,000,000 €
  amounts with a 400 naming the field.
- ``purchase_date`` (default: today in France) is the date every parameter is read at: the
  participation in force, the Qualiopi obligation, the PTP rules. A date before the CPF in
  euros (2019-01-01), a training that starts before the purchase, or that ends before it
  starts, is refused (400).
- Funders are applied in a fixed order — CPF (at most the balance and the price minus the
  participation), then known amounts (the employer's top-up as given, amounts given in
  ``funders``), then gap-fillers (France Travail's top-up for a job seeker, capped by a dated
  parameter; Transitions Pro for an eligible PTP) — see `cep_core.domain.rules.plan`.
  Funders whose amount is unknown (OPCO, Région, Agefiph, FIPHFP...) are listed in
  ``options`` and named in ``warnings`` but count 0 until ``funders`` gives an amount.
- ``participation_payer`` is ``holder``, ``employer`` or ``opco``, and ``none`` when nothing
  is due (exemption, CPF not used, price 0). The query may name only the first three
  (`PayerChoice`): ``training_body`` is refused (400), a training body may not pay it.
- ``remaining_eur`` is what the beneficiary pays, the participation included when they pay
  it; ``sum(lines) + remaining == total``. A participation paid by the employer or the OPCO
  is one of the lines.
- Plugin funders: there is no case and no operator, so the simulator asks EVERY installed
  operator plugin (each call scoped to that operator, through the `Hooks` facade) and keeps
  what they return — each plugin returns only the options that apply to the situation
  (France Travail's top-up for a job seeker, Agefiph for a disabled person...). Funding
  depends on the person, not on which operator gives the CEP. One option per funder: the
  core's first, then the operators' in id order. An operator whose plugin fails is left out
  and a warning says so.
- The plan's checks (`check_plan`) become ``warnings``: a simulation is advice, not a
  decision (a deadline already passed, a provider's Qualiopi status to verify...).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

import msgspec

from cep_core.domain.context import OperatorContext
from cep_core.domain.funding import (
    CddKind,
    ContractKind,
    FunderDecision,
    FunderKind,
    FundingOption,
    FundingPlan,
    FundingRequest,
    FundingSituation,
    FundingStatus,
    ParticipationPayer,
    PayerChoice,
    Project,
    PtpVerdict,
    TrainingKind,
    Verdict,
)
from cep_core.domain.issues import InvalidInput, Issue
from cep_core.domain.money import MAX_INPUT_EUROS, Cents, MoneyError, cents_to_euros, euros_to_cents
from cep_core.domain.parameters import ParameterError
from cep_core.domain.rules import (
    FundingParameters,
    build_plan,
    check_plan,
    funding_parameters,
)
from cep_core.domain.situation import Status
from cep_core.errors import PluginFailure
from cep_core.plugins import Hooks

PLUGIN_ID = "core.funding"

Euros = Annotated[
    float,
    msgspec.Meta(
        ge=0,
        le=MAX_INPUT_EUROS,
        description="Montant en euros (nombre, deux décimales au plus : au-delà, arrondi au "
        "centime le plus proche, la moitié vers le haut), de 0 à 1 000 000.",
    ),
]
Months = Annotated[int, msgspec.Meta(ge=0, le=900)]
FunderId = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[a-z][a-z0-9_]{1,39}$",
        max_length=40,
        description="Identifiant stable du financeur (opco, region, agefiph, departement...).",
    ),
]
CertificationCode = Annotated[
    str,
    msgspec.Meta(
        max_length=40,
        description="Code RNCP ou RS de la certification (ex. RNCP34828, RS5635).",
    ),
]


class TrainingQuery(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The action to fund."""

    cost_eur: Annotated[Euros, msgspec.Meta(title="Prix de l'action (frais pédagogiques, TTC)")]
    kind: TrainingKind  # certification (RNCP/RS), bilan, vae, permis, creation, other
    hours: Annotated[int, msgspec.Meta(ge=0, le=10_000, title="Durée en heures")] | None = None
    certification_code: CertificationCode | None = None
    qualiopi: Annotated[bool, msgspec.Meta(title="Organisme certifié Qualiopi")] | None = None
    start_date: Annotated[date, msgspec.Meta(title="Date de début")] | None = None
    end_date: Annotated[date, msgspec.Meta(title="Date de fin")] | None = None
    other_costs_eur: Annotated[
        Euros, msgspec.Meta(title="Frais annexes (transport, repas, hébergement)")
    ] = 0
    title: Annotated[str, msgspec.Meta(max_length=200, title="Intitulé")] = ""
    ptp: Annotated[
        bool, msgspec.Meta(title="Action envisagée en projet de transition professionnelle")
    ] = False
    part_time: Annotated[bool, msgspec.Meta(title="Formation à temps partiel")] = False
    vae_applications_this_year: Annotated[
        int,
        msgspec.Meta(
            ge=0,
            le=20,
            title="Demandes de VAE déjà déposées cette année pour la même certification",
        ),
    ] = 0


class CareerFacts(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The career and account facts funding reads, beyond what orientation needs: shared by
    the simulator's ``situation`` and a case's funding request, so both accept the same."""

    cpf_balance_eur: Annotated[Euros, msgspec.Meta(title="Solde du CPF")] | None = None
    employer_topup_eur: Annotated[Euros, msgspec.Meta(title="Abondement de l'employeur")] = 0
    contract: ContractKind | None = None
    cdd_kind: CddKind | None = None  # excluded CDDs do not open the PTP
    cdd_end_date: date | None = None
    months_salaried_total: Months = 0
    months_current_employer: Months = 0
    months_salaried_last_60: Annotated[int, msgspec.Meta(ge=0, le=60)] = 0
    months_cdd_last_12: Annotated[int, msgspec.Meta(ge=0, le=12)] = 0
    low_qualified: bool = False
    working_time_percent: Annotated[int, msgspec.Meta(ge=0, le=100)] = 100
    activity_months_this_year: Annotated[int, msgspec.Meta(ge=0, le=12)] = 12
    reference_monthly_salary_eur: Euros | None = None
    reemployed_after_dismissal: bool = False
    occupational_disease_absence: bool = False
    absence_months_last_24: Annotated[int, msgspec.Meta(ge=0, le=24)] = 0
    days_worked_last_60_months: Annotated[int, msgspec.Meta(ge=0, le=1830)] | None = None
    c2p_points_used: bool = False
    atmp_reconversion_topup: bool = False
    employer_headcount: Annotated[int, msgspec.Meta(ge=0, le=10_000_000)] | None = None
    professional_reviews_held: bool | None = None
    non_compulsory_training: bool | None = None


class SituationQuery(CareerFacts, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The person's facts that funding reads (more than orientation needs)."""

    status: Status  # the same values as in /api/v1/orientation
    disability_recognition: bool = False
    registered_jobseeker: bool = False
    region: Annotated[str, msgspec.Meta(max_length=3)] | None = None


class FunderQuery(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A funder's known answer: amount granted or asked, status, date of the request."""

    funder: FunderId
    amount_eur: Euros | None = None
    status: FundingStatus = FundingStatus.REQUESTED
    requested_on: date | None = None


class SimulationQuery(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``POST /api/v1/funding/simulate`` and ``cep funding simulate``."""

    training: TrainingQuery
    situation: SituationQuery
    purchase_date: date | None = None
    participation_payer: PayerChoice = PayerChoice.HOLDER
    funders: Annotated[list[FunderQuery], msgspec.Meta(max_length=20)] = []


# --- the answer (the public contract of the API and the CLI) ---------------------------------


class LineOut(msgspec.Struct, frozen=True, kw_only=True):
    funder: str
    label: str
    amount_eur: float
    status: str
    rule: str | None
    ceiling_eur: float | None


class PtpOut(msgspec.Struct, frozen=True, kw_only=True):
    eligible: bool
    reasons: list[str]
    seniority_waived: bool
    leave_request_deadline: date | None
    employer_answer_days: int | None
    pay_estimate_eur: float | None
    monthly_pay_eur: float | None
    months: int | None


class OptionOut(msgspec.Struct, frozen=True, kw_only=True):
    funder: str
    label: str
    rule: str
    conditions: list[str]
    documents: list[str]
    amount_eur: float | None
    min_eur: float | None
    max_eur: float | None
    operator: str | None


class VerdictOut(msgspec.Struct, frozen=True, kw_only=True):
    rule: str
    label: str
    eligible: bool | None
    reasons: list[str]
    uncertain: bool
    amount_eur: float | None
    ceiling_eur: float | None


class CostsOut(msgspec.Struct, frozen=True, kw_only=True):
    teaching_eur: float
    pay_eur: float
    other_eur: float


class SimulationAnswer(msgspec.Struct, frozen=True, kw_only=True):
    """The simulated plan. Field names are the public contract: add fields, rename none."""

    purchase_date: date
    total_eur: float
    costs: CostsOut
    lines: list[LineOut]
    participation_eur: float
    participation_payer: str
    funded_eur: float
    remaining_eur: float
    ptp: PtpOut
    verdicts: list[VerdictOut]
    options: list[OptionOut]
    warnings: list[str]

    @classmethod
    def from_plan(cls, plan: FundingPlan, warnings: list[str]) -> SimulationAnswer:
        assert plan.purchase_date is not None and plan.ptp is not None
        return cls(
            purchase_date=plan.purchase_date,
            total_eur=cents_to_euros(plan.total_cost),
            costs=CostsOut(
                teaching_eur=cents_to_euros(plan.teaching_cost),
                pay_eur=cents_to_euros(plan.pay_cost),
                other_eur=cents_to_euros(plan.other_costs),
            ),
            lines=[
                LineOut(
                    funder=str(line.funder),
                    label=line.label,
                    amount_eur=cents_to_euros(line.amount),
                    status=str(line.status),
                    rule=line.rule,
                    ceiling_eur=_euros(line.ceiling),
                )
                for line in plan.lines
            ],
            participation_eur=cents_to_euros(plan.participation.amount),
            participation_payer=str(plan.participation.payer),
            funded_eur=cents_to_euros(plan.funded),
            remaining_eur=cents_to_euros(plan.remaining),
            ptp=_ptp_out(plan.ptp),
            verdicts=[_verdict_out(v) for v in plan.verdicts],
            options=[_option_out(o) for o in plan.options],
            warnings=warnings,
        )


def _euros(cents: Cents | None) -> float | None:
    return None if cents is None else cents_to_euros(cents)


def _ptp_out(ptp: PtpVerdict) -> PtpOut:
    return PtpOut(
        eligible=ptp.eligible,
        reasons=list(ptp.reasons),
        seniority_waived=ptp.seniority_waived,
        leave_request_deadline=ptp.leave_request_deadline,
        employer_answer_days=ptp.employer_answer_days,
        pay_estimate_eur=_euros(ptp.pay_estimate),
        monthly_pay_eur=_euros(ptp.monthly_pay),
        months=ptp.months,
    )


def _verdict_out(verdict: Verdict) -> VerdictOut:
    return VerdictOut(
        rule=verdict.rule,
        label=verdict.label,
        eligible=verdict.eligible,
        reasons=list(verdict.reasons),
        uncertain=verdict.uncertain,
        amount_eur=_euros(verdict.amount),
        ceiling_eur=_euros(verdict.ceiling),
    )


def _option_out(option: FundingOption) -> OptionOut:
    return OptionOut(
        funder=str(option.funder),
        label=option.label,
        rule=option.rule,
        conditions=list(option.conditions),
        documents=list(option.documents),
        amount_eur=_euros(option.amount),
        min_eur=_euros(option.min_amount),
        max_eur=_euros(option.max_amount),
        operator=option.operator,
    )


# --- from the query to the domain ----------------------------------------------------------


def _cents(value: float | None, path: str, issues: list[Issue]) -> Cents | None:
    if value is None:
        return None
    try:
        return euros_to_cents(value)
    except MoneyError as exc:
        issues.append(Issue(path=path, code="invalid_amount", message=f"Montant invalide : {exc}."))
        return None


class SimulationInput(msgspec.Struct, frozen=True, kw_only=True):
    """A query turned into domain values (cents, dates), after every check."""

    project: Project
    situation: FundingSituation
    purchase_date: date
    decisions: tuple[FunderDecision, ...]
    participation_payer: ParticipationPayer


def to_domain(query: SimulationQuery, today: date, params: FundingParameters) -> SimulationInput:
    """Check what the Struct's bounds cannot (dates, payers, funders) and convert to cents.

    Raises `InvalidInput` with every problem, each with its field path.
    """
    issues: list[Issue] = []
    purchase = query.purchase_date or today
    training, facts = query.training, query.situation
    first = params.first_date("cpf.participation.amount")
    if purchase < first:
        issues.append(
            Issue(
                path="purchase_date",
                code="before_cpf_euros",
                message="La date d'achat ne peut pas précéder le "
                f"{first.strftime('%d/%m/%Y')} : le CPF n'est en euros que depuis cette date.",
            )
        )
    if training.start_date is not None and training.start_date < purchase:
        issues.append(
            Issue(
                path="training.start_date",
                code="before_purchase",
                message="La formation ne peut pas commencer avant la date d'achat "
                f"({purchase.strftime('%d/%m/%Y')}).",
            )
        )
    if training.end_date is not None:
        if training.start_date is None:
            issues.append(
                Issue(
                    path="training.start_date",
                    code="missing_field",
                    message="Indiquez la date de début quand vous donnez la date de fin.",
                )
            )
        elif training.end_date < training.start_date:
            issues.append(
                Issue(
                    path="training.end_date",
                    code="before_start",
                    message="La date de fin ne peut pas précéder la date de début.",
                )
            )
    seen: set[str] = set()
    for index, funder in enumerate(query.funders):
        path = f"funders[{index}].funder"
        if funder.funder in (FunderKind.CPF, FunderKind.HOLDER):
            issues.append(
                Issue(
                    path=path,
                    code="computed_funder",
                    message="Le CPF et le titulaire sont calculés par le simulateur : donnez "
                    "le solde dans situation.cpf_balance_eur.",
                )
            )
        elif funder.funder == FunderKind.EMPLOYER:
            issues.append(
                Issue(
                    path=path,
                    code="use_employer_topup",
                    message="Donnez l'abondement de l'employeur dans situation.employer_topup_eur.",
                )
            )
        elif funder.funder in seen:
            issues.append(
                Issue(path=path, code="duplicate", message="Ce financeur est déjà indiqué.")
            )
        seen.add(funder.funder)
    price = _cents(training.cost_eur, "training.cost_eur", issues)
    other = _cents(training.other_costs_eur, "training.other_costs_eur", issues)
    balance = _cents(facts.cpf_balance_eur, "situation.cpf_balance_eur", issues)
    topup = _cents(facts.employer_topup_eur, "situation.employer_topup_eur", issues)
    salary = _cents(
        facts.reference_monthly_salary_eur, "situation.reference_monthly_salary_eur", issues
    )
    decisions = tuple(
        FunderDecision(
            funder=f.funder,
            status=f.status,
            amount=_cents(f.amount_eur, f"funders[{i}].amount_eur", issues),
            requested_on=f.requested_on,
        )
        for i, f in enumerate(query.funders)
    )
    if issues:
        raise InvalidInput(issues)
    project = Project(
        kind=training.kind,
        price=price or 0,
        title=training.title,
        hours=training.hours,
        start_date=training.start_date,
        end_date=training.end_date,
        certification_code=training.certification_code,
        provider_qualiopi=training.qualiopi,
        other_costs=other or 0,
        ptp=training.ptp,
        part_time=training.part_time,
        vae_applications_this_year=training.vae_applications_this_year,
    )
    situation = FundingSituation(
        status=facts.status,
        disability_recognition=facts.disability_recognition,
        registered_jobseeker=facts.registered_jobseeker,
        region=facts.region,
        cpf_balance=balance,
        employer_topup=topup or 0,
        low_qualified=facts.low_qualified,
        working_time_percent=facts.working_time_percent,
        activity_months_this_year=facts.activity_months_this_year,
        contract=facts.contract,
        cdd_kind=facts.cdd_kind,
        cdd_end_date=facts.cdd_end_date,
        months_salaried_total=facts.months_salaried_total,
        months_current_employer=facts.months_current_employer,
        months_salaried_last_60=facts.months_salaried_last_60,
        months_cdd_last_12=facts.months_cdd_last_12,
        reemployed_after_dismissal=facts.reemployed_after_dismissal,
        occupational_disease_absence=facts.occupational_disease_absence,
        absence_months_last_24=facts.absence_months_last_24,
        reference_monthly_salary=salary,
        days_worked_last_60_months=facts.days_worked_last_60_months,
        c2p_points_used=facts.c2p_points_used,
        atmp_reconversion_topup=facts.atmp_reconversion_topup,
        employer_headcount=facts.employer_headcount,
        professional_reviews_held=facts.professional_reviews_held,
        non_compulsory_training=facts.non_compulsory_training,
    )
    return SimulationInput(
        project=project,
        situation=situation,
        purchase_date=purchase,
        decisions=decisions,
        participation_payer=ParticipationPayer(query.participation_payer),
    )


def consistency_warnings(situation: FundingSituation) -> list[str]:
    """Durations that cannot all be true: the rules take them as given, and say so."""
    found = []
    if situation.months_current_employer > max(
        situation.months_salaried_total, situation.months_salaried_last_60
    ):
        found.append(
            "Durées incohérentes : l'ancienneté dans l'entreprise dépasse la durée totale de "
            "salariat indiquée."
        )
    if situation.months_cdd_last_12 > situation.months_salaried_last_60:
        found.append(
            "Durées incohérentes : les mois de CDD des 12 derniers mois dépassent les mois de "
            "salariat des 60 derniers mois."
        )
    return found


def dedupe_options(options: list[FundingOption]) -> tuple[FundingOption, ...]:
    """One option per funder; the first one wins (the core's, then operators by id)."""
    kept: dict[str, FundingOption] = {}
    for option in options:
        kept.setdefault(str(option.funder), option)
    return tuple(kept.values())


class Simulation(msgspec.Struct, frozen=True, kw_only=True):
    plan: FundingPlan
    warnings: tuple[str, ...]

    def answer(self) -> SimulationAnswer:
        return SimulationAnswer.from_plan(self.plan, list(self.warnings))


class FundingService:
    """Funding use cases over one kit's hooks; `parameters` default to the packaged file."""

    def __init__(self, hooks: Hooks, parameters: FundingParameters | None = None) -> None:
        self._hooks = hooks
        self._parameters = parameters

    @property
    def parameters(self) -> FundingParameters:
        try:
            return self._parameters or funding_parameters()
        except ParameterError as exc:  # a broken data file: the service is unavailable
            raise PluginFailure(PLUGIN_ID, "funding.toml", exc) from exc

    # -- the simulator ---------------------------------------------------------------------

    def simulate(self, query: SimulationQuery, today: date) -> Simulation:
        """Simulate the plan for `query`; raises `InvalidInput` (400) or `PluginFailure` (503)."""
        from cep_core.defaults.funding import core_options

        params = self.parameters
        given = to_domain(query, today, params)
        warnings = consistency_warnings(given.situation)
        try:
            options = core_options(given.project, given.situation, given.purchase_date, params)
        except ParameterError as exc:
            raise PluginFailure(PLUGIN_ID, "cep_funding_options", exc) from exc
        found, unavailable = self._options_of_every_operator(
            given.project, given.situation, given.purchase_date
        )
        options.extend(found)
        warnings.extend(
            f"Les financements proposés par le module « {plugin} » sont momentanément "
            "indisponibles : ils ne figurent pas dans ce plan."
            for plugin in unavailable
        )
        request = FundingRequest(
            project=given.project,
            situation=given.situation,
            purchase_date=given.purchase_date,
            options=dedupe_options(options),
            decisions=given.decisions,
            participation_payer=given.participation_payer,
            as_of=today,
        )
        try:
            plan = build_plan(request, params)
            issues = check_plan(plan, params)
        except ParameterError as exc:
            raise PluginFailure(PLUGIN_ID, "build_plan", exc) from exc
        all_warnings = [*plan.warnings, *warnings, *(issue.message for issue in issues)]
        return Simulation(plan=plan, warnings=tuple(dict.fromkeys(all_warnings)))

    def _options_of_every_operator(
        self,
        project: Project,
        situation: FundingSituation,
        when: date,
        *,
        already_asked: str | None = None,
    ) -> tuple[list[FundingOption], list[str]]:
        """Every installed operator's options, each asked on its own (scoped); the plugins that
        failed are returned by name instead of failing the whole plan. `already_asked` is an
        operator whose options the caller holds (a case's own), so it is not asked twice."""
        options: list[FundingOption] = []
        unavailable: list[str] = []
        for operator in self._hooks.operators():
            if operator.id == already_asked:
                continue
            ctx = OperatorContext(operator=operator.id, today=when)
            try:
                found = self._hooks.funding_options(ctx, project, situation)
            except PluginFailure as failure:
                unavailable.append(failure.plugin)
                continue
            options.extend(o for o in found if isinstance(o, FundingOption))
        return options, unavailable

    # -- a case's plan -----------------------------------------------------------------------

    def plan_for_case(
        self,
        ctx: OperatorContext,
        project: Project,
        situation: FundingSituation,
        *,
        purchase_date: date,
        decisions: tuple[FunderDecision, ...] = (),
        participation_payer: ParticipationPayer = ParticipationPayer.HOLDER,
    ) -> tuple[FundingPlan, list[Issue]]:
        """The plan of a case's action plan, through the operator's hooks, and its problems.

        Options come from the case's operator (and the core's default plugin) first, then from
        every other operator, as in the simulator: funding depends on the person, not on who
        gives the CEP (a job seeker followed by Cap emploi may still get France Travail's
        top-up), so the simulator and the case plan agree for the same input. The plan comes
        from ``cep_build_funding_plan`` (the default builder is `build_plan`), the problems
        from ``cep_check_funding_plan`` — a plan with problems must not be stored as agreed.
        """
        options = list(self._hooks.funding_options(ctx, project, situation))
        others, _unavailable = self._options_of_every_operator(
            project, situation, ctx.today, already_asked=ctx.operator
        )
        options.extend(others)
        request = FundingRequest(
            project=project,
            situation=situation,
            purchase_date=purchase_date,
            options=dedupe_options(options),
            decisions=decisions,
            participation_payer=participation_payer,
            as_of=ctx.today,
        )
        plan = self._hooks.build_funding_plan(ctx, request) or build_plan(request, self.parameters)
        return plan, self._hooks.check_funding_plan(ctx, plan)

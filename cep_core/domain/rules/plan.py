"""The funding plan: from a `FundingRequest` to a `FundingPlan`, and the plan's checks.

`build_plan` is pure (no clock, no file, no plugin): the simulator and the cases call this
same function, so they give the same figures for the same input.

How the plan is built, in this order:

1. **Costs.** ``total = teaching price + PTP pay + other costs``. PTP pay counts only when
   the project is a PTP the person is eligible to (and the salary and dates are known).
2. **CPF.** The CPF pays only for an eligible action (RNCP/RS code or a legal exception, a
   Qualiopi provider since 2022, a bilan's first 24 hours, one VAE application a year).
3. **Participation** (décret n° 2024-394): ``min(amount in force on the purchase date,
   eligible price)``, part of the price, not added to it; 0 — payer ``none`` — when exempt
   (job seeker; a top-up from the employer or under an OPCO/branch agreement, known and not
   refused; C2P points; AT/MP top-up; public agent; PTP) or when the CPF is not used.
4. **CPF line** = ``min(balance, eligible price − participation)``. Worked examples (€100
   era): price 1,000, balance ≥ 1,000 → CPF 900, holder 100; balance 950 → CPF 900, holder
   100; balance 500 → CPF 500, holder 500 (no extra 100); price 75 → CPF 0, holder 75.
5. **Other funders**, each drawing only on the cost parts it may pay (teaching, pay, other)
   and never on the participation, which only its payer pays: first the funders whose amount
   is known (employer top-up, amounts given by decisions), in ``order`` then id; then the
   gap-fillers (France Travail top-up, Transitions Pro for a PTP), up to their ceiling.
   Options whose amount is unknown (OPCO, Région, Agefiph...) contribute 0 and are named in
   the warnings. A refused decision contributes 0.
6. **Participation payer.** Paid by the employer or the OPCO, it is one of the lines; paid
   by the holder, it is in the reste à charge; a training body as payer is kept as a line so
   that `check_plan` refuses the plan.
7. **Reste à charge** = what no line pays = ``total − Σ lines`` ≥ 0 by construction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from cep_core.domain.funding import (
    CostKind,
    FunderDecision,
    FunderKind,
    FundingLine,
    FundingOption,
    FundingPlan,
    FundingRequest,
    FundingStatus,
    ParticipationPayer,
    TrainingKind,
    Verdict,
)
from cep_core.domain.issues import Issue
from cep_core.domain.money import Cents, format_euros
from cep_core.domain.rules.calendar import working_days_after, working_days_before
from cep_core.domain.rules.cpf import (
    cpf_annual_credit,
    cpf_use,
    credit_bases,
    is_certification_code,
    participation,
)
from cep_core.domain.rules.params import FundingParameters
from cep_core.domain.rules.ptp import ptp_eligibility
from cep_core.domain.rules.schemes import (
    abondement_correctif,
    bilan_verdict,
    demission_reconversion,
    vae_verdict,
)

COST_ORDER = (CostKind.TEACHING, CostKind.PAY, CostKind.OTHER)
THIRD_PARTY_PAYERS = frozenset({ParticipationPayer.EMPLOYER, ParticipationPayer.OPCO})
PARTICIPATION_LABEL = "Participation forfaitaire au CPF, prise en charge"


def _draw(left: dict[CostKind, Cents], covers: Iterable[CostKind], limit: Cents | None) -> Cents:
    """Take up to `limit` (None: no limit) from the cost parts `covers` allows, in order."""
    allowed = set(covers)
    got = 0
    for kind in COST_ORDER:
        if kind not in allowed:
            continue
        take = left[kind] if limit is None else min(left[kind], limit - got)
        left[kind] -= take
        got += take
    return got


def _adhoc_option(decision: FunderDecision) -> FundingOption:
    """A funder named only by a decision (a département, a commune...): known amount only."""
    return FundingOption(
        funder=decision.funder,
        label=f"Autre financeur ({decision.funder})",
        rule="Financement complémentaire déclaré (C. trav. L6323-4 II)",
        covers=(CostKind.TEACHING, CostKind.OTHER),
        order=90,
    )


def _employer_option(request: FundingRequest, params: FundingParameters) -> FundingOption:
    when = request.purchase_date
    return FundingOption(
        funder=FunderKind.EMPLOYER,
        label=params.text("funders.employer.label", when),
        rule=params.text("funders.employer.rule", when),
        amount=request.situation.employer_topup,
        public_money=False,
        exempts_participation=True,
        order=10,
    )


def _collect_options(
    request: FundingRequest, params: FundingParameters
) -> tuple[list[FundingOption], dict[str, FunderDecision]]:
    """One option per funder (first wins), plus options for funders known only by decision."""
    options: dict[str, FundingOption] = {}
    for option in request.options:
        if option.funder != FunderKind.CPF:
            options.setdefault(option.funder, option)
    if request.situation.employer_topup > 0 and FunderKind.EMPLOYER not in options:
        options[FunderKind.EMPLOYER] = _employer_option(request, params)
    decisions = {d.funder: d for d in request.decisions if d.funder != FunderKind.CPF}
    for funder, decision in decisions.items():
        if funder not in options:
            options[funder] = _adhoc_option(decision)
    return list(options.values()), decisions


def _effective(
    option: FundingOption,
    decision: FunderDecision | None,
    as_of: date,
    params: FundingParameters,
) -> tuple[Cents | None, FundingStatus]:
    """The amount asked of a funder (None: unknown) and its status, tacit acceptance included."""
    amount = option.amount
    status = option.status
    if decision is not None:
        status = decision.status
        if decision.amount is not None:
            amount = decision.amount
        if (
            status == FundingStatus.REQUESTED
            and option.answer_working_days is not None
            and decision.requested_on is not None
            and as_of
            > working_days_after(decision.requested_on, option.answer_working_days, params)
        ):
            status = FundingStatus.TACITLY_GRANTED
    return amount, status


def _line(
    option: FundingOption,
    amount: Cents,
    status: FundingStatus,
    ceiling: Cents | None,
    deadline: date | None,
) -> FundingLine:
    return FundingLine(
        funder=option.funder,
        label=option.label,
        amount=amount,
        status=status,
        rule=option.rule,
        ceiling=ceiling,
        covers=option.covers,
        public_money=option.public_money,
        request_deadline=deadline,
    )


def build_plan(request: FundingRequest, params: FundingParameters) -> FundingPlan:
    """The funding plan for `request` (see the module docstring for the order of funders)."""
    project, situation, when = request.project, request.situation, request.purchase_date
    as_of = request.as_of or when
    warnings: list[str] = []
    verdicts: list[Verdict] = [cpf_annual_credit(credit_bases(situation), when, params)]

    # 1. Costs, and the PTP.
    ptp = ptp_eligibility(situation, project, when, params)
    ptp_mode = project.ptp and ptp.eligible
    pay: Cents = 0
    if project.ptp and not ptp.eligible:
        warnings.append(
            "Projet de transition professionnelle demandé, mais ses conditions ne sont pas "
            "remplies : le plan ne compte ni rémunération ni prise en charge par Transitions Pro."
        )
    elif ptp_mode:
        if ptp.pay_estimate is None:
            warnings.append(
                "Rémunération pendant le PTP non estimée : indiquez le salaire de référence et "
                "les dates de début et de fin de la formation."
            )
        else:
            pay = ptp.pay_estimate
    total = project.price + pay + project.other_costs

    # 2. What the CPF may pay for.
    use = cpf_use(project, situation, when, params, ptp_mode=ptp_mode)
    verdicts.append(use.verdict)
    warnings.extend(use.warnings)
    if project.kind == TrainingKind.BILAN:
        verdicts.append(bilan_verdict(project, when, params))
    if project.kind == TrainingKind.VAE:
        vae, vae_warnings = vae_verdict(project, situation, when, params)
        verdicts.append(vae)
        warnings.extend(vae_warnings)

    # 3. Participation: exempt when a top-up that exempts is known and not refused.
    options, decisions = _collect_options(request, params)
    effective = {o.funder: _effective(o, decisions.get(o.funder), as_of, params) for o in options}
    exempting = [
        o
        for o in options
        if o.exempts_participation
        and (effective[o.funder][0] or 0) > 0
        and effective[o.funder][1] != FundingStatus.REFUSED
    ]
    part, part_verdict = participation(
        eligible_price=use.eligible_price,
        situation=situation,
        when=when,
        params=params,
        payer=request.participation_payer,
        cpf_usable=use.usable,
        topup_exempts=bool(exempting),
        ptp_mode=ptp_mode,
    )
    verdicts.append(part_verdict)

    # 4. CPF line.
    balance = situation.cpf_balance
    if balance is None:
        balance = 0
        warnings.append("Solde CPF non indiqué : il est compté 0 € dans cette simulation.")
    cpf_amount = min(balance, use.eligible_price - part.amount) if use.usable else 0
    lines: list[FundingLine] = [
        FundingLine(
            funder=FunderKind.CPF,
            label=params.text("funders.cpf.label", when),
            amount=cpf_amount,
            status=FundingStatus.REQUESTED if use.usable else FundingStatus.REFUSED,
            rule=params.text("funders.cpf.rule", when),
            ceiling=balance,
            covers=(CostKind.TEACHING,),
        )
    ]
    left = {
        CostKind.TEACHING: project.price - part.amount - cpf_amount,
        CostKind.PAY: pay,
        CostKind.OTHER: project.other_costs,
    }
    if part.amount > 0 and part.payer not in (ParticipationPayer.HOLDER, ParticipationPayer.NONE):
        lines.append(
            FundingLine(
                funder=part.payer.value,
                label=PARTICIPATION_LABEL,
                amount=part.amount,
                rule=part.rule,
                ceiling=part.amount,
                public_money=False,
            )
        )

    # 5. Other funders: known amounts first, then gap-fillers; unknown ones are only named.
    known = sorted(
        (o for o in options if effective[o.funder][0] is not None),
        key=lambda o: (o.order, o.funder),
    )
    gap = sorted(
        (o for o in options if effective[o.funder][0] is None and o.covers_gap),
        key=lambda o: (o.order, o.funder),
    )
    unknown = [
        o
        for o in options
        if effective[o.funder][0] is None
        and not o.covers_gap
        and effective[o.funder][1] != FundingStatus.REFUSED
    ]
    qualiopi_required = params.flag("qualiopi.required", when)
    for option in [*known, *gap]:
        wanted, status = effective[option.funder]
        deadline = None
        if option.request_working_days_before_start is not None and project.start_date:
            deadline = working_days_before(
                project.start_date, option.request_working_days_before_start, params
            )

        if status == FundingStatus.REFUSED:
            lines.append(_line(option, 0, status, None, deadline))
            continue
        if option.public_money and qualiopi_required and project.provider_qualiopi is False:
            lines.append(_line(option, 0, FundingStatus.REFUSED, None, deadline))
            warnings.append(
                f"{option.label} : pas de financement public ou mutualisé pour un organisme non "
                "certifié Qualiopi (C. trav. L6316-1)."
            )
            continue
        limits = [x for x in (wanted, option.max_amount) if x is not None]
        limit = min(limits) if limits else None
        got = _draw(left, option.covers, limit)
        lines.append(_line(option, got, status, limit, deadline))
        if wanted is not None and got < wanted:
            warnings.append(
                f"{option.label} : {format_euros(wanted)} prévus, {format_euros(got)} retenus "
                "(le plafond ou ce qui reste à financer est atteint)."
            )
        if option.exempts_participation and got == 0 and option in exempting:
            warnings.append(
                f"{option.label} : le solde CPF couvre déjà le prix, l'abondement n'est pas "
                "utilisé ; l'exonération de participation suppose en principe un abondement "
                "effectivement versé [à vérifier]."
            )
        if got > 0:
            warnings.extend(option.notes)
        if (
            option.covers_gap
            and option.max_amount is not None
            and got == option.max_amount
            and left[CostKind.TEACHING] > 0
        ):
            warnings.append(
                f"{option.label} : plafond de {format_euros(option.max_amount)} atteint ; "
                f"il reste {format_euros(left[CostKind.TEACHING])} de frais pédagogiques à "
                "financer (autre financeur ou dérogation)."
            )
    if unknown:
        names = ", ".join(o.label for o in sorted(unknown, key=lambda o: (o.order, o.funder)))
        warnings.append(
            f"Financeurs possibles dont le montant n'est pas connu, comptés 0 € dans ce plan : "
            f"{names}. Indiquez le montant accordé quand vous le connaissez."
        )

    # 6-7. Reste à charge.
    holder_pays = part.amount if part.payer == ParticipationPayer.HOLDER else 0
    remaining = holder_pays + sum(left.values())

    verdicts.append(demission_reconversion(situation, when, params))
    verdicts.append(abondement_correctif(situation, when, params))
    correctif = verdicts[-1]
    if correctif.eligible:
        warnings.append(correctif.reasons[0])
    if params.flag("cpf.participation.revalued_yearly", when):
        last = params.last_change("cpf.participation.amount")
        if when.year > last.year:
            warnings.append(
                f"La participation forfaitaire de {when.year} n'est pas encore dans les "
                f"paramètres : le montant en vigueur depuis le {last.strftime('%d/%m/%Y')} "
                "est utilisé."
            )
    return FundingPlan(
        total_cost=total,
        lines=tuple(lines),
        participation=part,
        remaining=remaining,
        teaching_cost=project.price,
        pay_cost=pay,
        other_costs=project.other_costs,
        project=project,
        situation=situation,
        purchase_date=when,
        ptp=ptp,
        verdicts=tuple(verdicts),
        warnings=tuple(dict.fromkeys(warnings)),
        options=tuple(request.options),
    )


def check_plan(plan: FundingPlan, params: FundingParameters) -> list[Issue]:
    """Problems that make a plan unacceptable as it stands, in French; [] when it is sound.

    Checks the participation payer (never the training body), the arithmetic, every ceiling,
    the CPF against the balance and the price, the Qualiopi status for public or mutualised
    money, the RNCP/RS code for CPF money, and the request deadlines.
    """
    issues: list[Issue] = []
    part = plan.participation
    when = plan.purchase_date
    project = plan.project
    if part.payer == ParticipationPayer.TRAINING_BODY or any(
        line.funder == ParticipationPayer.TRAINING_BODY for line in plan.lines
    ):
        issues.append(
            Issue(
                path="participation.payer",
                code="forbidden_payer",
                message="L'organisme de formation ne peut pas payer la participation forfaitaire "
                "au CPF : seuls le titulaire, l'employeur ou l'OPCO le peuvent (décret "
                "n° 2024-394). Ce plan est refusé.",
            )
        )
    if part.amount > plan.teaching_cost:
        issues.append(
            Issue(
                path="participation.amount",
                code="over_price",
                message="La participation forfaitaire ne peut pas dépasser le prix de l'action.",
            )
        )
    if plan.remaining < 0 or plan.funded + plan.remaining != plan.total_cost:
        issues.append(
            Issue(
                path="remaining",
                code="arithmetic",
                message="Le plan ne s'équilibre pas : financements + reste à charge doivent "
                f"égaler le coût total ({format_euros(plan.total_cost)}), sans reste négatif.",
            )
        )
    for index, line in enumerate(plan.lines):
        if line.amount < 0:
            issues.append(
                Issue(
                    path=f"lines[{index}].amount",
                    code="negative",
                    message=f"{line.label} : un montant ne peut pas être négatif.",
                )
            )
        if line.ceiling is not None and line.amount > line.ceiling:
            issues.append(
                Issue(
                    path=f"lines[{index}].amount",
                    code="over_ceiling",
                    message=f"{line.label} : {format_euros(line.amount)} dépasse le plafond de "
                    f"{format_euros(line.ceiling)}.",
                )
            )
    cpf = plan.line(FunderKind.CPF)
    if cpf is not None and cpf.amount > 0:
        index = plan.lines.index(cpf)
        balance = plan.situation.cpf_balance if plan.situation else None
        if balance is not None and cpf.amount > balance:
            issues.append(
                Issue(
                    path=f"lines[{index}].amount",
                    code="over_balance",
                    message=f"Le CPF ne peut pas payer plus que le solde du compte "
                    f"({format_euros(balance)}).",
                )
            )
        if cpf.amount > plan.teaching_cost - part.amount:
            issues.append(
                Issue(
                    path=f"lines[{index}].amount",
                    code="over_price",
                    message="Le CPF paie au plus le prix moins la participation forfaitaire "
                    "(décret n° 2024-394).",
                )
            )
        if (
            project is not None
            and when is not None
            and project.kind.value not in params.strings("cpf.exception_kinds", when)
            and not is_certification_code(project.certification_code, when, params)
        ):
            issues.append(
                Issue(
                    path="project.certification_code",
                    code="certification_code",
                    message="Le CPF ne finance qu'une certification inscrite au RNCP ou au "
                    "répertoire spécifique (code RNCP… ou RS…), ou une exception légale : "
                    "permis, bilan, VAE, création d'entreprise (C. trav. L6323-6).",
                )
            )
    if (
        project is not None
        and when is not None
        and params.flag("qualiopi.required", when)
        and project.provider_qualiopi is not True
        and any(line.public_money and line.amount > 0 for line in plan.lines)
    ):
        state = (
            "n'est pas certifié" if project.provider_qualiopi is False else "n'a pas été vérifié"
        )
        issues.append(
            Issue(
                path="project.provider_qualiopi",
                code="qualiopi",
                message=f"Le prestataire {state} Qualiopi : c'est obligatoire depuis le "
                "1er janvier 2022 pour le CPF et tout financement public ou mutualisé "
                "(C. trav. L6316-1).",
            )
        )
    if when is not None:
        for index, line in enumerate(plan.lines):
            if (
                line.request_deadline is not None
                and line.amount > 0
                and line.status == FundingStatus.REQUESTED
                and when > line.request_deadline
            ):
                issues.append(
                    Issue(
                        path=f"lines[{index}].request_deadline",
                        code="deadline",
                        message=f"{line.label} : la demande devait partir au plus tard le "
                        f"{line.request_deadline.strftime('%d/%m/%Y')} pour une formation "
                        "qui commence à la date prévue.",
                    )
                )
        ptp = plan.ptp
        if (
            project is not None
            and project.ptp
            and ptp is not None
            and ptp.eligible
            and ptp.leave_request_deadline is not None
            and when > ptp.leave_request_deadline
        ):
            issues.append(
                Issue(
                    path="project.start_date",
                    code="deadline",
                    message="Projet de transition professionnelle : la demande de congé à "
                    "l'employeur devait partir au plus tard le "
                    f"{ptp.leave_request_deadline.strftime('%d/%m/%Y')} (C. trav. R6323-10-1).",
                )
            )
    return issues

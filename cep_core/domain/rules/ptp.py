"""Projet de transition professionnelle (PTP): eligibility, leave request, pay estimate.

Seniority (C. trav. L6323-17-2, D6323-9): a CDI holder needs 24 months as an employee,
including 12 in the current company; a CDD holder 24 months over the last 60, including 4
months of CDD over the last 12 — apprenticeship, professionalisation, CUI-CAE, student
contracts and a CDD continued as a CDI do not open the right. No seniority is asked of
disabled workers (BOETH), of people re-employed after an economic or unfitness dismissal with
no training in between and, since 31 March 2022, after a long absence for illness or
accident. The request date is the plan's purchase date.
"""

from __future__ import annotations

from datetime import date, timedelta

from cep_core.domain.funding import (
    CddKind,
    ContractKind,
    FundingSituation,
    Project,
    PtpVerdict,
)
from cep_core.domain.money import Cents, format_euros, share
from cep_core.domain.rules.calendar import add_months, months_spanned
from cep_core.domain.rules.cpf import is_certification_code
from cep_core.domain.rules.params import FundingParameters
from cep_core.domain.situation import STATUS_LABELS, Status

CDD_KIND_LABELS = {
    CddKind.APPRENTICESHIP: "un contrat d'apprentissage",
    CddKind.PROFESSIONALISATION: "un contrat de professionnalisation",
    CddKind.CAE_PEC: "un contrat aidé (CUI-CAE, parcours emploi compétences)",
    CddKind.STUDENT: "un contrat conclu pendant un cursus scolaire ou universitaire",
    CddKind.CDD_TO_CDI: "un CDD poursuivi en CDI",
}


def _waivers(situation: FundingSituation, when: date, params: FundingParameters) -> list[str]:
    found = []
    if situation.disability_recognition:
        found.append("vous bénéficiez de l'obligation d'emploi des travailleurs handicapés (BOETH)")
    if situation.reemployed_after_dismissal:
        found.append(
            "vous avez retrouvé un emploi après un licenciement économique ou pour inaptitude, "
            "sans formation entre les deux"
        )
    if params.flag("ptp.absence_exemption", when):
        minimum = params.integer("ptp.absence.min_months", when)
        window = params.integer("ptp.absence.window_months", when)
        if situation.occupational_disease_absence:
            found.append(
                f"vous avez été absent(e) pour maladie professionnelle dans les {window} mois "
                "précédant la demande"
            )
        elif situation.absence_months_last_24 >= minimum:
            found.append(
                f"vous avez été absent(e) au moins {minimum} mois pour accident ou maladie "
                f"dans les {window} mois précédant la demande"
            )
    return found


def _seniority(
    situation: FundingSituation, contract: ContractKind, when: date, params: FundingParameters
) -> tuple[bool, str]:
    if contract == ContractKind.CDI:
        total = params.integer("ptp.cdi.months_salaried", when)
        company = params.integer("ptp.cdi.months_company", when)
        ok = (
            situation.months_salaried_total >= total
            and situation.months_current_employer >= company
        )
        facts = (
            f"{situation.months_salaried_total} mois de salariat dont "
            f"{situation.months_current_employer} dans l'entreprise actuelle"
        )
        rule = f"au moins {total} mois de salariat, dont {company} dans l'entreprise actuelle"
        verb = "remplit" if ok else "ne remplit pas"
        return ok, (
            f"En CDI, le PTP demande {rule} (C. trav. L6323-17-2, D6323-9) : votre situation "
            f"({facts}) {verb} cette condition."
        )
    total = params.integer("ptp.cdd.months_salaried", when)
    window = params.integer("ptp.cdd.window_months", when)
    cdd = params.integer("ptp.cdd.months_cdd", when)
    cdd_window = params.integer("ptp.cdd.cdd_window_months", when)
    ok = situation.months_salaried_last_60 >= total and situation.months_cdd_last_12 >= cdd
    facts = (
        f"{situation.months_salaried_last_60} mois de salariat sur {window} mois, dont "
        f"{situation.months_cdd_last_12} de CDD sur {cdd_window} mois"
    )
    verb = "remplit" if ok else "ne remplit pas"
    return ok, (
        f"En CDD, le PTP demande au moins {total} mois de salariat sur les {window} derniers "
        f"mois, dont {cdd} mois de CDD sur les {cdd_window} derniers mois (C. trav. L6323-17-2, "
        f"D6323-9) : votre situation ({facts}) {verb} cette condition."
    )


def ptp_leave_deadline(
    project: Project, when: date, params: FundingParameters
) -> tuple[date | None, str | None]:
    """Last day to ask the employer for the leave, and why that delay (R6323-10-1)."""
    if project.start_date is None:
        return None, None
    long_months = params.integer("ptp.notice.long_absence_months", when)
    long_days = params.integer("ptp.notice.long_days", when)
    short_days = params.integer("ptp.notice.short_days", when)
    if project.part_time:
        days, why = short_days, "formation à temps partiel"
    elif project.end_date is None:
        days, why = long_days, "durée de l'absence inconnue : le délai le plus long est retenu"
    elif add_months(project.start_date, long_months) <= project.end_date + timedelta(days=1):
        days, why = long_days, f"absence continue d'au moins {long_months} mois"
    else:
        days, why = short_days, f"absence de moins de {long_months} mois"
    deadline = project.start_date - timedelta(days=days)
    return deadline, (
        f"Demande de congé à l'employeur au plus tard le {deadline.strftime('%d/%m/%Y')}, "
        f"{days} jours avant le début de la formation ({why}) (C. trav. R6323-10-1)."
    )


def ptp_pay_estimate(
    reference_monthly: Cents, months: int, start: date, params: FundingParameters
) -> tuple[Cents, Cents, str]:
    """Total pay over `months`, the first month's pay, and the French explanation.

    Up to 2 × SMIC: 100 % of the reference salary. Above: 90 % during the first 12 months,
    then 60 %, never below 2 × SMIC (C. trav. D6323-18-1; floor [V2]).
    """
    smic = params.cents("smic.monthly", start)
    full_multiple = params.integer("ptp.pay.full_pay_smic_multiple", start)
    threshold = smic * full_multiple
    if reference_monthly <= threshold:
        total = reference_monthly * months
        return (
            total,
            reference_monthly,
            (
                f"Salaire de référence de {format_euros(reference_monthly)} par mois, au plus "
                f"{full_multiple} SMIC ({format_euros(threshold)}) : maintenu à 100 %, soit "
                f"{format_euros(total)} sur {months} mois (C. trav. D6323-18-1)."
            ),
        )
    first_percent = params.integer("ptp.pay.first_period_percent", start)
    first_months = params.integer("ptp.pay.first_period_months", start)
    later_percent = params.integer("ptp.pay.later_percent", start)
    floor = smic * params.integer("ptp.pay.floor_smic_multiple", start)
    first = max(share(reference_monthly, first_percent, 100), floor)
    later = max(share(reference_monthly, later_percent, 100), floor)
    total = first * min(months, first_months) + later * max(0, months - first_months)
    return (
        total,
        first,
        (
            f"Salaire de référence de {format_euros(reference_monthly)} par mois, au-delà de "
            f"{full_multiple} SMIC ({format_euros(threshold)}) : {first_percent} % les "
            f"{first_months} premiers mois ({format_euros(first)} par mois), puis "
            f"{later_percent} % ({format_euros(later)} par mois), sans descendre sous "
            f"{format_euros(floor)} : {format_euros(total)} sur {months} mois "
            "(C. trav. D6323-18-1)."
        ),
    )


def ptp_eligibility(
    situation: FundingSituation,
    project: Project | None,
    when: date,
    params: FundingParameters,
) -> PtpVerdict:
    """Eligibility to the PTP on the request date `when`, with French reasons."""
    answer_days = (
        params.integer("ptp.employer_answer_days", when)
        if params.flag("ptp.available", when)
        else None
    )

    def no(*reasons: str) -> PtpVerdict:
        return PtpVerdict(eligible=False, reasons=reasons)

    if not params.flag("ptp.available", when):
        return no(
            "Le projet de transition professionnelle existe depuis le 1er janvier 2019 "
            "(C. trav. L6323-17-1) ; avant, c'était le congé individuel de formation."
        )
    if situation.status == Status.APPRENTICE:
        return no(
            "Un contrat d'apprentissage n'ouvre pas droit au projet de transition "
            "professionnelle (C. trav. D6323-9)."
        )
    if situation.status != Status.EMPLOYEE:
        label = STATUS_LABELS[situation.status]
        return no(
            f"Vous êtes {label} : le projet de transition professionnelle est réservé aux "
            "salariés du secteur privé en CDI ou en CDD (C. trav. L6323-17-1 et L6323-17-2)."
        )
    contract = situation.contract
    if contract is None:
        return no(
            "Indiquez votre contrat (CDI ou CDD) : les conditions d'ancienneté du projet de "
            "transition professionnelle en dépendent (C. trav. L6323-17-2)."
        )
    reasons: list[str] = []
    blocking: list[str] = []
    if contract == ContractKind.CDD and situation.cdd_kind not in (None, CddKind.STANDARD):
        excluded = params.strings("ptp.cdd.excluded_kinds", when)
        if situation.cdd_kind is not None and situation.cdd_kind.value in excluded:
            blocking.append(
                f"Votre contrat actuel est {CDD_KIND_LABELS[situation.cdd_kind]} : il n'ouvre "
                "pas droit au projet de transition professionnelle au titre d'un CDD "
                "(C. trav. D6323-9)."
            )
    if project is not None and not is_certification_code(project.certification_code, when, params):
        blocking.append(
            "Le projet de transition professionnelle finance une formation certifiante, "
            "inscrite au RNCP ou au répertoire spécifique, pour changer de métier : indiquez "
            "son code (C. trav. L6323-17-1)."
        )
    waivers = _waivers(situation, when, params)
    if waivers:
        reasons.append(
            "Aucune condition d'ancienneté ne vous est demandée car "
            + " ; ".join(waivers)
            + " (C. trav. L6323-17-2, D6323-9)."
        )
    else:
        ok, why = _seniority(situation, contract, when, params)
        reasons.append(why)
        if not ok:
            blocking.append(why)
    if (
        contract == ContractKind.CDD
        and situation.cdd_end_date is not None
        and project is not None
        and project.start_date is not None
    ):
        within = params.integer("ptp.cdd.start_within_months", when)
        latest = add_months(situation.cdd_end_date, within)
        if project.start_date > latest:
            blocking.append(
                f"En CDD, la formation doit commencer au plus tard {within} mois après la fin "
                f"du contrat (soit le {latest.strftime('%d/%m/%Y')}) (C. trav. D6323-9)."
            )
        else:
            reasons.append(
                f"La formation commence dans les {within} mois qui suivent la fin de votre "
                "CDD ; vous devez encore être sous contrat au dépôt du dossier."
            )
    deadline, deadline_reason = (None, None)
    if project is not None:
        deadline, deadline_reason = ptp_leave_deadline(project, when, params)
    if blocking:
        return PtpVerdict(
            eligible=False,
            reasons=tuple(dict.fromkeys(blocking + reasons)),
            seniority_waived=bool(waivers),
        )
    if deadline_reason:
        reasons.append(deadline_reason)
    reasons.append(
        f"L'employeur répond dans les {answer_days} jours ; sans réponse, le congé est accordé "
        "(C. trav. R6323-10-1). Le dossier est ensuite examiné par Transitions Pro."
    )
    pay = monthly = months = None
    if (
        situation.reference_monthly_salary is not None
        and project is not None
        and project.start_date is not None
        and project.end_date is not None
    ):
        months = months_spanned(project.start_date, project.end_date)
        pay, monthly, why = ptp_pay_estimate(
            situation.reference_monthly_salary, months, project.start_date, params
        )
        reasons.append(why)
    return PtpVerdict(
        eligible=True,
        reasons=(
            "Vous remplissez les conditions du projet de transition professionnelle "
            "(C. trav. L6323-17-1 et L6323-17-2).",
            *reasons,
        ),
        seniority_waived=bool(waivers),
        leave_request_deadline=deadline,
        employer_answer_days=answer_days,
        pay_estimate=pay,
        monthly_pay=monthly,
        months=months,
    )

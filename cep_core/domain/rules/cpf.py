"""CPF rules: the annual credit, old DIF hours, what the CPF pays for, and the participation.

Sources are in ``cep_core/data/funding.toml``; each reason names the article it applies.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

import msgspec

from cep_core.domain.funding import (
    FundingSituation,
    ParticipationLine,
    ParticipationPayer,
    Project,
    TrainingKind,
    Verdict,
)
from cep_core.domain.money import Cents, format_euros, share
from cep_core.domain.rules.params import FundingParameters
from cep_core.domain.situation import Status

SALARIED = frozenset({Status.EMPLOYEE, Status.APPRENTICE})
MONTHS_IN_YEAR = 12


class CreditBasis(msgspec.Struct, frozen=True, kw_only=True):
    """One status held during the year, with what changes its CPF credit."""

    status: Status
    working_time_percent: int = 100
    low_qualified: bool = False
    disability_recognition: bool = False
    activity_months: int = MONTHS_IN_YEAR


class _Candidate(msgspec.Struct, frozen=True):
    amount: Cents
    ceiling: Cents
    reason: str


def normalise_code(code: str | None) -> str | None:
    """``" rncp 34 828 "`` -> ``"RNCP34828"``; None or blank stays None."""
    if code is None:
        return None
    compact = re.sub(r"\s+", "", code).upper()
    return compact or None


def is_certification_code(code: str | None, when: date, params: FundingParameters) -> bool:
    compact = normalise_code(code)
    pattern = params.text("certification.code_pattern", when)
    return compact is not None and re.fullmatch(pattern, compact) is not None


# --- annual credit ----------------------------------------------------------------------------


def _salaried(basis: CreditBasis, when: date, params: FundingParameters) -> list[_Candidate]:
    half = params.integer("cpf.credit.half_time_percent", when)
    bases = [("standard", "Salarié(e)")]
    if basis.low_qualified:
        bases.append(
            ("low_qualified", "Salarié(e) sans certification de niveau 3 ou plus (déclaré)")
        )
    if basis.disability_recognition and params.defined("cpf.credit.disabled.amount", when):
        bases.append(("disabled", "Salarié(e) bénéficiaire de l'obligation d'emploi (BOETH)"))
    found = []
    for key, label in bases:
        full = params.cents(f"cpf.credit.{key}.amount", when)
        ceiling = params.cents(f"cpf.credit.{key}.ceiling", when)
        article = {
            "standard": "C. trav. R6323-1",
            "low_qualified": "C. trav. R6323-3-1",
            "disabled": "C. trav. D6323-3-3",
        }[key]
        if basis.working_time_percent >= half:
            amount = full
            reason = (
                f"{label}, au moins à mi-temps : {format_euros(full)} par an, dans la limite de "
                f"{format_euros(ceiling)} ({article})."
            )
        else:
            amount = share(full, basis.working_time_percent, half)
            reason = (
                f"{label}, à "
                f"{basis.working_time_percent} % du temps de travail (moins de {half} %) : "
                f"crédit proportionnel, {format_euros(amount)} au lieu de {format_euros(full)}, "
                f"dans la limite de {format_euros(ceiling)} (C. trav. L6323-11 et {article})."
            )
        found.append(_Candidate(amount, ceiling, reason))
    return found


def _candidates(basis: CreditBasis, when: date, params: FundingParameters) -> list[_Candidate]:
    if basis.status in SALARIED:
        return _salaried(basis, when, params)
    if basis.status == Status.SELF_EMPLOYED:
        full = params.cents("cpf.credit.self_employed.amount", when)
        ceiling = params.cents("cpf.credit.self_employed.ceiling", when)
        months = max(0, min(basis.activity_months, MONTHS_IN_YEAR))
        amount = share(full, months, MONTHS_IN_YEAR)
        prorata = "" if months == MONTHS_IN_YEAR else f" (au prorata de {months} mois d'activité)"
        return [
            _Candidate(
                amount,
                ceiling,
                f"Travailleur(se) indépendant(e) : {format_euros(amount)} par an{prorata}, dans "
                f"la limite de {format_euros(ceiling)} (C. trav. L6323-27).",
            )
        ]
    return []


def cpf_annual_credit(
    bases: Sequence[CreditBasis], when: date, params: FundingParameters
) -> Verdict:
    """The CPF credit for one calendar year; several statuses: the most favourable one.

    Public agents' CPF is counted in hours (25 h a year, 150 h cap): the verdict says so and
    gives no euro amount. Statuses without work (job seeker, student...) accrue nothing.
    """
    label = "Alimentation annuelle du CPF"
    if not params.flag("cpf.in_euros", when):
        return Verdict(
            rule="cpf_credit",
            label=label,
            eligible=None,
            reasons=("Avant le 1er janvier 2019, le CPF était alimenté en heures.",),
        )
    candidates = [c for basis in bases for c in _candidates(basis, when, params)]
    if candidates:
        best = max(candidates, key=lambda c: (c.amount, c.ceiling))
        reasons = [best.reason]
        if len(candidates) > 1:
            reasons.append(
                "Plusieurs situations dans l'année : la plus favorable s'applique "
                "(décret n° 2018-1329)."
            )
        return Verdict(
            rule="cpf_credit",
            label=label,
            eligible=best.amount > 0,
            reasons=tuple(reasons),
            amount=best.amount,
            ceiling=best.ceiling,
        )
    if any(basis.status == Status.PUBLIC_AGENT for basis in bases):
        hours = params.integer("cpf.credit.public_agent.hours", when)
        cap = params.integer("cpf.credit.public_agent.hours_ceiling", when)
        return Verdict(
            rule="cpf_credit",
            label=label,
            eligible=True,
            reasons=(
                f"Agent(e) public(que) : votre CPF est compté en heures, {hours} h par an dans "
                f"la limite de {cap} h, et géré par votre employeur public (ordonnance "
                "n° 2017-53).",
            ),
        )
    return Verdict(
        rule="cpf_credit",
        label=label,
        eligible=False,
        reasons=(
            "Sans activité salariée ou indépendante cette année, votre CPF n'est pas alimenté ; "
            "les droits déjà acquis restent sur votre compte (C. trav. L6323-2 et L6323-3).",
        ),
        amount=0,
    )


def credit_bases(situation: FundingSituation) -> tuple[CreditBasis, ...]:
    return (
        CreditBasis(
            status=situation.status,
            working_time_percent=situation.working_time_percent,
            low_qualified=situation.low_qualified,
            disability_recognition=situation.disability_recognition,
            activity_months=situation.activity_months_this_year,
        ),
    )


def dif_hours_to_cents(hours: int, params: FundingParameters) -> Cents:
    """Old DIF and CPF hours held on 31 December 2018, converted on 1 January 2019."""
    rate = params.cents("cpf.dif.euros_per_hour", params.first_date("cpf.dif.euros_per_hour"))
    return hours * rate


# --- what the CPF pays for --------------------------------------------------------------------


class CpfUse(msgspec.Struct, frozen=True, kw_only=True):
    """Can the CPF pay for this project, and on which part of its price."""

    usable: bool
    eligible_price: Cents
    verdict: Verdict
    warnings: tuple[str, ...] = ()


def cpf_use(
    project: Project,
    situation: FundingSituation,
    when: date,
    params: FundingParameters,
    *,
    ptp_mode: bool = False,
) -> CpfUse:
    label = "Éligibilité de l'action au CPF"
    reasons: list[str] = []
    warnings: list[str] = []
    refusals: list[str] = []
    eligible_price = project.price

    if not params.flag("cpf.in_euros", when):
        refusals.append("Le CPF en euros n'existe que depuis le 1er janvier 2019.")
    exceptions = params.strings("cpf.exception_kinds", when)
    code = normalise_code(project.certification_code)
    if is_certification_code(code, when, params):
        reasons.append(
            f"Certification inscrite au répertoire ({code}) : éligible au CPF (C. trav. L6323-6)."
        )
    elif project.kind.value in exceptions:
        reasons.append(
            "Action éligible au CPF sans code RNCP ou RS : permis de conduire, bilan de "
            "compétences, VAE et création ou reprise d'entreprise (C. trav. L6323-6)."
        )
    elif project.kind == TrainingKind.CERTIFICATION:
        refusals.append(
            "Le CPF ne finance une formation certifiante que si elle est inscrite au RNCP ou "
            "au répertoire spécifique : indiquez son code (ex. RNCP34828 ou RS5635) "
            "(C. trav. L6323-6)."
        )
    else:
        refusals.append(
            "Cette action n'est ni une certification inscrite au RNCP ou au répertoire "
            "spécifique, ni une exception légale (permis, bilan, VAE, création d'entreprise) : "
            "le CPF ne la finance pas (C. trav. L6323-6)."
        )

    # Not indicated (None): `check_plan` reports it, once, for every public funder.
    if params.flag("qualiopi.required", when) and project.provider_qualiopi is False:
        refusals.append(
            "L'organisme n'est pas certifié Qualiopi : depuis le 1er janvier 2022, le CPF "
            "et les fonds publics ou mutualisés ne financent que des prestataires certifiés "
            "(C. trav. L6316-1)."
        )

    if project.kind == TrainingKind.BILAN:
        limit = params.integer("bilan.max_hours", when)
        if project.hours is not None and project.hours > limit:
            eligible_price = share(project.price, limit, project.hours)
            warnings.append(
                f"Un bilan de compétences dure au plus {limit} heures (C. trav. R6313-4) : le "
                f"CPF ne finance que la part du prix de ces {limit} heures, soit "
                f"{format_euros(eligible_price)} sur {format_euros(project.price)}."
            )
    if project.kind == TrainingKind.VAE:
        limit = params.integer("vae.yearly_applications_per_certification", when)
        if limit and project.vae_applications_this_year >= limit:
            refusals.append(
                f"Une seule demande de VAE par certification et par année civile depuis le "
                f"1er janvier 2024 (décret n° 2023-1275) : une nouvelle demande pour cette "
                f"certification sera possible en {when.year + 1}."
            )
    if situation.status == Status.PUBLIC_AGENT:
        warnings.append(
            "Agent(e) public(que) : votre CPF est compté en heures et mobilisé auprès de votre "
            "employeur public ; le solde en euros indiqué est repris tel quel."
        )
    if ptp_mode:
        reasons.append(
            "Dans un projet de transition professionnelle, vos droits CPF sont mobilisés par "
            "Transitions Pro pour les frais pédagogiques (C. trav. L6323-17-1)."
        )

    usable = not refusals
    verdict = Verdict(
        rule="cpf_use",
        label=label,
        eligible=usable,
        reasons=tuple(refusals or reasons),
    )
    return CpfUse(
        usable=usable,
        eligible_price=eligible_price if usable else 0,
        verdict=verdict,
        warnings=tuple(warnings),
    )


# --- participation -----------------------------------------------------------------------------


def participation_exemptions(
    situation: FundingSituation,
    when: date,
    params: FundingParameters,
    *,
    topup_exempts: bool,
    ptp_mode: bool,
) -> tuple[str, ...]:
    """Why no participation is due (empty: it is due). Cites décret n° 2024-394."""
    found: list[str] = []
    if situation.is_jobseeker:
        found.append("demandeur(se) d'emploi à la date de l'achat")
    if topup_exempts:
        found.append(
            "abondement de l'employeur (ou versé au titre d'un accord d'entreprise, de groupe, "
            "de branche ou de l'OPCO)"
        )
    if situation.c2p_points_used:
        found.append("points du compte professionnel de prévention (C2P) mobilisés")
    if situation.atmp_reconversion_topup:
        found.append("abondement de reconversion AT/MP (incapacité permanente d'au moins 10 %)")
    if situation.status == Status.PUBLIC_AGENT and params.flag(
        "cpf.participation.public_agent_exempt", when
    ):
        found.append("agent(e) public(que) : CPF en heures, géré par l'employeur public")
    if ptp_mode:
        found.append(
            "projet de transition professionnelle : la participation porte sur les achats faits "
            "sur Mon Compte Formation, pas sur le PTP [à vérifier]"
        )
    return tuple(found)


def participation(
    *,
    eligible_price: Cents,
    situation: FundingSituation,
    when: date,
    params: FundingParameters,
    payer: ParticipationPayer,
    cpf_usable: bool,
    topup_exempts: bool,
    ptp_mode: bool = False,
) -> tuple[ParticipationLine, Verdict]:
    """The participation: ``min(amount in force on the purchase date, price)`` unless exempt.

    It is part of the price, not added to it; the CPF then pays at most the price minus the
    participation. Nothing is due when the CPF is not used for the purchase.
    """
    label = "Participation forfaitaire au CPF"
    rule = params.text("funders.participation.rule", when)
    if not cpf_usable:
        line = ParticipationLine(amount=0, payer=ParticipationPayer.NONE, rule=rule)
        return line, Verdict(
            rule="participation",
            label=label,
            eligible=False,
            reasons=("Le CPF n'est pas mobilisé pour cette action : pas de participation.",),
            amount=0,
        )
    flat = params.cents("cpf.participation.amount", when)
    exemptions = participation_exemptions(
        situation, when, params, topup_exempts=topup_exempts, ptp_mode=ptp_mode
    )
    if flat == 0:
        line = ParticipationLine(amount=0, payer=ParticipationPayer.NONE, rule=rule)
        return line, Verdict(
            rule="participation",
            label=label,
            eligible=False,
            reasons=(
                "Aucune participation forfaitaire pour un achat avant le 2 mai 2024 "
                "(décret n° 2024-394).",
            ),
            amount=0,
        )
    if exemptions:
        line = ParticipationLine(
            amount=0,
            payer=ParticipationPayer.NONE,
            flat_amount=flat,
            exemptions=exemptions,
            rule=rule,
        )
        return line, Verdict(
            rule="participation",
            label=label,
            eligible=False,
            reasons=(
                f"Exonération de la participation de {format_euros(flat)} (décret n° 2024-394) : "
                + " ; ".join(exemptions)
                + ".",
            ),
            amount=0,
        )
    amount = min(flat, eligible_price)
    actual_payer = payer if amount > 0 else ParticipationPayer.NONE
    line = ParticipationLine(amount=amount, payer=actual_payer, flat_amount=flat, rule=rule)
    reasons = [
        f"Participation forfaitaire de {format_euros(flat)} pour un achat au "
        f"{when.strftime('%d/%m/%Y')} (C. trav. L6323-4, décret n° 2024-394) ; elle est "
        "comprise dans le prix : le CPF paie au plus le prix moins la participation."
    ]
    if amount < flat:
        reasons.append(
            f"Le prix ({format_euros(eligible_price)}) est inférieur à la participation : elle "
            "est ramenée au prix et le CPF ne paie rien."
        )
    if payer == ParticipationPayer.TRAINING_BODY:
        reasons.append(
            "L'organisme de formation ne peut pas payer la participation : seuls le titulaire, "
            "l'employeur ou l'OPCO le peuvent (décret n° 2024-394). Ce plan est refusé."
        )
    return line, Verdict(
        rule="participation", label=label, eligible=True, reasons=tuple(reasons), amount=amount
    )

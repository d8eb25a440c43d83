"""The Apec's own flow: intake of cadres, and their steps.

The Apec works from the cadre's position on the executive job market: the current or last
cadre position (title, ROME code, years as a cadre, team managed, pay), what the person wants
to do with it, and a positioning step — skills, target functions and jobs, geographic
mobility, target pay and the counsellor's reading of the market — before the project. When the
person is looking for a job or wants to change employer, a job-search strategy step (channels,
target companies, milestones) follows the project.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any

import msgspec

import cep_core
from cep_core import (
    Case,
    FormChannel,
    IntakeForm,
    Issue,
    Level,
    OperatorContext,
    StepCheck,
    StepDefinition,
    date_in_future,
    duplicate_choices,
    french_date,
    hookimpl,
    intake_as,
    issue,
    validate_intake_with,
    validate_step_with,
)

PLUGIN_ID = "apec"
CORE_PROJECT = "level2.project"

Title = Annotated[str, msgspec.Meta(min_length=1, max_length=150)]
Item = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
RomeCode = Annotated[str, msgspec.Meta(max_length=5, pattern=r"^[A-N][0-9]{4}$")]
# Gross yearly pay, in cents: up to 10 million euros.
YearlyCents = Annotated[int, msgspec.Meta(ge=0, le=1_000_000_000)]


# -- closed choices ----------------------------------------------------------------------------


class LabelledChoice(cep_core.LabelledChoice):
    """This operator's closed choices; their French labels are in `LABELS`."""

    @classmethod
    def labels(cls) -> Mapping[str, str]:
        return LABELS[cls]


class CadreBasis(LabelledChoice):
    CONTRACT = "cadre_contract"
    FORMER_CADRE = "former_cadre"
    YOUNG_GRADUATE = "young_graduate"


class Request(LabelledChoice):
    EVOLVE_IN_COMPANY = "evolve_in_company"
    CHANGE_EMPLOYER = "change_employer"
    FIND_JOB = "find_job"
    FIRST_JOB = "first_job"
    RECONVERSION = "reconversion"
    BUSINESS_CREATION = "business_creation"


class Urgency(LabelledChoice):
    IMMEDIATE = "immediate"
    WITHIN_SIX_MONTHS = "within_six_months"
    EXPLORING = "exploring"


class EmploymentRisk(LabelledChoice):
    NONE = "none"
    RESTRUCTURING = "restructuring"
    NEGOTIATED_TERMINATION = "negotiated_termination"
    DISMISSAL = "dismissal"


class GeographicMobility(LabelledChoice):
    LOCAL = "local"
    REGIONAL = "regional"
    NATIONAL = "national"
    INTERNATIONAL = "international"


class MarketReading(LabelledChoice):
    BUOYANT = "buoyant"
    BALANCED = "balanced"
    COMPETITIVE = "competitive"
    UNKNOWN = "unknown"


class SearchChannel(LabelledChoice):
    APEC_OFFERS = "apec_offers"
    NETWORK = "network"
    SPONTANEOUS = "spontaneous_applications"
    RECRUITERS = "recruitment_firms"
    SOCIAL_NETWORKS = "social_networks"
    JOB_BOARDS = "job_boards"
    INTERNAL_MOBILITY = "internal_mobility"


LABELS: dict[type[LabelledChoice], dict[str, str]] = {
    CadreBasis: {
        CadreBasis.CONTRACT: "Cadre selon mon contrat de travail",
        CadreBasis.FORMER_CADRE: "Ancien(ne) cadre en recherche d'emploi",
        CadreBasis.YOUNG_GRADUATE: "Jeune diplômé(e) visant un premier poste de cadre",
    },
    Request: {
        Request.EVOLVE_IN_COMPANY: "Évoluer dans mon entreprise",
        Request.CHANGE_EMPLOYER: "Changer d'entreprise",
        Request.FIND_JOB: "Retrouver un emploi",
        Request.FIRST_JOB: "Trouver un premier emploi de cadre",
        Request.RECONVERSION: "Me reconvertir",
        Request.BUSINESS_CREATION: "Créer ou reprendre une entreprise",
    },
    Urgency: {
        Urgency.IMMEDIATE: "Immédiate",
        Urgency.WITHIN_SIX_MONTHS: "Dans les six mois",
        Urgency.EXPLORING: "Réflexion sans échéance",
    },
    EmploymentRisk: {
        EmploymentRisk.NONE: "Aucun risque identifié",
        EmploymentRisk.RESTRUCTURING: "Réorganisation ou restructuration annoncée",
        EmploymentRisk.NEGOTIATED_TERMINATION: "Rupture conventionnelle envisagée",
        EmploymentRisk.DISMISSAL: "Licenciement notifié",
    },
    GeographicMobility: {
        GeographicMobility.LOCAL: "Dans mon département",
        GeographicMobility.REGIONAL: "Dans ma région",
        GeographicMobility.NATIONAL: "En France",
        GeographicMobility.INTERNATIONAL: "À l'international",
    },
    MarketReading: {
        MarketReading.BUOYANT: "Marché porteur",
        MarketReading.BALANCED: "Marché équilibré",
        MarketReading.COMPETITIVE: "Marché concurrentiel",
        MarketReading.UNKNOWN: "À explorer",
    },
    SearchChannel: {
        SearchChannel.APEC_OFFERS: "Offres publiées par l'Apec",
        SearchChannel.NETWORK: "Réseau professionnel",
        SearchChannel.SPONTANEOUS: "Candidatures spontanées",
        SearchChannel.RECRUITERS: "Cabinets de recrutement",
        SearchChannel.SOCIAL_NETWORKS: "Réseaux sociaux professionnels",
        SearchChannel.JOB_BOARDS: "Sites d'offres d'emploi",
        SearchChannel.INTERNAL_MOBILITY: "Mobilité interne",
    },
}

JOB_SEARCH_REQUESTS = frozenset({Request.CHANGE_EMPLOYER, Request.FIND_JOB, Request.FIRST_JOB})

# -- intake ------------------------------------------------------------------------------------

CadreBasisField = Annotated[CadreBasis, msgspec.Meta(title="Votre situation de cadre")]
PositionTitleField = Annotated[
    Title,
    msgspec.Meta(
        title="Intitulé de votre poste actuel ou du dernier poste occupé",
        description="Pour un(e) jeune diplômé(e) : le poste de cadre visé.",
    ),
]
PositionCurrentField = Annotated[bool, msgspec.Meta(title="J'occupe ce poste actuellement")]
RequestField = Annotated[Request, msgspec.Meta(title="Votre demande")]


class ApecPublicIntake(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What the cadre fills in alone: the position and the request, nothing about pay."""

    cadre_basis: CadreBasisField
    position_title: PositionTitleField
    position_current: PositionCurrentField
    request: RequestField


class ApecIntake(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The counsellor's and the API's intake: the public questions plus the position's detail."""

    cadre_basis: CadreBasisField
    position_title: PositionTitleField
    position_current: PositionCurrentField
    request: RequestField
    position_ended_on: Annotated[date | None, msgspec.Meta(title="Fin du dernier poste")] = None
    position_rome: Annotated[RomeCode | None, msgspec.Meta(title="Code ROME du poste")] = None
    years_as_cadre: Annotated[
        Annotated[int, msgspec.Meta(ge=0, le=50)] | None,
        msgspec.Meta(title="Années d'expérience comme cadre"),
    ] = None
    manages_team: Annotated[bool, msgspec.Meta(title="Encadre une équipe")] = False
    team_size: Annotated[
        Annotated[int, msgspec.Meta(ge=1, le=100_000)] | None,
        msgspec.Meta(title="Nombre de personnes encadrées"),
    ] = None
    sector: Annotated[Item | None, msgspec.Meta(title="Secteur d'activité")] = None
    annual_gross_pay_cents: Annotated[
        YearlyCents | None,
        msgspec.Meta(
            title="Rémunération brute annuelle (centimes d'euro)",
            description="Sert au positionnement sur le marché des cadres ; facultatif.",
        ),
    ] = None
    graduation_year: Annotated[
        Annotated[int, msgspec.Meta(ge=1950, le=2100)] | None,
        msgspec.Meta(title="Année d'obtention du dernier diplôme"),
    ] = None


def intake_form(channel: FormChannel) -> IntakeForm:
    if channel is FormChannel.PUBLIC:
        return IntakeForm(
            operator=PLUGIN_ID,
            title="Votre poste et votre demande",
            input=ApecPublicIntake,
            help="Quelques questions sur votre poste de cadre, actuel ou dernier, et sur ce que "
            "vous souhaitez en faire.",
        )
    return IntakeForm(
        operator=PLUGIN_ID,
        title="Accueil — poste de cadre",
        input=ApecIntake,
        help="Poste de cadre actuel ou dernier (intitulé, code ROME, expérience, encadrement, "
        "rémunération) et demande : le positionnement sur le marché de l'emploi cadre s'en "
        "sert.",
    )


def check_intake(today: date, answers: ApecIntake) -> list[Issue]:
    issues: list[Issue] = []
    ended = answers.position_ended_on
    if answers.position_current and ended is not None:
        issues.append(
            issue(
                "position_ended_on",
                "inconsistent",
                "Un poste occupé actuellement n'a pas de date de fin.",
            )
        )
    if ended is not None and ended > today:
        issues.append(date_in_future("position_ended_on", ended))
    if answers.team_size is not None and not answers.manages_team:
        issues.append(
            issue(
                "team_size",
                "inconsistent",
                "Une taille d'équipe suppose d'encadrer : cochez « encadre une équipe ».",
            )
        )
    if answers.graduation_year is not None and answers.graduation_year > today.year:
        issues.append(
            issue(
                "graduation_year",
                "date_in_future",
                f"L'année d'obtention du diplôme ({answers.graduation_year}) est à venir.",
            )
        )
    if (
        answers.request is Request.FIRST_JOB
        and answers.cadre_basis is not CadreBasis.YOUNG_GRADUATE
    ):
        issues.append(
            issue(
                "request",
                "inconsistent",
                "La recherche d'un premier emploi de cadre concerne les jeunes diplômé(e)s : "
                "choisissez « retrouver un emploi » ou « changer d'entreprise ».",
            )
        )
    if answers.request is Request.EVOLVE_IN_COMPANY and not answers.position_current:
        issues.append(
            issue(
                "request",
                "inconsistent",
                "Évoluer dans son entreprise suppose d'y occuper un poste actuellement.",
            )
        )
    return issues


# -- steps -------------------------------------------------------------------------------------


class SituationReview(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Level 1: how urgent the request is and whether the current job is at risk."""

    urgency: Annotated[Urgency, msgspec.Meta(title="Échéance de la démarche")]
    employment_risk: Annotated[EmploymentRisk, msgspec.Meta(title="Risque sur l'emploi actuel")] = (
        EmploymentRisk.NONE
    )
    mobility: Annotated[
        GeographicMobility, msgspec.Meta(title="Mobilité géographique envisagée")
    ] = GeographicMobility.LOCAL


class MarketPositioning(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Level 2: where the cadre stands on the executive job market, before the project."""

    key_skills: Annotated[
        list[Item],
        msgspec.Meta(min_length=1, max_length=10, title="Compétences clés"),
    ]
    skills_to_develop: Annotated[
        list[Item], msgspec.Meta(max_length=10, title="Compétences à développer")
    ] = msgspec.field(default_factory=list)
    target_functions: Annotated[
        list[Item], msgspec.Meta(max_length=5, title="Fonctions visées")
    ] = msgspec.field(default_factory=list)
    target_rome_codes: Annotated[
        list[RomeCode], msgspec.Meta(max_length=5, title="Codes ROME visés")
    ] = msgspec.field(default_factory=list)
    mobility: Annotated[GeographicMobility, msgspec.Meta(title="Mobilité géographique")] = (
        GeographicMobility.LOCAL
    )
    market_reading: Annotated[
        MarketReading, msgspec.Meta(title="Lecture du marché pour ces fonctions")
    ] = MarketReading.UNKNOWN
    target_pay_min_cents: Annotated[
        YearlyCents | None, msgspec.Meta(title="Rémunération brute annuelle visée, minimum")
    ] = None
    target_pay_max_cents: Annotated[
        YearlyCents | None, msgspec.Meta(title="Rémunération brute annuelle visée, maximum")
    ] = None


class JobSearchStrategy(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Level 2, for a cadre looking for a job: channels, targets and the next milestone."""

    channels: Annotated[
        list[SearchChannel],
        msgspec.Meta(min_length=1, max_length=len(SearchChannel), title="Canaux de recherche"),
    ]
    target_companies: Annotated[
        list[Item], msgspec.Meta(max_length=30, title="Entreprises ciblées")
    ] = msgspec.field(default_factory=list)
    cv_updated: Annotated[bool, msgspec.Meta(title="CV mis à jour")] = False
    pitch_ready: Annotated[bool, msgspec.Meta(title="Présentation orale prête")] = False
    weekly_hours: Annotated[
        Annotated[int, msgspec.Meta(ge=0, le=60)] | None,
        msgspec.Meta(title="Temps consacré chaque semaine (heures)"),
    ] = None
    next_review_on: Annotated[date | None, msgspec.Meta(title="Prochain point d'étape")] = None


def steps(level: Level, intake: ApecIntake | None) -> list[StepDefinition]:
    """The Apec steps of `level`, adapted to the intake (None: not known yet)."""
    if level is Level.ONE:
        return [
            StepDefinition(
                id="apec.situation_review",
                level=Level.ONE,
                title="Point sur la situation de cadre",
                input=SituationReview,
                help="Échéance de la démarche, risque éventuel sur l'emploi actuel et mobilité "
                "géographique envisagée.",
                order=50,
                required=True,
            )
        ]
    found = [
        StepDefinition(
            id="apec.positioning",
            level=Level.TWO,
            title="Positionnement sur le marché de l'emploi cadre",
            input=MarketPositioning,
            help="Compétences clés, fonctions et métiers visés, mobilité, rémunération visée et "
            "lecture du marché : la base du projet.",
            order=50,
            required=True,
        )
    ]
    if intake is not None and (
        intake.request in JOB_SEARCH_REQUESTS or not intake.position_current
    ):
        found.append(
            StepDefinition(
                id="apec.job_search_strategy",
                level=Level.TWO,
                title="Stratégie de recherche d'emploi",
                input=JobSearchStrategy,
                help="Canaux, entreprises ciblées, outils prêts et prochain point d'étape.",
                order=150,
                required=True,
                depends_on=("apec.positioning", CORE_PROJECT),
            )
        )
    return found


def check_situation_review(today: date, case: Case, answers: SituationReview) -> list[Issue]:
    intake = intake_answers(case)
    if (
        answers.employment_risk is not EmploymentRisk.NONE
        and intake is not None
        and not intake.position_current
    ):
        return [
            issue(
                "employment_risk",
                "inconsistent",
                "Un risque sur l'emploi actuel suppose d'occuper un poste, ce que l'accueil "
                "n'indique pas.",
            )
        ]
    return []


def check_positioning(today: date, case: Case, answers: MarketPositioning) -> list[Issue]:
    issues: list[Issue] = []
    low, high = answers.target_pay_min_cents, answers.target_pay_max_cents
    if low is not None and high is not None and low > high:
        issues.append(
            issue(
                "target_pay_max_cents",
                "inconsistent",
                "La rémunération visée maximale ne peut pas être inférieure à la minimale.",
            )
        )
    if len(set(answers.target_rome_codes)) != len(answers.target_rome_codes):
        issues.append(
            issue("target_rome_codes", "duplicate", "Chaque code ROME ne figure qu'une fois.")
        )
    return issues


def check_job_search(today: date, case: Case, answers: JobSearchStrategy) -> list[Issue]:
    issues = duplicate_choices("channels", answers.channels)
    intake = intake_answers(case)
    if (
        SearchChannel.INTERNAL_MOBILITY in answers.channels
        and intake is not None
        and not intake.position_current
    ):
        issues.append(
            issue(
                "channels",
                "inconsistent",
                "La mobilité interne suppose d'occuper un poste, ce que l'accueil n'indique pas.",
            )
        )
    if answers.next_review_on is not None and answers.next_review_on < today:
        issues.append(
            issue(
                "next_review_on",
                "date_in_past",
                f"Le prochain point d'étape ({french_date(answers.next_review_on)}) est passé.",
            )
        )
    return issues


STEP_CHECKS: dict[str, StepCheck] = {
    "apec.situation_review": (SituationReview, check_situation_review),
    "apec.positioning": (MarketPositioning, check_positioning),
    "apec.job_search_strategy": (JobSearchStrategy, check_job_search),
}


# -- hooks -------------------------------------------------------------------------------------


@hookimpl
def cep_intake_form(ctx: OperatorContext, channel: FormChannel) -> IntakeForm:
    return intake_form(channel)


@hookimpl
def cep_validate_intake(ctx: OperatorContext, data: Mapping[str, Any]) -> list[Issue]:
    return validate_intake_with(ApecIntake, check_intake, ctx.today, data)


@hookimpl
def cep_session_steps(ctx: OperatorContext, level: Level, case: Case) -> list[StepDefinition]:
    return steps(level, intake_answers(case))


@hookimpl
def cep_validate_step(
    ctx: OperatorContext, case: Case, step_id: str, data: Mapping[str, Any]
) -> list[Issue]:
    return validate_step_with(STEP_CHECKS, ctx.today, case, step_id, data)


# -- helpers -----------------------------------------------------------------------------------


def intake_answers(case: Case) -> ApecIntake | None:
    """The case's intake as this operator's full intake Struct, or None when absent.

    Public answers fit it too (the public form is a subset); funding and synthesis code of
    this plugin read the intake through here.
    """
    return intake_as(case, ApecIntake)

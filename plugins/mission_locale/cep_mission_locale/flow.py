"""The Missions locales' own flow: intake of young people under 26, and their steps.

A Mission locale looks at the young person's whole situation before the project: schooling,
who else follows them, and the everyday conditions that decide whether a project can hold
(mobility, housing, resources). It links the CEP with its own programmes, the PACEA and the
contrat d'engagement jeune (CEJ), whose dates, weekly activity and length are dated
parameters. A young person who left school without a diploma gets a qualification step;
obstacles recorded at level 1 make the obstacle plan of level 2 required.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import cache
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
    ParameterSet,
    StepCheck,
    StepDefinition,
    add_months,
    date_in_future,
    duplicate_choices,
    french_date,
    hookimpl,
    intake_as,
    issue,
    validate_intake_with,
    validate_step_with,
)

PLUGIN_ID = "mission_locale"
CORE_PROJECT = "level2.project"
LIVING_SITUATION = "mission_locale.living_situation"

Title = Annotated[str, msgspec.Meta(min_length=1, max_length=150)]
ShortText = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
CertificationCode = Annotated[
    str,
    msgspec.Meta(max_length=12, pattern=r"^(RNCP|RS)[0-9]{1,6}$", examples=["RNCP34828"]),
]
Cents = Annotated[int, msgspec.Meta(ge=0, le=1_000_000)]  # up to 10,000 € a month


@cache
def parameters() -> ParameterSet:
    # Loaded here rather than imported from `hooks`, which imports this module.
    return ParameterSet.from_package("cep_mission_locale", "data/parameters.toml")


# -- closed choices ----------------------------------------------------------------------------


class LabelledChoice(cep_core.LabelledChoice):
    """This operator's closed choices; their French labels are in `LABELS`."""

    @classmethod
    def labels(cls) -> Mapping[str, str]:
        return LABELS[cls]


class SchoolingLevel(LabelledChoice):
    """Highest diploma, by level of the national qualifications framework."""

    NO_DIPLOMA = "no_diploma"
    LEVEL_3 = "level_3"
    LEVEL_4 = "level_4"
    LEVEL_5 = "level_5"
    LEVEL_6_PLUS = "level_6_plus"


class Follower(LabelledChoice):
    MISSION_LOCALE = "mission_locale"
    FRANCE_TRAVAIL = "france_travail"
    CAP_EMPLOI = "cap_emploi"
    SECOND_CHANCE_SCHOOL = "e2c"
    EPIDE = "epide"
    SOCIAL_SERVICES = "departement_social_services"
    OTHER = "other"


class Programme(LabelledChoice):
    PACEA = "pacea"
    CEJ = "cej"


class Housing(LabelledChoice):
    WITH_PARENTS = "with_parents"
    OWN_HOME = "own_home"
    SHARED = "shared"
    YOUNG_WORKERS_HOME = "young_workers_home"
    HOSTED = "hosted"
    EMERGENCY = "emergency_shelter"
    NO_FIXED_HOME = "no_fixed_home"


class Mobility(LabelledChoice):
    PUBLIC_TRANSPORT = "public_transport"
    CAR = "car"
    TWO_WHEELER = "two_wheeler"
    BICYCLE = "bicycle"
    NONE = "none"


class DrivingLicence(LabelledChoice):
    NONE = "none"
    IN_PROGRESS = "in_progress"
    OBTAINED = "obtained"


class Resource(LabelledChoice):
    NONE = "none"
    WAGES = "wages"
    FAMILY = "family_support"
    PROGRAMME_ALLOWANCE = "programme_allowance"
    GRANT = "grant"
    OTHER_ALLOWANCE = "other_allowance"


class Barrier(LabelledChoice):
    MOBILITY = "mobility"
    HOUSING = "housing"
    RESOURCES = "resources"
    CHILDCARE = "childcare"
    DIGITAL = "digital_access"
    LANGUAGE = "language"


class QualificationRoute(LabelledChoice):
    APPRENTICESHIP = "apprenticeship"
    QUALIFYING_TRAINING = "qualifying_training"
    SECOND_CHANCE_SCHOOL = "e2c"
    EPIDE = "epide"
    CIVIC_SERVICE = "civic_service"
    RETURN_TO_SCHOOL = "return_to_school"


LABELS: dict[type[LabelledChoice], dict[str, str]] = {
    SchoolingLevel: {
        SchoolingLevel.NO_DIPLOMA: "Aucun diplôme",
        SchoolingLevel.LEVEL_3: "CAP, BEP (niveau 3)",
        SchoolingLevel.LEVEL_4: "Baccalauréat (niveau 4)",
        SchoolingLevel.LEVEL_5: "Bac + 2 (niveau 5)",
        SchoolingLevel.LEVEL_6_PLUS: "Licence ou plus (niveau 6 et au-delà)",
    },
    Follower: {
        Follower.MISSION_LOCALE: "Une mission locale",
        Follower.FRANCE_TRAVAIL: "France Travail",
        Follower.CAP_EMPLOI: "Cap emploi",
        Follower.SECOND_CHANCE_SCHOOL: "Une école de la deuxième chance (E2C)",
        Follower.EPIDE: "L'EPIDE",
        Follower.SOCIAL_SERVICES: "Le service social du département",
        Follower.OTHER: "Une autre structure",
    },
    Programme: {
        Programme.PACEA: (
            "Parcours contractualisé d'accompagnement vers l'emploi et l'autonomie (PACEA)"
        ),
        Programme.CEJ: "Contrat d'engagement jeune (CEJ)",
    },
    Housing: {
        Housing.WITH_PARENTS: "Chez ses parents ou sa famille",
        Housing.OWN_HOME: "Logement personnel",
        Housing.SHARED: "Colocation",
        Housing.YOUNG_WORKERS_HOME: "Foyer de jeunes travailleurs",
        Housing.HOSTED: "Hébergé(e) chez un tiers",
        Housing.EMERGENCY: "Hébergement d'urgence",
        Housing.NO_FIXED_HOME: "Sans domicile stable",
    },
    Mobility: {
        Mobility.PUBLIC_TRANSPORT: "Transports en commun",
        Mobility.CAR: "Voiture",
        Mobility.TWO_WHEELER: "Deux-roues motorisé",
        Mobility.BICYCLE: "Vélo",
        Mobility.NONE: "Aucun moyen de déplacement",
    },
    DrivingLicence: {
        DrivingLicence.NONE: "Pas de permis",
        DrivingLicence.IN_PROGRESS: "Permis en cours",
        DrivingLicence.OBTAINED: "Permis obtenu",
    },
    Resource: {
        Resource.NONE: "Aucune ressource",
        Resource.WAGES: "Salaire",
        Resource.FAMILY: "Aide de la famille",
        Resource.PROGRAMME_ALLOWANCE: "Allocation du CEJ ou du PACEA",
        Resource.GRANT: "Bourse",
        Resource.OTHER_ALLOWANCE: "Autre allocation",
    },
    Barrier: {
        Barrier.MOBILITY: "Mobilité",
        Barrier.HOUSING: "Logement",
        Barrier.RESOURCES: "Ressources",
        Barrier.CHILDCARE: "Garde d'enfants",
        Barrier.DIGITAL: "Accès au numérique",
        Barrier.LANGUAGE: "Maîtrise du français",
    },
    QualificationRoute: {
        QualificationRoute.APPRENTICESHIP: "Apprentissage",
        QualificationRoute.QUALIFYING_TRAINING: "Formation qualifiante",
        QualificationRoute.SECOND_CHANCE_SCHOOL: "École de la deuxième chance (E2C)",
        QualificationRoute.EPIDE: "EPIDE",
        QualificationRoute.CIVIC_SERVICE: "Service civique",
        QualificationRoute.RETURN_TO_SCHOOL: "Retour en formation initiale",
    },
}

# -- intake ------------------------------------------------------------------------------------

SchoolingField = Annotated[SchoolingLevel, msgspec.Meta(title="Diplôme le plus élevé obtenu")]
InEducationField = Annotated[
    bool, msgspec.Meta(title="Actuellement scolarisé(e), étudiant(e) ou en formation")
]
LeftEducationField = Annotated[
    date | None, msgspec.Meta(title="Date de sortie de l'école ou des études")
]
FollowedByField = Annotated[
    list[Follower],
    msgspec.Meta(
        max_length=len(Follower),
        title="Déjà suivi(e) par",
        description="Les structures qui vous accompagnent déjà, s'il y en a.",
    ),
]


class MissionLocalePublicIntake(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What the young person fills in alone: schooling and who already follows them."""

    schooling_level: SchoolingField
    in_education: InEducationField = False
    left_education_on: LeftEducationField = None
    followed_by: FollowedByField = msgspec.field(default_factory=list)


class MissionLocaleIntake(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The counsellor's and the API's intake: the public questions plus the programmes."""

    schooling_level: SchoolingField
    in_education: InEducationField = False
    left_education_on: LeftEducationField = None
    followed_by: FollowedByField = msgspec.field(default_factory=list)
    last_diploma_title: Annotated[
        Title | None, msgspec.Meta(title="Intitulé du dernier diplôme ou de la dernière formation")
    ] = None
    programme: Annotated[
        Programme | None, msgspec.Meta(title="Programme d'accompagnement en cours")
    ] = None
    programme_start_on: Annotated[
        date | None, msgspec.Meta(title="Date d'entrée dans le programme")
    ] = None


def intake_form(channel: FormChannel) -> IntakeForm:
    if channel is FormChannel.PUBLIC:
        return IntakeForm(
            operator=PLUGIN_ID,
            title="Votre parcours",
            input=MissionLocalePublicIntake,
            help="Dites-nous où vous en êtes de vos études et qui vous accompagne déjà : votre "
            "conseiller ou votre conseillère préparera ainsi votre premier rendez-vous.",
        )
    return IntakeForm(
        operator=PLUGIN_ID,
        title="Accueil — parcours du jeune",
        input=MissionLocaleIntake,
        help="Scolarité, suivis en cours et programme (PACEA, CEJ) : ces réponses décident des "
        "étapes proposées, dont le parcours de qualification pour un jeune sans diplôme.",
    )


def check_intake(today: date, answers: MissionLocaleIntake) -> list[Issue]:
    params = parameters()
    issues = duplicate_choices("followed_by", answers.followed_by)
    left = answers.left_education_on
    if answers.in_education and left is not None:
        issues.append(
            issue(
                "left_education_on",
                "inconsistent",
                "Une date de sortie des études ne peut être indiquée que si le jeune n'est plus "
                "scolarisé ni en formation.",
            )
        )
    if left is not None and left > today:
        issues.append(date_in_future("left_education_on", left))
    programme, start = answers.programme, answers.programme_start_on
    if programme is None:
        if start is not None:
            issues.append(
                issue(
                    "programme_start_on",
                    "inconsistent",
                    "Indiquez le programme dont c'est la date d'entrée.",
                )
            )
        return issues
    if start is not None and start > today:
        issues.append(date_in_future("programme_start_on", start))
    when = start or today
    if programme.value not in (params.get_at("programmes.available", when) or []):
        issues.append(
            issue(
                "programme",
                "not_in_force",
                f"Le programme « {programme.label} » n'existait pas au {french_date(when)}.",
            )
        )
    delivered_by = (params.get_at("programmes.delivered_by", when) or {}).get(programme.value, [])
    if delivered_by and not set(delivered_by) & {f.value for f in answers.followed_by}:
        names = " ou ".join(_in_sentence(Follower(value)) for value in delivered_by)
        issues.append(
            issue(
                "followed_by",
                "programme_follower",
                f"Le programme « {programme.label} » est mis en œuvre par {names} : indiquez "
                "qui suit le jeune dans ce programme.",
            )
        )
    if programme is Programme.CEJ and answers.in_education:
        issues.append(
            issue(
                "programme",
                "not_eligible",
                "Le contrat d'engagement jeune s'adresse aux jeunes qui ne sont ni étudiants ni "
                "en formation.",
            )
        )
    return issues


# -- steps -------------------------------------------------------------------------------------


class LivingSituation(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Level 1: the everyday conditions the project will depend on."""

    housing: Annotated[Housing, msgspec.Meta(title="Logement")]
    mobility: Annotated[
        list[Mobility],
        msgspec.Meta(min_length=1, max_length=len(Mobility), title="Moyens de déplacement"),
    ]
    driving_licence: Annotated[DrivingLicence, msgspec.Meta(title="Permis de conduire")] = (
        DrivingLicence.NONE
    )
    resources: Annotated[
        list[Resource],
        msgspec.Meta(min_length=1, max_length=len(Resource), title="Ressources"),
    ]
    monthly_resources_cents: Annotated[
        Cents | None,
        msgspec.Meta(
            title="Montant mensuel des ressources (centimes d'euro)",
            description="Facultatif ; aide à préparer les demandes d'allocation.",
        ),
    ] = None
    barriers: Annotated[
        list[Barrier],
        msgspec.Meta(
            max_length=len(Barrier),
            title="Freins à lever",
            description="Ce qui peut empêcher le projet d'avancer.",
        ),
    ] = msgspec.field(default_factory=list)


class ProgrammeLink(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Level 2: how the CEP fits the young person's programme (PACEA, CEJ)."""

    programme: Annotated[Programme | None, msgspec.Meta(title="Programme mobilisé avec le CEP")] = (
        None
    )
    cep_actions_in_programme_plan: Annotated[
        bool,
        msgspec.Meta(title="Les actions du CEP sont inscrites au plan d'action du programme"),
    ] = False
    weekly_activity_hours: Annotated[
        Annotated[int, msgspec.Meta(ge=0, le=40)] | None,
        msgspec.Meta(title="Heures d'activité par semaine prévues"),
    ] = None
    allowance_requested: Annotated[bool, msgspec.Meta(title="Allocation demandée")] = False
    programme_end_on: Annotated[date | None, msgspec.Meta(title="Fin prévue du programme")] = None


class QualificationPath(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Level 2, for a young person without a diploma: the route back to a qualification."""

    route: Annotated[QualificationRoute, msgspec.Meta(title="Voie de qualification envisagée")]
    target_level: Annotated[SchoolingLevel | None, msgspec.Meta(title="Niveau de diplôme visé")] = (
        None
    )
    target_certification_code: Annotated[
        CertificationCode | None,
        msgspec.Meta(title="Code de la certification visée (RNCP ou RS)"),
    ] = None
    planned_start_on: Annotated[date | None, msgspec.Meta(title="Entrée prévue")] = None


class BarrierAction(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    barrier: Annotated[Barrier, msgspec.Meta(title="Frein")]
    action: Annotated[ShortText, msgspec.Meta(title="Action prévue")]
    partner: Annotated[ShortText | None, msgspec.Meta(title="Partenaire mobilisé")] = None
    due_on: Annotated[date | None, msgspec.Meta(title="Échéance")] = None


class BarrierPlan(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Level 2: what will be done about each obstacle found at level 1."""

    actions: Annotated[
        list[BarrierAction],
        msgspec.Meta(min_length=1, max_length=12, title="Actions pour lever les freins"),
    ]


def steps(
    today: date, level: Level, intake: MissionLocaleIntake | None, barriers: bool
) -> list[StepDefinition]:
    """The Mission locale steps of `level`; `barriers`: level 1 recorded obstacles."""
    if level is Level.ONE:
        return [
            StepDefinition(
                id=LIVING_SITUATION,
                level=Level.ONE,
                title="Situation de vie du jeune",
                input=LivingSituation,
                help="Logement, mobilité, permis et ressources : ce qui conditionne le projet, "
                "et les freins à lever.",
                order=50,
                required=True,
            )
        ]
    found = [
        StepDefinition(
            id="mission_locale.programme_link",
            level=Level.TWO,
            title="Lien avec le PACEA ou le contrat d'engagement jeune",
            input=ProgrammeLink,
            help="Inscrivez les actions du CEP dans le programme du jeune et vérifiez la "
            "durée hebdomadaire d'activité et l'allocation.",
            order=150,
            required=intake is not None and intake.programme is not None,
            depends_on=(CORE_PROJECT,),
        ),
        StepDefinition(
            id="mission_locale.barriers_plan",
            level=Level.TWO,
            title="Plan pour lever les freins",
            input=BarrierPlan,
            help="Une action, un partenaire et une échéance pour chaque frein repéré à "
            "l'accueil (mobilité, logement, ressources...).",
            order=170,
            required=barriers,
        ),
    ]
    if intake is not None and intake.schooling_level is SchoolingLevel.NO_DIPLOMA:
        found.append(
            StepDefinition(
                id="mission_locale.qualification_path",
                level=Level.TWO,
                title="Parcours vers une qualification",
                input=QualificationPath,
                help="Pour un jeune sans diplôme : apprentissage, formation qualifiante, E2C, "
                "EPIDE, service civique ou retour en formation initiale.",
                order=160,
                required=True,
                depends_on=(CORE_PROJECT,),
            )
        )
    return found


def check_living_situation(today: date, case: Case, answers: LivingSituation) -> list[Issue]:
    issues = duplicate_choices("mobility", answers.mobility) + duplicate_choices(
        "resources", answers.resources
    )
    issues += duplicate_choices("barriers", answers.barriers)
    if Mobility.NONE in answers.mobility and len(answers.mobility) > 1:
        issues.append(
            issue(
                "mobility",
                "inconsistent",
                "« Aucun moyen de déplacement » ne peut pas être coché avec un autre moyen.",
            )
        )
    if Resource.NONE in answers.resources:
        if len(answers.resources) > 1:
            issues.append(
                issue(
                    "resources",
                    "inconsistent",
                    "« Aucune ressource » ne peut pas être coché avec une autre ressource.",
                )
            )
        if answers.monthly_resources_cents:
            issues.append(
                issue(
                    "monthly_resources_cents",
                    "inconsistent",
                    "Un montant de ressources est indiqué alors que « aucune ressource » est "
                    "coché.",
                )
            )
    intake = intake_answers(case)
    if (
        Resource.PROGRAMME_ALLOWANCE in answers.resources
        and intake is not None
        and intake.programme is None
    ):
        issues.append(
            issue(
                "resources",
                "inconsistent",
                "L'allocation du CEJ ou du PACEA suppose d'être dans l'un de ces programmes, ce "
                "que l'accueil n'indique pas.",
            )
        )
    return issues


def check_programme_link(today: date, case: Case, answers: ProgrammeLink) -> list[Issue]:
    params = parameters()
    programme = answers.programme
    if programme is None:
        if answers.allowance_requested:
            return [
                issue(
                    "allowance_requested",
                    "no_programme",
                    "L'allocation n'est versée que dans le cadre du CEJ ou du PACEA : indiquez "
                    "le programme.",
                )
            ]
        return []
    issues: list[Issue] = []
    if programme.value not in (params.get_at("programmes.available", today) or []):
        issues.append(
            issue(
                "programme",
                "not_in_force",
                f"Le programme « {programme.label} » n'existe pas à cette date.",
            )
        )
        return issues
    if programme is Programme.CEJ:
        hours = params.get_at("cej.weekly_activity_hours", today)
        planned = answers.weekly_activity_hours
        if (
            hours is not None
            and planned is not None
            and not hours["min"] <= planned <= hours["max"]
        ):
            issues.append(
                issue(
                    "weekly_activity_hours",
                    "out_of_range",
                    f"Le contrat d'engagement jeune prévoit de {hours['min']} à {hours['max']} "
                    "heures d'activité par semaine.",
                )
            )
        intake = intake_answers(case)
        start = intake.programme_start_on if intake is not None else None
        longest = params.get_at("cej.max_months", today)
        end = answers.programme_end_on
        if start is not None and end is not None and longest is not None:
            limit = add_months(start, int(longest))
            if end > limit:
                issues.append(
                    issue(
                        "programme_end_on",
                        "too_long",
                        f"Le contrat d'engagement jeune dure au plus {longest} mois au total : "
                        f"entré le {french_date(start)}, il se termine au plus tard le "
                        f"{french_date(limit)}.",
                    )
                )
    if answers.programme_end_on is not None and answers.programme_end_on < today:
        issues.append(
            issue(
                "programme_end_on",
                "date_in_past",
                "La fin prévue du programme est passée : le CEP ne peut plus s'y inscrire.",
            )
        )
    return issues


def check_qualification(today: date, case: Case, answers: QualificationPath) -> list[Issue]:
    issues: list[Issue] = []
    if answers.target_level is SchoolingLevel.NO_DIPLOMA:
        issues.append(
            issue(
                "target_level",
                "inconsistent",
                "Le parcours vise un diplôme : choisissez le niveau visé.",
            )
        )
    if answers.planned_start_on is not None and answers.planned_start_on < today:
        issues.append(
            issue(
                "planned_start_on",
                "date_in_past",
                f"L'entrée prévue ({french_date(answers.planned_start_on)}) est passée.",
            )
        )
    return issues


def check_barrier_plan(today: date, case: Case, answers: BarrierPlan) -> list[Issue]:
    issues: list[Issue] = []
    for index, action in enumerate(answers.actions):
        if action.due_on is not None and action.due_on < today:
            issues.append(
                issue(
                    f"actions[{index}].due_on",
                    "date_in_past",
                    f"L'échéance ({french_date(action.due_on)}) est passée.",
                )
            )
    recorded = _recorded_barriers(case)
    planned = {action.barrier for action in answers.actions}
    for barrier in sorted(recorded - planned):
        issues.append(
            issue(
                "actions",
                "barrier_without_action",
                f"Le frein « {barrier.label} » repéré à l'accueil n'a pas encore d'action.",
            )
        )
    return issues


STEP_CHECKS: dict[str, StepCheck] = {
    LIVING_SITUATION: (LivingSituation, check_living_situation),
    "mission_locale.programme_link": (ProgrammeLink, check_programme_link),
    "mission_locale.qualification_path": (QualificationPath, check_qualification),
    "mission_locale.barriers_plan": (BarrierPlan, check_barrier_plan),
}


# -- hooks -------------------------------------------------------------------------------------


@hookimpl
def cep_intake_form(ctx: OperatorContext, channel: FormChannel) -> IntakeForm:
    return intake_form(channel)


@hookimpl
def cep_validate_intake(ctx: OperatorContext, data: Mapping[str, Any]) -> list[Issue]:
    return validate_intake_with(MissionLocaleIntake, check_intake, ctx.today, data)


@hookimpl
def cep_session_steps(ctx: OperatorContext, level: Level, case: Case) -> list[StepDefinition]:
    return steps(ctx.today, level, intake_answers(case), bool(_recorded_barriers(case)))


@hookimpl
def cep_validate_step(
    ctx: OperatorContext, case: Case, step_id: str, data: Mapping[str, Any]
) -> list[Issue]:
    return validate_step_with(STEP_CHECKS, ctx.today, case, step_id, data)


# -- helpers -----------------------------------------------------------------------------------


def intake_answers(case: Case) -> MissionLocaleIntake | None:
    """The case's intake as this operator's full intake Struct, or None when absent.

    Public answers fit it too (the public form is a subset); funding and synthesis code of
    this plugin read the intake through here.
    """
    return intake_as(case, MissionLocaleIntake)


def _recorded_barriers(case: Case) -> set[Barrier]:
    """Obstacles saved in the level-1 living situation (``case.steps``), draft or completed."""
    records = getattr(case, "steps", None)
    record = records.get(LIVING_SITUATION) if isinstance(records, Mapping) else None
    data = getattr(record, "data", None)
    values = data.get("barriers") if isinstance(data, Mapping) else None
    if not isinstance(values, list):
        return set()
    return {Barrier(value) for value in values if value in Barrier._value2member_map_}


def _in_sentence(follower: Follower) -> str:
    """A follower's name inside a sentence ("une mission locale", "France Travail")."""
    label = follower.label
    return label if follower is Follower.FRANCE_TRAVAIL else label[0].lower() + label[1:]

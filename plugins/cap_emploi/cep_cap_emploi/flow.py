"""Cap emploi's own flow: intake of people with a recognised disability, and their steps.

Cap emploi serves the beneficiaries of the employment obligation (BOETH, C. trav. L5212-13)
and, since 1 January 2018, job retention (maintien dans l'emploi). Its flow differs from the
others on three points: the kind and validity of the recognition, the compensations of the
disability (needs, funders, specific services), and — when the person asks to keep their
current job — the job-retention and workstation-adaptation steps.

Disability status is health data (GDPR art. 9; CNIL délibération 2023-005): every field that
reveals it is an enumerated status marked ``extra={"sensitive": True}``, never a diagnosis and
never free text, so the core can restrict it to the roles that need it. The employer is never
contacted without the person's recorded consent.
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
    duplicate_choices,
    french_date,
    hookimpl,
    intake_as,
    issue,
    validate_intake_with,
    validate_step_with,
)

PLUGIN_ID = "cap_emploi"
CORE_PROJECT = "level2.project"
SENSITIVE = {"sensitive": True}


@cache
def parameters() -> ParameterSet:
    # Loaded here rather than imported from `hooks`, which imports this module.
    return ParameterSet.from_package("cep_cap_emploi", "data/parameters.toml")


# -- closed choices ----------------------------------------------------------------------------


class LabelledChoice(cep_core.LabelledChoice):
    """This operator's closed choices; their French labels are in `LABELS`."""

    @classmethod
    def labels(cls) -> Mapping[str, str]:
        return LABELS[cls]


class RecognitionKind(LabelledChoice):
    """The BOETH categories of C. trav. L5212-13, plus a pending RQTH request."""

    RQTH = "rqth"
    WORK_ACCIDENT_PENSION = "at_mp_pension"
    INVALIDITY_PENSION = "invalidity_pension"
    MILITARY_PENSION = "military_invalidity_pension"
    RESERVED_EMPLOYMENT = "reserved_employment"
    VOLUNTEER_FIREFIGHTER = "volunteer_firefighter"
    INVALIDITY_CARD = "invalidity_card"
    AAH = "aah"
    PENDING = "rqth_pending"


class CompensationNeed(LabelledChoice):
    WORKSTATION = "workstation_adaptation"
    WORKING_HOURS = "working_hours"
    TECHNICAL_AID = "technical_aid"
    HUMAN_AID = "human_aid"
    TRANSPORT = "transport"
    REMOTE_WORK = "remote_work"
    PREMISES = "premises_accessibility"
    ADAPTED_TRAINING = "adapted_training"
    COMMUNICATION = "communication_support"


class Funder(LabelledChoice):
    AGEFIPH = "agefiph"
    FIPHFP = "fiphfp"
    EMPLOYER = "employer"
    OTHER = "other"


class SpecificService(LabelledChoice):
    SPECIFIC_SUPPORT = "pas"
    WORK_SITUATION_STUDY = "epaast"
    OTHER = "other"


class ReferralSource(LabelledChoice):
    SELF = "self"
    FRANCE_TRAVAIL = "france_travail"
    OCCUPATIONAL_HEALTH = "occupational_health"
    EMPLOYER = "employer"
    MDPH = "mdph"
    OTHER = "other"


class RetentionRoute(LabelledChoice):
    UNDETERMINED = "undetermined"
    SAME_JOB_ADAPTED = "same_job_adapted"
    OTHER_JOB_SAME_EMPLOYER = "other_job_same_employer"
    EXTERNAL_RECONVERSION = "external_reconversion"


class PreReturnVisit(LabelledChoice):
    NOT_APPLICABLE = "not_applicable"
    PLANNED = "planned"
    DONE = "done"


class EmployerStance(LabelledChoice):
    NOT_CONTACTED = "not_contacted"
    PENDING = "pending"
    AGREED = "agreed"
    REFUSED = "refused"


class Adaptation(LabelledChoice):
    HOURS = "hours"
    EQUIPMENT = "equipment"
    SOFTWARE = "software"
    PREMISES = "premises"
    REMOTE_WORK = "remote_work"
    TASKS = "tasks"


LABELS: dict[type[LabelledChoice], dict[str, str]] = {
    RecognitionKind: {
        RecognitionKind.RQTH: "Reconnaissance de la qualité de travailleur handicapé (RQTH)",
        RecognitionKind.WORK_ACCIDENT_PENSION: (
            "Victime d'accident du travail ou de maladie professionnelle, avec une incapacité "
            "permanente d'au moins 10 % et une rente"
        ),
        RecognitionKind.INVALIDITY_PENSION: "Titulaire d'une pension d'invalidité",
        RecognitionKind.MILITARY_PENSION: "Titulaire d'une pension militaire d'invalidité",
        RecognitionKind.RESERVED_EMPLOYMENT: "Bénéficiaire des emplois réservés",
        RecognitionKind.VOLUNTEER_FIREFIGHTER: (
            "Sapeur-pompier volontaire titulaire d'une allocation ou rente d'invalidité"
        ),
        RecognitionKind.INVALIDITY_CARD: (
            "Titulaire de la carte mobilité inclusion mention invalidité"
        ),
        RecognitionKind.AAH: "Titulaire de l'allocation aux adultes handicapés (AAH)",
        RecognitionKind.PENDING: "Demande de RQTH en cours",
    },
    CompensationNeed: {
        CompensationNeed.WORKSTATION: "Aménagement du poste de travail",
        CompensationNeed.WORKING_HOURS: "Aménagement des horaires",
        CompensationNeed.TECHNICAL_AID: "Aide technique",
        CompensationNeed.HUMAN_AID: "Aide humaine",
        CompensationNeed.TRANSPORT: "Transport",
        CompensationNeed.REMOTE_WORK: "Télétravail",
        CompensationNeed.PREMISES: "Accessibilité des locaux",
        CompensationNeed.ADAPTED_TRAINING: "Formation adaptée",
        CompensationNeed.COMMUNICATION: "Aide à la communication",
    },
    Funder: {
        Funder.AGEFIPH: "Agefiph (employeurs privés et leurs salariés)",
        Funder.FIPHFP: "FIPHFP (employeurs publics et leurs agents)",
        Funder.EMPLOYER: "Employeur",
        Funder.OTHER: "Autre financeur",
    },
    SpecificService: {
        SpecificService.SPECIFIC_SUPPORT: "Prestation d'appui spécifique (PAS)",
        SpecificService.WORK_SITUATION_STUDY: (
            "Étude préalable à l'aménagement et à l'adaptation des situations de travail (EPAAST)"
        ),
        SpecificService.OTHER: "Autre prestation",
    },
    ReferralSource: {
        ReferralSource.SELF: "Démarche personnelle",
        ReferralSource.FRANCE_TRAVAIL: "France Travail",
        ReferralSource.OCCUPATIONAL_HEALTH: "Service de prévention et de santé au travail",
        ReferralSource.EMPLOYER: "Employeur",
        ReferralSource.MDPH: "Maison départementale des personnes handicapées (MDPH)",
        ReferralSource.OTHER: "Autre",
    },
    RetentionRoute: {
        RetentionRoute.UNDETERMINED: "À déterminer",
        RetentionRoute.SAME_JOB_ADAPTED: "Maintien au poste, aménagé",
        RetentionRoute.OTHER_JOB_SAME_EMPLOYER: "Autre poste chez le même employeur",
        RetentionRoute.EXTERNAL_RECONVERSION: "Reconversion vers un autre employeur",
    },
    PreReturnVisit: {
        PreReturnVisit.NOT_APPLICABLE: "Sans objet",
        PreReturnVisit.PLANNED: "Prévue",
        PreReturnVisit.DONE: "Réalisée",
    },
    EmployerStance: {
        EmployerStance.NOT_CONTACTED: "Employeur non contacté",
        EmployerStance.PENDING: "Réponse de l'employeur attendue",
        EmployerStance.AGREED: "Accord de l'employeur",
        EmployerStance.REFUSED: "Refus de l'employeur",
    },
    Adaptation: {
        Adaptation.HOURS: "Horaires",
        Adaptation.EQUIPMENT: "Matériel",
        Adaptation.SOFTWARE: "Logiciels",
        Adaptation.PREMISES: "Locaux",
        Adaptation.REMOTE_WORK: "Télétravail",
        Adaptation.TASKS: "Répartition des tâches",
    },
}

# -- intake ------------------------------------------------------------------------------------

RecognitionKindField = Annotated[
    RecognitionKind,
    msgspec.Meta(
        title="Reconnaissance du handicap",
        description="Le type de reconnaissance seulement : aucune information médicale.",
        extra=SENSITIVE,
    ),
]
ValidUntilField = Annotated[
    date | None,
    msgspec.Meta(
        title="Fin de validité de la reconnaissance",
        description="La date indiquée sur la décision, s'il y en a une.",
        extra=SENSITIVE,
    ),
]
PermanentField = Annotated[
    bool,
    msgspec.Meta(title="Reconnaissance attribuée sans limitation de durée", extra=SENSITIVE),
]
RenewalField = Annotated[
    bool,
    msgspec.Meta(title="Renouvellement demandé", extra=SENSITIVE),
]
EmployedField = Annotated[bool, msgspec.Meta(title="En emploi actuellement")]
RetentionField = Annotated[
    bool,
    msgspec.Meta(
        title="La demande porte sur le maintien dans l'emploi actuel",
        description="Garder son emploi, aménagé ou non, chez le même employeur.",
    ),
]


class CapEmploiPublicIntake(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What the person fills in alone: the recognition and whether it is about their job."""

    recognition_kind: RecognitionKindField
    recognition_valid_until: ValidUntilField = None
    recognition_permanent: PermanentField = False
    renewal_requested: RenewalField = False
    currently_employed: EmployedField = False
    job_retention: RetentionField = False


class CapEmploiIntake(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The counsellor's and the API's intake: the public questions plus the follow-up context."""

    recognition_kind: RecognitionKindField
    recognition_valid_until: ValidUntilField = None
    recognition_permanent: PermanentField = False
    renewal_requested: RenewalField = False
    currently_employed: EmployedField = False
    job_retention: RetentionField = False
    on_sick_leave: Annotated[
        bool, msgspec.Meta(title="En arrêt de travail actuellement", extra=SENSITIVE)
    ] = False
    occupational_health_involved: Annotated[
        bool,
        msgspec.Meta(
            title="Le service de prévention et de santé au travail est déjà sollicité",
            extra=SENSITIVE,
        ),
    ] = False
    referred_by: Annotated[
        ReferralSource | None, msgspec.Meta(title="Orienté(e) vers Cap emploi par")
    ] = None


def intake_form(channel: FormChannel) -> IntakeForm:
    if channel is FormChannel.PUBLIC:
        return IntakeForm(
            operator=PLUGIN_ID,
            title="Votre reconnaissance et votre demande",
            input=CapEmploiPublicIntake,
            help="Indiquez seulement le type de reconnaissance : aucune information sur votre "
            "santé n'est demandée. Ces réponses ne sont vues que par les conseillers qui vous "
            "accompagnent.",
        )
    return IntakeForm(
        operator=PLUGIN_ID,
        title="Accueil — reconnaissance et maintien dans l'emploi",
        input=CapEmploiIntake,
        help="Type et validité de la reconnaissance (statut seulement, jamais de diagnostic), "
        "situation d'emploi et demande de maintien dans l'emploi : ces réponses décident des "
        "étapes de maintien et d'aménagement du poste.",
    )


def check_intake(today: date, answers: CapEmploiIntake) -> list[Issue]:
    issues: list[Issue] = []
    until = answers.recognition_valid_until
    if answers.recognition_kind is RecognitionKind.PENDING:
        if until is not None or answers.recognition_permanent:
            issues.append(
                issue(
                    "recognition_valid_until",
                    "pending_recognition",
                    "Une demande de RQTH en cours n'a pas encore de durée de validité.",
                )
            )
    elif answers.recognition_permanent and until is not None:
        issues.append(
            issue(
                "recognition_valid_until",
                "inconsistent",
                "Une reconnaissance sans limitation de durée n'a pas de date de fin : laissez "
                "cette date vide ou décochez « sans limitation de durée ».",
            )
        )
    elif until is not None and until < today and not answers.renewal_requested:
        # Decision: an expired recognition is not silently accepted, but it does not close the
        # door either — once the renewal is requested, Cap emploi can accompany the person.
        issues.append(
            issue(
                "recognition_valid_until",
                "recognition_expired",
                f"La reconnaissance a pris fin le {french_date(until)} : elle doit être renouvelée "
                "auprès de l'organisme qui l'a accordée (la MDPH pour une RQTH). Indiquez "
                "« renouvellement demandé » si la demande est faite.",
            )
        )
    if (
        answers.recognition_kind is RecognitionKind.RQTH
        and answers.recognition_permanent
        and not parameters().get_at("recognition.rqth_without_time_limit", today, False)
    ):
        issues.append(
            issue(
                "recognition_permanent",
                "not_in_force",
                "À cette date, une RQTH ne pouvait pas être attribuée sans limitation de durée.",
            )
        )
    if answers.job_retention and not answers.currently_employed:
        issues.append(
            issue(
                "job_retention",
                "not_employed",
                "Le maintien dans l'emploi concerne une personne en emploi : indiquez que la "
                "personne travaille, ou décochez le maintien dans l'emploi.",
            )
        )
    if answers.job_retention and parameters().get_at("job_retention.offered", today) is None:
        issues.append(
            issue(
                "job_retention",
                "not_in_force",
                "Cap emploi n'assurait pas encore le maintien dans l'emploi à cette date.",
            )
        )
    if answers.on_sick_leave and not answers.currently_employed:
        issues.append(
            issue(
                "on_sick_leave",
                "not_employed",
                "Un arrêt de travail suppose un emploi : indiquez que la personne travaille.",
            )
        )
    return issues


# -- steps -------------------------------------------------------------------------------------

NeedsField = Annotated[
    list[CompensationNeed],
    msgspec.Meta(
        max_length=len(CompensationNeed),
        title="Besoins de compensation",
        description="Les besoins seulement, sans diagnostic ni précision médicale.",
        extra=SENSITIVE,
    ),
]


class CompensationNeeds(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Level 1: the compensation needs the person states, as enumerated statuses."""

    needs: NeedsField = msgspec.field(default_factory=list)
    compensation_in_place: Annotated[
        bool,
        msgspec.Meta(title="Des compensations sont déjà en place", extra=SENSITIVE),
    ] = False


class CompensationPlan(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Level 2: which compensations the project needs, who may fund them, which services."""

    needs: NeedsField = msgspec.field(default_factory=list)
    funders: Annotated[
        list[Funder],
        msgspec.Meta(max_length=len(Funder), title="Financeurs sollicités"),
    ] = msgspec.field(default_factory=list)
    services: Annotated[
        list[SpecificService],
        msgspec.Meta(max_length=len(SpecificService), title="Prestations spécifiques"),
    ] = msgspec.field(default_factory=list)


class JobRetention(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Level 2, when the request is about keeping the current job."""

    route: Annotated[RetentionRoute, msgspec.Meta(title="Solution de maintien envisagée")] = (
        RetentionRoute.UNDETERMINED
    )
    employer_contact_consent: Annotated[
        bool,
        msgspec.Meta(
            title="La personne accepte que Cap emploi contacte son employeur",
            description="Non par défaut : rien n'est dit à l'employeur sans cet accord.",
        ),
    ] = False
    employer_stance: Annotated[EmployerStance, msgspec.Meta(title="Position de l'employeur")] = (
        EmployerStance.NOT_CONTACTED
    )
    pre_return_visit: Annotated[
        PreReturnVisit,
        msgspec.Meta(title="Visite de pré-reprise avec le médecin du travail", extra=SENSITIVE),
    ] = PreReturnVisit.NOT_APPLICABLE
    planned_return_on: Annotated[
        date | None, msgspec.Meta(title="Date de reprise envisagée", extra=SENSITIVE)
    ] = None


class WorkstationAdaptation(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Level 2, for a person in work: adapting the workstation with the employer."""

    adaptations: Annotated[
        list[Adaptation],
        msgspec.Meta(max_length=len(Adaptation), title="Aménagements envisagés", extra=SENSITIVE),
    ] = msgspec.field(default_factory=list)
    work_situation_study_requested: Annotated[
        bool,
        msgspec.Meta(title="Étude préalable de la situation de travail (EPAAST) demandée"),
    ] = False
    employer_contact_consent: Annotated[
        bool,
        msgspec.Meta(title="La personne accepte que Cap emploi contacte son employeur"),
    ] = False
    employer_stance: Annotated[EmployerStance, msgspec.Meta(title="Position de l'employeur")] = (
        EmployerStance.NOT_CONTACTED
    )


def steps(today: date, level: Level, intake: CapEmploiIntake | None) -> list[StepDefinition]:
    """Cap emploi's steps of `level`, adapted to the intake (None: not known yet)."""
    if level is Level.ONE:
        return [
            StepDefinition(
                id="cap_emploi.compensation_needs",
                level=Level.ONE,
                title="Besoins de compensation du handicap",
                input=CompensationNeeds,
                help="Repérez les besoins de compensation que la personne exprime (aménagement, "
                "aide technique ou humaine, transport...), sans aucune précision médicale.",
                order=60,
                required=True,
            )
        ]
    employed = intake is not None and intake.currently_employed
    retention = (
        intake is not None
        and intake.job_retention
        and parameters().get_at("job_retention.offered", today) is not None
    )
    found: list[StepDefinition] = []
    if retention:
        found.append(
            StepDefinition(
                id="cap_emploi.job_retention",
                level=Level.TWO,
                title="Maintien dans l'emploi",
                input=JobRetention,
                help="Solution de maintien envisagée, accord de la personne avant tout contact "
                "avec l'employeur, visite de pré-reprise et date de reprise.",
                order=50,
                required=True,
            )
        )
    found.append(
        StepDefinition(
            id="cap_emploi.compensation_plan",
            level=Level.TWO,
            title="Compensation du handicap dans le projet",
            input=CompensationPlan,
            help="Besoins de compensation du projet, financeurs (Agefiph pour le secteur privé, "
            "FIPHFP pour le secteur public) et prestations spécifiques.",
            order=150,
            required=True,
            depends_on=(CORE_PROJECT,),
        )
    )
    if employed:
        found.append(
            StepDefinition(
                id="cap_emploi.workstation_adaptation",
                level=Level.TWO,
                title="Aménagement du poste de travail",
                input=WorkstationAdaptation,
                help="Aménagements envisagés et étude préalable ; l'employeur n'est contacté "
                "qu'avec l'accord de la personne.",
                order=160,
                required=retention,
                depends_on=(
                    ("cap_emploi.job_retention", CORE_PROJECT) if retention else (CORE_PROJECT,)
                ),
            )
        )
    return found


def check_compensation_needs(today: date, case: Case, answers: CompensationNeeds) -> list[Issue]:
    return duplicate_choices("needs", answers.needs)


def check_compensation_plan(today: date, case: Case, answers: CompensationPlan) -> list[Issue]:
    issues = duplicate_choices("needs", answers.needs) + duplicate_choices(
        "funders", answers.funders
    )
    issues += duplicate_choices("services", answers.services)
    public_agent = case.situation.is_public_agent
    # Agefiph funds private employers and their staff, FIPHFP public employers and their agents.
    if Funder.FIPHFP in answers.funders and not public_agent:
        issues.append(
            issue(
                "funders",
                "wrong_fund",
                "Le FIPHFP finance les compensations des agents publics ; pour une personne du "
                "secteur privé ou en recherche d'emploi, sollicitez l'Agefiph.",
            )
        )
    if Funder.AGEFIPH in answers.funders and public_agent:
        issues.append(
            issue(
                "funders",
                "wrong_fund",
                "L'Agefiph intervient pour le secteur privé ; pour un agent public, sollicitez "
                "le FIPHFP.",
            )
        )
    if answers.funders and not answers.needs:
        issues.append(
            issue(
                "needs",
                "required",
                "Indiquez le besoin de compensation pour lequel un financeur est sollicité.",
            )
        )
    return issues


def check_job_retention(today: date, case: Case, answers: JobRetention) -> list[Issue]:
    issues = _employer_consent(answers.employer_contact_consent, answers.employer_stance)
    if answers.planned_return_on is not None and answers.planned_return_on < today:
        issues.append(
            issue(
                "planned_return_on",
                "date_in_past",
                "La date de reprise envisagée "
                f"({french_date(answers.planned_return_on)}) est passée.",
            )
        )
    intake = intake_answers(case)
    if (
        answers.pre_return_visit is not PreReturnVisit.NOT_APPLICABLE
        and intake is not None
        and not intake.on_sick_leave
    ):
        issues.append(
            issue(
                "pre_return_visit",
                "inconsistent",
                "La visite de pré-reprise concerne une personne en arrêt de travail, ce que "
                "l'accueil n'indique pas.",
            )
        )
    return issues


def check_workstation(today: date, case: Case, answers: WorkstationAdaptation) -> list[Issue]:
    issues = _employer_consent(answers.employer_contact_consent, answers.employer_stance)
    issues += duplicate_choices("adaptations", answers.adaptations)
    if not answers.adaptations and not answers.work_situation_study_requested:
        issues.append(
            issue(
                "adaptations",
                "required",
                "Indiquez au moins un aménagement envisagé, ou la demande d'étude préalable de "
                "la situation de travail.",
            )
        )
    return issues


def _employer_consent(consent: bool, stance: EmployerStance) -> list[Issue]:
    if consent or stance is EmployerStance.NOT_CONTACTED:
        return []
    return [
        issue(
            "employer_contact_consent",
            "consent_required",
            "L'employeur ne peut être contacté qu'avec l'accord de la personne : enregistrez "
            "cet accord avant de noter la position de l'employeur.",
        )
    ]


STEP_CHECKS: dict[str, StepCheck] = {
    "cap_emploi.compensation_needs": (CompensationNeeds, check_compensation_needs),
    "cap_emploi.compensation_plan": (CompensationPlan, check_compensation_plan),
    "cap_emploi.job_retention": (JobRetention, check_job_retention),
    "cap_emploi.workstation_adaptation": (WorkstationAdaptation, check_workstation),
}


# -- hooks -------------------------------------------------------------------------------------


@hookimpl
def cep_intake_form(ctx: OperatorContext, channel: FormChannel) -> IntakeForm:
    return intake_form(channel)


@hookimpl
def cep_validate_intake(ctx: OperatorContext, data: Mapping[str, Any]) -> list[Issue]:
    return validate_intake_with(CapEmploiIntake, check_intake, ctx.today, data)


@hookimpl
def cep_session_steps(ctx: OperatorContext, level: Level, case: Case) -> list[StepDefinition]:
    return steps(ctx.today, level, intake_answers(case))


@hookimpl
def cep_validate_step(
    ctx: OperatorContext, case: Case, step_id: str, data: Mapping[str, Any]
) -> list[Issue]:
    return validate_step_with(STEP_CHECKS, ctx.today, case, step_id, data)


# -- helpers -----------------------------------------------------------------------------------


def intake_answers(case: Case) -> CapEmploiIntake | None:
    """The case's intake as this operator's full intake Struct, or None when absent.

    Public answers fit it too (the public form is a subset); funding and synthesis code of
    this plugin read the intake through here.
    """
    return intake_as(case, CapEmploiIntake)

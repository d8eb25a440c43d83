"""France Travail's own flow (Pôle emploi until 2023): intake of job seekers, and their steps.

For a registered job seeker the CEP runs alongside a personalised plan that already exists —
the projet personnalisé d'accès à l'emploi (PPAE) until 31 December 2024, the contrat
d'engagement since 1 January 2025 (loi n° 2023-1196) — so this flow checks the CEP project
against that plan and records the job-seeker aids it may call on. The registration id, the
jobseeker category and the plan kind are collected at intake; which categories, plan kinds and
pathways exist on a date are dated parameters. A person not registered yet gets a
registration step instead of the plan review.

The France Travail CPF top-up deadlines and amounts belong to the funding engine, not here.
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
    date_in_future,
    duplicate_choices,
    french_date,
    hookimpl,
    intake_as,
    issue,
    validate_intake_with,
    validate_step_with,
)

PLUGIN_ID = "pole_emploi"
CORE_PROJECT = "level2.project"

Title = Annotated[str, msgspec.Meta(min_length=1, max_length=150)]
Notes = Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]
RomeCode = Annotated[str, msgspec.Meta(max_length=5, pattern=r"^[A-N][0-9]{4}$")]
# The identifier's exact format is not documented in the sources we could check (old regional
# ids mixed digits and letters); only its character set and length are bounded here.
RegistrationId = Annotated[
    str, msgspec.Meta(min_length=1, max_length=20, pattern=r"^[0-9A-Za-z]+$")
]


@cache
def parameters() -> ParameterSet:
    # Loaded here rather than imported from `hooks`, which imports this module.
    return ParameterSet.from_package("cep_pole_emploi", "data/parameters.toml")


# -- closed choices ----------------------------------------------------------------------------


class LabelledChoice(cep_core.LabelledChoice):
    """This operator's closed choices; their French labels are in `LABELS`."""

    @classmethod
    def labels(cls) -> Mapping[str, str]:
        return LABELS[cls]


class JobseekerCategory(LabelledChoice):
    A = "a"
    B = "b"
    C = "c"
    D = "d"
    E = "e"
    F = "f"
    G = "g"


class PlanKind(LabelledChoice):
    PPAE = "ppae"
    ENGAGEMENT_CONTRACT = "engagement_contract"


class Pathway(LabelledChoice):
    PROFESSIONAL = "professional"
    SOCIO_PROFESSIONAL = "socio_professional"
    SOCIAL = "social"


class Referent(LabelledChoice):
    FRANCE_TRAVAIL = "france_travail"
    MISSION_LOCALE = "mission_locale"
    CAP_EMPLOI = "cap_emploi"
    DEPARTEMENT = "departement"


class Income(LabelledChoice):
    ARE = "are"
    ASS = "ass"
    RSA = "rsa"
    OTHER = "other"
    NONE = "none"


class PlanMatch(LabelledChoice):
    MATCHES = "matches"
    EXTENDS = "extends"
    DIFFERS = "differs"


class PlanAction(LabelledChoice):
    TRAINING = "training"
    IMMERSION = "immersion"
    JOB_SEARCH_WORKSHOP = "job_search_workshop"
    SKILLS_ASSESSMENT = "skills_assessment"
    BUSINESS_CREATION = "business_creation"


class RegistrationTopic(LabelledChoice):
    RIGHTS_AND_DUTIES = "rights_and_duties"
    COMPENSATION = "compensation"
    ENGAGEMENT_CONTRACT = "engagement_contract"


class PlanConsistency(LabelledChoice):
    CONSISTENT = "consistent"
    UPDATE_NEEDED = "update_needed"
    UPDATED = "updated"


class JobseekerAid(LabelledChoice):
    """Aids a job seeker may ask France Travail for (names as used in 2025; conditions vary)."""

    TRAINING_AID = "aif"
    CPF_TOP_UP = "cpf_top_up"
    PRE_HIRING_TRAINING = "poei"
    PRE_RECRUITMENT_TRAINING = "afpr"
    IMMERSION = "pmsmp"
    MOBILITY = "mobility_aid"
    TRAINING_PAY = "training_pay"


LABELS: dict[type[LabelledChoice], dict[str, str]] = {
    JobseekerCategory: {
        JobseekerCategory.A: "A — sans emploi, tenu(e) de rechercher un emploi",
        JobseekerCategory.B: "B — activité réduite courte, tenu(e) de rechercher un emploi",
        JobseekerCategory.C: "C — activité réduite longue, tenu(e) de rechercher un emploi",
        JobseekerCategory.D: "D — non tenu(e) de rechercher un emploi (formation, maladie...)",
        JobseekerCategory.E: "E — en emploi, non tenu(e) de rechercher un emploi",
        JobseekerCategory.F: "F — en parcours d'accompagnement social",
        JobseekerCategory.G: "G — en attente d'orientation",
    },
    PlanKind: {
        PlanKind.PPAE: "Projet personnalisé d'accès à l'emploi (PPAE)",
        PlanKind.ENGAGEMENT_CONTRACT: "Contrat d'engagement",
    },
    Pathway: {
        Pathway.PROFESSIONAL: "Parcours professionnel",
        Pathway.SOCIO_PROFESSIONAL: "Parcours socio-professionnel",
        Pathway.SOCIAL: "Parcours social",
    },
    Referent: {
        Referent.FRANCE_TRAVAIL: "France Travail",
        Referent.MISSION_LOCALE: "Mission locale",
        Referent.CAP_EMPLOI: "Cap emploi",
        Referent.DEPARTEMENT: "Conseil départemental",
    },
    Income: {
        Income.ARE: "Allocation d'aide au retour à l'emploi (ARE)",
        Income.ASS: "Allocation de solidarité spécifique (ASS)",
        Income.RSA: "Revenu de solidarité active (RSA)",
        Income.OTHER: "Autre allocation",
        Income.NONE: "Aucune allocation",
    },
    PlanMatch: {
        PlanMatch.MATCHES: "La demande de CEP correspond au plan",
        PlanMatch.EXTENDS: "La demande précise ou élargit le plan",
        PlanMatch.DIFFERS: "La demande s'écarte du plan",
    },
    PlanAction: {
        PlanAction.TRAINING: "Formation",
        PlanAction.IMMERSION: "Immersion professionnelle",
        PlanAction.JOB_SEARCH_WORKSHOP: "Atelier de recherche d'emploi",
        PlanAction.SKILLS_ASSESSMENT: "Évaluation ou bilan de compétences",
        PlanAction.BUSINESS_CREATION: "Accompagnement à la création d'entreprise",
    },
    RegistrationTopic: {
        RegistrationTopic.RIGHTS_AND_DUTIES: "Droits et devoirs du demandeur d'emploi",
        RegistrationTopic.COMPENSATION: "Droits à indemnisation",
        RegistrationTopic.ENGAGEMENT_CONTRACT: "Contrat d'engagement et parcours",
    },
    PlanConsistency: {
        PlanConsistency.CONSISTENT: "Le projet est cohérent avec le plan",
        PlanConsistency.UPDATE_NEEDED: "Le plan est à actualiser",
        PlanConsistency.UPDATED: "Le plan a été actualisé",
    },
    JobseekerAid: {
        JobseekerAid.TRAINING_AID: "Aide individuelle à la formation (AIF)",
        JobseekerAid.CPF_TOP_UP: "Abondement du CPF par France Travail",
        JobseekerAid.PRE_HIRING_TRAINING: (
            "Préparation opérationnelle à l'emploi individuelle (POEI)"
        ),
        JobseekerAid.PRE_RECRUITMENT_TRAINING: (
            "Action de formation préalable au recrutement (AFPR)"
        ),
        JobseekerAid.IMMERSION: "Période de mise en situation en milieu professionnel (PMSMP)",
        JobseekerAid.MOBILITY: "Aide à la mobilité",
        JobseekerAid.TRAINING_PAY: "Rémunération pendant la formation",
    },
}

TRAINING_AIDS = frozenset(
    {JobseekerAid.TRAINING_AID, JobseekerAid.CPF_TOP_UP, JobseekerAid.TRAINING_PAY}
)
HIRING_AIDS = frozenset({JobseekerAid.PRE_HIRING_TRAINING, JobseekerAid.PRE_RECRUITMENT_TRAINING})

# -- intake ------------------------------------------------------------------------------------

RegisteredField = Annotated[bool, msgspec.Meta(title="Inscrit(e) comme demandeur(se) d'emploi")]
RegistrationIdField = Annotated[
    RegistrationId | None,
    msgspec.Meta(
        title="Identifiant France Travail",
        description="L'identifiant de votre espace personnel, lettres et chiffres seulement.",
    ),
]
TargetJobField = Annotated[Title | None, msgspec.Meta(title="Métier recherché")]
IncomeField = Annotated[Income | None, msgspec.Meta(title="Allocation perçue")]


class FranceTravailPublicIntake(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What the person fills in alone: registration, identifier, sought job and allowance."""

    registered: RegisteredField
    registration_id: RegistrationIdField = None
    target_job: TargetJobField = None
    income: IncomeField = None


class FranceTravailIntake(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The counsellor's and the API's intake: the public questions plus the plan in force."""

    registered: RegisteredField
    registration_id: RegistrationIdField = None
    target_job: TargetJobField = None
    income: IncomeField = None
    registered_on: Annotated[date | None, msgspec.Meta(title="Date d'inscription")] = None
    category: Annotated[
        JobseekerCategory | None, msgspec.Meta(title="Catégorie de demandeur d'emploi")
    ] = None
    referent: Annotated[Referent | None, msgspec.Meta(title="Organisme référent")] = None
    plan_kind: Annotated[PlanKind | None, msgspec.Meta(title="Plan personnalisé signé")] = None
    plan_signed_on: Annotated[date | None, msgspec.Meta(title="Date de signature du plan")] = None
    pathway: Annotated[Pathway | None, msgspec.Meta(title="Parcours d'accompagnement")] = None
    target_rome: Annotated[RomeCode | None, msgspec.Meta(title="Code ROME du métier recherché")] = (
        None
    )
    income_ends_on: Annotated[
        date | None, msgspec.Meta(title="Fin prévue des droits à allocation")
    ] = None


def intake_form(channel: FormChannel) -> IntakeForm:
    if channel is FormChannel.PUBLIC:
        return IntakeForm(
            operator=PLUGIN_ID,
            title="Votre inscription et votre recherche",
            input=FranceTravailPublicIntake,
            help="Si vous êtes inscrit(e), votre identifiant permet à votre conseiller de "
            "retrouver votre plan personnalisé.",
        )
    return IntakeForm(
        operator=PLUGIN_ID,
        title="Accueil — inscription et plan personnalisé",
        input=FranceTravailIntake,
        help="Identifiant, catégorie, plan personnalisé (PPAE jusqu'au 31 décembre 2024, "
        "contrat d'engagement depuis) et parcours : le CEP s'articule avec ce plan.",
    )


def check_intake(today: date, answers: FranceTravailIntake) -> list[Issue]:
    params = parameters()
    issues: list[Issue] = []
    if answers.registered and answers.registration_id is None:
        issues.append(
            issue(
                "registration_id",
                "required",
                "Indiquez l'identifiant France Travail de la personne inscrite.",
            )
        )
    if not answers.registered:
        for name in ("registration_id", "registered_on", "category", "plan_kind", "pathway"):
            if getattr(answers, name) is not None:
                issues.append(
                    issue(
                        name,
                        "not_registered",
                        "Cette information suppose une inscription comme demandeur(se) "
                        "d'emploi, que la réponse « inscrit(e) » n'indique pas.",
                    )
                )
    for name in ("registered_on", "plan_signed_on"):
        value = getattr(answers, name)
        if value is not None and value > today:
            issues.append(date_in_future(name, value))
    registered_on, signed = answers.registered_on, answers.plan_signed_on
    if registered_on is not None and signed is not None and signed < registered_on:
        issues.append(
            issue(
                "plan_signed_on",
                "before_registration",
                "Le plan ne peut pas être signé avant l'inscription "
                f"({french_date(registered_on)}).",
            )
        )
    category = answers.category
    if category is not None and category.value not in params.get_at(
        "jobseeker.categories", today, ()
    ):
        issues.append(
            issue(
                "category",
                "not_in_force",
                f"La catégorie {category.value.upper()} n'existe pas à cette date.",
            )
        )
    if answers.plan_kind is not None:
        when = signed or today
        in_force = params["personalised_plan.kind"].entry_at(when)
        expected = PlanKind(in_force.value) if in_force is not None else None
        if expected is not None and in_force is not None and answers.plan_kind is not expected:
            issues.append(
                issue(
                    "plan_kind",
                    "not_in_force",
                    f"Un plan signé le {french_date(when)} est un « {expected.label} », le plan en "
                    f"vigueur depuis le {french_date(in_force.valid_from)}.",
                )
            )
    elif signed is not None:
        issues.append(issue("plan_signed_on", "inconsistent", "Indiquez quel plan a été signé."))
    issues += _check_pathway(today, answers)
    if answers.income_ends_on is not None and answers.income in (None, Income.NONE):
        issues.append(
            issue(
                "income_ends_on",
                "inconsistent",
                "Une fin de droits suppose une allocation : indiquez laquelle.",
            )
        )
    return issues


def _check_pathway(today: date, answers: FranceTravailIntake) -> list[Issue]:
    pathway, category = answers.pathway, answers.category
    available = parameters().get_at("pathways.available", today, ())
    if pathway is not None and pathway.value not in available:
        return [
            issue(
                "pathway",
                "not_in_force",
                "Les parcours professionnel, socio-professionnel et social n'existent pas à "
                "cette date : ils accompagnent le contrat d'engagement.",
            )
        ]
    if category is JobseekerCategory.G and pathway is not None:
        return [
            issue(
                "pathway",
                "inconsistent",
                "Une personne en catégorie G attend encore son orientation : elle n'a pas de "
                "parcours.",
            )
        ]
    if category is JobseekerCategory.F and pathway not in (None, Pathway.SOCIAL):
        return [
            issue(
                "pathway",
                "inconsistent",
                "La catégorie F correspond au parcours social.",
            )
        ]
    return []


# -- steps -------------------------------------------------------------------------------------


class PlanReview(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Level 1: the CEP request read against the personalised plan already signed."""

    match: Annotated[PlanMatch, msgspec.Meta(title="La demande de CEP et le plan personnalisé")]
    plan_target_job: Annotated[Title | None, msgspec.Meta(title="Métier inscrit au plan")] = None
    plan_target_rome: Annotated[
        RomeCode | None, msgspec.Meta(title="Code ROME inscrit au plan")
    ] = None
    actions_in_progress: Annotated[
        list[PlanAction],
        msgspec.Meta(max_length=len(PlanAction), title="Actions du plan en cours"),
    ] = msgspec.field(default_factory=list)
    difference: Annotated[
        Notes | None,
        msgspec.Meta(title="En quoi la demande s'écarte du plan"),
    ] = None


class Registration(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Level 1, for a person not registered yet: whether and when they will register."""

    wishes_to_register: Annotated[
        bool, msgspec.Meta(title="La personne souhaite s'inscrire à France Travail")
    ]
    planned_on: Annotated[date | None, msgspec.Meta(title="Date d'inscription prévue")] = None
    information_given: Annotated[
        list[RegistrationTopic],
        msgspec.Meta(max_length=len(RegistrationTopic), title="Informations données"),
    ] = msgspec.field(default_factory=list)


class PlanConsistencyCheck(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Level 2: the CEP project against the plan, and what must change in the plan."""

    consistency: Annotated[PlanConsistency, msgspec.Meta(title="Projet et plan personnalisé")]
    plan_updated_on: Annotated[date | None, msgspec.Meta(title="Date d'actualisation du plan")] = (
        None
    )
    reasonable_offer_review: Annotated[
        bool,
        msgspec.Meta(
            title="Les éléments de l'offre raisonnable d'emploi sont à revoir",
            description="Métier, zone géographique, salaire attendu inscrits au plan.",
        ),
    ] = False


class AidsRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Level 2: the job-seeker aids the action plan will call on."""

    aids: Annotated[
        list[JobseekerAid],
        msgspec.Meta(min_length=1, max_length=len(JobseekerAid), title="Aides sollicitées"),
    ]
    training_start_on: Annotated[date | None, msgspec.Meta(title="Début prévu de la formation")] = (
        None
    )
    hiring_employer_identified: Annotated[
        bool,
        msgspec.Meta(
            title="Un employeur qui recrute est identifié",
            description="La POEI et l'AFPR préparent à une offre d'emploi précise.",
        ),
    ] = False


def steps(level: Level, intake: FranceTravailIntake | None) -> list[StepDefinition]:
    """France Travail's steps of `level`, adapted to the intake (None: not known yet)."""
    registered = intake is not None and intake.registered
    if level is Level.ONE:
        if intake is not None and not intake.registered:
            return [
                StepDefinition(
                    id="pole_emploi.registration",
                    level=Level.ONE,
                    title="Inscription comme demandeur(se) d'emploi",
                    input=Registration,
                    help="La personne n'est pas inscrite : présentez l'inscription, ses droits "
                    "et ses devoirs, et notez si elle souhaite s'inscrire.",
                    order=50,
                    required=True,
                )
            ]
        return [
            StepDefinition(
                id="pole_emploi.plan_review",
                level=Level.ONE,
                title="Lecture du plan personnalisé",
                input=PlanReview,
                help="Rapprochez la demande de CEP du plan personnalisé signé (PPAE ou contrat "
                "d'engagement) : métier visé, actions en cours.",
                order=50,
                required=registered,
            )
        ]
    found: list[StepDefinition] = []
    if registered:
        found.append(
            StepDefinition(
                id="pole_emploi.plan_consistency",
                level=Level.TWO,
                title="Cohérence du projet avec le plan personnalisé",
                input=PlanConsistencyCheck,
                help="Le projet construit pendant le CEP doit être repris dans le plan "
                "personnalisé : notez s'il faut l'actualiser, et l'offre raisonnable d'emploi.",
                order=150,
                required=True,
                depends_on=(CORE_PROJECT,),
            )
        )
        found.append(
            StepDefinition(
                id="pole_emploi.jobseeker_aids",
                level=Level.TWO,
                title="Aides aux demandeurs d'emploi",
                input=AidsRequest,
                help="Aides de France Travail mobilisées par le plan d'action (formation, "
                "immersion, mobilité). Les montants sont calculés dans le plan de financement.",
                order=160,
                required=False,
                depends_on=(CORE_PROJECT,),
            )
        )
    return found


def check_plan_review(today: date, case: Case, answers: PlanReview) -> list[Issue]:
    issues = duplicate_choices("actions_in_progress", answers.actions_in_progress)
    if answers.match is PlanMatch.DIFFERS and answers.difference is None:
        issues.append(
            issue(
                "difference",
                "required",
                "Précisez en quoi la demande s'écarte du plan personnalisé.",
            )
        )
    return issues


def check_registration(today: date, case: Case, answers: Registration) -> list[Issue]:
    issues = duplicate_choices("information_given", answers.information_given)
    planned = answers.planned_on
    if planned is not None and not answers.wishes_to_register:
        issues.append(
            issue(
                "planned_on",
                "inconsistent",
                "Une date d'inscription n'a de sens que si la personne souhaite s'inscrire.",
            )
        )
    if planned is not None and planned < today:
        issues.append(
            issue(
                "planned_on",
                "date_in_past",
                f"La date d'inscription prévue ({french_date(planned)}) est passée : indiquez si "
                "l'inscription a eu lieu à l'accueil.",
            )
        )
    return issues


def check_plan_consistency(today: date, case: Case, answers: PlanConsistencyCheck) -> list[Issue]:
    issues: list[Issue] = []
    updated = answers.plan_updated_on
    if answers.consistency is PlanConsistency.UPDATED and updated is None:
        issues.append(
            issue("plan_updated_on", "required", "Indiquez la date d'actualisation du plan.")
        )
    if updated is not None and updated > today:
        issues.append(date_in_future("plan_updated_on", updated))
    if answers.consistency is PlanConsistency.CONSISTENT and answers.reasonable_offer_review:
        issues.append(
            issue(
                "reasonable_offer_review",
                "inconsistent",
                "Si le projet est cohérent avec le plan, l'offre raisonnable d'emploi qui y est "
                "inscrite ne change pas : choisissez « plan à actualiser ».",
            )
        )
    return issues


def check_aids(today: date, case: Case, answers: AidsRequest) -> list[Issue]:
    intake = intake_answers(case)
    if intake is None or not intake.registered:
        return [
            issue(
                "",
                "not_registered",
                "Les aides de France Travail sont réservées aux demandeurs d'emploi inscrits.",
            )
        ]
    issues = duplicate_choices("aids", answers.aids)
    start = answers.training_start_on
    training = sorted(TRAINING_AIDS & set(answers.aids))
    if training and start is None:
        names = ", ".join(aid.label for aid in training)
        issues.append(
            issue(
                "training_start_on",
                "required",
                f"Indiquez le début prévu de la formation pour : {names}.",
            )
        )
    if start is not None and start < today:
        issues.append(
            issue(
                "training_start_on",
                "date_in_past",
                f"Le début de la formation ({french_date(start)}) est passé : une aide se demande "
                "avant l'entrée en formation.",
            )
        )
    if HIRING_AIDS & set(answers.aids) and not answers.hiring_employer_identified:
        issues.append(
            issue(
                "hiring_employer_identified",
                "required",
                "La POEI et l'AFPR préparent à une offre d'emploi : elles supposent un employeur "
                "qui recrute.",
            )
        )
    return issues


STEP_CHECKS: dict[str, StepCheck] = {
    "pole_emploi.plan_review": (PlanReview, check_plan_review),
    "pole_emploi.registration": (Registration, check_registration),
    "pole_emploi.plan_consistency": (PlanConsistencyCheck, check_plan_consistency),
    "pole_emploi.jobseeker_aids": (AidsRequest, check_aids),
}


# -- hooks -------------------------------------------------------------------------------------


@hookimpl
def cep_intake_form(ctx: OperatorContext, channel: FormChannel) -> IntakeForm:
    return intake_form(channel)


@hookimpl
def cep_validate_intake(ctx: OperatorContext, data: Mapping[str, Any]) -> list[Issue]:
    return validate_intake_with(FranceTravailIntake, check_intake, ctx.today, data)


@hookimpl
def cep_session_steps(ctx: OperatorContext, level: Level, case: Case) -> list[StepDefinition]:
    return steps(level, intake_answers(case))


@hookimpl
def cep_validate_step(
    ctx: OperatorContext, case: Case, step_id: str, data: Mapping[str, Any]
) -> list[Issue]:
    return validate_step_with(STEP_CHECKS, ctx.today, case, step_id, data)


# -- helpers -----------------------------------------------------------------------------------


def intake_answers(case: Case) -> FranceTravailIntake | None:
    """The case's intake as this operator's full intake Struct, or None when absent.

    Public answers fit it too (the public form is a subset); funding and synthesis code of
    this plugin read the intake through here.
    """
    return intake_as(case, FranceTravailIntake)

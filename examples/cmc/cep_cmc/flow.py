"""The conseillers mobilité carrière's flow: intake of public agents, and their steps.

A public agent's career is statutory: which public service (État, territoriale,
hospitalière), whether they are a tenured civil servant (titulaire) or on contract, their
category. Level 1 takes stock of the career and the wish to move; level 2 turns the project
into a mobility plan (posts aimed at, public services open to, a competitive exam to prepare
and its date).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any

import msgspec

import cep_core
from cep_core import (
    LEVEL_TWO_PROJECT,
    Case,
    FormChannel,
    IntakeForm,
    Issue,
    Level,
    OperatorContext,
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

PLUGIN_ID = "cmc"

Item = Annotated[str, msgspec.Meta(min_length=1, max_length=150)]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]


# -- closed choices ----------------------------------------------------------------------------


class LabelledChoice(cep_core.LabelledChoice):
    """This operator's closed choices; their French labels are in `LABELS`."""

    @classmethod
    def labels(cls) -> Mapping[str, str]:
        return LABELS[cls]


class PublicService(LabelledChoice):
    STATE = "state"
    TERRITORIAL = "territorial"
    HOSPITAL = "hospital"


class Employment(LabelledChoice):
    TENURED = "tenured"
    CONTRACT = "contract"


class Category(LabelledChoice):
    A = "a"
    B = "b"
    C = "c"


class Request(LabelledChoice):
    INTERNAL_MOBILITY = "internal_mobility"
    OTHER_SERVICE = "other_service"
    SECONDMENT = "secondment"
    COMPETITIVE_EXAM = "competitive_exam"
    RETRAINING = "retraining"
    PRIVATE_SECTOR = "private_sector"


class MobilityWish(LabelledChoice):
    FUNCTIONAL = "functional"
    GEOGRAPHIC = "geographic"
    BOTH = "both"
    UNDECIDED = "undecided"


LABELS: dict[type[LabelledChoice], dict[str, str]] = {
    PublicService: {
        PublicService.STATE: "Fonction publique de l'État",
        PublicService.TERRITORIAL: "Fonction publique territoriale",
        PublicService.HOSPITAL: "Fonction publique hospitalière",
    },
    Employment: {
        Employment.TENURED: "Fonctionnaire titulaire",
        Employment.CONTRACT: "Agent(e) contractuel(le)",
    },
    Category: {Category.A: "Catégorie A", Category.B: "Catégorie B", Category.C: "Catégorie C"},
    Request: {
        Request.INTERNAL_MOBILITY: "Changer de poste dans mon administration",
        Request.OTHER_SERVICE: "Rejoindre une autre administration ou un autre versant",
        Request.SECONDMENT: "Partir en détachement",
        Request.COMPETITIVE_EXAM: "Préparer un concours",
        Request.RETRAINING: "Me reconvertir",
        Request.PRIVATE_SECTOR: "Rejoindre le secteur privé",
    },
    MobilityWish: {
        MobilityWish.FUNCTIONAL: "Changer de métier ou de fonctions",
        MobilityWish.GEOGRAPHIC: "Changer de lieu de travail",
        MobilityWish.BOTH: "Les deux",
        MobilityWish.UNDECIDED: "Pas encore décidé",
    },
}

# -- intake ------------------------------------------------------------------------------------

ServiceField = Annotated[PublicService, msgspec.Meta(title="Versant de la fonction publique")]
EmploymentField = Annotated[Employment, msgspec.Meta(title="Statut d'emploi")]
RequestField = Annotated[Request, msgspec.Meta(title="Votre demande")]
PositionField = Annotated[Item, msgspec.Meta(title="Poste occupé")]


class CmcPublicIntake(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What the agent fills in alone: nothing about their employer or their career."""

    public_service: ServiceField
    employment: EmploymentField
    position: PositionField
    request: RequestField


class CmcIntake(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The counsellor's and the API's intake: the public questions plus the career's detail."""

    public_service: ServiceField
    employment: EmploymentField
    position: PositionField
    request: RequestField
    employer: Annotated[
        Item | None, msgspec.Meta(title="Administration, collectivité ou établissement")
    ] = None
    category: Annotated[Category | None, msgspec.Meta(title="Catégorie")] = None
    years_in_public_service: Annotated[
        Annotated[int, msgspec.Meta(ge=0, le=50)] | None,
        msgspec.Meta(title="Années de service public"),
    ] = None


def intake_form(channel: FormChannel) -> IntakeForm:
    if channel is FormChannel.PUBLIC:
        return IntakeForm(
            operator=PLUGIN_ID,
            title="Votre situation d'agent(e) public(que)",
            input=CmcPublicIntake,
            help="Votre versant, votre statut, votre poste et votre demande : votre conseiller "
            "ou conseillère mobilité carrière prépare ainsi votre premier entretien.",
        )
    return IntakeForm(
        operator=PLUGIN_ID,
        title="Accueil — situation statutaire",
        input=CmcIntake,
        help="Versant, statut d'emploi, catégorie, employeur et ancienneté dans le service "
        "public, et la demande de l'agent.",
    )


def check_intake(today: date, answers: CmcIntake) -> list[Issue]:
    issues: list[Issue] = []
    if answers.request is Request.SECONDMENT and answers.employment is Employment.CONTRACT:
        issues.append(
            issue(
                "request",
                "inconsistent",
                "Le détachement est une position des fonctionnaires titulaires : un(e) agent(e) "
                "contractuel(le) peut rejoindre une autre administration par un nouveau contrat.",
            )
        )
    if answers.category is not None and answers.employment is Employment.CONTRACT:
        issues.append(
            issue(
                "category",
                "inconsistent",
                "La catégorie est celle d'un corps ou d'un cadre d'emplois de fonctionnaires : "
                "laissez-la vide pour un(e) agent(e) contractuel(le).",
            )
        )
    return issues


# -- steps -------------------------------------------------------------------------------------


class CareerReview(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Level 1: where the agent stands, and the kind of move they have in mind."""

    years_in_position: Annotated[int, msgspec.Meta(ge=0, le=50, title="Années sur le poste actuel")]
    mobility_wish: Annotated[MobilityWish, msgspec.Meta(title="Mobilité envisagée")]
    constraints: Annotated[
        Text | None, msgspec.Meta(title="Contraintes (familiales, géographiques, de santé…)")
    ] = None


class MobilityPlan(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Level 2: the posts aimed at, the public services open to, an exam to prepare."""

    target_posts: Annotated[
        list[Item], msgspec.Meta(min_length=1, max_length=5, title="Postes ou fonctions visés")
    ]
    public_services: Annotated[
        list[PublicService],
        msgspec.Meta(max_length=len(PublicService), title="Versants envisagés"),
    ] = msgspec.field(default_factory=list)
    exam: Annotated[Item | None, msgspec.Meta(title="Concours préparé")] = None
    exam_on: Annotated[date | None, msgspec.Meta(title="Date des épreuves")] = None


def steps(level: Level) -> list[StepDefinition]:
    if level is Level.ONE:
        return [
            StepDefinition(
                id="cmc.career_review",
                level=Level.ONE,
                title="Point de carrière",
                input=CareerReview,
                help="Ancienneté sur le poste, mobilité envisagée et contraintes à prendre en "
                "compte.",
                order=50,
            )
        ]
    return [
        StepDefinition(
            id="cmc.mobility_plan",
            level=Level.TWO,
            title="Projet de mobilité",
            input=MobilityPlan,
            help="Postes ou fonctions visés, versants envisagés, concours éventuel et date de "
            "ses épreuves.",
            order=150,
            depends_on=(LEVEL_TWO_PROJECT,),
        )
    ]


def check_mobility_plan(today: date, case: Case, answers: MobilityPlan) -> list[Issue]:
    issues = duplicate_choices("public_services", answers.public_services)
    if answers.exam_on is not None and answers.exam is None:
        issues.append(
            issue("exam", "missing_field", "Une date d'épreuves suppose un concours : nommez-le.")
        )
    if answers.exam_on is not None and answers.exam_on < today:
        issues.append(
            issue(
                "exam_on",
                "date_in_past",
                f"La date des épreuves ({french_date(answers.exam_on)}) est passée.",
            )
        )
    intake = intake_as(case, CmcIntake)
    if intake is not None and intake.request is Request.COMPETITIVE_EXAM and answers.exam is None:
        issues.append(
            issue(
                "exam",
                "missing_field",
                "La demande d'accueil était de préparer un concours : nommez le concours visé.",
            )
        )
    return issues


STEP_CHECKS: dict[str, StepCheck] = {"cmc.mobility_plan": (MobilityPlan, check_mobility_plan)}


# -- hooks -------------------------------------------------------------------------------------


@hookimpl
def cep_intake_form(ctx: OperatorContext, channel: FormChannel) -> IntakeForm:
    return intake_form(channel)


@hookimpl
def cep_validate_intake(ctx: OperatorContext, data: Mapping[str, Any]) -> list[Issue]:
    return validate_intake_with(CmcIntake, check_intake, ctx.today, data)


@hookimpl
def cep_session_steps(ctx: OperatorContext, level: Level, case: Case) -> list[StepDefinition]:
    return steps(level)


@hookimpl
def cep_validate_step(
    ctx: OperatorContext, case: Case, step_id: str, data: Mapping[str, Any]
) -> list[Issue]:
    return validate_step_with(STEP_CHECKS, ctx.today, case, step_id, data)

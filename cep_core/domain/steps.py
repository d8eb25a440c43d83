"""The legal minimum of each level, as typed step inputs, and the rules on steps.

The cahier des charges (arrêté du 29 mars 2019) fixes what each level must produce:

- level 1 (accueil individualisé): a record of the request, the clarified need, the kinds of
  information given, the person's decision to continue or not, the referral if any, and the
  shared *état des lieux* — step ``level1.record`` (`Level1Record`);
- level 2 (accompagnement personnalisé): the project — its objective, target job, strategies
  — (``level2.project``, `CareerProject`) and the action plan — schemes and services, personal
  steps and their methodological support, a *calendrier prévisionnel* — (``level2.action_plan``,
  `ActionPlan`); the funding plan is attached to the case by the funding use case.

Operators add steps of their own, or replace a core step: a replacing step's input must
subclass the core Struct (so the legal fields stay), it is addressed by the core step's id
and it stays required. Every input is a msgspec Struct with ``forbid_unknown_fields=True`` and a
bound on every string, list and number.

`CareerProject` is not `cep_core.Project`: that one is what the funding rules price.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Annotated, Any

import msgspec

from cep_core.domain.case import Level, ReferralReason, StepRecord
from cep_core.domain.forms import StepDefinition
from cep_core.domain.issues import Issue

LEVEL_ONE_RECORD = "level1.record"
LEVEL_TWO_PROJECT = "level2.project"
LEVEL_TWO_ACTION_PLAN = "level2.action_plan"

ShortText = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]
LongText = Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]
OperatorId = Annotated[
    str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_.-]*$")
]
RomeCode = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[A-N][0-9]{4}$",
        max_length=5,
        title="Code ROME",
        description="Code de la fiche métier ROME (une lettre de A à N et quatre chiffres).",
    ),
]
CertificationCode = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^(RNCP|RS)[0-9]{1,6}$",
        max_length=10,
        title="Code de certification",
        description="Code RNCP ou RS de la certification visée (ex. RNCP34592).",
    ),
]


# -- vocabularies ----------------------------------------------------------------------------


class InformationKind(enum.StrEnum):
    """Kinds of first-level information given at level 1 (cahier des charges 2019)."""

    CEP_SERVICE = "cep_service"
    JOB_MARKET = "job_market"
    TRAINING = "training"
    SCHEMES = "schemes"
    FUNDING = "funding"
    COMPENSATION = "compensation"
    ACTORS = "actors"


INFORMATION_KIND_LABELS: dict[InformationKind, str] = {
    InformationKind.CEP_SERVICE: "Finalités et fonctionnement du conseil en évolution "
    "professionnelle",
    InformationKind.JOB_MARKET: "Environnement professionnel et évolution des métiers sur le "
    "territoire",
    InformationKind.TRAINING: "Formations et certifications",
    InformationKind.SCHEMES: "Dispositifs et prestations (bilan de compétences, VAE, ...)",
    InformationKind.FUNDING: "Aides et financements mobilisables",
    InformationKind.COMPENSATION: "Compensations et aides liées au handicap",
    InformationKind.ACTORS: "Acteurs et organismes pouvant accompagner la personne",
}


class ProjectObjective(enum.StrEnum):
    """The seven objectives of a career project named by the seed."""

    INSERTION = "insertion"
    CAREER_DEVELOPMENT = "career_development"
    SKILLS_DEVELOPMENT = "skills_development"
    CERTIFICATION = "certification"
    MOBILITY = "mobility"
    RETRAINING = "retraining"
    BUSINESS = "business"


PROJECT_OBJECTIVE_LABELS: dict[ProjectObjective, str] = {
    ProjectObjective.INSERTION: "Insertion professionnelle",
    ProjectObjective.CAREER_DEVELOPMENT: "Évolution professionnelle",
    ProjectObjective.SKILLS_DEVELOPMENT: "Développement des compétences",
    ProjectObjective.CERTIFICATION: "Certification",
    ProjectObjective.MOBILITY: "Mobilité interne ou externe",
    ProjectObjective.RETRAINING: "Reconversion ou transition professionnelle",
    ProjectObjective.BUSINESS: "Reprise ou création d'activité",
}


class ServiceKind(enum.StrEnum):
    """Schemes and complementary services an action plan may use."""

    TRAINING = "training"
    SKILLS_ASSESSMENT = "skills_assessment"
    VAE = "vae"
    BUSINESS_SUPPORT = "business_support"
    OTHER = "other"


SERVICE_KIND_LABELS: dict[ServiceKind, str] = {
    ServiceKind.TRAINING: "Formation",
    ServiceKind.SKILLS_ASSESSMENT: "Bilan de compétences",
    ServiceKind.VAE: "Validation des acquis de l'expérience (VAE)",
    ServiceKind.BUSINESS_SUPPORT: "Accompagnement à la création ou à la reprise d'entreprise",
    ServiceKind.OTHER: "Autre prestation complémentaire",
}


# -- level 1 ---------------------------------------------------------------------------------


class Level1Referral(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The operator the person is referred to, written by the referral itself if need be."""

    operator: Annotated[OperatorId, msgspec.Meta(title="Opérateur vers lequel orienter")]
    reason: Annotated[ReferralReason, msgspec.Meta(title="Motif de l'orientation")]
    note: Annotated[Text, msgspec.Meta(title="Précisions")] | None = None


class Level1Record(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Level-1 record (step ``level1.record``): required to close level 1 and to go on."""

    request: Annotated[
        LongText,
        msgspec.Meta(
            title="Demande exprimée",
            description="La demande de la personne, telle qu'elle l'a formulée.",
        ),
    ]
    clarified_need: Annotated[
        LongText,
        msgspec.Meta(
            title="Besoin clarifié",
            description="Le besoin tel qu'il ressort de l'échange.",
        ),
    ]
    information_given: Annotated[
        tuple[InformationKind, ...],
        msgspec.Meta(
            min_length=1,
            max_length=len(InformationKind),
            title="Informations données",
            description="Les types d'information de premier niveau délivrés à la personne.",
        ),
    ]
    shared_review: Annotated[
        LongText,
        msgspec.Meta(
            title="État des lieux partagé",
            description="L'état des lieux de la demande et du besoin, partagé avec la "
            "personne : il détermine la suite.",
        ),
    ]
    continues: Annotated[
        bool,
        msgspec.Meta(
            title="Décision de poursuivre",
            description="La personne décide-t-elle de poursuivre en accompagnement "
            "personnalisé (niveau 2) ?",
        ),
    ]
    referral: (
        Annotated[
            Level1Referral,
            msgspec.Meta(
                title="Orientation vers un autre opérateur",
                description="À renseigner si la personne est orientée vers l'opérateur le "
                "plus pertinent.",
            ),
        ]
        | None
    ) = None


# -- level 2 ---------------------------------------------------------------------------------


class CareerProject(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The person's career project (step ``level2.project``)."""

    objective: Annotated[ProjectObjective, msgspec.Meta(title="Objectif du projet")]
    description: Annotated[
        LongText,
        msgspec.Meta(title="Description du projet professionnel"),
    ]
    strategies: Annotated[
        tuple[Text, ...],
        msgspec.Meta(
            min_length=1,
            max_length=5,
            title="Stratégies envisagées",
            description="La ou les stratégies envisagées pour mener le projet.",
        ),
    ]
    target_job: Annotated[ShortText, msgspec.Meta(title="Métier visé")] | None = None
    rome_code: RomeCode | None = None


class PlannedService(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A scheme or complementary service the action plan uses."""

    kind: Annotated[ServiceKind, msgspec.Meta(title="Type de prestation")]
    label: Annotated[ShortText, msgspec.Meta(title="Intitulé")]
    provider: Annotated[ShortText, msgspec.Meta(title="Prestataire")] | None = None
    provider_qualiopi: (
        Annotated[
            bool,
            msgspec.Meta(
                title="Prestataire certifié Qualiopi",
                description="Exigé pour un financement public ou mutualisé (C. trav. R6316-1).",
            ),
        ]
        | None
    ) = None
    certification_code: CertificationCode | None = None
    start: Annotated[date, msgspec.Meta(title="Début prévu")] | None = None
    end: Annotated[date, msgspec.Meta(title="Fin prévue")] | None = None


class PersonalStep(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A step the person takes, with the methodological support they need."""

    description: Annotated[Text, msgspec.Meta(title="Démarche")]
    support: Annotated[Text, msgspec.Meta(title="Appui méthodologique nécessaire")] | None = None
    due: Annotated[date, msgspec.Meta(title="Échéance")] | None = None


class Milestone(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One dated milestone of the calendrier prévisionnel."""

    on: Annotated[date, msgspec.Meta(title="Date")]
    label: Annotated[ShortText, msgspec.Meta(title="Étape")]


class ActionPlan(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The action plan (step ``level2.action_plan``); the funding plan is attached apart."""

    services: Annotated[
        tuple[PlannedService, ...],
        msgspec.Meta(max_length=20, title="Dispositifs et prestations mobilisés"),
    ] = ()
    personal_steps: Annotated[
        tuple[PersonalStep, ...],
        msgspec.Meta(max_length=30, title="Démarches personnelles"),
    ] = ()
    milestones: Annotated[
        tuple[Milestone, ...],
        msgspec.Meta(min_length=1, max_length=30, title="Calendrier prévisionnel"),
    ]


# -- the core's steps ------------------------------------------------------------------------

CORE_STEPS: Mapping[str, StepDefinition] = {
    LEVEL_ONE_RECORD: StepDefinition(
        id=LEVEL_ONE_RECORD,
        level=Level.ONE,
        title="Compte rendu du niveau 1",
        help=(
            "Consignez la demande de la personne, le besoin clarifié, les informations "
            "données, sa décision de poursuivre ou non, l'orientation éventuelle vers un autre "
            "opérateur et l'état des lieux partagé. Obligatoire pour clôturer le niveau 1 ou "
            "passer au niveau 2."
        ),
        input=Level1Record,
        order=900,
        required=True,
    ),
    LEVEL_TWO_PROJECT: StepDefinition(
        id=LEVEL_TWO_PROJECT,
        level=Level.TWO,
        title="Projet professionnel",
        help=(
            "Décrivez le projet de la personne : son objectif, le métier visé (avec son code "
            "ROME si vous le connaissez) et la ou les stratégies envisagées."
        ),
        input=CareerProject,
        order=100,
        required=True,
    ),
    LEVEL_TWO_ACTION_PLAN: StepDefinition(
        id=LEVEL_TWO_ACTION_PLAN,
        level=Level.TWO,
        title="Plan d'action",
        help=(
            "Indiquez les dispositifs et prestations mobilisés (formation, bilan de "
            "compétences, VAE, accompagnement à la création d'activité, autres prestations : "
            "prestataire et certification Qualiopi), les démarches personnelles et l'appui "
            "méthodologique nécessaire, et le calendrier prévisionnel. Le plan de financement "
            "s'y rattache."
        ),
        input=ActionPlan,
        order=800,
        required=True,
        depends_on=(LEVEL_TWO_PROJECT,),
    ),
}


def core_steps(level: Level) -> list[StepDefinition]:
    return [step for step in CORE_STEPS.values() if step.level is level]


# -- rules on completed answers --------------------------------------------------------------


def check_action_plan(plan: ActionPlan) -> list[Issue]:
    """What the types cannot say: a plan names something to do, dates run forwards."""
    issues: list[Issue] = []
    if not plan.services and not plan.personal_steps:
        issues.append(
            Issue(
                path="services",
                code="empty_plan",
                message=(
                    "Le plan d'action doit comporter au moins un dispositif ou une prestation, "
                    "ou au moins une démarche personnelle."
                ),
            )
        )
    for index, service in enumerate(plan.services):
        if service.start and service.end and service.end < service.start:
            issues.append(
                Issue(
                    path=f"services[{index}].end",
                    code="invalid_dates",
                    message="La fin prévue ne peut pas précéder le début prévu.",
                )
            )
        if service.provider is not None and service.provider_qualiopi is None:
            issues.append(
                Issue(
                    path=f"services[{index}].provider_qualiopi",
                    code="missing_field",
                    message=(
                        "Indiquez si le prestataire est certifié Qualiopi : c'est une condition "
                        "des financements publics et mutualisés."
                    ),
                )
            )
    return issues


def check_core_step(step_id: str, value: msgspec.Struct) -> list[Issue]:
    """The core's own checks of a completed core step (or of the step replacing it)."""
    if step_id == LEVEL_TWO_ACTION_PLAN and isinstance(value, ActionPlan):
        return check_action_plan(value)
    return []


# -- progress --------------------------------------------------------------------------------


class StepStatus(enum.StrEnum):
    NOT_STARTED = "not_started"
    DRAFT = "draft"
    COMPLETED = "completed"


class StepState(msgspec.Struct, frozen=True, kw_only=True):
    """A step of the case's flow, with what was saved for it (for pages and the API)."""

    id: str
    level: Level
    title: str
    help: str
    order: int
    required: bool
    depends_on: tuple[str, ...]
    status: StepStatus
    blocked_by: tuple[str, ...]  # dependencies not completed yet
    data: dict[str, Any] | None = None
    updated_at: datetime | None = None
    completed_at: datetime | None = None


class LevelProgress(msgspec.Struct, frozen=True, kw_only=True):
    """Completed required steps out of the level's required steps."""

    level: Level
    required: int
    completed: int
    missing: tuple[str, ...]  # ids of required steps not completed, in flow order
    percent: int


def step_states(
    steps: Sequence[StepDefinition], records: Mapping[str, StepRecord]
) -> tuple[StepState, ...]:
    states = []
    for step in steps:
        record = records.get(step.id)
        if record is None:
            status = StepStatus.NOT_STARTED
        else:
            status = StepStatus.COMPLETED if record.completed else StepStatus.DRAFT
        blocked = tuple(d for d in step.depends_on if not _completed(records, d))
        states.append(
            StepState(
                id=step.id,
                level=step.level,
                title=step.title,
                help=step.help,
                order=step.order,
                required=step.required,
                depends_on=step.depends_on,
                status=status,
                blocked_by=blocked,
                data=None if record is None else dict(record.data),
                updated_at=None if record is None else record.updated_at,
                completed_at=None if record is None else record.completed_at,
            )
        )
    return tuple(states)


def level_progress(
    level: Level, steps: Sequence[StepDefinition], records: Mapping[str, StepRecord]
) -> LevelProgress:
    required = [step for step in steps if step.required and step.level is level]
    missing = tuple(step.id for step in required if not _completed(records, step.id))
    done = len(required) - len(missing)
    percent = 100 if not required else done * 100 // len(required)
    return LevelProgress(
        level=level, required=len(required), completed=done, missing=missing, percent=percent
    )


def _completed(records: Mapping[str, StepRecord], step_id: str) -> bool:
    record = records.get(step_id)
    return record is not None and record.completed

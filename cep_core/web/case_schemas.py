"""Input and output Structs of the cases API: the HTTP contract, apart from the domain.

Inputs reject unknown fields and bound every string, list and number (SEC-04, SEC-05): a
read-only field (``id``, ``operator`` of an existing case, ``version``, ``created_at``,
``status``...) sent in a body is an unknown field, hence a 400. Free-form answers (intake,
steps) are bounded JSON (`Answers`), checked by the service against the operator's own
Struct.

Outputs are built field by field from the domain values, and per role (SEC-03): only
`CounsellorCaseOut` has the sessions' confidential notes; every other role gets `CaseOut`,
whose sessions have no ``notes`` key at all. Field names are the public contract.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, TypeVar, Union

import msgspec

from cep_core.domain.case import (
    NOTE_MAX_LENGTH,
    Beneficiary,
    Case,
    CaseEvent,
    CaseStatus,
    CloseReason,
    Closure,
    IntakeRecord,
    Level,
    Referral,
    ReferralReason,
    SessionRecord,
)
from cep_core.domain.forms import FormChannel, IntakeForm, SessionChannel, StepDefinition
from cep_core.domain.lifecycle import Action
from cep_core.domain.situation import Situation, Status
from cep_core.domain.steps import LevelProgress, StepState, StepStatus
from cep_core.services.cases import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    NAME_QUERY_MAX_LENGTH,
    CasePage,
    CaseView,
    NewBeneficiary,
    StepSaved,
)
from cep_core.services.funding import SimulationAnswer
from cep_core.services.orientation import OrientationQuery
from cep_core.storage.tables import ACTOR_LENGTH
from cep_core.web.schemas import ProblemIssue

# -- bounded JSON answers ----------------------------------------------------------------------

ANSWERS_MAX_KEYS = 100
ANSWERS_MAX_ITEMS = 100
ANSWER_TEXT_MAX_LENGTH = 10_000
# Integers and floats a JSON client can round-trip exactly; amounts are integer cents.
JSON_INT_BOUND = 2**53
JSON_FLOAT_BOUND = 1e15

AnswerKey = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Scalar = Union[  # noqa: UP007 (a runtime alias: X | Y cannot hold Annotated members here)
    Annotated[str, msgspec.Meta(max_length=ANSWER_TEXT_MAX_LENGTH)],
    Annotated[int, msgspec.Meta(ge=-JSON_INT_BOUND, le=JSON_INT_BOUND)],
    Annotated[float, msgspec.Meta(ge=-JSON_FLOAT_BOUND, le=JSON_FLOAT_BOUND)],
    bool,
    None,
]
Nested1 = Union[  # noqa: UP007
    Scalar,
    Annotated[list[Scalar], msgspec.Meta(max_length=ANSWERS_MAX_ITEMS)],
    Annotated[dict[AnswerKey, Scalar], msgspec.Meta(max_length=ANSWERS_MAX_KEYS)],
]
Nested2 = Union[  # noqa: UP007
    Scalar,
    Annotated[list[Nested1], msgspec.Meta(max_length=ANSWERS_MAX_ITEMS)],
    Annotated[dict[AnswerKey, Nested1], msgspec.Meta(max_length=ANSWERS_MAX_KEYS)],
]
Nested3 = Union[  # noqa: UP007
    Scalar,
    Annotated[list[Nested2], msgspec.Meta(max_length=ANSWERS_MAX_ITEMS)],
    Annotated[dict[AnswerKey, Nested2], msgspec.Meta(max_length=ANSWERS_MAX_KEYS)],
]
Answers = Annotated[
    dict[AnswerKey, Nested3],
    msgspec.Meta(
        max_length=ANSWERS_MAX_KEYS,
        title="Réponses",
        description="Un objet JSON dont les champs sont ceux du formulaire de l'opérateur "
        "(voir son schéma) ; quatre niveaux d'imbrication au plus, 64 Kio au plus.",
    ),
]

ActorId = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=ACTOR_LENGTH,
        pattern=r"^[^\x00-\x1f\x7f]+$",
        description="Identifiant pseudonyme d'un conseiller ou d'un client de l'API.",
    ),
]
OperatorId = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=64,
        pattern=r"^[a-z0-9][a-z0-9_.-]*$",
        description="Identifiant de l'opérateur (apec, pole_emploi, mission_locale, "
        "cap_emploi, regional, ou celui d'un opérateur ajouté par un plugin).",
        examples=["regional"],
    ),
]
Note = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=NOTE_MAX_LENGTH,
        title="Précision",
        description="Texte libre, sans donnée de santé.",
    ),
]
Cursor = Annotated[
    str,
    msgspec.Meta(
        max_length=200,
        description="Le ``next_cursor`` de la page précédente (valeur opaque).",
    ),
]
PageSize = Annotated[
    int,
    msgspec.Meta(
        ge=1,
        le=MAX_PAGE_SIZE,
        description=f"Nombre de dossiers par page (1 à {MAX_PAGE_SIZE}).",
    ),
]


# -- inputs ------------------------------------------------------------------------------------


class CaseCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``POST /api/v1/cases``: a case opened from an orientation."""

    beneficiary: Annotated[NewBeneficiary, msgspec.Meta(title="La personne")]
    situation: Annotated[
        OrientationQuery,
        msgspec.Meta(
            title="Sa situation",
            description="Les champs de ``POST /api/v1/orientation`` ; l'orientation est "
            "refaite et doit retenir l'opérateur, sauf ``force``.",
        ),
    ]
    operator: (
        Annotated[
            OperatorId,
            msgspec.Meta(
                title="Opérateur choisi",
                description="Facultatif : s'il est donné, ce doit être l'opérateur du jeton "
                "(sinon 403). Pour adresser la personne à un autre opérateur, ouvrez le "
                "dossier puis orientez-la (action ``refer``).",
            ),
        ]
        | None
    ) = None
    level: (
        Annotated[
            Level,
            msgspec.Meta(
                title="Niveau de départ",
                description="1 ou 2 : le dossier démarre à ce niveau (les niveaux sont "
                "indépendants) ; absent, il est simplement ouvert.",
            ),
        ]
        | None
    ) = None
    counsellor_id: (
        Annotated[
            ActorId,
            msgspec.Meta(
                title="Conseiller référent",
                description="Par défaut, l'acteur du jeton.",
            ),
        ]
        | None
    ) = None
    intake: (
        Annotated[
            Answers,
            msgspec.Meta(
                title="Informations d'accueil",
                description="Les réponses au formulaire d'accueil de l'opérateur pour "
                "``channel`` (voir ``GET .../intake-form``).",
            ),
        ]
        | None
    ) = None
    channel: Annotated[
        FormChannel,
        msgspec.Meta(title="Canal du formulaire d'accueil"),
    ] = FormChannel.COUNSELLOR
    force: Annotated[
        bool,
        msgspec.Meta(
            title="Passer outre l'orientation",
            description="Un conseiller ouvre le dossier même si l'orientation ne retient pas "
            "l'opérateur (jamais sur le canal public) ; le journal le note.",
        ),
    ] = False


class IntakeSubmission(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``PUT .../intake``: the answers to the operator's intake form (they replace the old)."""

    answers: Answers
    channel: Annotated[FormChannel, msgspec.Meta(title="Canal du formulaire")] = (
        FormChannel.COUNSELLOR
    )


class StepSave(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``PUT .../steps/{step_id}``: a draft (kept as typed) or the completed step."""

    data: Answers
    complete: Annotated[
        bool,
        msgspec.Meta(
            title="Terminer l'étape",
            description="false : brouillon enregistré tel quel, la réponse dit ce qui empêche "
            "encore de terminer ; true : tout est vérifié, sinon 400 et rien n'est écrit.",
        ),
    ] = False


class CloseRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``POST .../actions/close``."""

    reason: Annotated[
        CloseReason,
        msgspec.Meta(
            title="Motif de clôture",
            description="``completed`` exige toutes les étapes obligatoires du niveau.",
        ),
    ]
    note: Note | None = None


class ReferRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``POST .../actions/refer``: hand the person over to another installed operator."""

    target_operator: Annotated[OperatorId, msgspec.Meta(title="Opérateur vers lequel orienter")]
    reason: Annotated[ReferralReason, msgspec.Meta(title="Motif de l'orientation")]
    note: Note | None = None


class CaseSearch(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``POST /api/v1/cases/search``: the list's filters, plus the name (never in a URL)."""

    name: (
        Annotated[
            str,
            msgspec.Meta(
                min_length=1,
                max_length=NAME_QUERY_MAX_LENGTH,
                title="Nom ou prénom",
                description="Chaque mot (5 au plus) doit être le début d'un mot du prénom "
                "ou du nom (« mar » trouve Martin et Marie, pas Omar) ; sans accents, "
                "majuscules ni ponctuation.",
            ),
        ]
        | None
    ) = None
    status: CaseStatus | None = None
    level: Level | None = None
    counsellor_id: ActorId | None = None
    limit: PageSize = DEFAULT_PAGE_SIZE
    cursor: Cursor | None = None


# -- outputs -----------------------------------------------------------------------------------

Out = TypeVar("Out", bound=msgspec.Struct)


def _copied(cls: type[Out], source: object, **converted: Any) -> Out:
    """`cls` with each field read from `source`'s attribute of the same name, except the
    `converted` ones given here (copies to JSON-friendly types, nested outputs).

    Reads the names from ``__struct_fields__``: ``msgspec.structs.fields`` evaluates the
    class's annotations on every call, which was a third of a case read (bench/throughput.py).
    """
    names = cls.__struct_fields__
    same = {name: getattr(source, name) for name in names if name not in converted}
    return cls(**same, **converted)


class PersonOut(msgspec.Struct, frozen=True, kw_only=True):
    """The person in a list: names only."""

    id: str
    first_name: str
    last_name: str

    @classmethod
    def from_domain(cls, person: Beneficiary) -> PersonOut:
        return _copied(cls, person)


class BeneficiaryOut(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    first_name: str
    last_name: str
    email: str | None
    phone: str | None

    @classmethod
    def from_domain(cls, person: Beneficiary) -> BeneficiaryOut:
        return _copied(cls, person)


class SituationOut(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The situation as every role sees it: no disability status (health data, SEC-03).

    Closed (``additionalProperties: false`` in the document) so that a counsellor's case,
    whose situation has the disability status, matches only `CounsellorCaseOut` of the
    ``oneOf`` of case answers: schemathesis found both matching (ST108)."""

    birth_date: date
    as_of: date
    status: Status
    cadre: bool
    registered_jobseeker: bool
    working: bool
    seeking_job: bool
    region: str | None

    @classmethod
    def from_domain(cls, situation: Situation) -> SituationOut:
        return _copied(cls, situation)


class CounsellorSituationOut(SituationOut, frozen=True, kw_only=True):
    """The situation as the operator's counsellors see it, with the disability status."""

    disability_recognition: bool

    @classmethod
    def from_domain(cls, situation: Situation) -> CounsellorSituationOut:
        return _copied(cls, situation)


class IntakeOut(msgspec.Struct, frozen=True, kw_only=True):
    channel: FormChannel
    answers: dict[str, Any]
    submitted_at: datetime
    submitted_by: str | None

    @classmethod
    def from_domain(cls, intake: IntakeRecord) -> IntakeOut:
        return _copied(cls, intake, answers=dict(intake.answers))


class SessionOut(msgspec.Struct, frozen=True, kw_only=True):
    """A session as every role sees it: no notes."""

    id: str
    start: datetime
    channel: SessionChannel
    duration_minutes: int
    counsellor_id: str
    outside_working_time: bool | None
    level: Level | None
    recorded_at: datetime
    recorded_by: str | None

    @classmethod
    def from_domain(cls, session: SessionRecord) -> SessionOut:
        return _copied(cls, session)


class CounsellorSessionOut(SessionOut, frozen=True, kw_only=True):
    """A session as the operator's counsellors see it, with their confidential notes."""

    notes: str | None

    @classmethod
    def from_domain(cls, session: SessionRecord) -> CounsellorSessionOut:
        return _copied(cls, session)


class StepOut(msgspec.Struct, frozen=True, kw_only=True):
    """A step of the flow with what was saved for it."""

    id: str
    level: Level
    title: str
    help: str
    order: int
    required: bool
    depends_on: list[str]
    status: StepStatus
    blocked_by: list[str]
    data: dict[str, Any] | None
    updated_at: datetime | None
    completed_at: datetime | None

    @classmethod
    def from_domain(cls, state: StepState) -> StepOut:
        return _copied(cls, state, **_step_lists(state))


class StepWithSchemaOut(StepOut, frozen=True, kw_only=True):
    """A step, with the JSON Schema of its answers (titles, help, types, bounds, choices)."""

    input_schema: dict[str, Any]

    @classmethod
    def build(cls, state: StepState, definition: StepDefinition) -> StepWithSchemaOut:
        schema = msgspec.json.schema(definition.input)
        return _copied(cls, state, **_step_lists(state), input_schema=schema)


def _step_lists(state: StepState) -> dict[str, Any]:
    return {
        "depends_on": list(state.depends_on),
        "blocked_by": list(state.blocked_by),
        "data": None if state.data is None else dict(state.data),
    }


class ProgressOut(msgspec.Struct, frozen=True, kw_only=True):
    """Completed required steps out of the level's required steps."""

    level: Level
    required: int
    completed: int
    missing: list[str]
    percent: int

    @classmethod
    def from_domain(cls, progress: LevelProgress) -> ProgressOut:
        return _copied(cls, progress, missing=list(progress.missing))


class ClosureOut(msgspec.Struct, frozen=True, kw_only=True):
    reason: CloseReason
    note: str | None
    at: datetime
    by: str | None

    @classmethod
    def from_domain(cls, closure: Closure) -> ClosureOut:
        return _copied(cls, closure)


class ReferralOut(msgspec.Struct, frozen=True, kw_only=True):
    target_operator: str
    reason: ReferralReason
    note: str | None
    at: datetime
    by: str | None

    @classmethod
    def from_domain(cls, referral: Referral) -> ReferralOut:
        return _copied(cls, referral)


class _CaseFields(msgspec.Struct, frozen=True, kw_only=True):
    """What every role sees of a case (`CaseOut` and `CounsellorCaseOut` add the situation
    and the sessions, each in the role's own Struct)."""

    id: str
    operator: str
    version: int
    status: CaseStatus
    level: Level | None
    paused_from: CaseStatus | None
    counsellor_id: str | None
    created_at: datetime
    updated_at: datetime
    beneficiary: BeneficiaryOut | None
    intake: IntakeOut | None
    steps: list[StepOut]
    progress: ProgressOut | None
    allowed_actions: list[Action]
    closure: ClosureOut | None
    referral: ReferralOut | None
    funding_plan: SimulationAnswer | None


class CaseOut(_CaseFields, frozen=True, kw_only=True):
    """A case as any role but the operator's counsellors sees it: sessions without notes, a
    situation without the disability status, intake and steps without health data.

    ``steps`` and ``progress`` are those of the current level; ``allowed_actions`` those the
    status allows (``start_level_1`` is ``POST .../actions/start-level-1``), before the flow's
    checks and the plugins' vetoes. The ETag of this representation is in the ``ETag`` header.
    """

    situation: SituationOut
    sessions: list[SessionOut]


class CounsellorCaseOut(_CaseFields, frozen=True, kw_only=True):
    """A case as the operator's counsellors see it: with the sessions' confidential notes and
    the disability status."""

    situation: CounsellorSituationOut
    sessions: list[CounsellorSessionOut]


def case_out(view: CaseView) -> CaseOut | CounsellorCaseOut:
    """The role's Struct for `view`: the service decided whether notes may be shown, and the
    same roles see health data (`cep_core.domain.health_data`); `CaseService.view_case`
    already left it out of the intake and the steps for the others."""
    case = view.case
    fields = _case_fields(case, view)
    if view.confidential_notes:
        notes = [CounsellorSessionOut.from_domain(s) for s in case.sessions]
        situation = CounsellorSituationOut.from_domain(case.situation)
        return _copied(CounsellorCaseOut, case, **fields, situation=situation, sessions=notes)
    sessions = [SessionOut.from_domain(s) for s in case.sessions]
    plain = SituationOut.from_domain(case.situation)
    return _copied(CaseOut, case, **fields, situation=plain, sessions=sessions)


def _case_fields(case: Case, view: CaseView) -> dict[str, Any]:
    """The fields of a case output that are not copied as they are from the case."""
    plan = case.funding_plan
    return {
        "beneficiary": None
        if view.beneficiary is None
        else BeneficiaryOut.from_domain(view.beneficiary),
        "intake": None if case.intake is None else IntakeOut.from_domain(case.intake),
        "steps": [StepOut.from_domain(state) for state in view.steps],
        "progress": None if view.progress is None else ProgressOut.from_domain(view.progress),
        "allowed_actions": list(view.allowed_actions),
        "closure": None if case.closure is None else ClosureOut.from_domain(case.closure),
        "referral": None if case.referral is None else ReferralOut.from_domain(case.referral),
        "funding_plan": None
        if plan is None
        else SimulationAnswer.from_plan(plan, list(plan.warnings)),
    }


class CaseSummaryOut(msgspec.Struct, frozen=True, kw_only=True):
    """A case in a list: its state and the person's names, nothing of its content."""

    id: str
    version: int
    status: CaseStatus
    level: Level | None
    paused_from: CaseStatus | None
    counsellor_id: str | None
    beneficiary: PersonOut | None
    created_at: datetime
    updated_at: datetime


class CasePageOut(msgspec.Struct, frozen=True, kw_only=True):
    """One page, most recently updated first; ``next_cursor`` is null on the last page."""

    items: list[CaseSummaryOut]
    next_cursor: str | None

    @classmethod
    def from_domain(cls, page: CasePage) -> CasePageOut:
        items = []
        for case in page.items:
            person = page.beneficiaries.get(case.beneficiary_id)
            summary = None if person is None else PersonOut.from_domain(person)
            items.append(_copied(CaseSummaryOut, case, beneficiary=summary))
        return cls(items=items, next_cursor=page.next_cursor)


class StepsOut(msgspec.Struct, frozen=True, kw_only=True):
    """The flow of one level of a case: each step with its answers, and the progress."""

    case_id: str
    version: int
    level: Level | None
    steps: list[StepWithSchemaOut]
    progress: ProgressOut | None


class StepSavedOut(msgspec.Struct, frozen=True, kw_only=True):
    """The saved step; for a draft, ``issues`` lists what still keeps it from completion."""

    case_id: str
    version: int
    step: StepOut
    issues: list[ProblemIssue]

    @classmethod
    def from_domain(cls, saved: StepSaved) -> StepSavedOut:
        return cls(
            case_id=saved.case.id,
            version=saved.case.version,
            step=StepOut.from_domain(saved.step),
            issues=[ProblemIssue.from_domain(issue) for issue in saved.issues],
        )


class IntakeFormDefinitionOut(msgspec.Struct, frozen=True, kw_only=True):
    operator: str
    title: str
    help: str
    input_schema: dict[str, Any]

    @classmethod
    def from_domain(cls, form: IntakeForm) -> IntakeFormDefinitionOut:
        return cls(
            operator=form.operator,
            title=form.title,
            help=form.help,
            input_schema=msgspec.json.schema(form.input),
        )


class IntakeFormOut(msgspec.Struct, frozen=True, kw_only=True):
    """The operator's intake form for a channel; ``form`` is null when the operator asks
    nothing beyond the person and their situation (then send no answers)."""

    channel: FormChannel
    form: IntakeFormDefinitionOut | None


class CaseEventOut(msgspec.Struct, frozen=True, kw_only=True):
    """A journal line: what happened, never the case's content (``reason`` is a code)."""

    seq: int
    at: datetime
    kind: str
    actor: str | None
    from_status: CaseStatus | None
    to_status: CaseStatus | None
    reason: str | None

    @classmethod
    def from_domain(cls, event: CaseEvent) -> CaseEventOut:
        return _copied(cls, event)


class CaseEventsOut(msgspec.Struct, frozen=True, kw_only=True):
    """The case's journal, oldest first (``seq`` 1, 2, 3...)."""

    case_id: str
    events: list[CaseEventOut]

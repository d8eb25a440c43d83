"""Cases use case: open a case, drive it through its levels, and read it back.

Every method takes the operator first and checks it is installed; repositories then filter
every query on it, so an operator never sees, counts or pages into another's cases (SEC-01).

Writes follow one pattern, so nothing is ever half-written:

1. read the case and compare its version with ``expected_version`` (`VersionConflict`
   when it moved on: the HTTP layer answers 412, or 428 when the client sent none);
2. check everything — the state machine (`TransitionRefused` / `CaseStateConflict`, 409),
   the input (`InvalidInput`, French issues per field path), the operator's hooks, whose
   failure (`PluginFailure`) also stops the call — before anything is written;
3. ONE write transaction: the case document at ``version + 1`` (``UPDATE ... WHERE
   version = expected``, so of two concurrent edits exactly one wins) and its journal lines;
4. after commit, plugins hear of each journal line (``cep_case_event``).

The journal (``case_events``) tells the case's history: kind, actor, time, statuses and a
reason CODE (an enum value, a channel or a step id) — never free text, names or notes; those
live in the case document.

Confidential notes: methods returning a `Case` return it without the session notes, except
`get_case(..., confidential_notes=True)` (an explicit choice, e.g. an export the counsellor
asked for) and `view_case` for the counsellor role.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Annotated, Any, TypeVar

import msgspec
from sqlalchemy import Connection

from cep_core.clock import Clock, today_in_france
from cep_core.domain.case import (
    NOTE_MAX_LENGTH,
    SESSION_MAX_MINUTES,
    SESSION_NOTES_MAX_LENGTH,
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
    StepRecord,
    Transition,
    search_key,
    session_problems,
)
from cep_core.domain.context import OperatorContext, Role
from cep_core.domain.forms import (
    FormChannel,
    IntakeForm,
    SessionChannel,
    StepDefinition,
    unbounded_fields,
)
from cep_core.domain.funding import PayerChoice, TrainingKind
from cep_core.domain.health_data import redact_answers, redact_steps, sees_health_data
from cep_core.domain.issues import InvalidInput, Issue
from cep_core.domain.lifecycle import (
    TERMINAL,
    Action,
    allowed_actions,
    level_two_gate,
    missing_steps_issues,
    plan,
    refusal,
)
from cep_core.domain.situation import Situation
from cep_core.domain.steps import (
    CORE_STEPS,
    LEVEL_ONE_RECORD,
    LEVEL_TWO_ACTION_PLAN,
    LevelProgress,
    PlannedService,
    ServiceKind,
    StepState,
    check_core_step,
    level_progress,
    step_states,
)
from cep_core.errors import (
    CaseNotFound,
    CaseStateConflict,
    PluginFailure,
    TransitionRefused,
    UnknownOperator,
    UnknownStep,
    VersionConflict,
)
from cep_core.plugins import Hooks
from cep_core.services.funding import (
    CareerFacts,
    Euros,
    FunderQuery,
    FundingService,
    SimulationQuery,
    SituationQuery,
    TrainingQuery,
    to_domain,
)
from cep_core.services.keyset import check_page_size, decode_keyset, encode_keyset
from cep_core.services.orientation import OrientationService
from cep_core.storage.database import Database
from cep_core.storage.ids import new_id
from cep_core.storage.repositories import (
    BeneficiaryRepository,
    CaseEventRepository,
    CaseRepository,
)
from cep_core.storage.tables import ACTOR_LENGTH, ID_LENGTH
from cep_core.validation import issue_from_msgspec

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50
NAME_QUERY_MAX_LENGTH = 100
NAME_QUERY_MAX_WORDS = 5
# Size of the JSON answers of one step or one intake (a draft is stored as typed).
MAX_ANSWERS_BYTES = 64 * 1024
MAX_SESSIONS = 200
STEP_ID_MAX_LENGTH = 100

# A name: 1 to 100 characters, at least one visible, no control characters.
Name = Annotated[
    str, msgspec.Meta(min_length=1, max_length=100, pattern=r"^(?=.*\S)[^\x00-\x1f\x7f]+$")
]
Email = Annotated[str, msgspec.Meta(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Phone = Annotated[str, msgspec.Meta(max_length=30, pattern=r"^\+?[0-9][0-9 .()\-]{5,29}$")]

_FIELD_MESSAGES = {
    "first_name": "Le prénom est obligatoire (100 caractères au plus).",
    "last_name": "Le nom est obligatoire (100 caractères au plus).",
    "email": "L'adresse électronique n'est pas valide (exemple : prenom.nom@exemple.fr).",
    "phone": "Le numéro de téléphone n'est pas valide (exemple : 06 12 34 56 78).",
}
_PATH = re.compile(r"at `\$\.(\w+)")

STATUS_ON_OPEN: dict[Level | None, CaseStatus] = {
    None: CaseStatus.OPENED,
    Level.ONE: CaseStatus.LEVEL_ONE,
    Level.TWO: CaseStatus.LEVEL_TWO,
}

S = TypeVar("S", bound=msgspec.Struct)


class NewBeneficiary(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The person a new case is opened for, as typed by a counsellor or the person."""

    first_name: Name
    last_name: Name
    email: Email | None = None
    phone: Phone | None = None


class NewSession(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A session (entretien) to record; remote delivery carries the same requirements."""

    start: Annotated[
        datetime,
        msgspec.Meta(tz=True, title="Date et heure", description="Avec son fuseau horaire."),
    ]
    channel: Annotated[SessionChannel, msgspec.Meta(title="Modalité")]
    duration_minutes: Annotated[
        int, msgspec.Meta(ge=1, le=SESSION_MAX_MINUTES, title="Durée (minutes)")
    ]
    counsellor_id: (
        Annotated[
            str,
            msgspec.Meta(
                min_length=1,
                max_length=ACTOR_LENGTH,
                title="Conseiller",
                description="Par défaut, la personne qui enregistre l'entretien.",
            ),
        ]
        | None
    ) = None
    outside_working_time: (
        Annotated[
            bool,
            msgspec.Meta(
                title="Hors temps de travail",
                description="Obligatoire pour un salarié.",
            ),
        ]
        | None
    ) = None
    notes: (
        Annotated[
            str,
            msgspec.Meta(
                max_length=SESSION_NOTES_MAX_LENGTH,
                title="Notes confidentielles",
                description="Visibles des seuls conseillers de l'opérateur ; jamais dans la "
                "synthèse ni les exports, sauf choix explicite.",
            ),
        ]
        | None
    ) = None


class CasePage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of cases (without confidential notes), newest first, with their people;
    pass `next_cursor` back to get the next page."""

    items: tuple[Case, ...]
    next_cursor: str | None = None
    beneficiaries: dict[str, Beneficiary] = {}


class CaseView(msgspec.Struct, frozen=True, kw_only=True):
    """A case as one role may see it: the read model of the case page and the API.

    ``case`` holds the confidential notes only for the counsellor role (``confidential_notes``
    says which). ``allowed_actions`` are those the status allows; the flow's checks and the
    plugins' vetoes still apply when one is attempted. ``steps`` and ``progress`` are the
    flow of the case's current level (empty / None before a level starts).
    """

    case: Case
    beneficiary: Beneficiary | None
    allowed_actions: tuple[Action, ...]
    steps: tuple[StepState, ...]
    progress: LevelProgress | None
    confidential_notes: bool


class StepSaved(msgspec.Struct, frozen=True, kw_only=True):
    """The case after saving a step, the step's new state, and — for a draft — what still
    keeps it from being completed."""

    case: Case
    step: StepState
    issues: tuple[Issue, ...] = ()


class CaseTraining(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The service of the action plan to fund, and what the action plan does not say of it.

    Its kind, title, certification code, Qualiopi status and dates are read from the action
    plan; ``kind`` overrides the kind derived from the service's (a driving licence, say).
    """

    service: Annotated[
        int,
        msgspec.Meta(
            ge=0,
            le=19,
            title="Prestation du plan d'action",
            description="Rang, à partir de 0, du dispositif ou de la prestation à financer "
            "dans le plan d'action du dossier.",
        ),
    ] = 0
    cost_eur: Annotated[Euros, msgspec.Meta(title="Prix de l'action (frais pédagogiques, TTC)")]
    kind: Annotated[TrainingKind, msgspec.Meta(title="Nature de l'action")] | None = None
    hours: Annotated[int, msgspec.Meta(ge=0, le=10_000, title="Durée en heures")] | None = None
    other_costs_eur: Annotated[
        Euros, msgspec.Meta(title="Frais annexes (transport, repas, hébergement)")
    ] = 0
    ptp: Annotated[
        bool, msgspec.Meta(title="Action envisagée en projet de transition professionnelle")
    ] = False
    part_time: Annotated[bool, msgspec.Meta(title="Formation à temps partiel")] = False
    vae_applications_this_year: Annotated[
        int,
        msgspec.Meta(
            ge=0,
            le=20,
            title="Demandes de VAE déjà déposées cette année pour la même certification",
        ),
    ] = 0


class CaseFundingFacts(CareerFacts, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The person's facts funding reads that the case does not hold: the simulator's
    ``situation`` without the status, disability recognition, registration and region, which
    come from the case's situation (the fields are `CareerFacts`, shared with the simulator)."""


class FundingPlanRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What `CaseService.attach_funding_plan` needs beyond the case (same shape and meaning
    as the simulator's query, ``POST /api/v1/funding/simulate``)."""

    training: CaseTraining
    situation: CaseFundingFacts = CaseFundingFacts()
    purchase_date: (
        Annotated[
            date,
            msgspec.Meta(
                title="Date d'achat", description="Aujourd'hui, en France, quand elle est absente."
            ),
        ]
        | None
    ) = None
    participation_payer: PayerChoice = PayerChoice.HOLDER
    funders: Annotated[list[FunderQuery], msgspec.Meta(max_length=20)] = []


# The situation fields of the simulator's query that the case's own situation answers.
FUNDING_FACTS_FROM_CASE = ("status", "disability_recognition", "registered_jobseeker", "region")

# What the funding rules price for each kind of action-plan service (a training is a
# certification when it names an RNCP or RS code); `CaseTraining.kind` overrides it.
SERVICE_TRAINING_KINDS: dict[ServiceKind, TrainingKind] = {
    ServiceKind.TRAINING: TrainingKind.OTHER,
    ServiceKind.SKILLS_ASSESSMENT: TrainingKind.BILAN,
    ServiceKind.VAE: TrainingKind.VAE,
    ServiceKind.BUSINESS_SUPPORT: TrainingKind.CREATION,
    ServiceKind.OTHER: TrainingKind.OTHER,
}


# The journal line of a synthesis's download link sent to the person (see `journal_link_sent`).
SYNTHESIS_LINK_SENT = "synthesis_link_sent"


class _Line(msgspec.Struct, frozen=True, kw_only=True):
    """A journal line to append with a write."""

    kind: str
    from_status: CaseStatus | None = None
    to_status: CaseStatus | None = None
    reason: str | None = None


class CaseService:
    def __init__(
        self,
        database: Database,
        hooks: Hooks,
        *,
        clock: Clock,
        funding: FundingService | None = None,
    ) -> None:
        self._database = database
        self._hooks = hooks
        self._clock = clock
        self._orientation = OrientationService(hooks)
        self.funding = funding or FundingService(hooks)

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the clock must return timezone-aware datetimes")
        return now.astimezone(UTC)

    # -- opening ---------------------------------------------------------------------------

    def open_case(
        self,
        operator: str,
        beneficiary: NewBeneficiary,
        situation: Situation,
        *,
        level: Level | None = None,
        counsellor_id: str | None = None,
        actor: str | None = None,
        intake: Mapping[str, Any] | None = None,
        channel: FormChannel = FormChannel.COUNSELLOR,
        force: bool = False,
    ) -> Case:
        """Create the person and their case from an orientation, in one transaction.

        The situation is oriented again (eligibility, every operator's competence, the
        policy): an operator the orientation does not list is refused (`InvalidInput` on path
        ``operator``, naming the operators that are competent), unless ``force`` — a
        counsellor who knows better (never on the public form); the journal's "opened" line
        then has the reason code ``forced``. ``intake``, when given, is checked against the
        operator's form for ``channel`` and stored (one more journal line). A case opened at
        a level starts in that level's status (levels are independent).

        Raises `UnknownOperator` for an operator that is not installed and `InvalidInput`
        (every problem at once) for an impossible situation, a malformed person or intake.
        """
        self._hooks.operator(operator)
        person = _checked_beneficiary(beneficiary)
        issues = list(situation.problems())
        issues += _bounded("counsellor_id", counsellor_id) + _bounded("actor", actor)
        channel = _channel(channel)
        if force and channel is FormChannel.PUBLIC:
            issues.append(
                Issue(
                    path="force",
                    code="not_allowed",
                    message="Seul un conseiller peut ouvrir un dossier chez un opérateur que "
                    "l'orientation n'a pas retenu.",
                )
            )
        if issues:
            raise InvalidInput(issues)
        ctx = self._context(operator, actor, _role_of(channel, actor))
        competence = self._competence_issues(operator, situation)
        forced = bool(competence) and force
        issues = [] if force else competence
        answers = None
        if intake is not None:
            answers, intake_issues = self._checked_intake(ctx, channel, intake)
            issues += [_prefixed(issue, "intake") for issue in intake_issues]
        if issues:
            raise InvalidInput(issues)
        now = self._now()
        status = STATUS_ON_OPEN[level]
        stored_person = Beneficiary(
            id=new_id(),
            operator=operator,
            first_name=person.first_name,
            last_name=person.last_name,
            email=person.email,
            phone=person.phone,
            created_at=now,
        )
        case = Case(
            id=new_id(),
            operator=operator,
            beneficiary_id=stored_person.id,
            status=status,
            level=level,
            situation=situation,
            counsellor_id=counsellor_id,
            created_at=now,
            updated_at=now,
            version=1,
            intake=None if answers is None else _intake(channel, answers, now, actor),
        )
        with self._database.write() as connection:
            BeneficiaryRepository(connection, operator).add(stored_person)
            CaseRepository(connection, operator).add(case)
            journal = CaseEventRepository(connection, operator)
            events = [
                journal.append(
                    case_id=case.id,
                    at=now,
                    kind="opened",
                    actor=actor,
                    to_status=status,
                    reason="forced" if forced else None,
                )
            ]
            if answers is not None:
                events.append(
                    journal.append(
                        case_id=case.id,
                        at=now,
                        kind="intake_submitted",
                        actor=actor,
                        reason=channel.value,
                    )
                )
        for event in events:
            self._hooks.case_event(ctx, event)
        return case

    def _competence_issues(self, operator: str, situation: Situation) -> list[Issue]:
        orientation = self._orientation.orient(situation)
        if any(choice.id == operator for choice in orientation.operators):
            return []
        name = self._hooks.operator(operator).label(situation.as_of)
        if not orientation.eligible:
            why = " ".join(orientation.reasons)
            message = f"L'orientation n'a pas retenu « {name} » : {why}"
        elif orientation.operators:
            others = ", ".join(f"« {choice.name} »" for choice in orientation.operators)
            message = (
                f"L'orientation n'a pas retenu « {name} » pour cette situation. Opérateur(s) "
                f"compétent(s) : {others}. Un conseiller peut passer outre s'il l'estime "
                "justifié."
            )
        else:
            message = (
                f"L'orientation n'a pas retenu « {name} » pour cette situation, ni aucun autre "
                "opérateur installé. Un conseiller peut passer outre s'il l'estime justifié."
            )
        return [Issue(path="operator", code="not_competent", message=message)]

    # -- reading ---------------------------------------------------------------------------

    def get_case(self, operator: str, case_id: str, *, confidential_notes: bool = False) -> Case:
        """The case, or `CaseNotFound` — also for a case that belongs to another operator.

        Without the sessions' confidential notes unless ``confidential_notes=True``: that is
        the explicit choice syntheses and exports must make to include them.
        """
        case = self._load(operator, case_id)
        return case if confidential_notes else case.without_confidential_notes()

    def view_case(
        self, operator: str, case_id: str, *, role: Role, flow_optional: bool = False
    ) -> CaseView:
        """The case as `role` may see it: confidential notes and health data (the intake's
        and the steps' answers marked sensitive) for the counsellor role only (SEC-03).

        ``flow_optional``: the answer to a write that is already committed (REL-12). If the
        operator's plugin fails while giving the flow, the view goes without it (no steps,
        no progress; every answer hidden from roles that may not see health data, fail
        closed) rather than turn a write that happened into an error the client would retry.
        """
        case, person = self._load_with_person(operator, case_id)
        ctx = self._context(operator, None)
        flow: tuple[StepDefinition, ...] = ()
        flow_failed = False
        if case.level is not None:
            try:
                flow = self._flow(ctx, case, case.level)
            except PluginFailure:
                if not flow_optional:
                    raise
                logging.getLogger("cep_core.services").exception(
                    "case %s written, its answer without the flow of %s", case_id, operator
                )
                flow_failed = True
        states = step_states(flow, case.steps)
        visible = case.visible_to(role)
        if not sees_health_data(role):
            try:
                if flow_failed:
                    raise PluginFailure(operator, "cep_session_steps", "flux indisponible")
                visible = self._without_health_data(ctx, visible, flow)
            except PluginFailure:
                if not flow_optional:
                    raise
                flow_failed = True
                visible = _without_answers(visible)
            states = redact_steps(states, flow)
        progress = None
        if case.level is not None and not flow_failed:
            progress = level_progress(case.level, flow, case.steps)
        return CaseView(
            case=visible,
            beneficiary=person,
            allowed_actions=allowed_actions(case),
            steps=() if flow_failed else states,
            progress=progress,
            confidential_notes=role is Role.COUNSELLOR,
        )

    def _without_health_data(
        self, ctx: OperatorContext, case: Case, flow: tuple[StepDefinition, ...]
    ) -> Case:
        """The case without the answers its forms mark as health data, at both levels; an
        answer whose form cannot be found is dropped (fail closed)."""
        if case.intake is not None:
            channel = case.intake.channel
            try:
                form = self._form(
                    msgspec.structs.replace(ctx, role=_role_of(channel, None)), channel
                )
            except PluginFailure:
                form = None
            answers = {} if form is None else redact_answers(case.intake.answers, form.input)
            case = msgspec.structs.replace(
                case, intake=msgspec.structs.replace(case.intake, answers=answers)
            )
        inputs = {step.id: step.input for step in flow}
        for level in (Level.ONE, Level.TWO):
            if level != case.level:
                inputs.update((step.id, step.input) for step in self._flow(ctx, case, level))
        steps = {
            step_id: msgspec.structs.replace(
                record,
                data={} if step_id not in inputs else redact_answers(record.data, inputs[step_id]),
            )
            for step_id, record in case.steps.items()
        }
        return msgspec.structs.replace(case, steps=steps)

    def get_beneficiary(self, operator: str, beneficiary_id: str) -> Beneficiary | None:
        self._hooks.operator(operator)
        if not _plausible_id(beneficiary_id):
            return None
        with self._database.read() as connection:
            return BeneficiaryRepository(connection, operator).get(beneficiary_id)

    def list_cases(
        self,
        operator: str,
        *,
        status: CaseStatus | None = None,
        level: Level | None = None,
        counsellor_id: str | None = None,
        beneficiary_id: str | None = None,
        name: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> CasePage:
        """The operator's cases, most recently updated first, `limit` (1 to 200) at a time.

        Filters combine (AND). ``name`` searches the beneficiary's first and last names,
        ignoring accents, case and punctuation; each of its words (5 at most, 100 characters
        in all) must begin a word of the names ("mar" finds Martin and Marie, not Omar: a
        prefix is what an index can find among a million people). Keyset pagination on
        (updated_at, id): no duplicates and no gaps between pages even when many cases share
        a timestamp; the operator filter applies to every page, so a cursor cannot reach
        other tenants.
        """
        self._hooks.operator(operator)
        check_page_size(limit, MAX_PAGE_SIZE)
        if status is not None:
            status = _status(status)
        if level is not None:
            level = _level(level)
        issues = _bounded("counsellor_id", counsellor_id)
        terms = _name_terms(name, issues)
        if issues:
            raise InvalidInput(issues)
        after = None if cursor is None else decode_cursor(cursor)
        with self._database.read() as connection:
            found = CaseRepository(connection, operator).find(
                status=status,
                level=level,
                counsellor_id=counsellor_id,
                beneficiary_id=beneficiary_id,
                name_terms=terms,
                after=after,
                limit=limit + 1,
            )
            items = tuple(case.without_confidential_notes() for case in found[:limit])
            people = BeneficiaryRepository(connection, operator).get_many(
                [case.beneficiary_id for case in items]
            )
        next_cursor = encode_cursor(items[-1]) if len(found) > limit else None
        return CasePage(items=items, next_cursor=next_cursor, beneficiaries=people)

    def case_events(self, operator: str, case_id: str) -> list[CaseEvent]:
        """The case's journal in order; `CaseNotFound` when the operator has no such case."""
        self._hooks.operator(operator)
        if not _plausible_id(case_id):
            raise CaseNotFound(case_id)
        with self._database.read() as connection:
            if CaseRepository(connection, operator).get(case_id) is None:
                raise CaseNotFound(case_id)
            return CaseEventRepository(connection, operator).for_case(case_id)

    def journal_link_sent(
        self,
        connection: Connection,
        operator: str,
        case_id: str,
        level: Level,
        *,
        actor: str | None,
    ) -> CaseEvent:
        """Journal that a synthesis's download link was sent to the person, in the caller's
        transaction (the link and its e-mail are written there: all three or none). Codes
        only — the level — never the address. Call `announce` once committed."""
        self._hooks.operator(operator)
        return CaseEventRepository(connection, operator).append(
            case_id=case_id,
            at=self._now(),
            kind=SYNTHESIS_LINK_SENT,
            actor=actor,
            reason=f"level_{int(level)}",
        )

    def announce(self, operator: str, event: CaseEvent, *, actor: str | None) -> None:
        """Tell the plugins of a journal line written in a caller's transaction (after it
        committed): a failing listener never undoes it."""
        self._hooks.case_event(self._context(operator, actor), event)

    # -- intake ----------------------------------------------------------------------------

    def intake_form(
        self, operator: str, channel: FormChannel, *, actor: str | None = None
    ) -> IntakeForm | None:
        """The operator's own intake form for `channel`, or None (common form only)."""
        self._hooks.operator(operator)
        channel = _channel(channel)
        ctx = self._context(operator, actor, _role_of(channel, actor))
        return self._form(ctx, channel)

    def submit_intake(
        self,
        operator: str,
        case_id: str,
        channel: FormChannel,
        data: Mapping[str, Any],
        *,
        expected_version: int,
        actor: str | None = None,
    ) -> Case:
        """Check the answers against the operator's form for `channel`, then store them
        (replacing earlier answers). `InvalidInput` lists every problem with its field path;
        a terminal case refuses (`CaseStateConflict`)."""
        channel = _channel(channel)
        case = self._load_for_write(operator, case_id, expected_version)
        _ensure_open(case, "la modification des informations d'accueil")
        ctx = self._context(operator, actor, _role_of(channel, actor))
        answers, issues = self._checked_intake(ctx, channel, data)
        if issues or answers is None:
            raise InvalidInput(issues)
        now = self._now()
        after = msgspec.structs.replace(
            case, intake=_intake(channel, answers, now, actor), updated_at=now
        )
        trail = None
        if case.intake is not None:  # a correction: the rectification trail says which fields
            trail = _intake_rectification(case, answers, now, actor)
        return self._store(
            ctx, after, [_Line(kind="intake_submitted", reason=channel.value)], also=trail
        )

    def _form(self, ctx: OperatorContext, channel: FormChannel) -> IntakeForm | None:
        form = self._hooks.intake_form(ctx, channel)
        if form is not None:
            problems = _input_problems(form.input)
            if problems:
                raise PluginFailure(ctx.operator, "cep_intake_form", "; ".join(problems))
        return form

    def _checked_intake(
        self, ctx: OperatorContext, channel: FormChannel, data: Mapping[str, Any]
    ) -> tuple[dict[str, Any] | None, list[Issue]]:
        raw, issues = _plain_answers(data)
        if issues:
            return None, issues
        form = self._form(ctx, channel)
        if form is None:
            if not raw:
                return {}, []
            return None, [
                Issue(
                    path="",
                    code="no_intake_form",
                    message="Cet opérateur ne recueille pas d'informations d'accueil "
                    "complémentaires sur ce canal : n'envoyez aucune réponse.",
                )
            ]
        value, issues = decode_input(form.input, raw)
        if value is None:
            return None, issues
        answers = _json_object(value)
        issues = list(self._hooks.validate_intake(ctx, answers))
        return (None, issues) if issues else (answers, [])

    # -- sessions --------------------------------------------------------------------------

    def record_session(
        self,
        operator: str,
        case_id: str,
        session: NewSession,
        *,
        expected_version: int,
        actor: str | None = None,
    ) -> Case:
        """Add a session to a case that is not closed or referred (paused cases included).

        The counsellor defaults to `actor`; for an employee, whether the session took place
        outside working time must be said. The notes stay in the case document, never in the
        journal (whose reason code is the channel).
        """
        case = self._load_for_write(operator, case_id, expected_version)
        _ensure_open(case, "l'enregistrement d'un entretien")
        checked, issues = decode_input(NewSession, msgspec.to_builtins(session))
        if checked is None:
            raise InvalidInput(issues)
        counsellor = checked.counsellor_id or actor
        issues = session_problems(case.situation, checked.outside_working_time)
        issues += _bounded("actor", actor)
        if counsellor is None:
            issues.append(
                Issue(
                    path="counsellor_id",
                    code="missing_field",
                    message="Indiquez le conseiller qui a mené l'entretien.",
                )
            )
        if len(case.sessions) >= MAX_SESSIONS:
            issues.append(
                Issue(
                    path="",
                    code="too_many_sessions",
                    message=f"Ce dossier compte déjà {MAX_SESSIONS} entretiens, le maximum.",
                )
            )
        if issues or counsellor is None:
            raise InvalidInput(issues)
        now = self._now()
        record = SessionRecord(
            id=new_id(),
            start=checked.start.astimezone(UTC),
            channel=checked.channel,
            duration_minutes=checked.duration_minutes,
            counsellor_id=counsellor,
            outside_working_time=checked.outside_working_time,
            notes=checked.notes or None,
            level=case.level,
            recorded_at=now,
            recorded_by=actor,
        )
        sessions = tuple(sorted((*case.sessions, record), key=lambda s: (s.start, s.id)))
        after = msgspec.structs.replace(case, sessions=sessions, updated_at=now)
        ctx = self._context(operator, actor)
        line = _Line(kind="session_recorded", reason=record.channel.value)
        return self._store(ctx, after, [line])

    # -- steps -----------------------------------------------------------------------------

    def step_definitions(
        self, operator: str, case_id: str, level: Level | None = None
    ) -> tuple[StepDefinition, ...]:
        """The flow of `level` (default: the case's level) for this case: the core's steps,
        with the operator's additions and replacements, ordered by (order, id)."""
        case = self._load(operator, case_id)
        wanted = case.level if level is None else _level(level)
        if wanted is None:
            return ()
        return self._flow(self._context(operator, None), case, wanted)

    def steps(
        self, operator: str, case_id: str, level: Level | None = None
    ) -> tuple[StepState, ...]:
        """The steps of `level` (default: the case's level) with what was saved for each."""
        case = self._load(operator, case_id)
        wanted = case.level if level is None else _level(level)
        if wanted is None:
            return ()
        return step_states(self._flow(self._context(operator, None), case, wanted), case.steps)

    def progress(
        self, operator: str, case_id: str, level: Level | None = None
    ) -> LevelProgress | None:
        """Completed required steps out of required steps, for `level` (default: current)."""
        case = self._load(operator, case_id)
        wanted = case.level if level is None else _level(level)
        if wanted is None:
            return None
        flow = self._flow(self._context(operator, None), case, wanted)
        return level_progress(wanted, flow, case.steps)

    def save_step(
        self,
        operator: str,
        case_id: str,
        step_id: str,
        data: Mapping[str, Any],
        *,
        complete: bool = False,
        expected_version: int,
        actor: str | None = None,
    ) -> StepSaved:
        """Save a step of the case's current level, as a draft or completed.

        A draft (``complete=False``) is stored exactly as given, even invalid or partial
        (bounded to 64 KiB of JSON): it is never lost, and what still keeps it from being
        completed comes back in ``issues``. Completing (``complete=True``) requires valid
        answers (the step's input Struct, the core's rules, the operator's
        ``cep_validate_step``) and its ``depends_on`` steps completed, else `InvalidInput`
        and nothing is written. Saving a draft over a completed step reopens it.

        Raises `UnknownStep` for a step not in the flow, `CaseStateConflict` when the case
        has no level yet, is closed or referred, or the step belongs to another level.
        """
        case = self._load_for_write(operator, case_id, expected_version)
        _ensure_open(case, "l'enregistrement d'une étape")
        if len(step_id) > STEP_ID_MAX_LENGTH:
            raise UnknownStep(step_id[:STEP_ID_MAX_LENGTH])
        ctx = self._context(operator, actor)
        if case.level is None:
            raise CaseStateConflict(
                [
                    Issue(
                        path="status",
                        code="no_level",
                        message="Démarrez d'abord le niveau 1 ou le niveau 2 : les étapes "
                        "appartiennent à un niveau.",
                    )
                ]
            )
        flow = self._flow(ctx, case, case.level)
        step = next((s for s in flow if s.id == step_id), None)
        if step is None:
            other = Level.TWO if case.level is Level.ONE else Level.ONE
            if any(s.id == step_id for s in self._flow(ctx, case, other)):
                raise CaseStateConflict(
                    [
                        Issue(
                            path="step_id",
                            code="other_level",
                            message=f"Cette étape relève du niveau {int(other)}, or le dossier "
                            f"est au niveau {int(case.level)}.",
                        )
                    ]
                )
            raise UnknownStep(step_id)
        raw, issues = _plain_answers(data)
        issues += _bounded("actor", actor)
        if issues:
            raise InvalidInput(issues)
        value, problems = decode_input(step.input, raw)
        stored = raw
        if complete:
            if value is not None:
                stored = _json_object(value)
                problems = self._completion_problems(ctx, case, flow, step, value, stored)
            if problems:
                raise InvalidInput(problems)
        elif value is not None:
            # Not the operator's hook: it expects answers about to be completed.
            problems = check_core_step(step.id, value)
        now = self._now()
        previous = case.steps.get(step.id)
        record = StepRecord(
            data=stored,
            completed=complete,
            updated_at=now,
            updated_by=actor,
            completed_at=now if complete else None,
        )
        after = msgspec.structs.replace(case, steps={**case.steps, step.id: record}, updated_at=now)
        kind = "step_completed" if complete else "step_draft_saved"
        if previous is not None and previous.completed and not complete:
            kind = "step_reopened"
        saved = self._store(ctx, after, [_Line(kind=kind, reason=step.id)])
        [state] = step_states([step], saved.steps)
        return StepSaved(case=saved, step=state, issues=tuple(problems))

    def _completion_problems(
        self,
        ctx: OperatorContext,
        case: Case,
        flow: Sequence[StepDefinition],
        step: StepDefinition,
        value: msgspec.Struct,
        answers: dict[str, Any],
    ) -> list[Issue]:
        titles = {s.id: s.title for s in flow}
        problems = [
            Issue(
                path="",
                code="dependency_incomplete",
                message=f"L'étape « {titles.get(dep, dep)} » doit être terminée avant celle-ci.",
            )
            for dep in step.depends_on
            if not case.step_completed(dep)
        ]
        problems += check_core_step(step.id, value)
        if step.id == LEVEL_ONE_RECORD:
            referral = answers.get("referral")
            if isinstance(referral, dict):
                problems += [
                    msgspec.structs.replace(issue, path="referral.operator")
                    for issue in self._target_problems(case, str(referral.get("operator")))
                ]
        problems += self._hooks.validate_step(ctx, case, step.id, answers)
        return problems

    def _flow(self, ctx: OperatorContext, case: Case, level: Level) -> tuple[StepDefinition, ...]:
        return resolve_steps(ctx.operator, level, self._hooks.session_steps(ctx, level, case))

    # -- transitions -----------------------------------------------------------------------

    def start_level_1(
        self, operator: str, case_id: str, *, expected_version: int, actor: str | None = None
    ) -> Case:
        return self.transition(
            operator, case_id, Action.START_LEVEL_1, expected_version=expected_version, actor=actor
        )

    def start_level_2(
        self, operator: str, case_id: str, *, expected_version: int, actor: str | None = None
    ) -> Case:
        """From opened, or from level 1 once its record is completed with the decision to
        continue."""
        return self.transition(
            operator, case_id, Action.START_LEVEL_2, expected_version=expected_version, actor=actor
        )

    def pause(
        self, operator: str, case_id: str, *, expected_version: int, actor: str | None = None
    ) -> Case:
        return self.transition(
            operator, case_id, Action.PAUSE, expected_version=expected_version, actor=actor
        )

    def resume(
        self, operator: str, case_id: str, *, expected_version: int, actor: str | None = None
    ) -> Case:
        """Back to the status the case was paused from, however long ago (no expiry)."""
        return self.transition(
            operator, case_id, Action.RESUME, expected_version=expected_version, actor=actor
        )

    def close(
        self,
        operator: str,
        case_id: str,
        reason: CloseReason,
        *,
        note: str | None = None,
        expected_version: int,
        actor: str | None = None,
    ) -> Case:
        """Close with a reason; ``completed`` requires every required step of the level."""
        return self.transition(
            operator,
            case_id,
            Action.CLOSE,
            expected_version=expected_version,
            actor=actor,
            close_reason=reason,
            note=note,
        )

    def refer(
        self,
        operator: str,
        case_id: str,
        target_operator: str,
        reason: ReferralReason,
        *,
        note: str | None = None,
        expected_version: int,
        actor: str | None = None,
    ) -> Case:
        """Hand the person over to another installed operator (the case ends as referred).

        The referral is written into the level-1 record (a draft is created if there is
        none). The target operator's own case is opened there, by its counsellors: files are
        not shared between operators.
        """
        return self.transition(
            operator,
            case_id,
            Action.REFER,
            expected_version=expected_version,
            actor=actor,
            target_operator=target_operator,
            referral_reason=reason,
            note=note,
        )

    def transition(
        self,
        operator: str,
        case_id: str,
        action: Action,
        *,
        expected_version: int,
        actor: str | None = None,
        close_reason: CloseReason | None = None,
        target_operator: str | None = None,
        referral_reason: ReferralReason | None = None,
        note: str | None = None,
    ) -> Case:
        """Apply `action`, or refuse it with `TransitionRefused` (state machine, missing
        steps, plugin veto) or `InvalidInput` (missing or malformed reason, note, target)."""
        case = self._load_for_write(operator, case_id, expected_version)
        action = _action(action)
        issues = self._transition_input_issues(
            case, action, close_reason, target_operator, referral_reason, note, actor
        )
        if issues:
            raise InvalidInput(issues)
        refused = refusal(case, action, _close_reason(close_reason))
        if refused:
            raise TransitionRefused(refused)
        ctx = self._context(operator, actor)
        refused = self._flow_refusal(ctx, case, action, close_reason)
        if refused:
            raise TransitionRefused(refused)
        change = plan(case, action)
        reason_code = None
        if close_reason is not None:
            reason_code = CloseReason(close_reason).value
        elif referral_reason is not None:
            reason_code = ReferralReason(referral_reason).value
        veto = self._hooks.case_transition(
            ctx,
            case,
            Transition(
                from_status=change.from_status,
                to_status=change.to_status,
                reason=reason_code,
                target_operator=target_operator,
            ),
        )
        if veto:
            raise TransitionRefused(veto)
        now = self._now()
        after = msgspec.structs.replace(
            case,
            status=change.to_status,
            level=change.level,
            paused_from=change.paused_from,
            updated_at=now,
        )
        if action is Action.CLOSE and close_reason is not None:
            closure = Closure(reason=CloseReason(close_reason), note=note, at=now, by=actor)
            after = msgspec.structs.replace(after, closure=closure)
        if action is Action.REFER and target_operator and referral_reason is not None:
            after = _with_referral(
                after, target_operator, ReferralReason(referral_reason), note, now, actor
            )
        line = _Line(
            kind="transition",
            from_status=change.from_status,
            to_status=change.to_status,
            reason=reason_code,
        )
        return self._store(ctx, after, [line])

    def _transition_input_issues(
        self,
        case: Case,
        action: Action,
        close_reason: CloseReason | None,
        target_operator: str | None,
        referral_reason: ReferralReason | None,
        note: str | None,
        actor: str | None,
    ) -> list[Issue]:
        issues = _bounded("actor", actor)
        if note is not None and not 0 < len(note) <= NOTE_MAX_LENGTH:
            issues.append(
                Issue(
                    path="note",
                    code="invalid_length",
                    message=f"La précision doit compter de 1 à {NOTE_MAX_LENGTH} caractères.",
                )
            )
        if action is Action.CLOSE:
            if close_reason is None:
                issues.append(_missing("reason", "Indiquez le motif de clôture."))
            elif _close_reason(close_reason) is None:
                known = ", ".join(r.value for r in CloseReason)
                issues.append(_unknown("reason", f"Motif de clôture inconnu (motifs : {known})."))
        elif action is Action.REFER:
            if referral_reason is None:
                issues.append(_missing("reason", "Indiquez le motif de l'orientation."))
            elif referral_reason not in set(ReferralReason):
                known = ", ".join(r.value for r in ReferralReason)
                issues.append(
                    _unknown("reason", f"Motif d'orientation inconnu (motifs : {known}).")
                )
            if target_operator is None:
                issues.append(
                    _missing("target_operator", "Indiquez l'opérateur vers lequel orienter.")
                )
            else:
                issues += self._target_problems(case, target_operator)
        elif any(v is not None for v in (close_reason, referral_reason, target_operator, note)):
            issues.append(
                Issue(
                    path="reason",
                    code="not_allowed",
                    message="Un motif, une précision ou un opérateur cible ne s'indique que "
                    "pour une clôture ou une orientation.",
                )
            )
        return issues

    def _target_problems(self, case: Case, target_operator: str) -> list[Issue]:
        if target_operator == case.operator:
            return [
                Issue(
                    path="target_operator",
                    code="same_operator",
                    message="Choisissez un autre opérateur que celui qui suit déjà le dossier.",
                )
            ]
        try:
            self._hooks.operator(target_operator)
        except UnknownOperator:
            return [
                Issue(
                    path="target_operator",
                    code="unknown_operator",
                    message="Cet opérateur est inconnu ou n'est pas installé sur cette plateforme.",
                )
            ]
        return []

    def _flow_refusal(
        self,
        ctx: OperatorContext,
        case: Case,
        action: Action,
        close_reason: CloseReason | None,
    ) -> list[Issue]:
        if action is Action.START_LEVEL_2:
            return level_two_gate(case)
        if action is Action.CLOSE and close_reason == CloseReason.COMPLETED:
            level = case.level
            if level is None:  # refused earlier by the state machine
                return []
            flow = self._flow(ctx, case, level)
            progress = level_progress(level, flow, case.steps)
            titles = {step.id: step.title for step in flow}
            return missing_steps_issues([(i, titles[i]) for i in progress.missing], level)
        return []

    # -- funding plan ----------------------------------------------------------------------

    def attach_funding_plan(
        self,
        operator: str,
        case_id: str,
        request: FundingPlanRequest,
        *,
        expected_version: int,
        actor: str | None = None,
    ) -> Case:
        """Price one service of the case's action plan and store the plan with the case.

        The case gives what it knows: the person's status, disability recognition,
        registration and region (its situation), the service's kind, title, certification
        code, Qualiopi status and dates (its completed action plan); `request` the rest
        (price, hours, CPF balance, contract, funders' answers...). Both go through the
        simulator's own conversion (`to_domain`) into `FundingService.plan_for_case`, so for
        the same facts the figures are the simulator's — except funders that only another
        operator's plugin offers, since a case's plan asks its own operator only.

        Refuses, writing nothing: `CaseStateConflict` when the case is closed or referred or
        its action plan is not completed or funds nothing; `InvalidInput` for a bad request
        (paths as in the simulator: ``training.cost_eur``, ``situation.cpf_balance_eur``,
        the action plan's dates under ``steps.level2.action_plan``) or a plan the checks
        (``cep_check_funding_plan``) find unacceptable (paths under ``funding_plan``).
        Attaching again replaces the plan; the journal line's reason is the action's kind.
        """
        case = self._load_for_write(operator, case_id, expected_version)
        _ensure_open(case, "l'ajout d'un plan de financement")
        checked, issues = decode_input(FundingPlanRequest, msgspec.to_builtins(request))
        issues += _bounded("actor", actor)
        if checked is None or issues:
            raise InvalidInput(issues)
        index = checked.training.service
        service = _service_to_fund(case, index)
        ctx = self._context(operator, actor)
        query = _simulation_query(case, service, checked)
        try:
            given = to_domain(query, ctx.today, self.funding.parameters)
        except InvalidInput as exc:
            raise InvalidInput([_funding_issue(issue, index) for issue in exc.issues]) from exc
        funding_plan, problems = self.funding.plan_for_case(
            ctx,
            given.project,
            given.situation,
            purchase_date=given.purchase_date,
            decisions=given.decisions,
            participation_payer=given.participation_payer,
        )
        if problems:
            raise InvalidInput([_prefixed(issue, "funding_plan") for issue in problems])
        now = self._now()
        after = msgspec.structs.replace(case, funding_plan=funding_plan, updated_at=now)
        line = _Line(kind="funding_plan_attached", reason=given.project.kind.value)
        return self._store(ctx, after, [line])

    # -- plumbing --------------------------------------------------------------------------

    def _load(self, operator: str, case_id: str) -> Case:
        self._hooks.operator(operator)
        if not _plausible_id(case_id):
            raise CaseNotFound(case_id)
        with self._database.read() as connection:
            case = CaseRepository(connection, operator).get(case_id)
        if case is None:
            raise CaseNotFound(case_id)
        return case

    def _load_with_person(self, operator: str, case_id: str) -> tuple[Case, Beneficiary | None]:
        """The case and its person in one read transaction: one snapshot, one BEGIN less on
        every case read (the profile of a read put a third of it in its transactions)."""
        self._hooks.operator(operator)
        if not _plausible_id(case_id):
            raise CaseNotFound(case_id)
        with self._database.read() as connection:
            case = CaseRepository(connection, operator).get(case_id)
            if case is None:
                raise CaseNotFound(case_id)
            person = BeneficiaryRepository(connection, operator).get(case.beneficiary_id)
        return case, person

    def _load_for_write(self, operator: str, case_id: str, expected_version: int) -> Case:
        case = self._load(operator, case_id)
        if isinstance(expected_version, bool) or not isinstance(expected_version, int):
            raise TypeError("expected_version must be the int version the client read")
        if case.version != expected_version:
            raise VersionConflict(case.id, expected=expected_version, actual=case.version)
        return case

    def _store(
        self,
        ctx: OperatorContext,
        after: Case,
        lines: Sequence[_Line],
        *,
        also: Callable[[Connection], None] | None = None,
    ) -> Case:
        """Write `after` (read at ``after.version``) and its journal lines, atomically
        (with `also`, one more write in the same transaction)."""
        with self._database.write() as connection:
            stored = CaseRepository(connection, ctx.operator).update(after)
            if also is not None:
                also(connection)
            journal = CaseEventRepository(connection, ctx.operator)
            events = [
                journal.append(
                    case_id=after.id,
                    at=after.updated_at,
                    kind=line.kind,
                    actor=ctx.actor,
                    from_status=line.from_status,
                    to_status=line.to_status,
                    reason=line.reason,
                )
                for line in lines
            ]
        for event in events:
            self._hooks.case_event(ctx, event)
        return stored.without_confidential_notes()

    def _context(
        self, operator: str, actor: str | None, role: Role | None = None
    ) -> OperatorContext:
        return OperatorContext(
            operator=operator,
            today=today_in_france(self._clock),
            actor=actor,
            role=role or (Role.SYSTEM if actor is None else Role.COUNSELLOR),
        )


# -- steps -----------------------------------------------------------------------------------


def _without_answers(case: Case) -> Case:
    """The case without any form answer: what is left when the forms cannot be read."""
    intake = None if case.intake is None else msgspec.structs.replace(case.intake, answers={})
    steps = {k: msgspec.structs.replace(r, data={}) for k, r in case.steps.items()}
    return msgspec.structs.replace(case, intake=intake, steps=steps)


def resolve_steps(
    operator: str, level: Level, proposed: Sequence[StepDefinition]
) -> tuple[StepDefinition, ...]:
    """The flow of a level from the steps every plugin proposed, ordered by (order, id).

    A step with ``replaces`` takes the place of that core step: it gets the core step's id
    (so records, the level gates and syntheses find it), stays required, and its input must
    subclass the core's (so the legal fields remain). ``depends_on`` naming a replacing step
    by its own id is redirected to the core id. A flow that breaks these rules, repeats an id
    or has an unbounded input is the operator's bug: `PluginFailure`, for that operator only.
    """
    problems: list[str] = []
    own: dict[str, StepDefinition] = {}
    replacing: dict[str, StepDefinition] = {}
    aliases: dict[str, str] = {}
    for step in proposed:
        if step.level is not level:
            problems.append(f"l'étape « {step.id} » est du niveau {int(step.level)}")
        problems += [f"étape « {step.id} » : {p}" for p in _input_problems(step.input)]
        if step.replaces is None:
            if step.id in own:
                problems.append(f"l'identifiant d'étape « {step.id} » est en double")
            own[step.id] = step
            continue
        core = CORE_STEPS.get(step.replaces)
        if core is None or core.level is not level:
            problems.append(
                f"l'étape « {step.id} » remplace « {step.replaces} », qui n'est pas une étape "
                f"du noyau au niveau {int(level)}"
            )
        elif not issubclass(step.input, core.input):
            problems.append(
                f"l'étape « {step.id} » remplace « {core.id} » : son modèle doit hériter de "
                f"{core.input.__name__}"
            )
        elif step.replaces in replacing:
            problems.append(f"l'étape « {step.replaces} » est remplacée deux fois")
        else:
            replacing[step.replaces] = step
            aliases[step.id] = step.replaces
    if problems:
        raise PluginFailure(operator, "cep_session_steps", "; ".join(problems))
    for core_id, step in replacing.items():
        own[core_id] = msgspec.structs.replace(step, id=core_id, replaces=None, required=True)
    resolved = [
        msgspec.structs.replace(step, depends_on=tuple(aliases.get(d, d) for d in step.depends_on))
        for step in own.values()
    ]
    return tuple(sorted(resolved, key=lambda s: (s.order, s.id)))


@lru_cache(maxsize=256)
def _input_problems(model: Any) -> tuple[str, ...]:
    """Why an input Struct cannot be offered to people (cached: inputs are module types)."""
    if not (isinstance(model, type) and issubclass(model, msgspec.Struct)):
        return ("le modèle de saisie doit être un msgspec.Struct",)
    problems = []
    if not model.__struct_config__.forbid_unknown_fields:
        problems.append("le modèle de saisie doit refuser les champs inconnus")
    unbounded = unbounded_fields(model)
    if unbounded:
        problems.append("champs sans borne : " + ", ".join(unbounded))
    return tuple(problems)


@lru_cache(maxsize=256)
def _input_fields(
    model: type[msgspec.Struct],
) -> tuple[tuple[msgspec.structs.FieldInfo, ...], frozenset[str]]:
    """A model's fields and their JSON names, once per model: ``msgspec.structs.fields``
    evaluates the annotations at each call, about a tenth of a step save (bench/throughput.py).
    """
    fields = msgspec.structs.fields(model)
    return fields, frozenset(field.encode_name for field in fields)


def decode_input(model: type[S], data: Any) -> tuple[S | None, list[Issue]]:
    """Decode plain JSON answers into `model`, reporting EVERY problem with its field path.

    msgspec stops at the first error; here each field is checked on its own first (unknown
    fields, missing ones, bounds, types, choices), in French, so a form shows all its
    mistakes at once.
    """
    if not isinstance(data, Mapping):
        return None, [
            Issue(path="", code="invalid_type", message="Les réponses doivent être un objet JSON.")
        ]
    fields, known = _input_fields(model)
    issues = [
        Issue(
            path=str(key),
            code="unknown_field",
            message=f"Champ inconnu « {key} » : retirez-le.",
        )
        for key in data
        if key not in known
    ]
    for field in fields:
        if field.encode_name not in data:
            if field.required:
                issues.append(_missing(field.encode_name, "Ce champ est obligatoire."))
            continue
        try:
            msgspec.convert(data[field.encode_name], field.type)
        except msgspec.ValidationError as exc:
            issues.append(_field_issue(str(exc), field.encode_name, model))
    if issues:
        return None, issues
    try:
        return msgspec.convert(dict(data), model), []
    except msgspec.ValidationError as exc:  # a rule across fields (a Struct's __post_init__)
        return None, [issue_from_msgspec(str(exc), model=model)]


def _field_issue(text: str, name: str, model: Any) -> Issue:
    """msgspec's message about one field's value, re-rooted at the field's path."""
    if " - at `$" in text:
        text = text.replace(" - at `$", f" - at `$.{name}", 1)
    else:
        text = f"{text} - at `$.{name}`"
    issue = issue_from_msgspec(text, model=model)
    if issue.code == "invalid_choice" and "Valeurs possibles" not in issue.message:
        choices = _choices(model, issue.path)
        if choices:
            message = f"{issue.message} Valeurs possibles : {', '.join(choices)}."
            issue = msgspec.structs.replace(issue, message=message)
    return issue


def _choices(model: Any, path: str) -> list[str]:
    """The allowed values of the enum at `path` (``a.b[0].c``) of `model`, if there is one."""
    info: Any = msgspec.inspect.type_info(model)
    for part in [*filter(None, re.split(r"\.|\[\d+\]", path)), None]:
        info = _unwrap(info)
        if part is None:
            break
        if not isinstance(info, msgspec.inspect.StructType):
            return []
        info = next((f.type for f in info.fields if f.encode_name == part), None)
    if isinstance(info, msgspec.inspect.EnumType):
        return sorted(str(member.value) for member in info.cls)
    if isinstance(info, msgspec.inspect.LiteralType):
        return sorted(str(value) for value in info.values)
    return []


def _unwrap(info: Any) -> Any:
    """Through annotations, optionals and collections, down to the item's own type."""
    collections = (
        msgspec.inspect.ListType,
        msgspec.inspect.VarTupleType,
        msgspec.inspect.SetType,
        msgspec.inspect.FrozenSetType,
    )
    while True:
        if isinstance(info, msgspec.inspect.Metadata):
            info = info.type
        elif isinstance(info, msgspec.inspect.UnionType):
            others = [t for t in info.types if not isinstance(t, msgspec.inspect.NoneType)]
            if len(others) != 1:
                return info
            info = others[0]
        elif isinstance(info, collections):
            info = info.item_type
        else:
            return info


def _plain_answers(data: object) -> tuple[dict[str, Any], list[Issue]]:
    """The answers as plain JSON values, bounded in size, or why they cannot be."""
    if not isinstance(data, Mapping):
        return {}, [
            Issue(path="", code="invalid_type", message="Les réponses doivent être un objet JSON.")
        ]
    try:
        encoded = msgspec.json.encode(data)
    except (TypeError, ValueError, OverflowError):
        return {}, [
            Issue(
                path="",
                code="invalid",
                message="Les réponses contiennent des valeurs illisibles (texte, nombres, "
                "booléens, listes et objets seulement).",
            )
        ]
    if len(encoded) > MAX_ANSWERS_BYTES:
        return {}, [
            Issue(
                path="",
                code="too_large",
                message=f"Les réponses dépassent la taille maximale ({MAX_ANSWERS_BYTES // 1024} "
                "Kio) : raccourcissez les textes.",
            )
        ]
    plain = msgspec.json.decode(encoded)
    if not isinstance(plain, dict):  # pragma: no cover - a Mapping always encodes as an object
        return {}, [Issue(path="", code="invalid_type", message="Un objet JSON est attendu.")]
    return plain, []


def _json_object(value: msgspec.Struct) -> dict[str, Any]:
    """A Struct as the plain JSON object it is stored as (lists, not tuples)."""
    plain: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(value))
    return plain


def _intake_rectification(
    case: Case, answers: Mapping[str, Any], now: datetime, actor: str | None
) -> Callable[[Connection], None]:
    """The rectification trail's line for corrected intake answers: names, not values."""
    from cep_core.services.gdpr import record_rectification

    before = case.intake.answers if case.intake is not None else {}
    changed = sorted(k for k in {*before, *answers} if before.get(k) != answers.get(k))

    def write(connection: Connection) -> None:
        if changed:
            record_rectification(
                connection,
                operator=case.operator,
                beneficiary_id=case.beneficiary_id,
                case_id=case.id,
                at=now,
                actor=actor,
                fields=[f"intake.{name}" for name in changed],
                reason=None,
            )

    return write


def _intake(
    channel: FormChannel, answers: dict[str, Any], now: datetime, actor: str | None
) -> IntakeRecord:
    return IntakeRecord(channel=channel, answers=answers, submitted_at=now, submitted_by=actor)


def _with_referral(
    case: Case,
    target: str,
    reason: ReferralReason,
    note: str | None,
    now: datetime,
    actor: str | None,
) -> Case:
    """Record the referral on the case and in the level-1 record (created as a draft)."""
    entry: dict[str, Any] = {"operator": target, "reason": reason.value}
    if note is not None:
        entry["note"] = note
    previous = case.steps.get(LEVEL_ONE_RECORD)
    record = StepRecord(
        data={**(previous.data if previous else {}), "referral": entry},
        completed=previous.completed if previous else False,
        updated_at=now,
        updated_by=actor,
        completed_at=previous.completed_at if previous else None,
    )
    return msgspec.structs.replace(
        case,
        referral=Referral(target_operator=target, reason=reason, note=note, at=now, by=actor),
        steps={**case.steps, LEVEL_ONE_RECORD: record},
    )


_ACTION_PLAN_PATH = f"steps.{LEVEL_TWO_ACTION_PLAN}"


def _service_to_fund(case: Case, index: int) -> PlannedService:
    """The `index`-th service of the case's completed action plan, or why there is none."""
    record = case.steps.get(LEVEL_TWO_ACTION_PLAN)
    if record is None or not record.completed:
        raise CaseStateConflict(
            [
                Issue(
                    path=_ACTION_PLAN_PATH,
                    code="step_incomplete",
                    message="Terminez d'abord le plan d'action : le plan de financement porte "
                    "sur l'un de ses dispositifs ou prestations.",
                )
            ]
        )
    try:
        services = msgspec.convert(record.data.get("services", []), tuple[PlannedService, ...])
    except msgspec.ValidationError as exc:  # a replacing step that reshaped the services
        raise CaseStateConflict(
            [
                Issue(
                    path=f"{_ACTION_PLAN_PATH}.services",
                    code="unreadable",
                    message="Les dispositifs du plan d'action ne peuvent pas être lus pour "
                    "établir un plan de financement.",
                )
            ]
        ) from exc
    if not services:
        raise CaseStateConflict(
            [
                Issue(
                    path=f"{_ACTION_PLAN_PATH}.services",
                    code="nothing_to_fund",
                    message="Le plan d'action ne mobilise aucun dispositif ni prestation : il "
                    "n'y a rien à financer.",
                )
            ]
        )
    if index >= len(services):
        raise InvalidInput(
            [
                Issue(
                    path="training.service",
                    code="out_of_range",
                    message=f"Le plan d'action compte {len(services)} dispositif(s) ou "
                    f"prestation(s) : choisissez un rang de 0 à {len(services) - 1}.",
                )
            ]
        )
    return services[index]


def _simulation_query(
    case: Case, service: PlannedService, request: FundingPlanRequest
) -> SimulationQuery:
    """The simulator's query for these facts: the case's, then the request's."""
    training = request.training
    kind = training.kind or SERVICE_TRAINING_KINDS[service.kind]
    if (
        training.kind is None
        and service.kind is ServiceKind.TRAINING
        and service.certification_code
    ):
        kind = TrainingKind.CERTIFICATION
    facts = msgspec.structs.asdict(request.situation)
    for name in FUNDING_FACTS_FROM_CASE:
        facts[name] = getattr(case.situation, name)
    return SimulationQuery(
        training=TrainingQuery(
            cost_eur=training.cost_eur,
            kind=kind,
            hours=training.hours,
            certification_code=service.certification_code,
            qualiopi=service.provider_qualiopi,
            start_date=service.start,
            end_date=service.end,
            other_costs_eur=training.other_costs_eur,
            title=service.label,
            ptp=training.ptp,
            part_time=training.part_time,
            vae_applications_this_year=training.vae_applications_this_year,
        ),
        situation=SituationQuery(**facts),
        purchase_date=request.purchase_date,
        participation_payer=request.participation_payer,
        funders=request.funders,
    )


def _funding_issue(issue: Issue, index: int) -> Issue:
    """Point an issue about a fact read from the action plan at the action plan."""
    moved = {
        "training.start_date": f"{_ACTION_PLAN_PATH}.services[{index}].start",
        "training.end_date": f"{_ACTION_PLAN_PATH}.services[{index}].end",
    }
    if issue.path in moved:
        return msgspec.structs.replace(issue, path=moved[issue.path])
    return issue


# -- input checks ----------------------------------------------------------------------------


def _ensure_open(case: Case, what: str) -> None:
    """Refuse `what` (a French noun phrase) on a closed or referred case."""
    if case.status in TERMINAL:
        ended = "clôturé" if case.status is CaseStatus.CLOSED else "orienté vers un autre opérateur"
        raise CaseStateConflict(
            [
                Issue(
                    path="status",
                    code="case_ended",
                    message=f"Le dossier est {ended} : {what} n'est plus possible.",
                )
            ]
        )


def _checked_beneficiary(beneficiary: NewBeneficiary) -> NewBeneficiary:
    """Enforce the Struct's bounds (msgspec checks them on decode, not on construction)."""
    raw = msgspec.to_builtins(beneficiary)
    for name in ("first_name", "last_name"):
        raw[name] = raw[name].strip()
    for name in ("email", "phone"):
        if isinstance(raw.get(name), str):
            raw[name] = raw[name].strip() or None
    try:
        return msgspec.convert(raw, NewBeneficiary)
    except msgspec.ValidationError as exc:
        match = _PATH.search(str(exc))
        field = match.group(1) if match else "beneficiary"
        message = _FIELD_MESSAGES.get(field, "Les informations sur la personne sont invalides.")
        raise InvalidInput([Issue(path=field, code="invalid", message=message)]) from exc


def _bounded(path: str, value: str | None) -> list[Issue]:
    if value is None or 0 < len(value) <= ACTOR_LENGTH:
        return []
    return [
        Issue(
            path=path,
            code="invalid",
            message=f"Identifiant invalide (1 à {ACTOR_LENGTH} caractères).",
        )
    ]


def _name_terms(name: str | None, issues: list[Issue]) -> tuple[str, ...]:
    if name is None:
        return ()
    if len(name) > NAME_QUERY_MAX_LENGTH:
        issues.append(
            Issue(
                path="name",
                code="invalid_length",
                message=f"La recherche par nom est limitée à {NAME_QUERY_MAX_LENGTH} caractères.",
            )
        )
        return ()
    terms = tuple(dict.fromkeys(search_key(name).split()))
    if not terms:
        issues.append(
            Issue(
                path="name",
                code="empty_search",
                message="Saisissez au moins une lettre ou un chiffre du nom recherché.",
            )
        )
    elif len(terms) > NAME_QUERY_MAX_WORDS:
        issues.append(
            Issue(
                path="name",
                code="too_many_words",
                message=f"La recherche par nom compte {NAME_QUERY_MAX_WORDS} mots au plus.",
            )
        )
    return terms


def _status(value: CaseStatus | str) -> CaseStatus:
    try:
        return CaseStatus(value)
    except ValueError as exc:
        known = ", ".join(s.value for s in CaseStatus)
        raise InvalidInput(
            [Issue(path="status", code="invalid", message=f"Statut inconnu (statuts : {known}).")]
        ) from exc


def _level(value: Level | int) -> Level:
    try:
        if isinstance(value, bool):
            raise ValueError(value)
        return Level(value)
    except ValueError as exc:
        raise InvalidInput(
            [Issue(path="level", code="invalid", message="Niveau inconnu (niveaux : 1, 2).")]
        ) from exc


def _channel(value: FormChannel | str) -> FormChannel:
    try:
        return FormChannel(value)
    except ValueError as exc:
        known = ", ".join(c.value for c in FormChannel)
        raise InvalidInput(
            [Issue(path="channel", code="invalid", message=f"Canal inconnu (canaux : {known}).")]
        ) from exc


def _action(value: Action | str) -> Action:
    try:
        return Action(value)
    except ValueError as exc:
        known = ", ".join(a.value for a in Action)
        raise InvalidInput(
            [Issue(path="action", code="invalid", message=f"Action inconnue (actions : {known}).")]
        ) from exc


def _close_reason(value: CloseReason | str | None) -> CloseReason | None:
    try:
        return None if value is None else CloseReason(value)
    except ValueError:
        return None


def _role_of(channel: FormChannel, actor: str | None) -> Role:
    if channel is FormChannel.PUBLIC:
        return Role.BENEFICIARY
    if channel is FormChannel.API or actor is None:
        return Role.SYSTEM
    return Role.COUNSELLOR


def _missing(path: str, message: str) -> Issue:
    return Issue(path=path, code="missing_field", message=message)


def _unknown(path: str, message: str) -> Issue:
    return Issue(path=path, code="invalid_choice", message=message)


def _prefixed(issue: Issue, prefix: str) -> Issue:
    if not issue.path:
        path = prefix
    elif issue.path.startswith("["):
        path = f"{prefix}{issue.path}"
    else:
        path = f"{prefix}.{issue.path}"
    return msgspec.structs.replace(issue, path=path)


def _plausible_id(value: str) -> bool:
    return 0 < len(value) <= ID_LENGTH


# -- cursors ---------------------------------------------------------------------------------


def encode_cursor(case: Case) -> str:
    """Opaque to callers: where a page ended (``[updated_at, id]``, see `keyset`)."""
    return encode_keyset(case.updated_at, case.id)


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    return decode_keyset(cursor, _plausible_id)

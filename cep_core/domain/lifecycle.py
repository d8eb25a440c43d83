"""The case state machine: which action may change which status, and why not, in French.

- opened → level_1 or level_2 (levels are independent: a case may start at level 2);
- level_1 → level_2, once the level-1 record is completed with the decision to continue;
- level_1 / level_2 → closed, with a reason; "completed" needs every required step of the
  level. An opened case may be closed too, for any reason but "completed" (a person who
  never came back must not stay open forever);
- opened / level_1 / level_2 → paused, and paused → the status it was paused from, however
  long after (no expiry);
- opened / level_1 / level_2 → referred, to another installed operator;
- closed and referred are terminal.

These are pure rules on the case as it is; what needs the operator's flow (is the level-1
record complete, which required steps are missing) is passed in by the service, and plugins
may still veto an allowed transition (``cep_case_transition``).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

import msgspec

from cep_core.domain.case import Case, CaseStatus, CloseReason, Level
from cep_core.domain.issues import Issue
from cep_core.domain.steps import LEVEL_ONE_RECORD


class Action(enum.StrEnum):
    START_LEVEL_1 = "start_level_1"
    START_LEVEL_2 = "start_level_2"
    PAUSE = "pause"
    RESUME = "resume"
    CLOSE = "close"
    REFER = "refer"


ACTION_LABELS: dict[Action, str] = {
    Action.START_LEVEL_1: "démarrer le niveau 1 (accueil individualisé)",
    Action.START_LEVEL_2: "démarrer le niveau 2 (accompagnement personnalisé)",
    Action.PAUSE: "mettre le dossier en pause",
    Action.RESUME: "reprendre le dossier",
    Action.CLOSE: "clôturer le dossier",
    Action.REFER: "orienter la personne vers un autre opérateur",
}

STATUS_LABELS: dict[CaseStatus, str] = {
    CaseStatus.OPENED: "ouvert",
    CaseStatus.LEVEL_ONE: "au niveau 1",
    CaseStatus.LEVEL_TWO: "au niveau 2",
    CaseStatus.PAUSED: "en pause",
    CaseStatus.CLOSED: "clôturé",
    CaseStatus.REFERRED: "orienté vers un autre opérateur",
}

ACTIVE = frozenset({CaseStatus.OPENED, CaseStatus.LEVEL_ONE, CaseStatus.LEVEL_TWO})
TERMINAL = frozenset({CaseStatus.CLOSED, CaseStatus.REFERRED})

# (status, action) -> status after; a pause resumes to the status it was taken from.
TRANSITIONS: dict[tuple[CaseStatus, Action], CaseStatus] = {
    (CaseStatus.OPENED, Action.START_LEVEL_1): CaseStatus.LEVEL_ONE,
    (CaseStatus.OPENED, Action.START_LEVEL_2): CaseStatus.LEVEL_TWO,
    (CaseStatus.LEVEL_ONE, Action.START_LEVEL_2): CaseStatus.LEVEL_TWO,
    **{(status, Action.PAUSE): CaseStatus.PAUSED for status in ACTIVE},
    **{(status, Action.CLOSE): CaseStatus.CLOSED for status in ACTIVE},
    **{(status, Action.REFER): CaseStatus.REFERRED for status in ACTIVE},
}

LEVEL_OF_ACTION = {Action.START_LEVEL_1: Level.ONE, Action.START_LEVEL_2: Level.TWO}


def target_status(case: Case, action: Action) -> CaseStatus | None:
    """The status `action` leads to from the case's status, or None when it is not allowed."""
    if case.status is CaseStatus.PAUSED and action is Action.RESUME:
        return case.paused_from
    return TRANSITIONS.get((case.status, action))


def allowed_actions(case: Case) -> tuple[Action, ...]:
    """What the status allows (before the flow's checks and the plugins' vetoes)."""
    return tuple(action for action in Action if target_status(case, action) is not None)


def refusal(case: Case, action: Action, close_reason: CloseReason | None = None) -> list[Issue]:
    """Why the status forbids `action`; empty when the state machine allows it."""
    status = case.status
    what = _elided(ACTION_LABELS[action])
    if status in TERMINAL:
        if status is CaseStatus.CLOSED:
            why = "ce dossier est clôturé : il ne change plus de statut"
        else:
            why = "ce dossier a été orienté vers un autre opérateur : il ne change plus de statut"
        return [_refused(f"Impossible {what} : {why}.")]
    if action is Action.RESUME:
        if status is not CaseStatus.PAUSED or case.paused_from not in ACTIVE:
            return [_refused(f"Impossible {what} : il n'est pas en pause.")]
        return []
    if status is CaseStatus.PAUSED:
        return [
            _refused(
                f"Impossible {what} : le dossier est en pause. Reprenez-le d'abord "
                "(la reprise est possible à tout moment)."
            )
        ]
    if action is Action.START_LEVEL_1 and status is not CaseStatus.OPENED:
        if status is CaseStatus.LEVEL_ONE:
            return [_refused("Le niveau 1 est déjà en cours pour ce dossier.")]
        return [
            _refused(
                "Impossible de revenir au niveau 1 : le dossier est au niveau 2 "
                "(accompagnement personnalisé)."
            )
        ]
    if action is Action.START_LEVEL_2 and status is CaseStatus.LEVEL_TWO:
        return [_refused("Le niveau 2 est déjà en cours pour ce dossier.")]
    if (
        action is Action.CLOSE
        and status is CaseStatus.OPENED
        and close_reason is CloseReason.COMPLETED
    ):
        return [
            Issue(
                path="reason",
                code="transition_refused",
                message=(
                    "Un dossier dont aucun niveau n'a commencé ne peut pas être clôturé comme "
                    "« accompagnement mené à son terme » : choisissez un autre motif, ou "
                    "démarrez d'abord un niveau."
                ),
            )
        ]
    if target_status(case, action) is None:  # pragma: no cover - the table above is complete
        return [_refused(f"Impossible {what} : le dossier est {STATUS_LABELS[status]}.")]
    return []


def level_two_gate(case: Case) -> list[Issue]:
    """From level 1, level 2 needs the level-1 record completed with the decision to go on."""
    if case.status is not CaseStatus.LEVEL_ONE:
        return []  # a case may start directly at level 2: levels are independent
    record = case.step(LEVEL_ONE_RECORD)
    path = f"steps.{LEVEL_ONE_RECORD}"
    if record is None or not record.completed:
        return [
            Issue(
                path=path,
                code="step_incomplete",
                message=(
                    "Le compte rendu du niveau 1 doit être terminé avant de passer au niveau 2 "
                    "(demande, besoin clarifié, informations données, décision et état des "
                    "lieux partagé)."
                ),
            )
        ]
    if record.data.get("continues") is not True:
        return [
            Issue(
                path=f"{path}.continues",
                code="no_decision_to_continue",
                message=(
                    "Le compte rendu du niveau 1 indique que la personne ne souhaite pas "
                    "poursuivre : le niveau 2 ne peut pas démarrer. Modifiez la décision si la "
                    "personne a changé d'avis."
                ),
            )
        ]
    return []


def missing_steps_issues(missing: Sequence[tuple[str, str]], level: Level) -> list[Issue]:
    """One issue per required step not completed, named by its French title."""
    return [
        Issue(
            path=f"steps.{step_id}",
            code="step_incomplete",
            message=(
                f"L'étape obligatoire « {title} » du niveau {int(level)} n'est pas terminée : "
                "le dossier ne peut pas être clôturé comme « accompagnement mené à son terme »."
            ),
        )
        for step_id, title in missing
    ]


def _elided(verb_phrase: str) -> str:
    """``de`` + the phrase, elided before a vowel: "d'orienter", "de clôturer"."""
    return ("d'" if verb_phrase[0] in "aeéèêiouy" else "de ") + verb_phrase


def _refused(message: str) -> Issue:
    return Issue(path="status", code="transition_refused", message=message)


class TransitionPlan(msgspec.Struct, frozen=True, kw_only=True):
    """What an allowed action does to the case's status and level."""

    from_status: CaseStatus
    to_status: CaseStatus
    level: Level | None
    paused_from: CaseStatus | None


def plan(case: Case, action: Action) -> TransitionPlan:
    """The change `action` makes; call only once `refusal` found nothing."""
    to_status = target_status(case, action)
    if to_status is None:
        raise ValueError(f"{action} is not allowed from {case.status}")
    level = LEVEL_OF_ACTION.get(action, case.level)
    paused_from = case.status if action is Action.PAUSE else None
    return TransitionPlan(
        from_status=case.status, to_status=to_status, level=level, paused_from=paused_from
    )

"""A toolkit for operator flows: the helpers every operator plugin's intake and steps need.

Each operator plugin reads the case's stored intake, converts answers to its own Structs,
reports unreadable answers, future dates and repeated choices, and dispatches step checks the
same way; keeping that here gives every operator the same tolerance and the same French
messages. Pure functions: no I/O, the date of the check is always passed in.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Hashable, Mapping, Sequence
from datetime import date
from typing import Any, TypeAlias, TypeVar

import msgspec

from cep_core.domain.case import Case
from cep_core.domain.issues import Issue

S = TypeVar("S", bound=msgspec.Struct)

# A step's answers Struct and the rule checking them: rule(today, case, answers).
StepCheck: TypeAlias = tuple[type[msgspec.Struct], Callable[[date, Case, Any], list[Issue]]]


class LabelledChoice(enum.StrEnum):
    """A closed choice: ASCII value stored, French `label` shown.

    A plugin derives its own base from this one and points `labels` at its label table, so
    its tests can walk that base's subclasses and check every member is labelled.
    """

    @classmethod
    def labels(cls) -> Mapping[str, str]:
        """The French label of each member of `cls`, keyed by member."""
        raise NotImplementedError(f"{cls.__name__} ne déclare pas ses libellés.")

    @property
    def label(self) -> str:
        return self.labels()[self]


def issue(path: str, code: str, message: str) -> Issue:
    """An `Issue` written in the order a check reads it: where, what kind, the French message."""
    return Issue(path=path, code=code, message=message)


def french_date(value: date) -> str:
    """A date as a French reader writes it (``31/01/2025``)."""
    return value.strftime("%d/%m/%Y")


def load_answers(data: Mapping[str, Any], struct: type[S]) -> S | None:
    """`data` as `struct`, or None when it does not fit (the caller reports it)."""
    try:
        return msgspec.convert(dict(data), struct)
    except msgspec.ValidationError:
        return None


def stored_intake(case: Case) -> dict[str, Any]:
    """The intake answers stored on the case, as plain values (``{}`` when there are none).

    The case lifecycle stores them as ``case.intake.answers`` (the form's Struct through
    ``to_builtins``); a bare mapping or Struct in ``case.intake`` is read the same way, and a
    case opened without intake reads as "not known", so only unconditional steps show.
    """
    raw = getattr(case, "intake", None)
    answers = getattr(raw, "answers", raw)
    if isinstance(answers, msgspec.Struct):
        answers = msgspec.to_builtins(answers)
    return dict(answers) if isinstance(answers, Mapping) else {}


def intake_as(case: Case, struct: type[S]) -> S | None:
    """The case's intake as an operator's full intake Struct, or None when absent or unfit.

    Public answers fit it too (the public form is a subset of the full one).
    """
    raw = stored_intake(case)
    return load_answers(raw, struct) if raw else None


def unreadable_answers(step_id: str = "") -> Issue:
    """Answers that do not fit the operator's form: a step's (`step_id`) or the intake's ("")."""
    what = f"de l'étape « {step_id} »" if step_id else "d'accueil"
    return issue(
        "", "invalid", f"Les réponses {what} ne correspondent pas au formulaire de l'opérateur."
    )


def date_in_future(path: str, value: date) -> Issue:
    return issue(path, "date_in_future", f"La date {french_date(value)} est dans le futur.")


def duplicate_choices(path: str, values: Sequence[Hashable]) -> list[Issue]:
    """One issue when a multiple choice lists the same option twice, none otherwise."""
    if len(set(values)) == len(values):
        return []
    return [issue(path, "duplicate", "Chaque choix ne peut figurer qu'une fois.")]


def validate_intake_with(
    struct: type[S],
    check: Callable[[date, S], list[Issue]],
    today: date,
    data: Mapping[str, Any],
) -> list[Issue]:
    """`cep_validate_intake` for an operator: load `data` as `struct`, then apply `check`."""
    answers = load_answers(data, struct)
    if answers is None:
        return [unreadable_answers()]
    return check(today, answers)


def validate_step_with(
    checks: Mapping[str, StepCheck],
    today: date,
    case: Case,
    step_id: str,
    data: Mapping[str, Any],
) -> list[Issue]:
    """`cep_validate_step` for an operator: the step's rule on its loaded answers.

    A step absent from `checks` is not the operator's, or has no rule beyond its Struct: no
    issue.
    """
    check = checks.get(step_id)
    if check is None:
        return []
    struct, rule = check
    answers = load_answers(data, struct)
    if answers is None:
        return [unreadable_answers(step_id)]
    return rule(today, case, answers)

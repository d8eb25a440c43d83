"""The operator-flow toolkit: tolerant intake reading, loading, French issues, step dispatch."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Annotated, Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cep_core import (
    Case,
    FormChannel,
    IntakeRecord,
    Issue,
    LabelledChoice,
    StepCheck,
    date_in_future,
    duplicate_choices,
    french_date,
    intake_as,
    issue,
    load_answers,
    stored_intake,
    unreadable_answers,
    validate_intake_with,
    validate_step_with,
)

TODAY = date(2025, 3, 14)


class Answers(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(max_length=20)]
    count: Annotated[int, msgspec.Meta(ge=0, le=10)] = 0


class Colour(LabelledChoice):
    RED = "red"
    BLUE = "blue"

    @classmethod
    def labels(cls) -> Mapping[str, str]:
        return {cls.RED: "Rouge", cls.BLUE: "Bleu"}


class Unlabelled(LabelledChoice):
    ONLY = "only"


class FakeCase:
    """Only what the toolkit reads: ``intake`` (and nothing else)."""

    def __init__(self, intake: object = None) -> None:
        self.intake = intake


def test_labelled_choice_reads_its_table() -> None:
    assert Colour.RED.label == "Rouge"
    assert Colour("blue").label == "Bleu"
    assert Colour.RED.value == "red"


def test_labelled_choice_without_table_says_so_in_french() -> None:
    with pytest.raises(NotImplementedError, match="ne déclare pas ses libellés"):
        _ = Unlabelled.ONLY.label


def test_issue_puts_path_code_and_message_in_place() -> None:
    assert issue("a.b", "inconsistent", "Texte") == Issue(
        path="a.b", code="inconsistent", message="Texte"
    )


@given(st.dates())
def test_french_date_is_day_month_year(value: date) -> None:
    day, month, year = french_date(value).split("/")
    assert date(int(year), int(month), int(day)) == value
    assert len(day) == 2 and len(month) == 2


def test_french_date_pads_day_and_month() -> None:
    assert french_date(date(2025, 1, 5)) == "05/01/2025"


def test_load_answers_converts_or_returns_none() -> None:
    assert load_answers({"name": "Ada", "count": 3}, Answers) == Answers(name="Ada", count=3)
    assert load_answers({"name": "Ada", "extra": 1}, Answers) is None
    assert load_answers({"count": 3}, Answers) is None
    assert load_answers({"name": "x" * 21}, Answers) is None


def test_stored_intake_reads_every_stored_shape() -> None:
    record = IntakeRecord(
        channel=FormChannel.COUNSELLOR,
        answers={"name": "Ada"},
        submitted_at=datetime(2025, 3, 14, 10, tzinfo=UTC),
    )
    shapes = [
        record,  # what the case lifecycle stores
        _Holder(answers=Answers(name="Ada")),
        {"name": "Ada"},
        Answers(name="Ada"),
    ]
    for intake in shapes:
        assert stored_intake(FakeCase(intake))["name"] == "Ada"  # type: ignore[arg-type]


class _Holder:
    def __init__(self, answers: object) -> None:
        self.answers = answers


@pytest.mark.parametrize("intake", [None, _Holder(answers=None), "texte", 42, _Holder(answers=[1])])
def test_stored_intake_is_empty_when_absent_or_unreadable(intake: object) -> None:
    assert stored_intake(FakeCase(intake)) == {}  # type: ignore[arg-type]


def test_intake_as_converts_or_returns_none() -> None:
    assert intake_as(FakeCase({"name": "Ada"}), Answers) == Answers(name="Ada")  # type: ignore[arg-type]
    assert intake_as(FakeCase(None), Answers) is None  # type: ignore[arg-type]
    assert intake_as(FakeCase({"unknown": 1}), Answers) is None  # type: ignore[arg-type]


def test_unreadable_answers_names_the_step_or_the_intake() -> None:
    assert unreadable_answers("apec.positioning") == Issue(
        path="",
        code="invalid",
        message="Les réponses de l'étape « apec.positioning » ne correspondent pas au "
        "formulaire de l'opérateur.",
    )
    assert unreadable_answers().message == (
        "Les réponses d'accueil ne correspondent pas au formulaire de l'opérateur."
    )
    assert unreadable_answers("") == unreadable_answers()


def test_date_in_future_message() -> None:
    assert date_in_future("left_on", date(2030, 2, 1)) == Issue(
        path="left_on", code="date_in_future", message="La date 01/02/2030 est dans le futur."
    )


@given(st.lists(st.sampled_from(list(Colour)), max_size=6))
def test_duplicate_choices_flags_exactly_repeated_lists(values: list[Colour]) -> None:
    found = duplicate_choices("colours", values)
    if len(set(values)) == len(values):
        assert found == []
    else:
        assert found == [
            Issue(
                path="colours",
                code="duplicate",
                message="Chaque choix ne peut figurer qu'une fois.",
            )
        ]


def _check_answers(today: date, answers: Answers) -> list[Issue]:
    if answers.count > today.month:
        return [issue("count", "too_many", f"Au plus {today.month}.")]
    return []


def test_validate_intake_with_loads_then_checks() -> None:
    assert validate_intake_with(Answers, _check_answers, TODAY, {"name": "Ada", "count": 3}) == []
    assert validate_intake_with(Answers, _check_answers, TODAY, {"name": "Ada", "count": 4}) == [
        Issue(path="count", code="too_many", message="Au plus 3.")
    ]
    assert validate_intake_with(Answers, _check_answers, TODAY, {"nom": "Ada"}) == [
        unreadable_answers()
    ]


def _check_step(today: date, case: Case, answers: Any) -> list[Issue]:
    assert isinstance(answers, Answers)
    return [issue("name", "seen", f"{answers.name} le {french_date(today)}")]


CHECKS: dict[str, StepCheck] = {"demo.step": (Answers, _check_step)}


def test_validate_step_with_dispatches_on_the_step_id() -> None:
    case: Any = FakeCase()
    assert validate_step_with(CHECKS, TODAY, case, "demo.step", {"name": "Ada"}) == [
        Issue(path="name", code="seen", message="Ada le 14/03/2025")
    ]
    assert validate_step_with(CHECKS, TODAY, case, "demo.step", {"name": 1}) == [
        unreadable_answers("demo.step")
    ]
    assert validate_step_with(CHECKS, TODAY, case, "other.step", {"anything": True}) == []

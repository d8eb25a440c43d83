"""Listing (name search, filters, pages) and the journal telling a whole case's story."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cep_core import (
    CaseStatus,
    CloseReason,
    FormChannel,
    Level,
    ReferralReason,
    Role,
    SessionChannel,
)
from cep_core.domain.case import search_key
from cep_core.domain.issues import InvalidInput
from cep_core.services.cases import NewSession

if TYPE_CHECKING:
    from .conftest import World

Answers = dict[str, dict[str, Any]]

PEOPLE = [
    ("Élodie", "Lefèvre"),
    ("Aïcha", "Benali-Dupont"),
    ("Œlie", "Le Gall"),
    ("Jean-Pierre", "N'Guyen"),
    ("Elodie", "Martin"),
]


def test_search_by_name_ignores_accents_case_and_punctuation(world: World) -> None:
    opened = {f"{first} {last}": world.open(first=first, last=last) for first, last in PEOPLE}
    world.open("op_b", first="Élodie", last="Lefèvre")  # another operator's person

    def found(query: str) -> set[str]:
        page = world.cases.list_cases("op_a", name=query)
        return {
            f"{page.beneficiaries[c.beneficiary_id].first_name} "
            f"{page.beneficiaries[c.beneficiary_id].last_name}"
            for c in page.items
        }

    assert found("ELODIE") == {"Élodie Lefèvre", "Elodie Martin"}
    assert found("lefevre") == {"Élodie Lefèvre"}
    assert found("Lefèvre élodie") == {"Élodie Lefèvre"}  # every word, in any order
    assert found("aicha dupont") == {"Aïcha Benali-Dupont"}
    assert found("benali-dupont") == {"Aïcha Benali-Dupont"}
    assert found("oelie") == {"Œlie Le Gall"}
    assert found("jean-pierre n'guyen") == {"Jean-Pierre N'Guyen"}
    assert found("nguyen jeanpierre") == {"Jean-Pierre N'Guyen"}  # names typed in one piece
    assert found("legall") == {"Œlie Le Gall"}
    assert found("gall") == {"Œlie Le Gall"}
    assert found("zoé") == set()
    assert found("elodie martin lefevre") == set()  # every word must match
    assert len(opened) == 5


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("x" * 101, "100 caractères"),
        ("%_!", "au moins une lettre"),
        ("   ", "au moins une lettre"),
        ("a b c d e f", "5 mots au plus"),
    ],
)
def test_the_name_query_is_bounded(world: World, query: str, words: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        world.cases.list_cases("op_a", name=query)
    [issue] = refused.value.issues
    assert issue.path == "name"
    assert words in issue.message


@given(st.text(max_size=60))
def test_search_keys_are_plain_lowercase_words(text: str) -> None:
    key = search_key(text)
    assert key == key.strip()
    assert all(ch.isascii() and (ch.isdigit() or ch.islower() or ch == " ") for ch in key)
    assert search_key(key) == key  # stable: stored names and queries meet
    if text.isascii():
        assert search_key(text.upper()) == search_key(text.lower()) == key


def test_filters_combine_and_page(world: World, answers: Answers) -> None:
    made: dict[str, list[str]] = {"l1_c1": [], "l2_c1": [], "l1_c2": [], "none": []}
    for n in range(4):
        made["l1_c1"].append(world.open(level=Level.ONE, counsellor_id="c-1", last=f"A{n}").id)
        world.clock.advance(seconds=1)
        made["l2_c1"].append(world.open(level=Level.TWO, counsellor_id="c-1", last=f"B{n}").id)
        world.clock.advance(seconds=1)
        made["l1_c2"].append(world.open(level=Level.ONE, counsellor_id="c-2", last=f"C{n}").id)
        made["none"].append(world.open(last=f"D{n}").id)
    paused = world.cases.pause("op_a", made["l1_c2"][0], expected_version=1)

    def ids(**filters: Any) -> set[str]:
        seen: list[str] = []
        cursor = None
        while True:
            page = world.cases.list_cases("op_a", limit=3, cursor=cursor, **filters)
            seen += [c.id for c in page.items]
            assert set(page.beneficiaries) == {c.beneficiary_id for c in page.items}
            cursor = page.next_cursor
            if cursor is None:
                break
        assert len(seen) == len(set(seen))  # no duplicates across pages
        return set(seen)

    assert ids(level=Level.ONE) == set(made["l1_c1"] + made["l1_c2"])  # paused keeps its level
    assert ids(level=Level.TWO) == set(made["l2_c1"])
    assert ids(level=Level.TWO, counsellor_id="c-1") == set(made["l2_c1"])
    assert ids(level=Level.ONE, counsellor_id="c-2") == set(made["l1_c2"])
    assert ids(status=CaseStatus.PAUSED) == {paused.id}
    assert ids(status=CaseStatus.LEVEL_ONE, counsellor_id="c-2") == set(made["l1_c2"][1:])
    assert ids(status=CaseStatus.OPENED) == set(made["none"])
    assert ids(counsellor_id="c-1", name="b2") == {made["l2_c1"][2]}
    assert ids() == {i for group in made.values() for i in group}
    with pytest.raises(InvalidInput, match="Niveau inconnu"):
        world.cases.list_cases("op_a", level=3)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="Identifiant invalide"):
        world.cases.list_cases("op_a", counsellor_id="c" * 65)


# -- the journal -----------------------------------------------------------------------------


def test_the_journal_tells_the_whole_story_in_order_without_content(
    world: World, answers: Answers
) -> None:
    svc = world.cases
    case = world.open(intake={"employer_size": 40, "contract": "cdi", "wishes": "Secret A"})
    world.clock.advance(days=1)
    case = svc.start_level_1("op_a", case.id, expected_version=case.version, actor="c-1")
    case = svc.record_session(
        "op_a", case.id,
        NewSession(start=datetime(2026, 3, 3, 9, tzinfo=UTC), channel=SessionChannel.IN_PERSON,
                   duration_minutes=90, outside_working_time=True, notes="Secret B"),
        expected_version=case.version, actor="c-1",
    )  # fmt: skip
    for step_id in ("op_a.positioning", "level1.record"):
        case = svc.save_step(
            "op_a", case.id, step_id, answers[step_id], complete=True,
            expected_version=case.version, actor="c-1",
        ).case  # fmt: skip
    world.clock.advance(days=30)
    case = svc.pause("op_a", case.id, expected_version=case.version, actor="c-1")
    world.clock.advance(days=200)
    case = svc.resume("op_a", case.id, expected_version=case.version, actor="c-2")
    case = svc.start_level_2("op_a", case.id, expected_version=case.version, actor="c-2")
    case = svc.refer(
        "op_a", case.id, "op_b", ReferralReason.SITUATION_CHANGED, note="Secret C",
        expected_version=case.version, actor="c-2",
    )  # fmt: skip
    events = svc.case_events("op_a", case.id)
    assert [(e.kind, e.from_status, e.to_status, e.reason, e.actor) for e in events] == [
        ("opened", None, CaseStatus.OPENED, None, "c-1"),
        ("intake_submitted", None, None, "counsellor", "c-1"),
        ("transition", CaseStatus.OPENED, CaseStatus.LEVEL_ONE, None, "c-1"),
        ("session_recorded", None, None, "presentiel", "c-1"),
        ("step_completed", None, None, "op_a.positioning", "c-1"),
        ("step_completed", None, None, "level1.record", "c-1"),
        ("transition", CaseStatus.LEVEL_ONE, CaseStatus.PAUSED, None, "c-1"),
        ("transition", CaseStatus.PAUSED, CaseStatus.LEVEL_ONE, None, "c-2"),
        ("transition", CaseStatus.LEVEL_ONE, CaseStatus.LEVEL_TWO, None, "c-2"),
        ("transition", CaseStatus.LEVEL_TWO, CaseStatus.REFERRED, "situation_changed", "c-2"),
    ]
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert [e.at for e in events] == sorted(e.at for e in events)
    journal = msgspec.json.encode(events).decode()
    for secret in ("Secret", "Martin", "Camille", "changer de métier", "op_b"):
        assert secret not in journal
    # Plugins heard each line, in the same order, after commit.
    assert [event.seq for _, event in world.a.events] == [e.seq for e in events]


def test_a_complete_case_from_intake_to_closing(world: World, answers: Answers) -> None:
    """Done-when, with a fake operator: intake, level 1 and its record, level 2 with project
    and action plan, a pause in the middle, then closed as completed."""
    svc = world.cases
    case = world.open(channel=FormChannel.PUBLIC, intake={"wishes": "Reconversion"}, actor=None)
    case = svc.start_level_1("op_a", case.id, expected_version=case.version, actor="c-1")
    for step_id in ("op_a.positioning", "level1.record"):
        case = svc.save_step(
            "op_a", case.id, step_id, answers[step_id], complete=True,
            expected_version=case.version, actor="c-1",
        ).case  # fmt: skip
    case = svc.start_level_2("op_a", case.id, expected_version=case.version, actor="c-1")
    case = svc.save_step(
        "op_a", case.id, "level2.project", answers["level2.project"], complete=True,
        expected_version=case.version, actor="c-1",
    ).case  # fmt: skip
    case = svc.pause("op_a", case.id, expected_version=case.version, actor="c-1")
    world.clock.advance(days=90)
    case = svc.resume("op_a", case.id, expected_version=case.version, actor="c-1")
    case = svc.save_step(
        "op_a", case.id, "level2.action_plan", answers["level2.action_plan"], complete=True,
        expected_version=case.version, actor="c-1",
    ).case  # fmt: skip
    view = svc.view_case("op_a", case.id, role=Role.COUNSELLOR)
    assert view.progress is not None
    assert view.progress.percent == 100
    assert [s.status.value for s in view.steps] == ["completed", "completed", "not_started"]
    case = svc.close(
        "op_a", case.id, CloseReason.COMPLETED, expected_version=case.version, actor="c-1"
    )
    assert (case.status, case.level) == (CaseStatus.CLOSED, Level.TWO)
    assert svc.view_case("op_a", case.id, role=Role.COUNSELLOR).allowed_actions == ()

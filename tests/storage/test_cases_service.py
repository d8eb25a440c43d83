"""CaseService: open, get, list (filters, keyset pages), tenant isolation, atomicity, events."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import msgspec
import pytest
from sqlalchemy import func, select

from cep_core.domain.case import CaseStatus, Level
from cep_core.domain.context import Role
from cep_core.domain.issues import InvalidInput
from cep_core.domain.situation import Situation, Status
from cep_core.errors import CaseNotFound, UnknownOperator
from cep_core.services.cases import CaseService, NewBeneficiary, decode_cursor, encode_cursor
from cep_core.storage.database import Database
from cep_core.storage.repositories import CaseEventRepository
from cep_core.storage.tables import beneficiaries, case_events, cases

if TYPE_CHECKING:
    from cep_core.kit import Kit

    from .conftest import FakeClock, FakeOperator, KitFactory


TODAY = date(2026, 3, 2)


def situation(**changes: Any) -> Situation:
    values: dict[str, Any] = {
        "birth_date": date(1988, 4, 12),
        "as_of": TODAY,
        "status": Status.EMPLOYEE,
        "region": "53",
    }
    values.update(changes)
    return Situation(**values)


def person(n: int = 1) -> NewBeneficiary:
    return NewBeneficiary(
        first_name="Camille", last_name=f"Martin {n}", email=f"camille.{n}@exemple.fr"
    )


def counts(database: Database) -> tuple[int, int, int]:
    with database.read() as connection:
        return tuple(  # type: ignore[return-value]
            connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (beneficiaries, cases, case_events)
        )


# -- open and get ----------------------------------------------------------------------------


def test_open_then_get(cases: CaseService, clock: FakeClock) -> None:
    case = cases.open_case(
        "op_a", person(), situation(), level=Level.TWO, counsellor_id="c-1", actor="c-1"
    )
    assert case.operator == "op_a"
    assert case.status is CaseStatus.LEVEL_TWO
    assert case.version == 1
    assert case.created_at == case.updated_at == clock.now
    fetched = cases.get_case("op_a", case.id)
    assert fetched == case
    assert fetched.created_at.tzinfo is not None
    assert fetched.created_at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    beneficiary = cases.get_beneficiary("op_a", case.beneficiary_id)
    assert beneficiary is not None
    assert (beneficiary.first_name, beneficiary.operator) == ("Camille", "op_a")
    [event] = cases.case_events("op_a", case.id)
    assert (event.seq, event.kind, event.actor) == (1, "opened", "c-1")
    assert (event.from_status, event.to_status) == (None, CaseStatus.LEVEL_TWO)


@pytest.mark.parametrize(
    ("level", "status"),
    [(None, CaseStatus.OPENED), (Level.ONE, CaseStatus.LEVEL_ONE)],
)
def test_the_opening_status_follows_the_level(
    cases: CaseService, level: Level | None, status: CaseStatus
) -> None:
    assert cases.open_case("op_a", person(), situation(), level=level).status is status


def test_a_non_utc_clock_is_stored_as_utc(database: Database, kit: Kit, clock: FakeClock) -> None:
    from zoneinfo import ZoneInfo

    clock.now = datetime(2026, 7, 14, 12, 0, tzinfo=ZoneInfo("Europe/Paris"))
    service = CaseService(database, kit.hooks, clock=clock)
    case = service.open_case("op_a", person(), situation())
    stored = service.get_case("op_a", case.id)
    assert stored.created_at == clock.now
    assert stored.created_at.tzinfo is UTC
    assert stored.created_at.hour == 10


def test_plugins_hear_of_the_opening_after_commit(
    cases: CaseService, plugins: dict[str, FakeOperator], database: Database
) -> None:
    committed: list[int] = []

    def look_from_another_connection(ctx: Any, event: Any) -> None:
        with database.read() as connection:
            committed.append(CaseEventRepository(connection, ctx.operator).count(kind="opened"))

    listener = plugins["op_a"]
    listener.on_event = look_from_another_connection
    case = cases.open_case("op_a", person(), situation(), actor="c-9")
    [(ctx, event)] = listener.events
    assert committed == [1]  # the line was already visible to others: committed first
    assert ctx.operator == "op_a"
    assert ctx.actor == "c-9"
    assert ctx.role is Role.COUNSELLOR
    assert ctx.today == date(2026, 3, 2)
    assert event.case_id == case.id
    assert plugins["op_b"].events == []  # operator-scoped: op_b never hears of op_a's cases


def test_a_failing_listener_does_not_undo_the_case(
    cases: CaseService, plugins: dict[str, FakeOperator]
) -> None:
    plugins["op_a"].fail_on_events = True
    case = cases.open_case("op_a", person(), situation())
    assert cases.get_case("op_a", case.id) == case


# -- validation ------------------------------------------------------------------------------


def test_an_unknown_operator_is_refused_everywhere(cases: CaseService) -> None:
    with pytest.raises(UnknownOperator):
        cases.open_case("nobody", person(), situation())
    with pytest.raises(UnknownOperator):
        cases.get_case("nobody", "0" * 32)
    with pytest.raises(UnknownOperator):
        cases.list_cases("nobody")
    with pytest.raises(UnknownOperator):
        cases.case_events("nobody", "0" * 32)


def test_an_impossible_situation_is_refused(cases: CaseService, database: Database) -> None:
    with pytest.raises(InvalidInput) as refused:
        cases.open_case("op_a", person(), situation(birth_date=date(2030, 1, 1), region="99"))
    assert {issue.path for issue in refused.value.issues} == {"birth_date", "region"}
    assert counts(database) == (0, 0, 0)


@pytest.mark.parametrize(
    ("beneficiary", "path"),
    [
        (NewBeneficiary(first_name="", last_name="Martin"), "first_name"),
        (NewBeneficiary(first_name="   ", last_name="Martin"), "first_name"),
        (NewBeneficiary(first_name="Léa", last_name="x" * 101), "last_name"),
        (NewBeneficiary(first_name="Léa", last_name="Mar\x00tin"), "last_name"),
        (NewBeneficiary(first_name="Léa", last_name="Martin", email="pas-une-adresse"), "email"),
        (NewBeneficiary(first_name="Léa", last_name="Martin", phone="appelez-moi"), "phone"),
    ],
)
def test_a_malformed_person_is_refused_in_french(
    cases: CaseService, beneficiary: NewBeneficiary, path: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        cases.open_case("op_a", beneficiary, situation())
    [issue] = refused.value.issues
    assert issue.path == path
    assert any(word in issue.message for word in ("obligatoire", "valide"))


def test_names_are_trimmed(cases: CaseService) -> None:
    case = cases.open_case(
        "op_a", NewBeneficiary(first_name="  Léa ", last_name=" Martin", email=" "), situation()
    )
    beneficiary = cases.get_beneficiary("op_a", case.beneficiary_id)
    assert beneficiary is not None
    assert (beneficiary.first_name, beneficiary.last_name, beneficiary.email) == (
        "Léa",
        "Martin",
        None,
    )


def test_new_beneficiary_forbids_unknown_fields() -> None:
    with pytest.raises(msgspec.ValidationError, match="role"):
        msgspec.json.decode(
            b'{"first_name": "A", "last_name": "B", "role": "admin"}', type=NewBeneficiary
        )


# -- atomicity -------------------------------------------------------------------------------


def test_a_failure_mid_transaction_leaves_nothing(
    cases: CaseService,
    database: Database,
    plugins: dict[str, FakeOperator],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken_append(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(CaseEventRepository, "append", broken_append)
    with pytest.raises(RuntimeError, match="disk on fire"):
        cases.open_case("op_a", person(), situation())
    assert counts(database) == (0, 0, 0)
    assert plugins["op_a"].events == []  # nothing committed, nothing announced


# -- listing ---------------------------------------------------------------------------------


def test_filters(cases: CaseService, clock: FakeClock) -> None:
    first = cases.open_case("op_a", person(1), situation(), counsellor_id="c-1")
    clock.advance(minutes=1)
    second = cases.open_case("op_a", person(2), situation(), level=Level.ONE, counsellor_id="c-2")
    clock.advance(minutes=1)
    third = cases.open_case("op_a", person(3), situation(), level=Level.ONE, counsellor_id="c-1")

    def ids(**filters: Any) -> list[str]:
        return [c.id for c in cases.list_cases("op_a", **filters).items]

    assert ids() == [third.id, second.id, first.id]  # most recently updated first
    assert ids(status=CaseStatus.LEVEL_ONE) == [third.id, second.id]
    assert ids(status=CaseStatus.CLOSED) == []
    assert ids(counsellor_id="c-1") == [third.id, first.id]
    assert ids(counsellor_id="c-1", status=CaseStatus.OPENED) == [first.id]
    assert ids(beneficiary_id=second.beneficiary_id) == [second.id]


@pytest.mark.parametrize("limit", [1, 3, 7, 20])
def test_pages_have_no_duplicates_and_no_gaps_even_with_equal_timestamps(
    cases: CaseService, clock: FakeClock, limit: int
) -> None:
    opened = []
    for n in range(10):
        opened.append(cases.open_case("op_a", person(n), situation()))
        if n % 4 == 3:
            clock.advance(seconds=1)  # groups of four share their updated_at
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = cases.list_cases("op_a", limit=limit, cursor=cursor)
        pages += 1
        assert len(page.items) <= limit
        seen += [c.id for c in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    expected = sorted(opened, key=lambda c: (c.updated_at, c.id), reverse=True)
    assert seen == [c.id for c in expected]
    assert pages == -(-10 // limit)  # ceil: a full last page announces no next one


def test_a_new_case_between_pages_does_not_shift_the_next_page(
    cases: CaseService, clock: FakeClock
) -> None:
    older = [cases.open_case("op_a", person(n), situation()) for n in range(4)]
    page = cases.list_cases("op_a", limit=2)
    clock.advance(minutes=5)
    cases.open_case("op_a", person(99), situation())  # lands before page one, not in page two
    following = cases.list_cases("op_a", limit=2, cursor=page.next_cursor)
    newest_first = sorted(older, key=lambda c: c.id, reverse=True)
    assert [c.id for c in page.items + following.items] == [c.id for c in newest_first]
    assert following.next_cursor is None


@pytest.mark.parametrize("limit", [0, -1, 201, True])
def test_the_page_size_is_bounded(cases: CaseService, limit: int) -> None:
    with pytest.raises(InvalidInput, match="entre 1 et 200"):
        cases.list_cases("op_a", limit=limit)


@pytest.mark.parametrize("cursor", ["", "!!!", "bm90IGpzb24", "WyJ4IiwieSJd", "a" * 500])
def test_a_bad_cursor_is_refused_in_french(cases: CaseService, cursor: str) -> None:
    with pytest.raises(InvalidInput, match="curseur"):
        cases.list_cases("op_a", cursor=cursor)


def test_cursors_round_trip(cases: CaseService) -> None:
    case = cases.open_case("op_a", person(), situation())
    assert decode_cursor(encode_cursor(case)) == (case.updated_at, case.id)


# -- tenant isolation (SEC-01, SEC-22) -------------------------------------------------------


def test_operator_b_can_neither_get_nor_list_nor_page_into_a(cases: CaseService) -> None:
    mine = [cases.open_case("op_a", person(n), situation()) for n in range(3)]
    theirs = cases.open_case("op_b", person(9), situation())
    for case in mine:
        with pytest.raises(CaseNotFound) as missing:
            cases.get_case("op_b", case.id)
        assert str(missing.value) == "Dossier introuvable."  # says nothing about existence
        with pytest.raises(CaseNotFound):
            cases.case_events("op_b", case.id)
        assert cases.get_beneficiary("op_b", case.beneficiary_id) is None
        assert cases.list_cases("op_b", beneficiary_id=case.beneficiary_id).items == ()
    assert [c.id for c in cases.list_cases("op_b").items] == [theirs.id]
    # A cursor taken from A's listing only moves B along B's own cases.
    a_cursor = cases.list_cases("op_a", limit=1).next_cursor
    assert a_cursor is not None
    paged = cases.list_cases("op_b", cursor=a_cursor).items
    assert all(c.operator == "op_b" for c in paged)
    assert {c.id for c in paged} <= {theirs.id}
    assert all(c.operator == "op_a" for c in cases.list_cases("op_a").items)


def test_a_missing_or_absurd_case_id_is_not_found(cases: CaseService) -> None:
    for case_id in ("0" * 32, "", "x" * 10_000):
        with pytest.raises(CaseNotFound):
            cases.get_case("op_a", case_id)


def test_the_same_person_at_two_operators_is_two_separate_files(cases: CaseService) -> None:
    a = cases.open_case("op_a", person(1), situation())
    b = cases.open_case("op_b", person(1), situation())
    assert a.beneficiary_id != b.beneficiary_id


# -- wiring through the Kit ------------------------------------------------------------------


def test_the_kit_builds_the_service_from_its_settings(
    database_url: str, kit_factory: KitFactory
) -> None:
    kit = kit_factory(database_url)
    kit.database.upgrade()
    case = kit.cases.open_case("op_a", person(), situation())
    assert kit.cases.get_case("op_a", case.id) == case


def test_an_unknown_status_filter_is_refused(cases: CaseService) -> None:
    assert cases.list_cases("op_a", status="level_1").items == ()  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="Statut inconnu"):
        cases.list_cases("op_a", status="archived")  # type: ignore[arg-type]


def test_concurrent_writers_queue_instead_of_failing(cases: CaseService) -> None:
    """Eight threads opening cases at once: no "database is locked", nothing lost (REL-07)."""
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for n in range(10):
                cases.open_case("op_a", person(worker * 100 + n), situation())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(cases.list_cases("op_a", limit=200).items) == 80

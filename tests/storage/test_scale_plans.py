"""Case lists and name search keep using their indexes (issue #8: flat up to 1M cases).

A base of 20 000 cases made by ``bench/generate.py`` (France Travail holds 60 % of them),
statistics gathered (ANALYZE), then the plan of every statement the list and search queries
run is read (SQLite ``EXPLAIN QUERY PLAN``, PostgreSQL ``EXPLAIN``): each must use the
intended index, and none may read a whole table or sort a whole operator's cases. The
figures at 1M cases come from ``bench/scale.py`` (see ``docs/benchmarks.md``); this test is
what stops a future change from silently bringing a full scan back.

Both search strategies (few people: those matching every word, from the rarest word's
range of ``beneficiary_words``, then their cases; a common name: the list index walked
newest first, reading the name copied into it, no row) are also checked against a
brute-force reading of the names, so the fast paths find exactly what the rule says.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import event, select, text

from cep_core.domain.case import Beneficiary, Case, CaseStatus, beneficiary_search_key
from cep_core.domain.situation import Situation, Status
from cep_core.storage import repositories
from cep_core.storage.database import Database
from cep_core.storage.repositories import BeneficiaryRepository, CaseRepository
from cep_core.storage.tables import beneficiaries, cases

SIZE = 20_000
OPERATOR = "pole_emploi"
NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)


def _bench_module(name: str) -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "bench" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"cep_bench_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


generate = _bench_module("generate")


@pytest.fixture(scope="module")
def templates() -> Any:
    """The demo's case documents, made once for both databases."""
    return generate.make_templates(lambda _: None)


@pytest.fixture
def base(database_url: str, templates: Any) -> Iterator[tuple[Database, Any]]:
    made = generate.generate(
        database_url, SIZE, now=NOW, progress=lambda _: None, templates=templates
    )
    database = Database(database_url)
    with database.engine.connect() as connection:
        connection.execute(text("ANALYZE"))
        connection.commit()
    yield database, made
    database.dispose()


def _plans(database: Database, run: Callable[[CaseRepository], object]) -> list[str]:
    """The plan lines of every statement `run` makes the repository execute."""
    statements: list[tuple[str, Any]] = []

    def grab(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    event.listen(database.engine, "before_cursor_execute", grab)
    try:
        with database.read() as connection:
            run(CaseRepository(connection, OPERATOR))
    finally:
        event.remove(database.engine, "before_cursor_execute", grab)
    selects = [(s, p) for s, p in statements if s.lstrip().upper().startswith(("SELECT", "WITH"))]
    assert selects
    lines: list[str] = []
    with database.engine.connect() as connection:
        for statement, parameters in selects:
            if database.dialect == "sqlite":
                rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
                lines += [row[3] for row in rows]
            else:
                rows = connection.exec_driver_sql("EXPLAIN " + statement, parameters)
                lines += [row[0] for row in rows]
    return lines


def _no_full_scan(dialect: str, plan: list[str], *, bounded_sort: bool = False) -> None:
    """No table read whole; no sort, except (`bounded_sort`) of one counsellor's cases or of
    a rare name's candidates (fewer than `WORD_CANDIDATES_MAX` people)."""
    text_plan = "\n".join(plan)
    if dialect == "sqlite":
        assert bounded_sort or "TEMP B-TREE" not in text_plan, text_plan
        full = [
            line
            for line in plan
            if line.startswith("SCAN ")
            and not any(ok in line for ok in ("anon_", "CONSTANT ROW", "candidates"))
        ]
        assert full == [], text_plan
    else:
        # A few thousand words at most may be read in any order (the capped counts); never
        # the cases or the people.
        assert "Seq Scan on cases" not in text_plan, text_plan
        assert "Seq Scan on beneficiaries" not in text_plan, text_plan
        assert "Seq Scan on beneficiary_words" not in text_plan, text_plan
        # Sorting a word's range is bounded by it (the planner reads it by bitmap when it
        # expects few entries); sorting cases is what must not happen.
        sorted_cases = [line for line in plan if "Sort Key:" in line and "updated_at" in line]
        assert bounded_sort or sorted_cases == [], text_plan


def _uses(plan: list[str], *indexes: str) -> None:
    text_plan = "\n".join(plan)
    for index in indexes:
        assert index in text_plan, f"{index} not used:\n{text_plan}"


def _expected(database: Database, prefixes: list[str], counsellor: str | None = None) -> list[str]:
    """Brute force: the 50 newest cases whose person has a word starting with each prefix."""
    with database.read() as connection:
        query = (
            select(cases.c.id, cases.c.updated_at, beneficiaries.c.search_name)
            .join(beneficiaries, beneficiaries.c.id == cases.c.beneficiary_id)
            .where(cases.c.operator == OPERATOR)
        )
        if counsellor is not None:
            query = query.where(cases.c.counsellor_id == counsellor)
        rows = connection.execute(query).all()
    matching = [
        (row.updated_at, row.id)
        for row in rows
        if all(any(w.startswith(p) for w in row.search_name.split()) for p in prefixes)
    ]
    return [case_id for _, case_id in sorted(matching, reverse=True)[:50]]


def test_lists_and_search_use_their_indexes(
    base: tuple[Database, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    database, made = base
    dialect = database.dialect
    assert made.per_operator[OPERATOR] > SIZE / 2
    counsellor = made.busiest[OPERATOR]
    with database.read() as connection:
        page = CaseRepository(connection, OPERATOR).find(limit=50)
    middle = page[-1]
    after = (middle.updated_at, middle.id)

    lists: dict[str, tuple[Callable[[CaseRepository], object], tuple[str, ...], bool]] = {
        "mine": (
            lambda r: r.find(counsellor_id=counsellor),
            ("ix_cases_operator_counsellor",),
            False,
        ),
        "mine, status": (
            lambda r: r.find(counsellor_id=counsellor, status=CaseStatus.LEVEL_TWO),
            ("ix_cases_operator_counsellor_status",),
            False,
        ),
        "all": (lambda r: r.find(), ("ix_cases_operator_updated",), False),
        "all, status": (
            lambda r: r.find(status=CaseStatus.PAUSED),
            ("ix_cases_operator_status",),
            False,
        ),
        "next page": (lambda r: r.find(after=after), ("ix_cases_operator_updated",), False),
        "rare name": (
            lambda r: r.find(name_terms=("valmorin",)),
            ("beneficiary_words", "ix_cases_operator_beneficiary"),
            True,
        ),
        "first and last name": (
            lambda r: r.find(name_terms=("camille", "val")),
            ("beneficiary_words", "ix_cases_operator_beneficiary"),
            True,
        ),
    }
    for label, (run, indexes, bounded_sort) in lists.items():
        plan = _plans(database, run)
        _uses(plan, *indexes)
        _no_full_scan(dialect, plan, bounded_sort=bounded_sort)
        assert label  # named for the failure message above

    # Row values keep the keyset a range of the index, not a filter over the operator.
    next_page = _plans(database, lambda r: r.find(after=after))
    if dialect == "sqlite":
        _uses(next_page, "(updated_at,id)<(?,?)")
    else:
        _uses(next_page, "ROW(updated_at, id) <")

    # The rare path finds exactly what the rule says.
    with database.read() as connection:
        repository = CaseRepository(connection, OPERATOR)
        rare = [case.id for case in repository.find(name_terms=("valmorin",))]
        both = [case.id for case in repository.find(name_terms=("marie", "val"))]
    assert rare == _expected(database, ["valmorin"])
    assert rare, "the generated base has people named Valmorin"
    assert both == _expected(database, ["marie", "val"])
    assert both, "the generated base has a Marie Val…"

    # Every statement of a search reads names from indexes, never a person's row.
    for terms in (("valmorin",), ("camille", "val"), ("marie",)):
        searched = "\n".join(_plans(database, lambda r, t=terms: r.find(name_terms=t)))
        assert "beneficiaries" not in searched.split("-- ")[0], searched
        if dialect == "sqlite":
            assert "USING INDEX ix_cases_operator_updated" not in searched, searched

    # A common term walks the list index newest first, from the index alone (the name is in
    # it: no row, no person read): same plan guarantees, same answers.
    monkeypatch.setattr(repositories, "WORD_CANDIDATES_MAX", 20)
    common_plan = _plans(database, lambda r: r.find(name_terms=("mar",)))
    _uses(common_plan, _index_only(dialect, "ix_cases_operator_updated"))
    _no_full_scan(dialect, common_plan)
    assert "beneficiaries" not in "\n".join(common_plan)
    mine_plan = _plans(database, lambda r: r.find(name_terms=("mar",), counsellor_id=counsellor))
    _uses(mine_plan, _index_only(dialect, "ix_cases_operator_counsellor"))
    _no_full_scan(dialect, mine_plan, bounded_sort=True)
    assert "beneficiaries" not in "\n".join(mine_plan)
    # Several common words: the people matching them all are many, so the walk checks both.
    pair_plan = _plans(database, lambda r: r.find(name_terms=("marie", "mar")))
    _uses(pair_plan, _index_only(dialect, "ix_cases_operator_updated"))
    _no_full_scan(dialect, pair_plan)
    with database.read() as connection:
        repository = CaseRepository(connection, OPERATOR)
        common = [case.id for case in repository.find(name_terms=("mar",))]
        mine = [case.id for case in repository.find(name_terms=("mar",), counsellor_id=counsellor)]
    assert len(common) == 50
    assert common == _expected(database, ["mar"])
    assert mine == _expected(database, ["mar"], counsellor)

    # Every word too common to list who carries them all: the walk too, same answers.
    monkeypatch.setattr(repositories, "WORD_CANDIDATES_MAX", 5000)
    monkeypatch.setattr(repositories, "WORD_SCAN_MAX", 20)
    walk_plan = _plans(database, lambda r: r.find(name_terms=("camille", "val")))
    _uses(walk_plan, _index_only(dialect, "ix_cases_operator_updated"))
    _no_full_scan(dialect, walk_plan)
    with database.read() as connection:
        walked = [
            case.id
            for case in CaseRepository(connection, OPERATOR).find(name_terms=("camille", "val"))
        ]
    assert walked == _expected(database, ["camille", "val"])


def _index_only(dialect: str, index: str) -> str:
    """How the plan says `index` is read without the table."""
    if dialect == "sqlite":
        return f"USING COVERING INDEX {index} "
    return f"Index Only Scan Backward using {index} "


def test_renamed_and_forgotten_people_are_found_by_their_current_name(
    database: Database,
) -> None:
    """`index_name` keeps the word index in step with `search_name` (rectification, erasure)."""
    person = Beneficiary(
        id="b" * 32, operator=OPERATOR, first_name="Élodie", last_name="Lefèvre", created_at=NOW
    )
    case = Case(
        id="c" * 32,
        operator=OPERATOR,
        beneficiary_id=person.id,
        status=CaseStatus.OPENED,
        level=None,
        situation=Situation(birth_date=date(1990, 1, 1), as_of=NOW.date(), status=Status.JOBSEEKER),
        created_at=NOW,
        updated_at=NOW,
    )
    with database.write() as connection:
        BeneficiaryRepository(connection, OPERATOR).add(person)
        CaseRepository(connection, OPERATOR).add(case)

    def found(*terms: str) -> list[str]:
        with database.read() as connection:
            return [c.id for c in CaseRepository(connection, OPERATOR).find(name_terms=terms)]

    assert found("lef") == found("elodie", "lefevre") == [case.id]
    renamed = beneficiary_search_key("Élodie", "Martin")
    with database.write() as connection:
        connection.execute(
            beneficiaries.update()
            .where(beneficiaries.c.id == person.id)
            .values(search_name=renamed)
        )
        BeneficiaryRepository(connection, OPERATOR).index_name(person.id, renamed)
    assert found("lefevre") == []
    assert found("mart", "elo") == [case.id]
    with database.write() as connection:
        connection.execute(
            beneficiaries.update().where(beneficiaries.c.id == person.id).values(search_name=None)
        )
        BeneficiaryRepository(connection, OPERATOR).index_name(person.id, None)
    assert found("martin") == found("elodie") == []

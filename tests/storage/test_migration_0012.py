"""Migration 0012: the names of people stored before are copied where search reads them
(their cases, their word rows), so they are still found by both ways; and the way back."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import inspect, select

from cep_core.domain.case import Beneficiary, Case, CaseStatus
from cep_core.domain.situation import Situation, Status
from cep_core.storage import repositories
from cep_core.storage.database import Database
from cep_core.storage.repositories import CaseRepository, name_words
from cep_core.storage.tables import beneficiaries, beneficiary_words, cases

from .test_migration_0002 import _alembic

NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


def _person(
    n: int, first: str, last: str, search_name: str | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    person = Beneficiary(
        id=f"{n:032d}", operator="op_a", first_name=first, last_name=last, created_at=NOW
    )
    case = Case(
        id=f"{n + 500:032d}",
        operator="op_a",
        beneficiary_id=person.id,
        status=CaseStatus.OPENED,
        level=None,
        situation=Situation(birth_date=date(1990, 1, 1), as_of=NOW.date(), status=Status.EMPLOYEE),
        created_at=NOW,
        updated_at=NOW.replace(minute=n),
    )
    return (
        {
            "id": person.id,
            "operator": "op_a",
            "doc": "{}",
            "created_at": NOW,
            "updated_at": NOW,
            "search_name": search_name,
        },
        repositories._case_row(case),
    )


def test_upgrading_copies_the_names_and_search_still_finds_them(
    empty_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = empty_database
    database.upgrade("0011")
    people = [
        _person(1, "Camille", "Martin", "camille martin"),
        _person(2, "Marie", "Martin", "marie martin"),
        _person(3, "Anonyme", "Anonyme", None),  # anonymised before the upgrade
    ]
    with database.write() as connection:
        for person, case in people:
            connection.execute(beneficiaries.insert().values(**person))
            # 0011's columns only: the copies do not exist yet.
            connection.execute(
                cases.insert().values({k: v for k, v in case.items() if k != "search_name"})
            )
            for word in name_words(person["search_name"] or ""):
                connection.execute(
                    beneficiary_words.insert().values(
                        operator="op_a", word=word, beneficiary_id=person["id"]
                    )
                )
    database.upgrade()
    with database.read() as connection:
        copied = dict(connection.execute(select(cases.c.beneficiary_id, cases.c.search_name)).all())
        words = set(
            connection.execute(
                select(beneficiary_words.c.word, beneficiary_words.c.search_name)
            ).all()
        )
    assert copied == {
        f"{1:032d}": "camille martin",
        f"{2:032d}": "marie martin",
        f"{3:032d}": None,
    }
    assert words == {
        ("camille", "camille martin"),
        ("martin", "camille martin"),
        ("marie", "marie martin"),
        ("martin", "marie martin"),
    }

    def found(*terms: str) -> list[str]:
        with database.read() as connection:
            return [
                c.beneficiary_id for c in CaseRepository(connection, "op_a").find(name_terms=terms)
            ]

    newest_first = [f"{2:032d}", f"{1:032d}"]
    assert found("martin") == newest_first
    assert found("mar", "cam") == [f"{1:032d}"]
    monkeypatch.setattr(repositories, "WORD_CANDIDATES_MAX", 1)  # the walk, on the copies
    assert found("martin") == newest_first
    assert found("anonyme") == []

    _alembic(database, "downgrade", "0011")
    for table in ("cases", "beneficiary_words"):
        columns = {c["name"] for c in inspect(database.engine).get_columns(table)}
        assert "search_name" not in columns
    indexes = {i["name"] for i in inspect(database.engine).get_indexes("cases")}
    assert {"ix_cases_operator_updated", "ix_cases_operator_counsellor"} <= indexes
    database.upgrade()
    assert found("martin") == newest_first

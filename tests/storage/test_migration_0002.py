"""Migration 0002: names made searchable for people stored before, old case documents still
read, and the way back."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text

from cep_core.domain.case import CaseStatus, beneficiary_search_key
from cep_core.storage.database import Database
from cep_core.storage.repositories import CaseRepository
from cep_core.storage.tables import beneficiaries, metadata

NOW = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)
PERSON = "0" * 31 + "1"
CASE = "0" * 31 + "2"


def _alembic(database: Database, action: str, revision: str) -> None:
    config = database._alembic_config()
    with database.write() as connection:
        config.attributes["connection"] = connection
        getattr(command, action)(config, revision)


def _insert_version_1_rows(database: Database) -> None:
    """A person and a case as version 0.1 wrote them (no lifecycle fields at all)."""
    person = {
        "id": PERSON,
        "operator": "op_a",
        "first_name": "Gaëlle",
        "last_name": "Le Bœuf",
        "created_at": "2025-06-01T08:00:00Z",
    }
    case = {
        "id": CASE,
        "operator": "op_a",
        "beneficiary_id": PERSON,
        "status": "level_1",
        "level": 1,
        "situation": {"birth_date": "1980-01-01", "as_of": "2025-06-01", "status": "employee"},
        "counsellor_id": None,
        "created_at": "2025-06-01T08:00:00Z",
        "updated_at": "2025-06-01T08:00:00Z",
        "version": 1,
    }
    with database.write() as connection:
        connection.execute(
            text(
                "INSERT INTO beneficiaries (id, operator, doc, created_at, updated_at) "
                "VALUES (:id, 'op_a', :doc, :at, :at)"
            ),
            {"id": PERSON, "doc": json.dumps(person), "at": NOW.replace(tzinfo=None)},
        )
        connection.execute(
            text(
                "INSERT INTO cases (id, operator, beneficiary_id, status, level, counsellor_id,"
                " created_at, updated_at, version, doc) VALUES (:id, 'op_a', :person,"
                " 'level_1', 1, NULL, :at, :at, 1, :doc)"
            ),
            {"id": CASE, "person": PERSON, "doc": json.dumps(case), "at": NOW.replace(tzinfo=None)},
        )


def test_upgrading_fills_search_names_and_old_cases_still_read(empty_database: Database) -> None:
    database = empty_database
    database.upgrade("0001")
    _insert_version_1_rows(database)
    database.upgrade()
    assert database.current_revision() == database.head_revision()
    with database.read() as connection:
        stored = connection.execute(select(beneficiaries.c.search_name)).scalar_one()
        case = CaseRepository(connection, "op_a").get(CASE)
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []
    assert stored == beneficiary_search_key("Gaëlle", "Le Bœuf") == "gaelle le boeuf leboeuf"
    assert case is not None
    assert case.status is CaseStatus.LEVEL_ONE
    assert (case.steps, case.sessions, case.intake, case.funding_plan) == ({}, (), None, None)


def test_the_migration_goes_back_and_forth(empty_database: Database) -> None:
    database = empty_database
    database.upgrade()
    _insert_version_1_rows(database)
    _alembic(database, "downgrade", "0001")
    with database.read() as connection:
        columns = {c["name"] for c in inspect(connection).get_columns("beneficiaries")}
        indexes = {i["name"] for i in inspect(connection).get_indexes("cases")}
        people = connection.execute(text("SELECT count(*) FROM beneficiaries")).scalar_one()
    assert "search_name" not in columns
    assert "ix_cases_operator_level" not in indexes
    assert people == 1
    database.upgrade()
    with database.read() as connection:
        assert connection.execute(select(beneficiaries.c.search_name)).scalar_one() == (
            "gaelle le boeuf leboeuf"
        )

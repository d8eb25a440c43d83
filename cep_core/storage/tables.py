"""The tables, as SQLAlchemy Core metadata (the migrations create exactly these).

Aggregates are msgspec JSON documents (``doc``) plus the columns queries filter and sort on.
Every table carries ``operator``: repositories filter on it, and composite foreign keys make
the database itself refuse a case pointing at another operator's beneficiary, or an event
filed under another operator's case (SEC-01, SEC-22).
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from cep_core.storage.types import UtcDateTime

ID_LENGTH = 36
OPERATOR_LENGTH = 64
ACTOR_LENGTH = 64
REASON_LENGTH = 500
SEARCH_NAME_LENGTH = 500

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

beneficiaries = Table(
    "beneficiaries",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("operator", String(OPERATOR_LENGTH), nullable=False),
    Column("doc", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # The name without accents or case (`domain.case.search_key`), for name search.
    Column("search_name", String(SEARCH_NAME_LENGTH), nullable=True),
    # Target of the composite foreign key from cases: same person, same operator.
    UniqueConstraint("id", "operator"),
    Index("ix_beneficiaries_operator_created", "operator", "created_at", "id"),
)

cases = Table(
    "cases",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("operator", String(OPERATOR_LENGTH), nullable=False),
    Column("beneficiary_id", String(ID_LENGTH), nullable=False),
    Column("status", String(20), nullable=False),
    Column("level", Integer, nullable=True),
    Column("counsellor_id", String(ACTOR_LENGTH), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
    Column("doc", Text, nullable=False),
    ForeignKeyConstraint(
        ["beneficiary_id", "operator"], ["beneficiaries.id", "beneficiaries.operator"]
    ),
    UniqueConstraint("id", "operator"),
    CheckConstraint("version >= 1", name="version_positive"),
    CheckConstraint("level IS NULL OR level IN (1, 2)", name="level_known"),
    # Listing: newest first, keyset on (updated_at, id), with or without one filter.
    Index("ix_cases_operator_updated", "operator", "updated_at", "id"),
    Index("ix_cases_operator_status", "operator", "status", "updated_at", "id"),
    Index("ix_cases_operator_counsellor", "operator", "counsellor_id", "updated_at", "id"),
    Index("ix_cases_operator_level", "operator", "level", "updated_at", "id"),
    Index("ix_cases_operator_beneficiary", "operator", "beneficiary_id"),
)

case_events = Table(
    "case_events",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("case_id", String(ID_LENGTH), nullable=False),
    Column("operator", String(OPERATOR_LENGTH), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("actor", String(ACTOR_LENGTH), nullable=True),
    Column("from_status", String(20), nullable=True),
    Column("to_status", String(20), nullable=True),
    Column("reason", String(REASON_LENGTH), nullable=True),
    ForeignKeyConstraint(["case_id", "operator"], ["cases.id", "cases.operator"]),
    UniqueConstraint("case_id", "seq"),
    CheckConstraint("seq >= 1", name="seq_positive"),
    Index("ix_case_events_operator_at", "operator", "at"),
)

# Documents de synthèse: one row per version, the PDF with it (see migration 0003).
syntheses = Table(
    "syntheses",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("case_id", String(ID_LENGTH), nullable=False),
    Column("operator", String(OPERATOR_LENGTH), nullable=False),
    Column("level", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("author", String(ACTOR_LENGTH), nullable=True),
    Column("size", Integer, nullable=False),
    Column("pdf", LargeBinary, nullable=False),
    ForeignKeyConstraint(["case_id", "operator"], ["cases.id", "cases.operator"]),
    UniqueConstraint("case_id", "level", "version"),
    CheckConstraint("level IN (1, 2)", name="level_known"),
    CheckConstraint("version >= 1", name="version_positive"),
    CheckConstraint("size >= 0", name="size_positive"),
    Index("ix_syntheses_operator_case", "operator", "case_id", "level", "version"),
)

"""Beneficiaries, cases and the append-only case event journal.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JOURNAL_MESSAGE = "journal des dossiers en ajout seul : modification ou suppression refusée"

SQLITE_TRIGGERS = (
    f"""
    CREATE TRIGGER trg_case_events_no_update BEFORE UPDATE ON case_events
    BEGIN SELECT RAISE(ABORT, '{JOURNAL_MESSAGE}'); END
    """,
    f"""
    CREATE TRIGGER trg_case_events_no_delete BEFORE DELETE ON case_events
    BEGIN SELECT RAISE(ABORT, '{JOURNAL_MESSAGE}'); END
    """,
)

POSTGRESQL_TRIGGERS = (
    f"""
    CREATE FUNCTION cep_case_events_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $body$
    BEGIN
        RAISE EXCEPTION USING
            MESSAGE = '{JOURNAL_MESSAGE} (' || TG_OP || ')',
            ERRCODE = 'restrict_violation';
    END
    $body$
    """,
    """
    CREATE TRIGGER trg_case_events_append_only BEFORE UPDATE OR DELETE ON case_events
    FOR EACH ROW EXECUTE FUNCTION cep_case_events_append_only()
    """,
    """
    CREATE TRIGGER trg_case_events_no_truncate BEFORE TRUNCATE ON case_events
    FOR EACH STATEMENT EXECUTE FUNCTION cep_case_events_append_only()
    """,
)


def upgrade() -> None:
    op.create_table(
        "beneficiaries",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("operator", sa.String(64), nullable=False),
        sa.Column("doc", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_beneficiaries"),
        sa.UniqueConstraint("id", "operator", name="uq_beneficiaries_id_operator"),
    )
    op.create_index(
        "ix_beneficiaries_operator_created",
        "beneficiaries",
        ["operator", "created_at", "id"],
    )

    op.create_table(
        "cases",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("operator", sa.String(64), nullable=False),
        sa.Column("beneficiary_id", sa.String(36), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("level", sa.Integer(), nullable=True),
        sa.Column("counsellor_id", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("doc", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_cases"),
        sa.UniqueConstraint("id", "operator", name="uq_cases_id_operator"),
        sa.ForeignKeyConstraint(
            ["beneficiary_id", "operator"],
            ["beneficiaries.id", "beneficiaries.operator"],
            name="fk_cases_beneficiary_id_operator_beneficiaries",
        ),
        sa.CheckConstraint("version >= 1", name=op.f("ck_cases_version_positive")),
        sa.CheckConstraint("level IS NULL OR level IN (1, 2)", name=op.f("ck_cases_level_known")),
    )
    op.create_index("ix_cases_operator_updated", "cases", ["operator", "updated_at", "id"])
    op.create_index(
        "ix_cases_operator_status", "cases", ["operator", "status", "updated_at", "id"]
    )
    op.create_index(
        "ix_cases_operator_counsellor",
        "cases",
        ["operator", "counsellor_id", "updated_at", "id"],
    )
    op.create_index("ix_cases_operator_beneficiary", "cases", ["operator", "beneficiary_id"])

    op.create_table(
        "case_events",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("operator", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(64), nullable=True),
        sa.Column("from_status", sa.String(20), nullable=True),
        sa.Column("to_status", sa.String(20), nullable=True),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_case_events"),
        sa.UniqueConstraint("case_id", "seq", name="uq_case_events_case_id_seq"),
        sa.ForeignKeyConstraint(
            ["case_id", "operator"],
            ["cases.id", "cases.operator"],
            name="fk_case_events_case_id_operator_cases",
        ),
        sa.CheckConstraint("seq >= 1", name=op.f("ck_case_events_seq_positive")),
    )
    op.create_index("ix_case_events_operator_at", "case_events", ["operator", "at"])

    dialect = op.get_bind().dialect.name
    triggers = POSTGRESQL_TRIGGERS if dialect == "postgresql" else SQLITE_TRIGGERS
    for statement in triggers:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS trg_case_events_no_truncate ON case_events")
        op.execute("DROP TRIGGER IF EXISTS trg_case_events_append_only ON case_events")
        op.execute("DROP FUNCTION IF EXISTS cep_case_events_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS trg_case_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS trg_case_events_no_delete")
    op.drop_table("case_events")
    op.drop_table("cases")
    op.drop_table("beneficiaries")

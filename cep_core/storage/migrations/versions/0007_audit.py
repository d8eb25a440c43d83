"""The audit journal (SEC-12).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29

One append-only row per access to a beneficiary's data and per sign-in event, with no case
content. Triggers make the database itself refuse any UPDATE of an event, and any DELETE of
an event not older than the purge horizon; the horizon lives in a one-row table that only the
retention purge sets, and clears again, within its own transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SQLITE_TRIGGERS = (
    """
    CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
    BEGIN
        SELECT RAISE(ABORT, 'audit_events is append-only');
    END
    """,
    """
    CREATE TRIGGER audit_events_no_early_delete BEFORE DELETE ON audit_events
    WHEN NOT EXISTS (
        SELECT 1 FROM audit_purge_horizon
        WHERE id = 1 AND horizon IS NOT NULL AND OLD.at < horizon
    )
    BEGIN
        SELECT RAISE(ABORT, 'audit_events: only the retention purge deletes events');
    END
    """,
)

_POSTGRESQL_TRIGGERS = (
    """
    CREATE FUNCTION audit_events_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' AND EXISTS (
            SELECT 1 FROM audit_purge_horizon
            WHERE id = 1 AND horizon IS NOT NULL AND OLD.at < horizon
        ) THEN
            RETURN OLD;
        END IF;
        IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'audit_events: only the retention purge deletes events'
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RAISE EXCEPTION 'audit_events is append-only (%)', TG_OP
            USING ERRCODE = 'integrity_constraint_violation';
    END
    $$
    """,
    """
    CREATE TRIGGER audit_events_guard BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_guard()
    """,
    """
    CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_guard()
    """,
)


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("operator", sa.String(64), nullable=True),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("record_type", sa.String(40), nullable=False),
        sa.Column("record_id", sa.String(64), nullable=True),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_events"),
    )
    op.create_index("ix_audit_events_operator_at", "audit_events", ["operator", "at", "id"])
    op.create_index("ix_audit_events_at", "audit_events", ["at"])
    op.create_index("ix_audit_events_record", "audit_events", ["record_id", "at"])
    op.create_table(
        "audit_purge_horizon",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("horizon", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_audit_purge_horizon"),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_purge_horizon_single_row")),
    )
    op.execute("INSERT INTO audit_purge_horizon (id, horizon) VALUES (1, NULL)")
    triggers = _POSTGRESQL_TRIGGERS if op.get_bind().dialect.name == "postgresql" else None
    for statement in triggers or _SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_events_no_truncate ON audit_events")
        op.execute("DROP TRIGGER audit_events_guard ON audit_events")
        op.execute("DROP FUNCTION audit_events_guard()")
    else:
        op.execute("DROP TRIGGER audit_events_no_early_delete")
        op.execute("DROP TRIGGER audit_events_no_update")
    op.drop_table("audit_purge_horizon")
    op.drop_index("ix_audit_events_record", table_name="audit_events")
    op.drop_index("ix_audit_events_at", table_name="audit_events")
    op.drop_index("ix_audit_events_operator_at", table_name="audit_events")
    op.drop_table("audit_events")

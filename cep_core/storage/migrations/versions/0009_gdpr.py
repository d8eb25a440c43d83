"""Data-subject rights and retention (SEC-18, SEC-19).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29

Rectification trail and anonymisation marks. ``anonymised_at`` on beneficiaries, cases and appointment requests says
the row was anonymised (retention or erasure) and when: the purge skips those rows, and
readers can tell an anonymised file from a live one. ``rectifications`` records each
correction of a person's identity, contact or intake data: when, by whom (a staff id), which
fields and why — never the old or new values.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("beneficiaries", "cases", "appointment_requests"):
        op.add_column(table, sa.Column("anonymised_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "rectifications",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("operator", sa.String(64), nullable=False),
        sa.Column("beneficiary_id", sa.String(36), nullable=False),
        sa.Column("case_id", sa.String(36), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(64), nullable=True),
        sa.Column("fields", sa.String(500), nullable=False),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_rectifications"),
        sa.ForeignKeyConstraint(
            ["beneficiary_id", "operator"],
            ["beneficiaries.id", "beneficiaries.operator"],
            name="fk_rectifications_beneficiary_id_operator_beneficiaries",
        ),
        sa.ForeignKeyConstraint(
            ["case_id", "operator"],
            ["cases.id", "cases.operator"],
            name="fk_rectifications_case_id_operator_cases",
        ),
    )
    op.create_index(
        "ix_rectifications_operator_beneficiary",
        "rectifications",
        ["operator", "beneficiary_id", "at"],
    )


def downgrade() -> None:
    op.drop_index("ix_rectifications_operator_beneficiary", table_name="rectifications")
    op.drop_table("rectifications")
    for table in ("appointment_requests", "cases", "beneficiaries"):
        op.drop_column(table, "anonymised_at")

"""Appointment requests from the public form, and each operator's settings.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08

A request is a msgspec JSON document plus the columns the queue filters and sorts on
(operator, status, arrival), its unique reference, the claim that keeps two counsellors from
accepting it together, and the case it was accepted into (same operator: composite foreign
key). Operator settings are one document per operator, with a version for concurrent edits.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "appointment_requests",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("operator", sa.String(64), nullable=False),
        sa.Column("reference", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("claim", sa.String(36), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("case_id", sa.String(36), nullable=True),
        sa.Column("doc", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_appointment_requests"),
        sa.UniqueConstraint("reference", name="uq_appointment_requests_reference"),
        sa.ForeignKeyConstraint(
            ["case_id", "operator"],
            ["cases.id", "cases.operator"],
            name="fk_appointment_requests_case_id_operator_cases",
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'accepted', 'declined')",
            name=op.f("ck_appointment_requests_status_known"),
        ),
        sa.CheckConstraint(
            "version >= 1", name=op.f("ck_appointment_requests_version_positive")
        ),
    )
    op.create_index(
        "ix_appointment_requests_operator_queue",
        "appointment_requests",
        ["operator", "status", "created_at", "id"],
    )
    op.create_index(
        "ix_appointment_requests_operator_created",
        "appointment_requests",
        ["operator", "created_at", "id"],
    )
    op.create_table(
        "operator_settings",
        sa.Column("operator", sa.String(64), nullable=False),
        sa.Column("doc", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("operator", name="pk_operator_settings"),
        sa.CheckConstraint("version >= 1", name=op.f("ck_operator_settings_version_positive")),
    )


def downgrade() -> None:
    op.drop_table("operator_settings")
    op.drop_index("ix_appointment_requests_operator_created", table_name="appointment_requests")
    op.drop_index("ix_appointment_requests_operator_queue", table_name="appointment_requests")
    op.drop_table("appointment_requests")

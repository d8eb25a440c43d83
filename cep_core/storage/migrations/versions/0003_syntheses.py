"""Documents de synthèse: every generated version, with its PDF.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02

One row per version of a case's synthesis of one level: the content hash that decides
whether a new version is needed, who generated it and when, and the PDF itself (tens of
kilobytes: kept in the database so it is written in the same transaction as its row,
backed up with it and filtered by operator like everything else).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "syntheses",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("operator", sa.String(64), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author", sa.String(64), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_syntheses"),
        sa.UniqueConstraint(
            "case_id", "level", "version", name="uq_syntheses_case_id_level_version"
        ),
        sa.ForeignKeyConstraint(
            ["case_id", "operator"],
            ["cases.id", "cases.operator"],
            name="fk_syntheses_case_id_operator_cases",
        ),
        sa.CheckConstraint("level IN (1, 2)", name=op.f("ck_syntheses_level_known")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_syntheses_version_positive")),
        sa.CheckConstraint("size >= 0", name=op.f("ck_syntheses_size_positive")),
    )
    op.create_index(
        "ix_syntheses_operator_case", "syntheses", ["operator", "case_id", "level", "version"]
    )


def downgrade() -> None:
    op.drop_index("ix_syntheses_operator_case", table_name="syntheses")
    op.drop_table("syntheses")

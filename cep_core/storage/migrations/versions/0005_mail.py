"""E-mail outbox and single-use download links for syntheses.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06

Messages are written to ``mail_outbox`` in the transaction of the change they announce and
sent after commit, so a rolled-back change sends nothing and a server outage loses nothing.
Their MIME bytes are emptied once sent. ``download_links`` keeps only the SHA-256 of each
link's secret; a link dies with its case or its synthesis (ON DELETE CASCADE).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mail_outbox",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("operator", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.String(200), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("message", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_mail_outbox"),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'failed')", name=op.f("ck_mail_outbox_status_known")
        ),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_mail_outbox_attempts_positive")),
    )
    op.create_index("ix_mail_outbox_status_due", "mail_outbox", ["status", "next_attempt_at"])
    op.create_index(
        "ix_mail_outbox_operator_created", "mail_outbox", ["operator", "created_at"]
    )
    op.create_table(
        "download_links",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("operator", sa.String(64), nullable=False),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("synthesis_id", sa.String(36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_download_links"),
        sa.UniqueConstraint("digest", name="uq_download_links_digest"),
        sa.ForeignKeyConstraint(
            ["case_id", "operator"],
            ["cases.id", "cases.operator"],
            name="fk_download_links_case_id_operator_cases",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["synthesis_id"],
            ["syntheses.id"],
            name="fk_download_links_synthesis_id_syntheses",
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "expires_at > created_at", name=op.f("ck_download_links_expiry_after_creation")
        ),
    )
    op.create_index(
        "ix_download_links_operator_case", "download_links", ["operator", "case_id"]
    )
    op.create_index("ix_download_links_synthesis", "download_links", ["synthesis_id"])
    op.create_index("ix_download_links_expires", "download_links", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_download_links_expires", table_name="download_links")
    op.drop_index("ix_download_links_synthesis", table_name="download_links")
    op.drop_index("ix_download_links_operator_case", table_name="download_links")
    op.drop_table("download_links")
    op.drop_index("ix_mail_outbox_operator_created", table_name="mail_outbox")
    op.drop_index("ix_mail_outbox_status_due", table_name="mail_outbox")
    op.drop_table("mail_outbox")

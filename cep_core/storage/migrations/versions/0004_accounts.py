"""Staff accounts, server-side sessions, personal access tokens and shared rate limits.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29

Sessions live in the database (not in a signed cookie) so that several app instances share
them and signing out or disabling an account ends them at once (SEC-07). Rate-limit counters
live here too, for the same reason (SEC-15).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staff_users",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("operator", sa.String(64), nullable=True),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("display_name", sa.String(120), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=True),
        sa.Column("active", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_staff_users"),
        sa.UniqueConstraint("email", name="uq_staff_users_email"),
        sa.UniqueConstraint("id", "operator", name="uq_staff_users_id_operator"),
        sa.CheckConstraint(
            "role IN ('counsellor', 'manager', 'admin')", name=op.f("ck_staff_users_role_known")
        ),
        sa.CheckConstraint(
            "role = 'admin' OR operator IS NOT NULL",
            name=op.f("ck_staff_users_operator_required"),
        ),
        sa.CheckConstraint("active IN (0, 1)", name=op.f("ck_staff_users_active_flag")),
    )
    op.create_index(
        "ix_staff_users_operator_name", "staff_users", ["operator", "display_name"]
    )
    op.create_table(
        "staff_sessions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("csrf_secret", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_staff_sessions"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["staff_users.id"],
            name="fk_staff_sessions_user_id_staff_users",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_staff_sessions_user", "staff_sessions", ["user_id"])
    op.create_index("ix_staff_sessions_expires", "staff_sessions", ["expires_at"])
    op.create_table(
        "access_tokens",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("operator", sa.String(64), nullable=True),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("hint", sa.String(12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_access_tokens"),
        sa.UniqueConstraint("digest", name="uq_access_tokens_digest"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["staff_users.id"],
            name="fk_access_tokens_user_id_staff_users",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_access_tokens_operator_user", "access_tokens", ["operator", "user_id"]
    )
    op.create_table(
        "rate_limits",
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("window_start", sa.Integer(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "window_start", name="pk_rate_limits"),
    )
    op.create_index("ix_rate_limits_window", "rate_limits", ["window_start"])


def downgrade() -> None:
    op.drop_index("ix_rate_limits_window", table_name="rate_limits")
    op.drop_table("rate_limits")
    op.drop_index("ix_access_tokens_operator_user", table_name="access_tokens")
    op.drop_table("access_tokens")
    op.drop_index("ix_staff_sessions_expires", table_name="staff_sessions")
    op.drop_index("ix_staff_sessions_user", table_name="staff_sessions")
    op.drop_table("staff_sessions")
    op.drop_index("ix_staff_users_operator_name", table_name="staff_users")
    op.drop_table("staff_users")

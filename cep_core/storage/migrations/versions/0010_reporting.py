"""Activity reporting: staff agencies, survey invitations and answers, statistical exports.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29

- ``staff_agencies``: the agency (antenne) a staff member works in, a label the operator's
  manager sets; cases get their agency through their counsellor (no column on ``cases``).
- ``survey_invitations``: one satisfaction survey per case and level, one six-month follow-up
  per case; only the SHA-256 of the link's secret is stored, set when the e-mail is queued.
- ``survey_answers``: what the person answered; the scores and the situation are columns so
  the indicators aggregate them in SQL, the whole answer (free text included) is ``doc``.
- ``report_exports``: when each statistical export was made (the five-month warning).
- ``ix_cases_operator_created``: the indicators count a period's entries by month, level and
  counsellor; this index covers those counts (no case document read).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_cases_operator_created", "cases", ["operator", "created_at", "level", "counsellor_id"]
    )
    op.create_table(
        "staff_agencies",
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("operator", sa.String(64), nullable=False),
        sa.Column("agency", sa.String(80), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_staff_agencies"),
        sa.ForeignKeyConstraint(
            ["user_id", "operator"],
            ["staff_users.id", "staff_users.operator"],
            name="fk_staff_agencies_user_id_operator_staff_users",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_staff_agencies_operator_agency", "staff_agencies", ["operator", "agency"])
    op.create_table(
        "survey_invitations",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("operator", sa.String(64), nullable=False),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("digest", sa.String(64), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_survey_invitations"),
        sa.ForeignKeyConstraint(
            ["case_id", "operator"],
            ["cases.id", "cases.operator"],
            name="fk_survey_invitations_case_id_operator_cases",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("digest", name="uq_survey_invitations_digest"),
        sa.UniqueConstraint(
            "case_id", "kind", "level", name="uq_survey_invitations_case_id_kind_level"
        ),
        sa.CheckConstraint(
            "kind IN ('satisfaction', 'follow_up')", name=op.f("ck_survey_invitations_kind_known")
        ),
        sa.CheckConstraint(
            "status IN ('scheduled', 'sent', 'answered', 'skipped')",
            name=op.f("ck_survey_invitations_status_known"),
        ),
        sa.CheckConstraint("level IN (1, 2)", name=op.f("ck_survey_invitations_level_known")),
    )
    op.create_index("ix_survey_invitations_status_due", "survey_invitations", ["status", "due_at"])
    op.create_index(
        "ix_survey_invitations_operator_case", "survey_invitations", ["operator", "case_id"]
    )
    op.create_table(
        "survey_answers",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("invitation_id", sa.String(36), nullable=False),
        sa.Column("operator", sa.String(64), nullable=False),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("satisfaction", sa.Integer(), nullable=True),
        sa.Column("situation", sa.String(30), nullable=True),
        sa.Column("doc", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_survey_answers"),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["survey_invitations.id"],
            name="fk_survey_answers_invitation_id_survey_invitations",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["case_id", "operator"],
            ["cases.id", "cases.operator"],
            name="fk_survey_answers_case_id_operator_cases",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("invitation_id", name="uq_survey_answers_invitation_id"),
        sa.CheckConstraint(
            "satisfaction IS NULL OR satisfaction BETWEEN 1 AND 5",
            name=op.f("ck_survey_answers_satisfaction_range"),
        ),
    )
    op.create_index(
        "ix_survey_answers_operator_answered", "survey_answers", ["operator", "answered_at"]
    )
    op.create_table(
        "report_exports",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("operator", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("format", sa.String(10), nullable=False),
        sa.Column("period_from", sa.Date(), nullable=False),
        sa.Column("period_to", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(64), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_report_exports"),
    )
    op.create_index(
        "ix_report_exports_operator_created", "report_exports", ["operator", "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_report_exports_operator_created", table_name="report_exports")
    op.drop_table("report_exports")
    op.drop_index("ix_survey_answers_operator_answered", table_name="survey_answers")
    op.drop_table("survey_answers")
    op.drop_index("ix_survey_invitations_operator_case", table_name="survey_invitations")
    op.drop_index("ix_survey_invitations_status_due", table_name="survey_invitations")
    op.drop_table("survey_invitations")
    op.drop_index("ix_staff_agencies_operator_agency", table_name="staff_agencies")
    op.drop_table("staff_agencies")
    op.drop_index("ix_cases_operator_created", table_name="cases")

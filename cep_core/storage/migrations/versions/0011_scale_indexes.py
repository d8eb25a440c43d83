"""Indexes that keep case lists and search flat as the base grows to millions of cases.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29

- ``ix_cases_operator_counsellor_status``: "my cases" filtered by status reads only the rows
  it shows (the counsellor index alone would read every case the counsellor ever had);
- ``ix_cases_operator_beneficiary`` gains (updated_at, id): a name search sorts its matches
  from the index alone, without reading the case documents;
- ``beneficiary_words``: one row per word of ``beneficiaries.search_name``, so a name search
  is an index range ("words starting with mar") instead of ``LIKE '%mar%'`` over every
  person. Filled here for existing people from their stored ``search_name`` (already
  normalised: the words are its space-separated parts).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WORD_LENGTH = 200
_BATCH = 5000


def upgrade() -> None:
    op.create_index(
        "ix_cases_operator_counsellor_status",
        "cases",
        ["operator", "counsellor_id", "status", "updated_at", "id"],
    )
    op.drop_index("ix_cases_operator_beneficiary", table_name="cases")
    op.create_index(
        "ix_cases_operator_beneficiary",
        "cases",
        ["operator", "beneficiary_id", "updated_at", "id"],
    )
    op.create_table(
        "beneficiary_words",
        sa.Column("operator", sa.String(64), nullable=False),
        sa.Column("word", sa.String(_WORD_LENGTH), nullable=False),
        sa.Column("beneficiary_id", sa.String(36), nullable=False),
        sa.PrimaryKeyConstraint("operator", "word", "beneficiary_id", name="pk_beneficiary_words"),
        sa.ForeignKeyConstraint(
            ["beneficiary_id", "operator"],
            ["beneficiaries.id", "beneficiaries.operator"],
            name="fk_beneficiary_words_beneficiary_id_operator_beneficiaries",
            ondelete="CASCADE",
        ),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_beneficiary_words_beneficiary", "beneficiary_words", ["beneficiary_id"]
    )
    bind = op.get_bind()
    people = sa.table(
        "beneficiaries",
        sa.column("id", sa.String),
        sa.column("operator", sa.String),
        sa.column("search_name", sa.String),
    )
    words = sa.table(
        "beneficiary_words",
        sa.column("operator", sa.String),
        sa.column("word", sa.String),
        sa.column("beneficiary_id", sa.String),
    )
    rows: list[dict[str, str]] = []
    found = bind.execute(
        sa.select(people.c.id, people.c.operator, people.c.search_name).where(
            people.c.search_name.is_not(None)
        )
    ).all()
    for person_id, operator, search_name in found:
        for word in dict.fromkeys(search_name.split()):
            rows.append(
                {"operator": operator, "word": word[:_WORD_LENGTH], "beneficiary_id": person_id}
            )
        if len(rows) >= _BATCH:
            bind.execute(words.insert(), rows)
            rows = []
    if rows:
        bind.execute(words.insert(), rows)


def downgrade() -> None:
    op.drop_index("ix_beneficiary_words_beneficiary", table_name="beneficiary_words")
    op.drop_table("beneficiary_words")
    op.drop_index("ix_cases_operator_beneficiary", table_name="cases")
    op.create_index("ix_cases_operator_beneficiary", "cases", ["operator", "beneficiary_id"])
    op.drop_index("ix_cases_operator_counsellor_status", table_name="cases")

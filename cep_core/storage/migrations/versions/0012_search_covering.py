"""Name search without one index probe per person: the name copied where search reads it.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30

- ``cases.search_name``: the person's ``beneficiaries.search_name``, also the last column of
  ``ix_cases_operator_updated`` and ``ix_cases_operator_counsellor``, so a common name is
  found by walking a list index newest first without reading any row;
- ``beneficiary_words.search_name``: the whole name on each word row, in
  ``ix_beneficiary_words_names``, so the people matching every typed word come from the
  rarest word's index range alone, and only they are looked up among the cases.

Filled here for existing people from their stored ``search_name``, in batches; the indexes
are built after the copy.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SEARCH_NAME_LENGTH = 500
_BATCH = 5000


def upgrade() -> None:
    op.add_column("cases", sa.Column("search_name", sa.String(_SEARCH_NAME_LENGTH)))
    op.add_column("beneficiary_words", sa.Column("search_name", sa.String(_SEARCH_NAME_LENGTH)))
    bind = op.get_bind()
    people = sa.table(
        "beneficiaries",
        sa.column("id", sa.String),
        sa.column("operator", sa.String),
        sa.column("search_name", sa.String),
    )
    cases = sa.table(
        "cases",
        sa.column("operator", sa.String),
        sa.column("beneficiary_id", sa.String),
        sa.column("search_name", sa.String),
    )
    words = sa.table(
        "beneficiary_words",
        sa.column("operator", sa.String),
        sa.column("beneficiary_id", sa.String),
        sa.column("search_name", sa.String),
    )
    # Both updates find their rows by (operator, beneficiary_id) through existing indexes.
    fills = [
        table.update()
        .where(
            table.c.operator == sa.bindparam("p_operator"),
            table.c.beneficiary_id == sa.bindparam("p_id"),
        )
        .values(search_name=sa.bindparam("p_name"))
        for table in (cases, words)
    ]
    after = ""
    while True:
        batch = bind.execute(
            sa.select(people.c.id, people.c.operator, people.c.search_name)
            .where(people.c.search_name.is_not(None), people.c.id > after)
            .order_by(people.c.id)
            .limit(_BATCH)
        ).all()
        if not batch:
            break
        rows = [
            {"p_id": pid, "p_operator": operator, "p_name": name} for pid, operator, name in batch
        ]
        for fill in fills:
            bind.execute(fill, rows)
        after = batch[-1][0]
    op.drop_index("ix_cases_operator_updated", table_name="cases")
    op.create_index(
        "ix_cases_operator_updated", "cases", ["operator", "updated_at", "id", "search_name"]
    )
    op.drop_index("ix_cases_operator_counsellor", table_name="cases")
    op.create_index(
        "ix_cases_operator_counsellor",
        "cases",
        ["operator", "counsellor_id", "updated_at", "id", "search_name"],
    )
    op.create_index(
        "ix_beneficiary_words_names",
        "beneficiary_words",
        ["operator", "word", "beneficiary_id", "search_name"],
    )


def downgrade() -> None:
    op.drop_index("ix_beneficiary_words_names", table_name="beneficiary_words")
    op.drop_index("ix_cases_operator_counsellor", table_name="cases")
    op.create_index(
        "ix_cases_operator_counsellor", "cases", ["operator", "counsellor_id", "updated_at", "id"]
    )
    op.drop_index("ix_cases_operator_updated", table_name="cases")
    op.create_index("ix_cases_operator_updated", "cases", ["operator", "updated_at", "id"])
    op.drop_column("beneficiary_words", "search_name")
    op.drop_column("cases", "search_name")

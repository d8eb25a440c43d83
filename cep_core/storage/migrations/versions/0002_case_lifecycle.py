"""Case lifecycle: beneficiaries' searchable name, listing by level.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01

The case document itself needs no change: new fields (intake, steps, sessions, closure,
referral, funding plan) have defaults, so documents written before still decode.
``search_name`` is filled for existing people here, with a copy of the normalisation of the
time (a migration keeps meaning what it meant, whatever the code becomes).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae"})
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def _search_key(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch)).casefold()
    return _NOT_ALNUM.sub(" ", plain).strip()


def _beneficiary_key(first_name: str, last_name: str) -> str:
    words = _search_key(f"{first_name} {last_name}").split()
    whole = [_search_key(name).replace(" ", "") for name in (first_name, last_name)]
    return " ".join(dict.fromkeys(word for word in [*words, *whole] if word))


def upgrade() -> None:
    op.add_column("beneficiaries", sa.Column("search_name", sa.String(500), nullable=True))
    op.create_index(
        "ix_cases_operator_level", "cases", ["operator", "level", "updated_at", "id"]
    )
    bind = op.get_bind()
    people = sa.table(
        "beneficiaries",
        sa.column("id", sa.String),
        sa.column("doc", sa.Text),
        sa.column("search_name", sa.String),
    )
    rows = bind.execute(sa.select(people.c.id, people.c.doc)).all()
    for person_id, doc in rows:
        data = json.loads(doc)
        key = _beneficiary_key(data.get("first_name", ""), data.get("last_name", ""))
        bind.execute(
            people.update().where(people.c.id == person_id).values(search_name=key[:500])
        )


def downgrade() -> None:
    op.drop_index("ix_cases_operator_level", table_name="cases")
    if op.get_bind().dialect.name == "sqlite":
        # Native DROP COLUMN (SQLite 3.35+): a batch copy of "beneficiaries" would drop the
        # table the cases' foreign key points at, which SQLite refuses at COMMIT.
        op.execute("ALTER TABLE beneficiaries DROP COLUMN search_name")
    else:
        op.drop_column("beneficiaries", "search_name")

"""Stored syntheses: every version of every case's document de synthèse, for ONE operator.

Same rules as `cep_core.storage.repositories`: each statement filters on the operator the
repository acts for, so another operator's synthesis is "not found" (SEC-01), and the
composite foreign key to ``cases`` makes the database refuse a synthesis filed under another
operator's case. Versions count from 1 per case and level; two writers racing for the same
version hit the unique constraint, and the service retries.

PDFs are kept in the row (``pdf``): a synthesis is tens of kilobytes, and a file beside the
database could go missing, escape the backup or the tenant filter, or be left behind by a
rolled-back transaction. Listing never reads them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from cep_core.domain.case import Level
from cep_core.domain.synthesis import Synthesis
from cep_core.storage.ids import new_id
from cep_core.storage.tables import cases, syntheses

_COLUMNS = (
    syntheses.c.id,
    syntheses.c.case_id,
    syntheses.c.level,
    syntheses.c.version,
    syntheses.c.content_hash,
    syntheses.c.created_at,
    syntheses.c.author,
    syntheses.c.size,
)


class SynthesisRepository:
    def __init__(self, connection: Connection, operator: str) -> None:
        if not operator:
            raise ValueError("a repository needs an operator")
        self.connection = connection
        self.operator = operator

    def _synthesis(self, row: Any) -> Synthesis:
        return Synthesis(
            id=row.id,
            case_id=row.case_id,
            operator=self.operator,
            level=Level(row.level),
            version=row.version,
            content_hash=row.content_hash,
            created_at=row.created_at,
            author=row.author,
            size=row.size,
        )

    def lock_case(self, case_id: str) -> bool:
        """Hold the case's row until the transaction ends (whether it exists).

        Two writers producing the same case's synthesis then take turns: the second sees the
        first one's version and its hash. PostgreSQL needs it (in READ COMMITTED, each
        statement sees what committed meanwhile, so "latest, then max + 1" could store the
        same content twice); SQLite's ``BEGIN IMMEDIATE`` already serialises writers and
        ignores ``FOR UPDATE``.
        """
        found = self.connection.execute(
            select(cases.c.id)
            .where(cases.c.id == case_id, cases.c.operator == self.operator)
            .with_for_update()
        ).first()
        return found is not None

    def add(
        self,
        *,
        case_id: str,
        level: Level,
        content_hash: str,
        created_at: datetime,
        author: str | None,
        pdf: bytes,
    ) -> Synthesis:
        """Store the next version of the case's synthesis of `level`."""
        latest = self.connection.execute(
            select(func.coalesce(func.max(syntheses.c.version), 0)).where(
                syntheses.c.operator == self.operator,
                syntheses.c.case_id == case_id,
                syntheses.c.level == int(level),
            )
        ).scalar_one()
        synthesis = Synthesis(
            id=new_id(),
            case_id=case_id,
            operator=self.operator,
            level=level,
            version=int(latest) + 1,
            content_hash=content_hash,
            created_at=created_at,
            author=author,
            size=len(pdf),
        )
        self.connection.execute(
            syntheses.insert().values(
                id=synthesis.id,
                case_id=case_id,
                operator=self.operator,
                level=int(level),
                version=synthesis.version,
                content_hash=content_hash,
                created_at=created_at,
                author=author,
                size=synthesis.size,
                pdf=pdf,
            )
        )
        return synthesis

    def latest(self, case_id: str, level: Level) -> Synthesis | None:
        row = self.connection.execute(
            select(*_COLUMNS)
            .where(
                syntheses.c.operator == self.operator,
                syntheses.c.case_id == case_id,
                syntheses.c.level == int(level),
            )
            .order_by(syntheses.c.version.desc())
            .limit(1)
        ).first()
        return None if row is None else self._synthesis(row)

    def for_case(self, case_id: str) -> list[Synthesis]:
        """Every version, level 1 first, newest version first within a level."""
        rows = self.connection.execute(
            select(*_COLUMNS)
            .where(syntheses.c.operator == self.operator, syntheses.c.case_id == case_id)
            .order_by(syntheses.c.level, syntheses.c.version.desc())
        )
        return [self._synthesis(row) for row in rows]

    def get(self, case_id: str, synthesis_id: str) -> Synthesis | None:
        row = self.connection.execute(
            select(*_COLUMNS).where(
                syntheses.c.operator == self.operator,
                syntheses.c.case_id == case_id,
                syntheses.c.id == synthesis_id,
            )
        ).first()
        return None if row is None else self._synthesis(row)

    def pdf(self, case_id: str, synthesis_id: str) -> tuple[Synthesis, bytes] | None:
        row = self.connection.execute(
            select(*_COLUMNS, syntheses.c.pdf).where(
                syntheses.c.operator == self.operator,
                syntheses.c.case_id == case_id,
                syntheses.c.id == synthesis_id,
            )
        ).first()
        return None if row is None else (self._synthesis(row), bytes(row.pdf))

    def count(self) -> int:
        return int(
            self.connection.execute(
                select(func.count())
                .select_from(syntheses)
                .where(syntheses.c.operator == self.operator)
            ).scalar_one()
        )

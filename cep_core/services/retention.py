"""Retention jobs (SEC-19, SEC-21): what ``cep purge`` runs, each one counted before it acts.

- files past their operator's retention period (default 2 years after the last contact) are
  anonymised, person by person, each in its own transaction (`cep_core.services.gdpr`'s
  policies, retention column): identity, contact details, free text and PDFs go, statistical
  facts stay, so indicators still count the case;
- appointment requests never turned into a case, same period after their last change;
- the audit journal's and the idempotency keys' own purges, expired staff sessions, expired
  download links, sent (or abandoned) e-mails after `SENT_MAIL_RETENTION`.

A person's last contact is the latest of their cases' (`domain.retention.last_contact`): the
file is one, so it is kept while any case of theirs is alive. Every job reports a count; a
failing job is reported and the others still run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import msgspec
from sqlalchemy import ColumnElement, Connection, Table, delete, func, or_, select

from cep_core.domain.case import Case
from cep_core.domain.retention import (
    SENT_MAIL_RETENTION,
    RetentionPolicy,
    is_due,
    last_contact,
)
from cep_core.services.gdpr import (
    Selection,
    anonymise_request_rows,
    apply_policy,
    select_person,
)
from cep_core.storage import tables

if TYPE_CHECKING:
    from cep_core.kit import Kit

_case_decoder = msgspec.json.Decoder(Case)
# A month is at least 28 days: rows changed after this cannot be due (cheap prefilter).
_MIN_MONTH = timedelta(days=28)
# People whose cases are checked together by `due_people`.
_BATCH = 500


class JobResult(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    label: str
    count: int
    error: str | None = None


class RetentionService:
    """The retention jobs of one kit; `run(dry_run=True)` only counts."""

    def __init__(self, kit: Kit) -> None:
        self._kit = kit

    def _now(self) -> datetime:
        return self._kit.clock().astimezone(UTC)

    def policy(self, operator: str) -> RetentionPolicy:
        settings = self._kit.operator_settings.get(operator)
        return RetentionPolicy.of(settings.retention_months, self._kit.today())

    # -- people ---------------------------------------------------------------------------

    def due_people(self, operator: str, now: datetime) -> list[str]:
        """Ids of the operator's people whose file is past its retention period.

        Candidates (no case changed since the prefilter) are checked `_BATCH` people at a
        time: their cases in one statement, their journal's latest lines in another.
        """
        policy = self.policy(operator)
        prefilter = now - policy.months * _MIN_MONTH
        b, c, e = tables.beneficiaries, tables.cases, tables.case_events
        due: list[str] = []
        with self._kit.database.read() as conn:
            candidates = conn.execute(
                select(c.c.beneficiary_id)
                .join(b, (b.c.id == c.c.beneficiary_id) & (b.c.operator == c.c.operator))
                .where(c.c.operator == operator, b.c.anonymised_at.is_(None))
                .group_by(c.c.beneficiary_id)
                .having(func.max(c.c.updated_at) <= prefilter)
                .order_by(c.c.beneficiary_id)
            ).scalars()
            people = [str(person) for person in candidates]
            for start in range(0, len(people), _BATCH):
                batch = people[start : start + _BATCH]
                mine = (c.c.operator == operator) & c.c.beneficiary_id.in_(batch)
                rows = conn.execute(
                    select(c.c.id, c.c.beneficiary_id, c.c.doc, c.c.updated_at).where(mine)
                ).all()
                events = dict(
                    conn.execute(
                        select(e.c.case_id, func.max(e.c.at))
                        .join(c, (c.c.id == e.c.case_id) & (c.c.operator == e.c.operator))
                        .where(mine)
                        .group_by(e.c.case_id)
                    ).all()
                )
                latest: dict[str, datetime] = {}
                for row in rows:
                    contact = last_contact(
                        _case_decoder.decode(row.doc),
                        [t for t in (row.updated_at, events.get(row.id)) if t is not None],
                    )
                    person = str(row.beneficiary_id)
                    latest[person] = max(contact, latest.get(person, contact))
                due.extend(p for p in batch if is_due(latest[p], policy, now))
        return due

    def anonymise_person(self, operator: str, beneficiary_id: str, now: datetime) -> Selection:
        """Anonymise one person's file (retention column of the policies), atomically."""
        with self._kit.database.write() as conn:
            selection = select_person(conn, operator, beneficiary_id)
            apply_policy(conn, selection, erase=False, now=now)
        return selection

    # -- requests without a case ----------------------------------------------------------

    def _due_requests(self, conn: Connection, operator: str, now: datetime) -> list[dict[str, Any]]:
        """The operator's requests without a case past their period, whole rows: the
        anonymisation needs their documents, so they are read once."""
        policy = self.policy(operator)
        r = tables.appointment_requests
        rows = conn.execute(
            select(r).where(
                r.c.operator == operator,
                r.c.case_id.is_(None),
                r.c.anonymised_at.is_(None),
                r.c.updated_at <= now - policy.months * _MIN_MONTH,
            )
        )
        return [dict(row._mapping) for row in rows if is_due(row.updated_at, policy, now)]

    def _requests(self, now: datetime, *, dry_run: bool) -> int:
        count = 0
        for operator in self._operators():
            with self._kit.database.write() as conn:
                rows = self._due_requests(conn, operator, now)
                count += len(rows)
                if rows and not dry_run:
                    anonymise_request_rows(conn, rows, now)
        return count

    # -- the other jobs -------------------------------------------------------------------

    def _operators(self) -> list[str]:
        return [info.id for info in self._kit.hooks.operators()]

    def _people(self, now: datetime, *, dry_run: bool, progress: Callable[[str], None]) -> int:
        count = 0
        for operator in self._operators():
            people = self.due_people(operator, now)
            if people:
                verb = "à anonymiser" if dry_run else "anonymisation en cours"
                progress(f"  {operator} : {len(people)} dossier(s) de personne {verb}")
            for index, person in enumerate(people, start=1):
                if not dry_run:
                    self.anonymise_person(operator, person, now)
                    if index % 100 == 0:
                        progress(f"  {operator} : {index}/{len(people)}")
                count += 1
        return count

    def _links(self, now: datetime, *, dry_run: bool) -> int:
        links = tables.download_links
        condition = links.c.expires_at <= now
        return self._delete(links, condition, dry_run=dry_run)

    def _mail(self, now: datetime, *, dry_run: bool) -> int:
        outbox = tables.mail_outbox
        cutoff = now - SENT_MAIL_RETENTION
        condition = or_(
            (outbox.c.status == "sent") & (outbox.c.sent_at <= cutoff),
            (outbox.c.status == "failed") & (outbox.c.created_at <= cutoff),
        )
        return self._delete(outbox, condition, dry_run=dry_run)

    def _count(self, table: Table, condition: ColumnElement[bool]) -> int:
        """What a job would delete (``--dry-run``)."""
        with self._kit.database.read() as conn:
            return int(
                conn.execute(select(func.count()).select_from(table).where(condition)).scalar_one()
            )

    def _delete(self, table: Table, condition: ColumnElement[bool], *, dry_run: bool) -> int:
        if dry_run:
            return self._count(table, condition)
        with self._kit.database.write() as conn:
            return int(conn.execute(delete(table).where(condition)).rowcount or 0)

    def _sessions(self, now: datetime, *, dry_run: bool) -> int:
        if not dry_run:
            return self._kit.accounts.purge_sessions(now)
        return self._count(tables.staff_sessions, self._kit.accounts.expired_sessions(now))

    def _audit(self, now: datetime, *, dry_run: bool) -> int:
        if not dry_run:
            return self._kit.audit.purge(now)
        return self._count(tables.audit_events, self._kit.audit.expired(now))

    def _idempotency(self, now: datetime, *, dry_run: bool) -> int:
        if not dry_run:
            return self._kit.idempotency.purge(now)
        return self._count(tables.idempotency_keys, self._kit.idempotency.expired(now))

    def jobs(
        self, now: datetime, *, dry_run: bool, progress: Callable[[str], None]
    ) -> Iterator[tuple[str, str, Callable[[], int]]]:
        yield (
            "files",
            "Dossiers arrivés au terme de leur durée de conservation (anonymisés)",
            lambda: self._people(now, dry_run=dry_run, progress=progress),
        )
        yield (
            "requests",
            "Demandes de rendez-vous sans dossier arrivées à échéance (anonymisées)",
            lambda: self._requests(now, dry_run=dry_run),
        )
        yield (
            "download_links",
            "Liens de téléchargement expirés (supprimés)",
            lambda: self._links(now, dry_run=dry_run),
        )
        yield (
            "mail",
            "Messages électroniques envoyés ou abandonnés depuis plus de 90 jours (supprimés)",
            lambda: self._mail(now, dry_run=dry_run),
        )
        yield (
            "sessions",
            "Sessions des professionnels expirées (supprimées)",
            lambda: self._sessions(now, dry_run=dry_run),
        )
        yield (
            "audit",
            "Événements du journal d'audit au-delà de sa durée de conservation (supprimés)",
            lambda: self._audit(now, dry_run=dry_run),
        )
        yield (
            "idempotency",
            "Clés d'idempotence expirées (supprimées)",
            lambda: self._idempotency(now, dry_run=dry_run),
        )

    def run(
        self,
        *,
        dry_run: bool = False,
        progress: Callable[[str], None] = lambda _line: None,
        on_result: Callable[[JobResult], None] = lambda _result: None,
    ) -> list[JobResult]:
        """Run (or, with `dry_run`, count) every job; a failing job does not stop the others."""
        now = self._now()
        results: list[JobResult] = []
        for name, label, job in self.jobs(now, dry_run=dry_run, progress=progress):
            progress(f"{label}…")
            try:
                result = JobResult(name=name, label=label, count=job())
            except Exception as exc:  # reported; the other jobs still run
                result = JobResult(
                    name=name, label=label, count=0, error=f"{type(exc).__name__}: {exc}"[:300]
                )
            results.append(result)
            on_result(result)
        return results

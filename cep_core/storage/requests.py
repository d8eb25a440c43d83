"""Repositories of appointment requests and operator settings, always for ONE operator.

Like every repository, each statement filters on the operator it was built for: another
operator's request is "not found" (SEC-01). Writes are conditional — on the version read, on
the status, on the claim — and say whether they happened, so the service turns a lost race
into a clear conflict instead of a silent overwrite.
"""

from __future__ import annotations

from datetime import datetime

import msgspec
from sqlalchemy import Connection, and_, func, or_, select

from cep_core.domain.requests import AppointmentRequest, OperatorSettings, RequestStatus
from cep_core.storage.tables import appointment_requests, operator_settings

_encoder = msgspec.json.Encoder()
_request_decoder = msgspec.json.Decoder(AppointmentRequest)
_settings_decoder = msgspec.json.Decoder(OperatorSettings)
_t = appointment_requests.c


class ClaimState(msgspec.Struct, frozen=True, kw_only=True):
    """Who is accepting a request right now (an opaque token), and since when."""

    token: str | None = None
    since: datetime | None = None

    def live(self, cutoff: datetime) -> bool:
        """A claim taken after `cutoff` still holds; an older one was abandoned."""
        return self.token is not None and self.since is not None and self.since >= cutoff


class _Scoped:
    def __init__(self, connection: Connection, operator: str) -> None:
        if not operator:
            raise ValueError("a repository needs an operator")
        self.connection = connection
        self.operator = operator

    def _own(self, operator: str) -> None:
        if operator != self.operator:
            raise ValueError(
                f"record of operator {operator!r} given to a repository of {self.operator!r}"
            )


class RequestRepository(_Scoped):
    """One operator's appointment requests."""

    def add(self, request: AppointmentRequest) -> None:
        self._own(request.operator)
        self.connection.execute(
            appointment_requests.insert().values(
                id=request.id,
                operator=request.operator,
                reference=request.reference,
                status=request.status.value,
                created_at=request.created_at,
                updated_at=request.updated_at,
                version=request.version,
                case_id=request.case_id,
                doc=_encoder.encode(request).decode(),
            )
        )

    def get(self, request_id: str, *, for_update: bool = False) -> AppointmentRequest | None:
        found = self.get_with_claim(request_id, for_update=for_update)
        return None if found is None else found[0]

    def get_with_claim(
        self, request_id: str, *, for_update: bool = False
    ) -> tuple[AppointmentRequest, ClaimState] | None:
        """The request and its claim; `for_update` locks the row until the transaction ends
        (PostgreSQL; SQLite's write transaction already holds the database)."""
        statement = select(_t.doc, _t.version, _t.claim, _t.claimed_at).where(
            _t.id == request_id, _t.operator == self.operator
        )
        if for_update:
            statement = statement.with_for_update()
        row = self.connection.execute(statement).one_or_none()
        if row is None:
            return None
        request = msgspec.structs.replace(_request_decoder.decode(row.doc), version=row.version)
        return request, ClaimState(token=row.claim, since=row.claimed_at)

    def by_reference(self, reference: str) -> AppointmentRequest | None:
        row = self.connection.execute(
            select(_t.doc, _t.version).where(
                _t.reference == reference, _t.operator == self.operator
            )
        ).one_or_none()
        if row is None:
            return None
        return msgspec.structs.replace(_request_decoder.decode(row.doc), version=row.version)

    def by_case(self, case_id: str) -> AppointmentRequest | None:
        """The request a case was opened from (accepting links them), if any."""
        row = self.connection.execute(
            select(_t.doc, _t.version)
            .where(_t.case_id == case_id, _t.operator == self.operator)
            .order_by(_t.created_at.desc(), _t.id.desc())
            .limit(1)
        ).one_or_none()
        if row is None:
            return None
        return msgspec.structs.replace(_request_decoder.decode(row.doc), version=row.version)

    def find(
        self,
        *,
        status: RequestStatus | None,
        after: tuple[datetime, str] | None,
        oldest_first: bool,
        limit: int,
    ) -> list[AppointmentRequest]:
        """Keyset pages on (created_at, id): oldest first for a queue, newest first else."""
        conditions = [_t.operator == self.operator]
        if status is not None:
            conditions.append(_t.status == status.value)
        if after is not None:
            created_at, request_id = after
            if oldest_first:
                conditions.append(
                    or_(
                        _t.created_at > created_at,
                        and_(_t.created_at == created_at, _t.id > request_id),
                    )
                )
            else:
                conditions.append(
                    or_(
                        _t.created_at < created_at,
                        and_(_t.created_at == created_at, _t.id < request_id),
                    )
                )
        order = (
            (_t.created_at.asc(), _t.id.asc())
            if oldest_first
            else (_t.created_at.desc(), _t.id.desc())
        )
        rows = self.connection.execute(
            select(_t.doc, _t.version).where(*conditions).order_by(*order).limit(limit)
        )
        return [
            msgspec.structs.replace(_request_decoder.decode(row.doc), version=row.version)
            for row in rows
        ]

    def count(self, status: RequestStatus | None = None) -> int:
        conditions = [_t.operator == self.operator]
        if status is not None:
            conditions.append(_t.status == status.value)
        return int(
            self.connection.execute(
                select(func.count()).select_from(appointment_requests).where(*conditions)
            ).scalar_one()
        )

    def claim(self, request_id: str, token: str, *, now: datetime, cutoff: datetime) -> bool:
        """Mark a pending request as being accepted, unless a live claim holds it.

        ONE conditional ``UPDATE``: of two counsellors accepting together, exactly one
        matches the row (SQLite serialises writers; PostgreSQL re-checks the condition
        after the first commit).
        """
        result = self.connection.execute(
            appointment_requests.update()
            .where(
                _t.id == request_id,
                _t.operator == self.operator,
                _t.status == RequestStatus.PENDING.value,
                or_(_t.claim.is_(None), _t.claimed_at < cutoff),
            )
            .values(claim=token, claimed_at=now)
        )
        return result.rowcount == 1

    def release(self, request_id: str, token: str) -> None:
        """Drop our claim (opening the case failed); someone else's claim stays."""
        self.connection.execute(
            appointment_requests.update()
            .where(_t.id == request_id, _t.operator == self.operator, _t.claim == token)
            .values(claim=None, claimed_at=None)
        )

    def replace(
        self,
        request: AppointmentRequest,
        *,
        claim: str | None = None,
        unclaimed_before: datetime | None = None,
        clear_claim: bool = False,
    ) -> AppointmentRequest | None:
        """Store `request` (read at ``request.version``) at the next version; None when the
        row moved on meanwhile.

        `claim`: only if that claim still holds the row. `unclaimed_before`: only if no claim
        taken at or after that instant holds it. `clear_claim`: drop the claim with the write
        (a decision ends it; a mere proposal leaves a colleague's acceptance alone).
        """
        self._own(request.operator)
        stored = msgspec.structs.replace(request, version=request.version + 1)
        conditions = [
            _t.id == request.id,
            _t.operator == self.operator,
            _t.version == request.version,
        ]
        if claim is not None:
            conditions.append(_t.claim == claim)
        if unclaimed_before is not None:
            conditions.append(or_(_t.claim.is_(None), _t.claimed_at < unclaimed_before))
        values: dict[str, object] = {
            "status": stored.status.value,
            "updated_at": stored.updated_at,
            "version": stored.version,
            "case_id": stored.case_id,
            "doc": _encoder.encode(stored).decode(),
        }
        if clear_claim:
            values.update(claim=None, claimed_at=None)
        result = self.connection.execute(
            appointment_requests.update().where(*conditions).values(**values)
        )
        return stored if result.rowcount == 1 else None


class OperatorSettingsRepository(_Scoped):
    """One operator's settings row (absent until first saved)."""

    def get(self) -> OperatorSettings | None:
        row = self.connection.execute(
            select(operator_settings.c.doc, operator_settings.c.version).where(
                operator_settings.c.operator == self.operator
            )
        ).one_or_none()
        if row is None:
            return None
        return msgspec.structs.replace(_settings_decoder.decode(row.doc), version=row.version)

    def save(self, settings: OperatorSettings, *, expected_version: int) -> bool:
        """Insert (``expected_version`` 0) or update at the next version; False when the
        stored version is not `expected_version` (another manager saved first)."""
        self._own(settings.operator)
        if settings.updated_at is None:
            raise ValueError("settings to save need their updated_at")
        stored_doc = _encoder.encode(settings).decode()
        if expected_version == 0:
            exists = self.connection.execute(
                select(operator_settings.c.version).where(
                    operator_settings.c.operator == self.operator
                )
            ).scalar_one_or_none()
            if exists is not None:
                return False
            self.connection.execute(
                operator_settings.insert().values(
                    operator=self.operator,
                    doc=stored_doc,
                    updated_at=settings.updated_at,
                    version=settings.version,
                )
            )
            return True
        result = self.connection.execute(
            operator_settings.update()
            .where(
                operator_settings.c.operator == self.operator,
                operator_settings.c.version == expected_version,
            )
            .values(doc=stored_doc, updated_at=settings.updated_at, version=settings.version)
        )
        return result.rowcount == 1

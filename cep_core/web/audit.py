"""The audit journal at the web layer: one event per request to a route that declares one.

A route handler touching beneficiary data declares its action with `audited` (stored in its
``opt``); `AuditMiddleware`, on the kit's API and page routers, writes exactly one event per
such request when the answer starts: the actor and operator of the authenticated caller (API
client or signed-in staff member), the record id from the path (or, for a creation or a
public download link, from `set_audit_subject`), and the outcome from the status code. A
route-table test fails when a route under cases, syntheses, requests or downloads declares
nothing, so coverage does not depend on remembering.

Reads (GET, and a POST declared ``reads=True`` such as a search) go through
`AuditJournal.defer` (batched, no commit of their own). A change's event commits with the
change itself on the API (`Change`), else with `AuditJournal.record` before the answer
leaves: an acknowledged change always has its event. An anonymous request is journaled
only when its handler names the record it touched (the public appointment form, a download
link): one without credentials is sent to sign in and reads nothing (and anyone could fill
the journal with those); a wrong bearer token is journaled as ``auth.token`` / ``denied``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any, Final, TypeVar

import anyio.to_thread
import msgspec
from litestar import Request
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from sqlalchemy import Connection

from cep_core.kit import Kit
from cep_core.services.audit import AuditJournal
from cep_core.storage.database import accompanying_writes
from cep_core.storage.ids import is_id

AUDIT_OPT: Final = "audit"
SUBJECT_STATE_KEY: Final = "cep_audit_subject"
CHANGE_STATE_KEY: Final = "cep_audit_change"
_IDENTIFIER = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_SAFE_METHODS = frozenset({"GET", "HEAD"})

H = TypeVar("H")


class AuditSpec(msgspec.Struct, frozen=True):
    """What a route does to which kind of record; `param` names the path parameter with its id."""

    action: str
    record_type: str
    param: str | None = None
    reads: bool = False  # a POST that only reads (a search: the name stays out of the URL)


# The path parameter holding the record id, by record type, unless the route says otherwise.
DEFAULT_PARAMS: Final = {"case": "case_id", "request": "request_id"}


def audited(
    action: str, record_type: str, *, param: str | None = None, reads: bool = False
) -> Callable[[H], H]:
    """Declare a route handler's audit action (put it above ``@get``/``@post``...).

    ``reads=True`` for a POST that changes nothing: its event is batched like a GET's.
    """
    spec = AuditSpec(action, record_type, param or DEFAULT_PARAMS.get(record_type), reads)

    def declare(handler: H) -> H:
        opt = getattr(handler, "opt", None)
        if not isinstance(opt, dict):
            raise TypeError("@audited goes above the route decorator (@get, @post...)")
        opt[AUDIT_OPT] = spec
        return handler

    return declare


class AuditExempt(msgspec.Struct, frozen=True):
    """A route under cases or requests that shows no beneficiary data, and why."""

    reason: str


def audit_exempt(reason: str) -> Callable[[H], H]:
    """Declare that a route in the audited areas touches no beneficiary data (say why)."""
    if not reason.strip():
        raise ValueError("@audit_exempt needs the reason")

    def declare(handler: H) -> H:
        opt = getattr(handler, "opt", None)
        if not isinstance(opt, dict):
            raise TypeError("@audit_exempt goes above the route decorator (@get, @post...)")
        opt[AUDIT_OPT] = AuditExempt(reason)
        return handler

    return declare


def audit_spec(handler: Any) -> AuditSpec | None:
    spec = (getattr(handler, "opt", None) or {}).get(AUDIT_OPT)
    return spec if isinstance(spec, AuditSpec) else None


def set_audit_subject(
    request: Request[Any, Any, Any],
    record_id: str | None,
    *,
    operator: str | None = None,
    actor: str | None = None,
) -> None:
    """Name the record a request touched when the path does not (creation, download link).

    ``operator`` and ``actor`` are for anonymous requests, which only the record places
    (the public form's operator; a download link's own pseudonymous id as actor).
    """
    state = request.scope.setdefault("state", {})
    state[SUBJECT_STATE_KEY] = (record_id, operator, actor)


def outcome_of(status: int) -> str:
    if status < 400:
        return "success"
    if status in (401, 403):
        return "denied"
    if status == 404:
        return "not_found"
    if status in (409, 412, 428):
        return "conflict"
    if status == 429:
        return "rate_limited"
    if status < 500:
        return "invalid"
    return "error"


def pseudonymous(actor: str) -> str:
    """An actor as the journal may keep it: an opaque id, never something like an e-mail."""
    if _IDENTIFIER.match(actor) and "@" not in actor:
        return actor
    return "client-" + hashlib.sha256(actor.encode()).hexdigest()[:16]


def _identity(scope: Scope) -> tuple[str, str | None] | None:
    from cep_core.web.auth import CLIENT_STATE_KEY
    from cep_core.web.sessions import STATE_KEY

    state = scope.get("state") or {}
    client = state.get(CLIENT_STATE_KEY)
    if client is not None:
        return pseudonymous(client.actor), client.operator
    found = state.get(STATE_KEY)
    if found is not None:
        return found.user.id, found.user.operator
    return None


def _subject(scope: Scope, spec: AuditSpec) -> tuple[str | None, str | None, str | None]:
    """The record id, and for anonymous requests the operator and actor the handler named."""
    state = scope.get("state") or {}
    subject = state.get(SUBJECT_STATE_KEY)
    if subject is not None:
        record_id, operator, actor = subject
        return record_id, operator, actor
    value = (scope.get("path_params") or {}).get(spec.param) if spec.param else None
    if isinstance(value, str) and _IDENTIFIER.match(value):
        return value, None, None
    return None, None, None


class AuditMiddleware:
    """ASGI middleware of the kit's routers; see the module docstring."""

    def __init__(self, app: ASGIApp, kit: Kit) -> None:
        self.app = app
        self.kit = kit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        spec = audit_spec(scope.get("route_handler")) if scope["type"] == ScopeType.HTTP else None
        if spec is None:
            await self.app(scope, receive, send)
            return
        started = False
        change = None if _reads(scope, spec) else Change(self.kit.audit, scope, spec)

        async def send_after_journal(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start" and not started:
                started = True
                status = int(message["status"])
                if change is not None:
                    change.armed = False  # later writes (idempotency's own) are not the change
                if change is None or not change.written or status >= 400:
                    location = _header(message.get("headers") or (), b"location")
                    await self._journal(scope, spec, status, location)
            await send(message)

        if change is None:
            await self.app(scope, receive, send_after_journal)
            return
        scope.setdefault("state", {})[CHANGE_STATE_KEY] = change
        with accompanying_writes(change):
            await self.app(scope, receive, send_after_journal)

    async def _journal(
        self, scope: Scope, spec: AuditSpec, status: int, location: str | None
    ) -> None:
        journal = self.kit.audit
        identity = _identity(scope)
        record_id, subject_operator, subject_actor = _subject(scope, spec)
        if record_id is None and location and status in (201, 303):
            # A creation names what it created in its Location (a replayed one as well).
            last = location.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
            record_id = last if is_id(last) else None
        actor: str | None
        operator: str | None
        if identity is not None:
            actor, operator = identity
        elif subject_operator is not None:  # a public form or download link: known record
            actor, operator = subject_actor, subject_operator
        elif status == 401 and _has_bearer(scope):
            journal.defer(
                action="auth.token",
                operator=None,
                actor=None,
                record_type="token",
                record_id=None,
                outcome="denied",
            )
            return
        else:
            return  # nobody identified, and no record named: nothing was read or done
        event: dict[str, Any] = {
            "action": spec.action,
            "operator": operator,
            "actor": actor,
            "record_type": spec.record_type,
            "record_id": record_id,
            "outcome": outcome_of(status),
        }
        if _reads(scope, spec):
            journal.defer(**event)
        else:
            await anyio.to_thread.run_sync(lambda: journal.record(**event))


class Change:
    """The audit event of a change, committed with the handler's first write (one durable
    commit instead of two, and never the change without its event).

    Armed by `arm_change_event` once the caller is authenticated, right before the handler
    runs, and disarmed when the answer starts: writes before (an idempotency claim) and after
    (its stored answer) are not the change. Only for a record named by the path: a creation
    learns its id from the answer and keeps the separate write. A change that fails after its
    transaction committed is journaled a second time, with the failure.
    """

    def __init__(self, journal: AuditJournal, scope: Scope, spec: AuditSpec) -> None:
        self.journal = journal
        self.scope = scope
        self.spec = spec
        self.armed = False
        self.written = False

    def before_commit(self, connection: Connection) -> None:
        if not self.armed or self.written:
            return
        identity = _identity(self.scope)
        record_id, _, _ = _subject(self.scope, self.spec)
        if identity is None or record_id is None:
            return
        actor, operator = identity
        self.journal.record_in(
            connection,
            action=self.spec.action,
            operator=operator,
            actor=actor,
            record_type=self.spec.record_type,
            record_id=record_id,
        )
        self.written = True


async def arm_change_event(request: Request[Any, Any, Any]) -> None:
    """``before_request`` hook of the API: the handler's first write carries the event."""
    change = (request.scope.get("state") or {}).get(CHANGE_STATE_KEY)
    if isinstance(change, Change):
        change.armed = True


def _reads(scope: Scope, spec: AuditSpec) -> bool:
    return spec.reads or scope.get("method", "GET") in _SAFE_METHODS


def _header(headers: Any, name: bytes) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def _has_bearer(scope: Scope) -> bool:
    value = _header(scope.get("headers") or (), b"authorization")
    return value is not None and value[:7].lower() == "bearer "


def audit_middleware(kit: Kit) -> Callable[[ASGIApp], ASGIApp]:
    """The middleware factory a `Router` takes: ``middleware=[audit_middleware(kit)]``."""

    def build(app: ASGIApp) -> ASGIApp:
        return AuditMiddleware(app, kit)

    return build

"""``GET /api/v1/audit``: the operator's audit journal, for managers' tokens (SEC-12).

The same query as the « Journal des accès » page: the token's operator only, newest first,
keyset pages, filters on period, action, actor and record. Actors stay pseudonymous here
(account ids): an API client gets no names it could not already look up. Reading the
journal is journaled (``audit.read``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.exceptions import PermissionDeniedException
from litestar.params import QueryParameter

from cep_core.domain.audit import AuditAction
from cep_core.domain.context import Role
from cep_core.domain.issues import InvalidInput, Issue
from cep_core.kit import Kit
from cep_core.services.audit import MAX_PAGE_SIZE, AuditEvent, AuditQuery
from cep_core.web.api.case_http import BEARER_SECURITY, case_responses, require_client
from cep_core.web.audit import audited
from cep_core.web.auth import ApiClient
from cep_core.web.body import refuse_unknown_query

QUERY_PARAMETERS = frozenset({"since", "until", "action", "actor", "record_id", "limit", "cursor"})


class AuditEventOut(msgspec.Struct, frozen=True, kw_only=True):
    """One event: when (UTC), who (pseudonymous), what, on which record, with which outcome."""

    id: str
    at: datetime
    actor: str
    action: str
    record_type: str
    record_id: str | None
    outcome: str

    @classmethod
    def from_domain(cls, event: AuditEvent) -> AuditEventOut:
        return cls(
            id=event.id,
            at=event.at,
            actor=event.actor,
            action=event.action,
            record_type=event.record_type,
            record_id=event.record_id,
            outcome=event.outcome,
        )


class AuditPageOut(msgspec.Struct, frozen=True, kw_only=True):
    items: list[AuditEventOut]
    next_cursor: str | None


class AuditController(Controller):
    path = "/audit"
    tags = ["Journal des accès"]  # noqa: RUF012 (Litestar reads it as a class attribute)
    guards = [require_client]  # noqa: RUF012
    security = BEARER_SECURITY

    @audited("audit.read", "audit")
    @get(
        "/",
        sync_to_thread=True,
        operation_id="lireJournalAcces",
        summary="Lire le journal des accès de l'opérateur",
        description=(
            "Les événements du journal des accès (consultations, créations, modifications, "
            "exports, documents, connexions) de l'opérateur du jeton, les plus récents "
            "d'abord, par pages (``limit``, ``cursor``). Réservé aux jetons des responsables. "
            "Les acteurs sont des identifiants de compte, jamais des noms ; aucun contenu de "
            "dossier. Cette lecture est elle-même journalisée."
        ),
        response_description="Une page d'événements.",
        responses=case_responses(400, 401, 403, 500, 503),
    )
    def list_events(
        self,
        request: Request[Any, Any, Any],
        client: NamedDependency[ApiClient],
        kit: NamedDependency[Kit],
        since: Annotated[
            datetime | None, QueryParameter(description="À partir de (inclus, avec fuseau).")
        ] = None,
        until: Annotated[
            datetime | None, QueryParameter(description="Jusqu'à (exclu, avec fuseau).")
        ] = None,
        action: Annotated[AuditAction | None, QueryParameter(description="Action.")] = None,
        actor: Annotated[
            str | None, QueryParameter(description="Identifiant de l'acteur.", max_length=64)
        ] = None,
        record_id: Annotated[
            str | None,
            QueryParameter(description="Identifiant du dossier ou de la demande.", max_length=64),
        ] = None,
        limit: Annotated[
            int, QueryParameter(ge=1, le=MAX_PAGE_SIZE, description="Taille de page (1 à 200).")
        ] = 50,
        cursor: Annotated[
            str | None, QueryParameter(description="Curseur de la page suivante.", max_length=200)
        ] = None,
    ) -> AuditPageOut:
        if client.role is not Role.MANAGER:
            raise PermissionDeniedException(
                "Le journal des accès est réservé aux responsables de la structure."
            )
        refuse_unknown_query(request, QUERY_PARAMETERS)
        naive = [name for name, at in (("since", since), ("until", until)) if at and not at.tzinfo]
        if naive:
            raise InvalidInput(
                [
                    Issue(path=name, message="Indiquez le fuseau horaire (par exemple +01:00).")
                    for name in naive
                ]
            )
        page = kit.audit.browse(
            client.operator,
            AuditQuery(
                since=since,
                until=until,
                action=action.value if action else None,
                actor=actor,
                record_id=record_id,
            ),
            cursor=cursor,
            limit=limit,
        )
        return AuditPageOut(
            items=[AuditEventOut.from_domain(event) for event in page.items],
            next_cursor=page.next_cursor,
        )

"""API clients: ``Authorization: Bearer`` with a personal access token or a configured one.

Personal access tokens belong to a staff account (created and revoked from the workspace or
``cep tokens``) and act with that account's operator and role. Tokens configured in
``CEP_API_TOKENS`` serve machine clients, each bound to one operator. Either way every request
acts for one operator only, so tenant isolation holds from the first call. The API never
accepts the session cookie: pages and API do not share a credential (no CSRF on the API).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any

import anyio.to_thread
import msgspec
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import (
    NotAuthorizedException,
    PermissionDeniedException,
    TooManyRequestsException,
)
from litestar.handlers.base import BaseRouteHandler

from cep_core.domain.accounts import AccessToken, StaffUser
from cep_core.domain.context import Role
from cep_core.kit import Kit
from cep_core.settings import SettingsError, token_digest

BEARER_SCHEME = "bearer"
CLIENT_STATE_KEY = "cep_api_client"
# App-state key of the host applications' authenticators, one per mounted kit.
HOST_AUTHENTICATORS = "cep_host_authenticators"
# SEC-15: requests per minute and per client, counted across instances.
API_LIMIT = 600
API_WINDOW = 60


class ApiClient(msgspec.Struct, frozen=True, kw_only=True):
    """Who calls: the operator it acts for, a pseudonymous actor id, and its role."""

    operator: str
    actor: str
    role: Role = Role.COUNSELLOR
    user_id: str | None = None  # the staff account behind a personal access token


HostAuthenticator = Callable[[Request[Any, Any, Any]], "ApiClient | None"]
"""A host app's own authentication: the client it vouches for, or None (see `CepPlugin`)."""


def check_tokens(kit: Kit) -> None:
    """Refuse at start-up a token bound to an operator that is not installed."""
    installed = {info.id for info in kit.hooks.operators()}
    for token in kit.settings.api_tokens:
        if token.operator not in installed:
            raise SettingsError(
                f"CEP_API_TOKENS : l'opérateur « {token.operator} » (client « {token.actor} ») "
                "n'est pas installé"
            )


async def provide_client(request: Request[Any, Any, Any], kit: NamedDependency[Kit]) -> ApiClient:
    """The caller, from ``Authorization: Bearer <jeton>``; 401 in French otherwise.

    Kept for the request once known. A token this process resolved a moment ago, and a
    configured token, are known without I/O: those requests never leave the event loop
    here; the others ask the database in a worker thread.
    """
    state = request.scope.setdefault("state", {})
    if CLIENT_STATE_KEY in state:
        cached: ApiClient = state[CLIENT_STATE_KEY]
        return cached
    client = _known_client(request, kit)
    if client is None:
        client = await anyio.to_thread.run_sync(_authenticate, request, kit)
    decision = kit.limiter.hit_batched(  # counted in memory, written off the request
        f"api:{client.operator}:{client.actor}", limit=API_LIMIT, window=API_WINDOW
    )
    if not decision.allowed:
        raise TooManyRequestsException(
            f"Trop de requêtes : {API_LIMIT} par minute au plus pour un même client. "
            f"Réessayez dans {decision.reset_after} secondes.",
            headers=decision.headers(),
        )
    state[CLIENT_STATE_KEY] = client
    return client


def _known_client(request: Request[Any, Any, Any], kit: Kit) -> ApiClient | None:
    """The client of a configured token or of a personal token resolved a moment ago; None
    when the database (or a host authenticator, which may do I/O) must be asked."""
    if (request.app.state.get(HOST_AUTHENTICATORS) or {}).get(id(kit)) is not None:
        return None
    return _token_client(_bearer(request), kit, kit.accounts.known_token)


def _bearer(request: Request[Any, Any, Any]) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != BEARER_SCHEME or not token.strip():
        raise NotAuthorizedException(
            "Authentification requise : envoyez l'en-tête « Authorization: Bearer <jeton> ».",
            headers={"WWW-Authenticate": 'Bearer realm="cep-kit"'},
        )
    return token.strip()


def _token_client(
    token: str,
    kit: Kit,
    personal: Callable[[str], tuple[StaffUser, AccessToken] | None],
) -> ApiClient | None:
    """The client of a token from ``CEP_API_TOKENS`` (compared in constant time), else of
    the personal access token `personal` finds; None when neither knows it."""
    digest = token_digest(token)
    for known in kit.settings.api_tokens:
        if hmac.compare_digest(known.digest, digest):
            return ApiClient(operator=known.operator, actor=known.actor)
    found = personal(token)
    return None if found is None else _client_of(found[0])


def _client_of(user: StaffUser) -> ApiClient:
    if user.operator is None:
        raise PermissionDeniedException(
            "Les comptes d'administration de la plateforme n'ont pas accès aux dossiers."
        )
    return ApiClient(operator=user.operator, actor=user.id, role=Role(user.role), user_id=user.id)


def _authenticate(request: Request[Any, Any, Any], kit: Kit) -> ApiClient:
    host = (request.app.state.get(HOST_AUTHENTICATORS) or {}).get(id(kit))
    if host is not None:
        vouched = host(request)
        if vouched is not None:
            if not isinstance(vouched, ApiClient):
                raise TypeError("the host authenticator must return an ApiClient or None")
            kit.hooks.operator(vouched.operator)  # an operator that is not installed: refuse
            return vouched
    client = _token_client(_bearer(request), kit, kit.accounts.resolve_token)
    if client is not None:
        return client
    raise NotAuthorizedException(
        "Jeton inconnu ou révoqué.",
        headers={"WWW-Authenticate": 'Bearer realm="cep-kit", error="invalid_token"'},
    )


async def staff_or_token_guard(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """Guard for the OpenAPI document with ``CEP_OPENAPI=staff``: a session or a token."""
    from cep_core.web.sessions import signed_in

    kit: Kit | None = connection.app.state.get("kit")
    assert isinstance(connection, Request)
    if kit is None:
        raise NotAuthorizedException("Authentification requise.")
    if await signed_in(connection, kit) is not None:
        return
    await provide_client(connection, kit)

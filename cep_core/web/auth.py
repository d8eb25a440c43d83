"""API clients authenticated by a bearer token from the settings (``CEP_API_TOKENS``).

Staff accounts and personal access tokens come with the web application; until then a
deployment configures one token per client, bound to one operator: every request made with
it acts for that operator only, so tenant isolation holds from the first call.
"""

from __future__ import annotations

import hmac
from typing import Any

import msgspec
from litestar import Request
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException

from cep_core.domain.context import Role
from cep_core.kit import Kit
from cep_core.settings import SettingsError, token_digest

BEARER_SCHEME = "bearer"


class ApiClient(msgspec.Struct, frozen=True, kw_only=True):
    """Who calls: the operator it acts for, a pseudonymous actor id, and its role."""

    operator: str
    actor: str
    role: Role = Role.COUNSELLOR


def check_tokens(kit: Kit) -> None:
    """Refuse at start-up a token bound to an operator that is not installed."""
    installed = {info.id for info in kit.hooks.operators()}
    for token in kit.settings.api_tokens:
        if token.operator not in installed:
            raise SettingsError(
                f"CEP_API_TOKENS : l'opérateur « {token.operator} » (client « {token.actor} ») "
                "n'est pas installé"
            )


def provide_client(request: Request[Any, Any, Any], kit: NamedDependency[Kit]) -> ApiClient:
    """The caller, from ``Authorization: Bearer <jeton>``; 401 in French otherwise."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != BEARER_SCHEME or not token.strip():
        raise NotAuthorizedException(
            "Authentification requise : envoyez l'en-tête « Authorization: Bearer <jeton> ».",
            headers={"WWW-Authenticate": 'Bearer realm="cep-kit"'},
        )
    digest = token_digest(token.strip())
    for known in kit.settings.api_tokens:
        if hmac.compare_digest(known.digest, digest):
            return ApiClient(operator=known.operator, actor=known.actor)
    raise NotAuthorizedException(
        "Jeton inconnu ou révoqué.",
        headers={"WWW-Authenticate": 'Bearer realm="cep-kit", error="invalid_token"'},
    )

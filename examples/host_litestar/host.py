"""Embedding (b): the kit's API inside an existing Litestar application.

The host already has its own routes and its own users (here a toy header-based scheme standing
in for the portal's real single sign-on). It mounts `CepPlugin` under ``/cep`` and tells the
kit who the caller is through ``authenticate``: the kit then acts for that counsellor's
operator, exactly as with one of its own access tokens. Run it with::

    uv run uvicorn --factory examples.host_litestar.host:build_app

and call ``GET /cep/api/v1/cases`` with ``X-Portal-User: claire``.
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar, Request, get

from cep_core import Kit
from cep_core.domain.context import Role
from cep_core.web.auth import ApiClient
from cep_core.web.plugin import CepPlugin

# The portal's own directory: who its users are and which operator they work for.
PORTAL_USERS = {
    "claire": {"name": "Claire Martin", "operator": "apec"},
    "marc": {"name": "Marc Petit", "operator": "mission_locale"},
}


def portal_user(request: Request[Any, Any, Any]) -> dict[str, str] | None:
    """The portal's authentication (a stand-in: real portals check a session or a JWT)."""
    return PORTAL_USERS.get(request.headers.get("x-portal-user", ""))


def kit_client(request: Request[Any, Any, Any]) -> ApiClient | None:
    """What the portal tells the kit about the caller; None lets the kit's tokens decide."""
    user = portal_user(request)
    if user is None:
        return None
    return ApiClient(
        operator=user["operator"],
        actor=f"portail:{request.headers['x-portal-user']}",
        role=Role.COUNSELLOR,
    )


@get("/", sync_to_thread=False)
def portal_home(request: Request[Any, Any, Any]) -> dict[str, str]:
    user = portal_user(request)
    return {
        "portail": "Portail emploi-formation",
        "utilisateur": user["name"] if user else "anonyme",
    }


def build_app(kit: Kit | None = None) -> Litestar:
    kit = kit or Kit()
    kit.database.upgrade()
    return Litestar(
        route_handlers=[portal_home],
        plugins=[CepPlugin(kit, prefix="/cep", pages=False, authenticate=kit_client)],
    )

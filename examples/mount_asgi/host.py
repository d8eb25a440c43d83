"""The kit's ASGI app mounted under a path (``/cep``) of another ASGI application.

A portal that already serves its own pages, with any ASGI framework or none, gives the kit a
path prefix: requests under ``/cep`` go to the kit's app with ``root_path`` set to ``/cep``
(the ASGI way of saying "you are mounted here"; ``path`` stays the full path), everything else
to the portal. Here the portal is a bare ASGI function, so the example depends on nothing but
the kit; with Starlette it is ``Mount("/cep", app=cep_app)``, with Litestar
``@asgi("/cep", is_mount=True)``. The lifespan (start-up, shutdown) goes to the kit's app,
which closes the kit it built when the server stops::

    uvicorn --factory examples.mount_asgi.host:build_portal   # dans le dépôt : uv run uvicorn …

then ``http://127.0.0.1:8000/`` is the portal and ``http://127.0.0.1:8000/cep/api/v1/…`` the
kit (``/cep/schema`` its OpenAPI description).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from cep_core import Kit, create_app

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[..., Awaitable[None]]  # Litestar, Starlette or a bare function

PREFIX = "/cep"
HOME = """<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>Portail emploi et formation</title></head>
<body><h1>Portail emploi et formation</h1>
<p>Le conseil en évolution professionnelle : <a href="/cep/schema">l'API du kit CEP</a>.</p>
</body></html>
"""


async def portal(scope: Scope, receive: Receive, send: Send) -> None:
    """The host's own pages: a home page, and 404 for anything else."""
    if scope["type"] != "http":
        return
    found = scope["path"] == "/"
    body = HOME.encode() if found else b"Page introuvable."
    kind = b"text/html; charset=utf-8" if found else b"text/plain; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": 200 if found else 404,
            "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class Mount:
    """Send requests under `prefix` to `app` (with ``root_path``), the others to `default`."""

    def __init__(self, prefix: str, app: ASGIApp, default: ASGIApp) -> None:
        self.prefix = prefix.rstrip("/")
        self.app = app
        self.default = default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        if path == self.prefix or path.startswith(self.prefix + "/"):
            mounted = dict(scope, root_path=scope.get("root_path", "") + self.prefix)
            await self.app(mounted, receive, send)
            return
        await self.default(scope, receive, send)


def build_portal(kit: Kit | None = None) -> ASGIApp:
    """The portal with the kit under ``/cep``: `kit`, or one built from the environment."""
    return Mount(PREFIX, create_app(kit), portal)

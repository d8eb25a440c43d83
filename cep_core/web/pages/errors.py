"""Errors on pages are pages: French, in the site's layout, with the right status code.

The JSON API keeps its problem+json format; a browser asking for a page gets HTML instead,
including for unknown paths. A page that needs a signed-in user redirects to the sign-in page
and comes back afterwards.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.enums import MediaType
from litestar.exceptions import HTTPException
from litestar.types import ExceptionHandlersMap

from cep_core.errors import CaseNotFound, PluginFailure, UnknownOperator
from cep_core.web.pages.auth import signin_redirect
from cep_core.web.pages.rendering import Pages
from cep_core.web.sessions import ANON_COOKIE, STATE_KEY, SignInRequired

log = logging.getLogger("cep_core.web")

MESSAGES = {
    400: ("Requête invalide", "La demande n'a pas pu être comprise."),
    403: ("Accès refusé", "Vous n'avez pas accès à cette page."),
    404: ("Page introuvable", "Cette page n'existe pas, ou vous n'y avez pas accès."),
    405: ("Action impossible", "Cette action n'est pas possible sur cette page."),
    409: ("Conflit", "Cette action n'est plus possible : la page a changé entre-temps."),
    413: ("Envoi trop volumineux", "Le formulaire envoyé dépasse la taille autorisée."),
    429: ("Trop de demandes", "Trop de demandes en peu de temps : réessayez dans une minute."),
    500: ("Erreur du service", "Une erreur inattendue s'est produite. Réessayez plus tard."),
    503: ("Service indisponible", "Ce service est momentanément indisponible."),
}


def wants_html(request: Request[Any, Any, Any]) -> bool:
    """A page request: not the API, and a client that accepts HTML (browsers do)."""
    path = request.url.path
    if path.startswith(("/api/", "/schema")):
        return False
    return "text/html" in request.headers.get("accept", "")


def error_page(
    request: Request[Any, Any, Any], status: int, detail: str | None = None
) -> Response[str]:
    title, default = MESSAGES.get(status, MESSAGES[500] if status >= 500 else MESSAGES[400])
    pages: Pages | None = request.app.state.get("cep_pages")
    # Only the kit's own French messages are shown; framework details are English.
    message = detail if detail and status in (403, 409, 429) else default
    if pages is None:  # a host app without the kit's pages: a minimal page
        html = f"<!doctype html><html lang='fr'><title>{title}</title><h1>{title}</h1>"
        return Response(content=html, status_code=status, media_type=MediaType.HTML)
    # The signed-in user, when the page resolved them before failing: keep their menu.
    found = request.scope.get("state", {}).get(STATE_KEY)
    context = pages.base_context(request, found, request.cookies.get(ANON_COOKIE))
    html = pages.env.get_template("error.html").render(
        **context, page_title=title, title=title, message=message, status=status
    )
    return Response(content=html, status_code=status, media_type=MediaType.HTML)


def handle_page_http_exception(
    request: Request[Any, Any, Any], exc: HTTPException
) -> Response[Any]:
    if isinstance(exc, SignInRequired):
        return signin_redirect(request.url.path)
    response = error_page(request, exc.status_code, exc.detail)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def handle_page_not_found(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    return error_page(request, 404)


def handle_page_plugin_failure(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.error("plugin failure on a page: %s", exc)
    return error_page(request, 503)


def handle_page_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on page %s", request.url.path)
    return error_page(request, 500)


def page_exception_handlers() -> ExceptionHandlersMap:
    return {
        HTTPException: handle_page_http_exception,
        CaseNotFound: handle_page_not_found,
        UnknownOperator: handle_page_not_found,
        PluginFailure: handle_page_plugin_failure,
        Exception: handle_page_error,
    }

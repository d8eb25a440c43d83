"""One error format for the whole API: RFC 9457 problem details, in French.

Every failure a client can meet — a malformed body, a field of the wrong type, an impossible
situation, a failing plugin, an unknown path, a bug — leaves as the same JSON shape (see
`Problem`), so clients write one error path. Internal details (tracebacks, exception texts)
never reach the client unless the app was built with ``debug=True``; they go to the log.

msgspec reports validation errors in English ("Expected `str`, got `int` - at `$.status`");
`issue_from_msgspec` turns them into a French message and a dotted field path.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, Final

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_412_PRECONDITION_FAILED,
    HTTP_500_INTERNAL_SERVER_ERROR,
    HTTP_503_SERVICE_UNAVAILABLE,
)
from litestar.types import ExceptionHandlersMap

from cep_core.domain.issues import InvalidInput, Issue
from cep_core.errors import (
    CaseNotFound,
    CaseStateConflict,
    PluginFailure,
    UnknownOperator,
    UnknownStep,
    VersionConflict,
)
from cep_core.validation import issue_from_decode_error, issue_from_msgspec
from cep_core.web.concurrency import entity_tag
from cep_core.web.schemas import Problem, ProblemIssue

log = logging.getLogger("cep_core.web")

PROBLEM_MEDIA_TYPE: Final = "application/problem+json"

TITLES: Final[Mapping[int, str]] = {
    400: "Requête invalide",
    401: "Authentification requise",
    403: "Accès refusé",
    404: "Ressource introuvable",
    405: "Méthode non autorisée",
    406: "Format de réponse non disponible",
    409: "Conflit",
    412: "Précondition échouée",
    413: "Requête trop volumineuse",
    415: "Type de contenu non pris en charge",
    422: "Requête impossible à traiter",
    428: "Précondition requise",
    429: "Trop de requêtes",
    500: "Erreur interne",
    503: "Service momentanément indisponible",
}

# French default details for Litestar's own HTTP exceptions, whose texts are English.
DETAILS: Final[Mapping[int, str]] = {
    400: "La requête est invalide.",
    401: "Cette ressource demande une authentification.",
    403: "Vous n'avez pas accès à cette ressource.",
    404: "Aucune ressource ne correspond à cette adresse.",
    405: "Cette méthode HTTP n'est pas acceptée à cette adresse.",
    413: "Le corps de la requête dépasse la taille maximale autorisée.",
    415: "Ce type de contenu n'est pas pris en charge : envoyez du JSON (application/json).",
    429: "Trop de requêtes : réessayez dans quelques instants.",
    500: "Une erreur interne est survenue. Elle a été enregistrée ; réessayez plus tard.",
    503: "Le service est momentanément indisponible ; réessayez plus tard.",
}


def issues_from_litestar(exc: ValidationException) -> list[Issue]:
    """Litestar's own validation errors (query, path and header parameters, lenient bodies).

    Its ``extra`` is a list of ``{"message", "key", "source"}``; keys are relative to the body
    for body errors, so they prefix the path found in the message.
    """
    issues: list[Issue] = []
    extra = exc.extra if isinstance(exc.extra, list) else []
    for item in extra:
        if not isinstance(item, Mapping) or not isinstance(item.get("message"), str):
            continue
        key = item.get("key")
        base = key if isinstance(key, str) and key != "data" else ""
        issues.append(issue_from_msgspec(item["message"], base))
    if not issues:
        issues.append(issue_from_litestar_detail(exc.detail))
    return issues


def issue_from_litestar_detail(detail: str) -> Issue:
    """Litestar messages without a structured ``extra`` (malformed JSON, missing parameter)."""
    if m := re.match(r"Missing required (?P<kind>\w+) parameter '(?P<name>[^']+)'", detail):
        return Issue(
            path=m["name"],
            code="missing_field",
            message=f"Le paramètre « {m['name']} » est obligatoire.",
        )
    if "JSON" in detail or "malformed" in detail.lower() or "truncated" in detail:
        return issue_from_decode_error(detail)
    return Issue(path="", code="invalid", message="La requête est invalide.")


# Headers of an HTTP exception that the client needs (the others may leak internals).
FORWARDED_HEADERS: Final = frozenset(
    {
        "allow",
        "www-authenticate",
        "etag",
        "retry-after",
        "ratelimit-limit",
        "ratelimit-remaining",
        "ratelimit-reset",
    }
)
# Statuses the kit raises itself with a French detail; Litestar's own carry English phrases.
KIT_DETAIL_STATUSES: Final = frozenset({401, 403, 409, 412, 428, 429})

# -- responses ---------------------------------------------------------------------------------


def problem_response(
    status: int,
    detail: str,
    issues: list[Issue] | tuple[Issue, ...] = (),
    headers: Mapping[str, str] | None = None,
    debug: dict[str, Any] | None = None,
) -> Response[Any]:
    problem = Problem(
        status=status,
        title=TITLES.get(status, "Erreur"),
        detail=detail,
        errors=[ProblemIssue.from_domain(i) for i in issues],
    )
    content: Any = problem
    if debug:
        content = {**msgspec.to_builtins(problem), "debug": debug}
    return Response(
        content=content,
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=dict(headers or {}),
    )


def handle_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """Litestar's HTTP exceptions (400, 404, 405, 413, ...) in the French problem format.

    A browser asking for a page that does not exist gets the French error page instead.
    """
    status = exc.status_code
    from cep_core.web.pages.errors import error_page, wants_html

    if wants_html(request):
        return error_page(request, status)
    headers = {k: v for k, v in (exc.headers or {}).items() if k.lower() in FORWARDED_HEADERS}
    if status == HTTP_400_BAD_REQUEST:
        issues = (
            issues_from_litestar(exc)
            if isinstance(exc, ValidationException)
            else [issue_from_litestar_detail(exc.detail)]
        )
        return problem_response(status, "Des champs de la requête sont invalides.", issues)
    if status >= HTTP_500_INTERNAL_SERVER_ERROR:
        log.error("HTTP %s on %s %s: %s", status, request.method, request.url.path, exc.detail)
        return problem_response(status, DETAILS.get(status, DETAILS[500]), headers=headers)
    if status in KIT_DETAIL_STATUSES and exc.detail != HTTPStatus(status).phrase:
        return problem_response(status, exc.detail, headers=headers)  # the kit's French text
    return problem_response(status, DETAILS.get(status, exc.detail), headers=headers)


def handle_invalid_input(request: Request[Any, Any, Any], exc: InvalidInput) -> Response[Any]:
    """The body was well formed, but it cannot be true (or breaks a rule): every issue at once."""
    return problem_response(
        HTTP_400_BAD_REQUEST, "Des champs de la requête sont invalides.", exc.issues
    )


def handle_plugin_failure(request: Request[Any, Any, Any], exc: PluginFailure) -> Response[Any]:
    """A plugin broke while answering: the service is unavailable, not the request wrong."""
    log.error("plugin failure on %s %s: %s", request.method, request.url.path, exc)
    return problem_response(HTTP_503_SERVICE_UNAVAILABLE, exc.message)


def handle_unknown_operator(request: Request[Any, Any, Any], exc: UnknownOperator) -> Response[Any]:
    return problem_response(HTTP_404_NOT_FOUND, str(exc))


def handle_case_not_found(
    request: Request[Any, Any, Any], exc: CaseNotFound | UnknownStep
) -> Response[Any]:
    """No such case for the caller's operator (another operator's case included, SEC-01),
    or no such step in the case's flow."""
    return problem_response(HTTP_404_NOT_FOUND, str(exc))


def handle_case_state_conflict(
    request: Request[Any, Any, Any], exc: CaseStateConflict
) -> Response[Any]:
    """The case's state forbids the change (a forbidden transition, missing steps, a veto)."""
    return problem_response(HTTP_409_CONFLICT, str(exc), exc.issues)


def handle_version_conflict(request: Request[Any, Any, Any], exc: VersionConflict) -> Response[Any]:
    """The case moved on since the client read it (REL-11): 412, with the current ETag."""
    headers = {} if exc.actual is None else {"ETag": entity_tag(exc.case_id, exc.actual)}
    return problem_response(HTTP_412_PRECONDITION_FAILED, str(exc), headers=headers)


def handle_internal_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """A bug: log it with its traceback, answer a generic French message and nothing else."""
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    debug = None
    if request.app.debug:  # only when the app was built with debug=True, never by default
        debug = {
            "exception": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exception(exc),
        }
    return problem_response(HTTP_500_INTERNAL_SERVER_ERROR, DETAILS[500], debug=debug)


def exception_handlers() -> ExceptionHandlersMap:
    """The kit's handlers, for an app or a router; the most specific class wins (MRO order)."""
    return {
        HTTPException: handle_http_exception,
        InvalidInput: handle_invalid_input,
        PluginFailure: handle_plugin_failure,
        UnknownOperator: handle_unknown_operator,
        CaseNotFound: handle_case_not_found,
        UnknownStep: handle_case_not_found,
        CaseStateConflict: handle_case_state_conflict,
        VersionConflict: handle_version_conflict,
        Exception: handle_internal_error,
    }

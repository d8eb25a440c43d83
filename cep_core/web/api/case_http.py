"""What the case controllers share: authentication first, the If-Match header, ETag answers.

Every case route acts for the operator of the caller's token (the tenant): another
operator's case is "not found" (404) everywhere, lists included (SEC-01), because the
service only ever reads the caller's operator's cases. Handlers are synchronous and run in
a worker thread (``sync_to_thread=True``): the database drivers are synchronous.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Annotated, Any, Final

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.datastructures import ResponseHeader
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import SecurityRequirement
from litestar.params import HeaderParameter, PathParameter

from cep_core.kit import Kit
from cep_core.web.auth import BEARER_SCHEME, ApiClient, provide_client
from cep_core.web.case_schemas import CaseOut, CounsellorCaseOut, case_out
from cep_core.web.concurrency import entity_tag, expected_version
from cep_core.web.openapi import problem_responses

CASES_PATH: Final = "/cases"
BEARER_SECURITY: Final[list[SecurityRequirement]] = [{BEARER_SCHEME: []}]

CaseId = Annotated[
    str, PathParameter(description="Identifiant du dossier (tel que renvoyé à sa création).")
]
IfMatch = Annotated[
    str | None,
    HeaderParameter(
        name="If-Match",
        required=False,
        max_length=2000,
        description="L'ETag du dossier tel que lu (GET), par exemple "
        '``"01953f0c9a7e7c41b2d5e3f4a6b7c8d9-3"`` : obligatoire (428 sans lui) ; 412 si le '
        "dossier a changé depuis. ``*`` et les ETags faibles (``W/``) ne valent pas.",
    ),
]

ETAG_HEADER: Final = ResponseHeader(
    name="ETag",
    description='Version du dossier, ETag fort ``"<identifiant>-<version>"`` : à renvoyer '
    "dans ``If-Match`` pour toute modification.",
    documentation_only=True,
)
LOCATION_HEADER: Final = ResponseHeader(
    name="Location",
    description="Adresse du dossier créé.",
    documentation_only=True,
)

DESCRIPTIONS: Final[dict[int, str]] = {
    400: "Requête invalide : corps non JSON, champ inconnu (dont un champ en lecture seule : "
    "id, operator, version, status, created_at...), manquant, mal typé ou hors bornes, ou "
    "réponses refusées par les règles de l'opérateur. ``errors`` donne le chemin de chaque "
    "champ en cause.",
    401: "Jeton absent, inconnu ou révoqué (``Authorization: Bearer <jeton>``).",
    403: "Le jeton n'agit pas pour l'opérateur demandé.",
    404: "Dossier introuvable pour l'opérateur du jeton (un dossier d'un autre opérateur "
    "l'est aussi), ou étape inconnue.",
    409: "L'état du dossier refuse la modification : transition interdite, étapes "
    "obligatoires manquantes, refus d'un module d'opérateur, dossier clôturé ou orienté. "
    "``errors`` dit pourquoi, en français. Rien n'a été écrit.",
    412: "Le dossier a changé depuis sa lecture (``If-Match`` périmé) : rien n'a été écrit. "
    "La réponse porte l'ETag courant ; relisez le dossier, comparez, puis refaites la "
    "modification.",
    428: "En-tête ``If-Match`` absent : toute modification d'un dossier doit envoyer l'ETag lu.",
    429: "Trop de requêtes pour ce client (600 par minute au plus) : réessayez après le délai "
    "donné par ``Retry-After``.",
}


def case_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """The documented error responses of a case route (the one problem format); 429 always:
    every authenticated route counts its client's requests (SEC-15)."""
    specs = problem_responses(*sorted({*statuses, 429}))
    return {
        status: dataclasses.replace(spec, description=DESCRIPTIONS.get(status, spec.description))
        for status, spec in specs.items()
    }


# 400 on reads: a path or query parameter out of its bounds (schemathesis found it undocumented).
READ_ERRORS: Final = (400, 401, 404, 500, 503)
WRITE_ERRORS: Final = (400, 401, 404, 409, 412, 413, 428, 500, 503)


async def require_client(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """Guard: authenticate before the body is read, so an anonymous call gets 401 whatever
    it sends (the ``client`` dependency then returns the same, cached, client)."""
    provider = connection.route_handler.resolve_dependencies()["kit"]
    kit: Kit = provider.dependency()
    assert isinstance(connection, Request)  # guards of HTTP routes receive the request
    await provide_client(connection, kit)


def version_for_write(kit: Kit, client: ApiClient, case_id: str, if_match: str | None) -> int:
    """The version the write expects, from ``If-Match`` (428, 400 or "none" here)."""
    return expected_version(
        if_match, case_id, lambda: kit.cases.get_case(client.operator, case_id).version
    )


def write_case(
    kit: Kit,
    client: ApiClient,
    case_id: str,
    if_match: str | None,
    write: Callable[..., object],
    *args: object,
    status_code: int = 200,
    **kwargs: object,
) -> Response[CaseOut | CounsellorCaseOut]:
    """Run a `CaseService` write for the client (its operator and actor) at the version
    ``If-Match`` names, then answer with the case and its new ETag; `args` and `kwargs` are
    the write's own (``write(operator, case_id, *args, expected_version=, actor=, **kwargs)``)."""
    version = version_for_write(kit, client, case_id, if_match)
    write(client.operator, case_id, *args, expected_version=version, actor=client.actor, **kwargs)
    return case_response(kit, client, case_id, status_code=status_code, written=True)


def case_response(
    kit: Kit,
    client: ApiClient,
    case_id: str,
    *,
    status_code: int = 200,
    created: bool = False,
    written: bool = False,
) -> Response[CaseOut | CounsellorCaseOut]:
    """The case as the client's role may see it, with its ETag (and Location once created).

    After a write (``written``, ``created``) the change is committed: a plugin failing while
    the answer is built must not report it as failed (REL-12), so the flow is optional then.
    """
    view = kit.cases.view_case(  # SEC-03 inside
        client.operator, case_id, role=client.role, flow_optional=written or created
    )
    headers = {"ETag": entity_tag(view.case.id, view.case.version)}
    if created:
        headers["Location"] = case_url(view.case.id)
    return Response(case_out(view), status_code=status_code, headers=headers)


def case_url(case_id: str) -> str:
    # Imported here: the api package imports the controllers, which import this module.
    from cep_core.web.api import API_PREFIX

    return f"{API_PREFIX}{CASES_PATH}/{case_id}"

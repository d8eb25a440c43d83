"""OpenAPI links: where the answer of one operation leads (UX-11, REL-02).

A link says which value of a response feeds which parameter of another operation: the id of
a created case opens its reading, its journal, its steps; the ``ETag`` of a case read is the
``If-Match`` of its writes. Clients read them as documentation; schemathesis follows them to
chain create -> read -> update -> action (its stateful tests). Litestar has no parameter for
links, so a route gets them through its ``operation_class``: an `Operation` whose given
response carries them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Final

from litestar.openapi.spec import Link, OpenAPIResponse, Operation

CASE_ID_FROM_BODY: Final = "$response.body#/id"
ETAG: Final = "$response.header.ETag"

# operationId -> what it is for; reads take the case id, writes also the ETag.
CASE_READS: Final = {
    "lireDossier": "Lire le dossier.",
    "lireJournalDossier": "Lire le journal du dossier.",
    "lireEtapesDossier": "Lire les étapes du niveau en cours.",
    "lireFormulaireAccueil": "Lire le formulaire d'accueil de l'opérateur.",
    "listerSyntheses": "Lister les documents de synthèse du dossier.",
}
CASE_WRITES: Final = {
    "enregistrerAccueil": "Enregistrer les informations d'accueil (avec l'ETag lu).",
    "enregistrerEntretien": "Enregistrer un entretien (avec l'ETag lu).",
    "demarrerNiveau1": "Démarrer le niveau 1 (avec l'ETag lu).",
    "demarrerNiveau2": "Démarrer le niveau 2 (avec l'ETag lu).",
    "mettreDossierEnPause": "Mettre le dossier en pause (avec l'ETag lu).",
    "reprendreDossier": "Reprendre le dossier (avec l'ETag lu).",
    "cloturerDossier": "Clôturer le dossier (avec l'ETag lu).",
    "orienterVersUnAutreOperateur": "Orienter la personne (avec l'ETag lu).",
    "etablirPlanFinancement": "Établir le plan de financement (avec l'ETag lu).",
}


def case_links(case_id: str = CASE_ID_FROM_BODY, *, writes: bool = True) -> dict[str, Link]:
    """Links from an answer that names a case (`case_id`: where its id is in the answer)."""
    links = {
        operation_id: Link(
            operation_id=operation_id, parameters={"case_id": case_id}, description=description
        )
        for operation_id, description in CASE_READS.items()
    }
    if writes:
        links.update(
            {
                operation_id: Link(
                    operation_id=operation_id,
                    parameters={"case_id": case_id, "If-Match": ETAG},
                    description=description,
                )
                for operation_id, description in CASE_WRITES.items()
            }
        )
    return links


def linked(
    status: int, links: dict[str, Link], base: type[Operation] = Operation
) -> type[Operation]:
    """An `Operation` class (a route's ``operation_class``) with `links` on `status`; `base`
    is the class the route had (e.g. the idempotency's), whose own additions still apply."""

    @dataclass
    class LinkedOperation(base):  # type: ignore[valid-type,misc]
        LINKS: ClassVar[dict[str, Link]] = links
        STATUS: ClassVar[str] = str(status)

        def __post_init__(self) -> None:
            parent = getattr(super(), "__post_init__", None)
            if parent is not None:
                parent()
            response = (self.responses or {}).get(self.STATUS)
            if isinstance(response, OpenAPIResponse):
                response.links = dict(self.LINKS)

    return LinkedOperation


def with_links(route: Mapping[str, Any], status: int, links: dict[str, Link]) -> dict[str, Any]:
    """A route decorator's keyword arguments (e.g. ``IDEMPOTENT_ROUTE``) plus `links`."""
    base = route.get("operation_class", Operation)
    return {**route, "operation_class": linked(status, links, base)}


# A case read or changed leads to its reads and, with its ETag, to its writes.
CASE_READ: Final = linked(200, case_links())
# A page of cases leads to the reads of its first case (a list has no ETag).
CASE_PAGE: Final = linked(200, case_links("$response.body#/items/0/id", writes=False))

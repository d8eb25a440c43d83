"""OpenAPI document of the API: configuration and the strict-Struct schema fix.

Litestar 2.25 leaves ``additionalProperties: false`` out of the schema of a Struct declared
with ``forbid_unknown_fields=True`` although the API rejects unknown fields; schemathesis
then reports valid-looking requests "rejected" (ST202). `StrictStructSchemaPlugin` adds it.

It subclasses ``StructSchemaPlugin`` from ``litestar._openapi.schema_generation.plugins``, a
PRIVATE module: this file is the only place that imports it, and
``tests/web/test_openapi.py`` fails loudly if a Litestar upgrade moves or changes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import msgspec
from litestar import Router
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin  # private
from litestar.config.app import AppConfig
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, Example, Schema, SecurityScheme

from cep_core._version import __version__
from cep_core.web.errors import PROBLEM_MEDIA_TYPE
from cep_core.web.schemas import Problem

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator
    from litestar.types import Guard
    from litestar.typing import FieldDefinition

OPENAPI_PATH = "/schema"


class StrictStructSchemaPlugin(StructSchemaPlugin):
    """Litestar's Struct schema, plus ``additionalProperties: false`` where msgspec forbids."""

    def to_openapi_schema(
        self, field_definition: FieldDefinition, schema_creator: SchemaCreator
    ) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        info = msgspec.inspect.type_info(field_definition.type_)
        if isinstance(info, msgspec.inspect.StructType) and info.forbid_unknown_fields:
            # `schema` may be a reference; the registered component is what gets rendered.
            registered = schema_creator.schema_registry.get_schema_for_field_definition(
                field_definition
            )
            registered.additional_properties = False
        return schema


def use_strict_struct_schemas(app_config: AppConfig) -> None:
    """Put `StrictStructSchemaPlugin` in the place of Litestar's own Struct schema plugin.

    The first schema plugin that supports a type wins, so ours must come before Litestar's.
    It replaces it in place: Litestar is iterating over ``app_config.plugins`` while it calls
    ``on_app_init``, and inserting would shift the list and call the next plugin twice.
    """
    plugins = app_config.plugins
    if any(isinstance(p, StrictStructSchemaPlugin) for p in plugins):
        return
    for index, plugin in enumerate(plugins):
        if type(plugin) is StructSchemaPlugin:
            plugins[index] = StrictStructSchemaPlugin()
            return
    plugins.append(StrictStructSchemaPlugin())  # a user plugin comes first; ours still helps


def openapi_config(guards: Sequence[Guard] = ()) -> OpenAPIConfig:
    """Only the JSON document is served (``/schema`` and ``/schema/openapi.json``).

    Litestar's HTML renderers load scripts and fonts from public CDNs, which the kit's
    Content-Security-Policy blocks and which leaks visitors to third parties; read the JSON
    with any OpenAPI tool instead.
    """
    return OpenAPIConfig(
        title="cep-kit API",
        version=__version__,
        description=(
            "API du kit du Conseil en évolution professionnelle (CEP) : orientation vers les "
            "opérateurs compétents, simulation de financement, dossiers. Toutes les erreurs "
            "suivent un même format (application/problem+json, RFC 9457), en français. "
            "Les dossiers demandent un jeton (``Authorization: Bearer <jeton>``) et agissent "
            "pour l'opérateur de ce jeton. Chaque dossier porte une version : les réponses "
            'l\'envoient dans ``ETag`` (ETag fort ``"<identifiant>-<version>"``), toute '
            "modification la renvoie dans ``If-Match`` — 428 sans lui, 412 s'il est périmé."
        ),
        components=Components(
            security_schemes={
                "bearer": SecurityScheme(
                    type="http",
                    scheme="bearer",
                    description="Jeton d'accès personnel (créé depuis l'espace professionnel "
                    "ou par « cep tokens create ») ou jeton configuré par CEP_API_TOKENS ; il "
                    "fixe l'opérateur et l'acteur des appels.",
                )
            }
        ),
        path=OPENAPI_PATH,
        render_plugins=[JsonRenderPlugin()],
        use_handler_docstrings=False,
        # CEP_OPENAPI=staff: the document is served to signed-in staff and token holders only.
        openapi_router=Router(path=OPENAPI_PATH, route_handlers=[], guards=list(guards))
        if guards
        else None,
    )


PROBLEM_DESCRIPTIONS: dict[int, str] = {
    400: "Requête invalide : corps non JSON, champ inconnu, manquant ou mal typé, date "
    "impossible, région inconnue. ``errors`` donne le chemin de chaque champ en cause.",
    401: "Authentification requise : jeton absent, inconnu ou révoqué.",
    403: "Accès refusé.",
    404: "Ressource introuvable.",
    405: "Méthode HTTP non acceptée à cette adresse.",
    409: "L'état de la ressource refuse la modification ; ``errors`` dit pourquoi.",
    412: "La ressource a changé depuis sa lecture (``If-Match`` périmé) ; rien n'a été écrit.",
    413: "Corps de requête trop volumineux (1 Mo au plus).",
    428: "En-tête ``If-Match`` obligatoire.",
    500: "Erreur interne, sans détail technique (elle est journalisée côté serveur).",
    503: "Un module (plugin) d'opérateur ou la politique d'orientation a échoué ; réessayez "
    "plus tard.",
}

PROBLEM_EXAMPLES: dict[int, dict[str, object]] = {
    400: {
        "status": 400,
        "title": "Requête invalide",
        "detail": "Des champs de la requête sont invalides.",
        "errors": [
            {
                "path": "birth_date",
                "message": "Date invalide : le format attendu est AAAA-MM-JJ, avec une date qui "
                "existe au calendrier.",
                "code": "invalid_date",
            }
        ],
    },
    409: {
        "status": 409,
        "title": "Conflit",
        "detail": "Changement de statut refusé : Impossible de démarrer le niveau 2 "
        "(accompagnement personnalisé) : le dossier est en pause. Reprenez-le d'abord (la reprise "
        "est possible à tout moment).",
        "errors": [
            {
                "path": "status",
                "message": "Impossible de démarrer le niveau 2 (accompagnement personnalisé) : "
                "le dossier est en pause. Reprenez-le d'abord (la reprise est possible à tout "
                "moment).",
                "code": "transition_refused",
            }
        ],
    },
    412: {
        "status": 412,
        "title": "Précondition échouée",
        "detail": "Ce dossier a été modifié par quelqu'un d'autre depuis que vous l'avez ouvert. "
        "Rechargez-le, vérifiez les changements, puis refaites votre modification.",
        "errors": [],
    },
    428: {
        "status": 428,
        "title": "Précondition requise",
        "detail": "Modification refusée : envoyez l'en-tête « If-Match » avec l'ETag du dossier, "
        "obtenu en le lisant (GET). Il garantit que vous modifiez la version que vous avez sous "
        "les yeux.",
        "errors": [],
    },
    503: {
        "status": 503,
        "title": "Service momentanément indisponible",
        "detail": "Le module « exemple » a rencontré une erreur (cep_choose_orientation). La "
        "demande n'a pas pu aboutir pour cet opérateur ; les autres ne sont pas touchés.",
        "errors": [],
    },
}


def problem_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI descriptions of the error responses a handler can give, in the one format."""
    return {
        status: ResponseSpec(
            data_container=Problem,
            media_type=PROBLEM_MEDIA_TYPE,
            description=PROBLEM_DESCRIPTIONS.get(status, "Erreur."),
            generate_examples=False,
            examples=[Example(summary=f"Erreur {status}", value=PROBLEM_EXAMPLES[status])]
            if status in PROBLEM_EXAMPLES
            else None,
        )
        for status in statuses
    }

"""``POST /api/v1/orientation``: which operators can give this person a CEP, and why.

Thin on purpose: the body is decoded into the service's `OrientationQuery` (strictly, see
`cep_core.web.body`), the kit answers, the answer is copied into the public response Struct.
Rules live in the domain and the plugins, never here.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, post
from litestar.di import NamedDependency
from litestar.openapi.spec import Example
from litestar.params import Body
from litestar.status_codes import HTTP_200_OK

from cep_core.kit import Kit
from cep_core.services.orientation import OrientationQuery
from cep_core.web.openapi import problem_responses
from cep_core.web.schemas import OrientationResponse

QUERY_EXAMPLES = [
    Example(
        summary="Cadre salarié en Bretagne",
        value={
            "birth_date": "1985-06-15",
            "status": "employee",
            "cadre": True,
            "working": True,
            "region": "53",
        },
    ),
    Example(
        summary="Jeune demandeur d'emploi, à une date donnée",
        value={
            "birth_date": "2004-03-02",
            "as_of": "2025-01-15",
            "status": "jobseeker",
            "registered_jobseeker": True,
            "seeking_job": True,
        },
    ),
]

OrientationBody = Annotated[
    OrientationQuery,
    Body(
        title="Situation de la personne",
        description=(
            "Ce que la personne dit de sa situation. ``as_of`` (date de référence) vaut "
            "aujourd'hui, en France, quand il est absent ; ``region`` est un code de région "
            "INSEE (ex. 53 pour la Bretagne). Tout champ inconnu est refusé."
        ),
        examples=QUERY_EXAMPLES,
    ),
]


class OrientationController(Controller):
    path = "/orientation"
    tags = ["Orientation"]  # noqa: RUF012 (Litestar reads it as a class attribute)

    @post(
        "/",
        sync_to_thread=False,  # pure CPU, microseconds: no thread hop
        status_code=HTTP_200_OK,
        operation_id="orienter",
        summary="Orienter une personne vers les opérateurs du CEP",
        description=(
            "Dit si la personne peut bénéficier du conseil en évolution professionnelle et "
            "liste les opérateurs compétents pour elle, chacun avec la raison, en français. "
            "``redirect`` vaut ``null`` sauf quand le bon service est extérieur au kit (par "
            "exemple les conseillers mobilité carrière pour un agent public). Sans "
            "authentification ; aucune donnée n'est conservée."
        ),
        response_description="La réponse d'orientation.",
        responses=problem_responses(400, 413, 500, 503),
    )
    def orient(self, data: OrientationBody, kit: NamedDependency[Kit]) -> OrientationResponse:
        orientation = kit.orientation.orient(data.to_situation(kit.today()))
        return OrientationResponse.from_domain(orientation)

"""``POST /api/v1/funding/simulate``: a funding plan for a training, without a case.

Thin on purpose: the body is decoded strictly into the service's `SimulationQuery` (see
`cep_core.web.body`), `FundingService.simulate` builds the plan with the same `build_plan`
cases use, and its `SimulationAnswer` is the response. The semantics (order of funders,
participation, rounding, plugin funders) are documented in `cep_core.services.funding`.
Stateless and without authentication: nothing is stored.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated

from litestar import Controller, post
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import Body
from litestar.status_codes import HTTP_200_OK

from cep_core.kit import Kit
from cep_core.services.funding import SimulationAnswer, SimulationQuery
from cep_core.web.openapi import problem_responses

QUERY_EXAMPLES = [
    Example(
        summary="Salarié en CDI, certification à 1 000 €, solde CPF de 500 €",
        value={
            "purchase_date": "2025-03-10",
            "training": {
                "cost_eur": 1000,
                "hours": 120,
                "kind": "certification",
                "certification_code": "RNCP34828",
                "qualiopi": True,
                "start_date": "2025-05-05",
            },
            "situation": {
                "status": "employee",
                "disability_recognition": False,
                "cpf_balance_eur": 500,
                "employer_topup_eur": 0,
                "contract": "cdi",
                "months_salaried_total": 60,
                "months_current_employer": 30,
                "months_salaried_last_60": 60,
                "months_cdd_last_12": 0,
            },
        },
    ),
    Example(
        summary="Demandeuse d'emploi, bilan de compétences",
        value={
            "purchase_date": "2025-03-10",
            "training": {
                "cost_eur": 1800,
                "hours": 24,
                "kind": "bilan",
                "certification_code": None,
                "qualiopi": True,
                "start_date": "2025-04-22",
            },
            "situation": {
                "status": "jobseeker",
                "disability_recognition": False,
                "cpf_balance_eur": 1200,
                "contract": None,
                "months_salaried_total": 96,
                "months_current_employer": 0,
                "months_salaried_last_60": 40,
                "months_cdd_last_12": 0,
            },
        },
    ),
]

SimulationBody = Annotated[
    SimulationQuery,
    Body(
        title="Formation et situation à simuler",
        description=(
            "``training`` décrit l'action (prix en euros, nature, code RNCP/RS, Qualiopi, "
            "dates) ; ``situation`` les faits utiles au financement (statut, solde CPF, "
            "abondement de l'employeur, contrat et ancienneté). ``purchase_date`` vaut "
            "aujourd'hui, en France, quand il est absent. Tout champ inconnu est refusé."
        ),
        examples=QUERY_EXAMPLES,
    ),
]

DESCRIPTIONS = {
    400: "Requête invalide : corps non JSON, champ inconnu, manquant ou mal typé, montant "
    "négatif, non fini ou supérieur à 1 000 000 €, statut inconnu, date impossible (achat "
    "avant 2019, formation qui commence avant l'achat ou finit avant de commencer), "
    "participation payée par l'organisme de formation. ``errors`` donne le chemin de chaque "
    "champ en cause (ex. ``training.cost_eur``).",
    413: "Corps de requête trop volumineux (1 Mo au plus).",
    503: "Les paramètres de financement ou un module (plugin) indispensable sont "
    "indisponibles ; réessayez plus tard.",
}


def _responses() -> dict[int, ResponseSpec]:
    specs = problem_responses(400, 413, 500, 503)
    return {
        status: dataclasses.replace(spec, description=DESCRIPTIONS.get(status, spec.description))
        for status, spec in specs.items()
    }


class FundingController(Controller):
    path = "/funding"
    tags = ["Financement"]  # noqa: RUF012 (Litestar reads it as a class attribute)

    @post(
        "/simulate",
        sync_to_thread=False,  # pure CPU, microseconds: no thread hop
        status_code=HTTP_200_OK,
        operation_id="simulerFinancement",
        summary="Simuler le plan de financement d'une formation",
        description=(
            "Calcule, sans dossier ni authentification, le plan de financement d'une action : "
            "une ligne par financeur (``funder`` : cpf, employer, opco, region, "
            "france_travail, transitions_pro, agefiph...), la participation forfaitaire au "
            "CPF et son payeur (``holder``, ``employer``, ``opco``, ou ``none`` en cas "
            "d'exonération), le reste à charge (participation comprise quand la personne la "
            "paie), l'éligibilité au projet de transition professionnelle, et des "
            "avertissements en français. Le CPF paie au plus le solde et au plus le prix "
            "moins la participation ; viennent ensuite les montants connus (abondement de "
            "l'employeur...), puis les financeurs qui comblent le reste (abondement de France "
            "Travail, Transitions Pro). Les financeurs au montant inconnu (OPCO, Région, "
            "Agefiph...) sont listés dans ``options`` et comptent 0 €. Montants en euros, "
            "arrondis au centime (moitié vers le haut). Aucune donnée n'est conservée."
        ),
        response_description="Le plan de financement simulé.",
        responses=_responses(),
    )
    def simulate(self, data: SimulationBody, kit: NamedDependency[Kit]) -> SimulationAnswer:
        return kit.funding.simulate(data, kit.today()).answer()

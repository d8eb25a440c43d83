"""``/api/v1/cases/{case_id}/steps``: the flow of a level, and saving one step.

The flow (core steps, the operator's additions and replacements) and every check belong to
`CaseService`; this controller reads one snapshot of the case and copies it out.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, Response, get, put
from litestar.di import NamedDependency
from litestar.openapi.spec import Example
from litestar.params import Body, PathParameter, QueryParameter

from cep_core.domain.case import Level
from cep_core.domain.health_data import redact_steps, restricted_steps, sees_health_data
from cep_core.domain.steps import level_progress, step_states
from cep_core.kit import Kit
from cep_core.web.api.case_http import (
    BEARER_SECURITY,
    CASES_PATH,
    ETAG_HEADER,
    READ_ERRORS,
    WRITE_ERRORS,
    CaseId,
    IfMatch,
    case_responses,
    require_client,
    version_for_write,
)
from cep_core.web.audit import audited
from cep_core.web.auth import ApiClient
from cep_core.web.case_schemas import (
    ProgressOut,
    StepSave,
    StepSavedOut,
    StepsOut,
    StepWithSchemaOut,
)
from cep_core.web.concurrency import entity_tag

StepBody = Annotated[
    StepSave,
    Body(
        title="Réponses de l'étape",
        description=(
            "``data`` : les réponses, selon le schéma de l'étape (``GET .../steps``) ; "
            "``complete`` : false pour un brouillon (gardé tel quel, même incomplet), true "
            "pour terminer l'étape (tout est vérifié, sinon 400 et rien n'est écrit)."
        ),
        examples=[
            Example(
                summary="Compte rendu du niveau 1, terminé",
                value={
                    "data": {
                        "request": "Je souhaite faire le point sur mon parcours.",
                        "clarified_need": "Construire un projet d'évolution réaliste.",
                        "information_given": ["cep_service", "job_market"],
                        "shared_review": "La personne veut être accompagnée.",
                        "continues": True,
                    },
                    "complete": True,
                },
            )
        ],
    ),
]


class CaseStepsController(Controller):
    path = CASES_PATH + "/{case_id:str}/steps"
    tags = ["Dossiers"]  # noqa: RUF012 (Litestar reads it as a class attribute)
    guards = [require_client]  # noqa: RUF012
    security = BEARER_SECURITY

    @audited("case.read", "case")
    @get(
        "/",
        sync_to_thread=True,
        operation_id="lireEtapesDossier",
        summary="Lire les étapes d'un niveau du dossier",
        description=(
            "Les étapes du niveau demandé (par défaut, celui du dossier) : celles du noyau "
            "et celles de l'opérateur, dans l'ordre, chacune avec le schéma JSON de ses "
            "réponses, ce qui a été enregistré, son état (non commencée, brouillon, terminée) "
            "et les étapes qu'elle attend ; puis la progression du niveau. Vide tant qu'aucun "
            "niveau n'a démarré."
        ),
        response_description="Les étapes et la progression.",
        response_headers=[ETAG_HEADER],
        responses=case_responses(400, *READ_ERRORS),
    )
    def list_steps(
        self,
        case_id: CaseId,
        client: NamedDependency[ApiClient],
        kit: NamedDependency[Kit],
        level: Annotated[Level | None, QueryParameter(description="Niveau : 1 ou 2.")] = None,
    ) -> Response[StepsOut]:
        case = kit.cases.get_case(client.operator, case_id)
        wanted = level or case.level
        steps: list[StepWithSchemaOut] = []
        progress = None
        if wanted is not None:
            flow = kit.cases.step_definitions(client.operator, case_id, wanted)
            # SEC-03: health data for counsellors only.
            states = restricted_steps(step_states(flow, case.steps), flow, role=client.role)
            steps = [StepWithSchemaOut.build(s, d) for s, d in zip(states, flow, strict=True)]
            progress = ProgressOut.from_domain(level_progress(wanted, flow, case.steps))
        answer = StepsOut(
            case_id=case.id, version=case.version, level=wanted, steps=steps, progress=progress
        )
        return Response(answer, headers={"ETag": entity_tag(case.id, case.version)})

    @audited("case.update", "case")
    @put(
        "/{step_id:str}",
        sync_to_thread=True,
        operation_id="enregistrerEtapeDossier",
        summary="Enregistrer une étape du dossier",
        description=(
            "Enregistre une étape du niveau en cours. En brouillon (``complete`` false), les "
            "réponses sont gardées telles quelles et ``issues`` dit ce qui empêche encore de "
            "terminer l'étape. Pour la terminer, les réponses doivent passer toutes les "
            "vérifications (schéma, règles du noyau et de l'opérateur, étapes préalables "
            "terminées) : sinon 400 avec chaque erreur, et rien n'est écrit. Exige "
            "``If-Match``."
        ),
        response_description="L'étape enregistrée.",
        response_headers=[ETAG_HEADER],
        responses=case_responses(*WRITE_ERRORS),
    )
    def save_step(
        self,
        case_id: CaseId,
        step_id: Annotated[
            str,
            PathParameter(
                description="Identifiant de l'étape (ex. level1.record).", max_length=100
            ),
        ],
        data: StepBody,
        client: NamedDependency[ApiClient],
        kit: NamedDependency[Kit],
        if_match: IfMatch = None,
    ) -> Response[StepSavedOut]:
        version = version_for_write(kit, client, case_id, if_match)
        saved = kit.cases.save_step(
            client.operator,
            case_id,
            step_id,
            data.data,
            complete=data.complete,
            expected_version=version,
            actor=client.actor,
        )
        if not sees_health_data(client.role):  # SEC-03
            flow = kit.cases.step_definitions(client.operator, case_id, saved.step.level)
            [state] = redact_steps([saved.step], flow)
            saved = msgspec.structs.replace(saved, step=state)
        return Response(
            StepSavedOut.from_domain(saved),
            headers={"ETag": entity_tag(saved.case.id, saved.case.version)},
        )

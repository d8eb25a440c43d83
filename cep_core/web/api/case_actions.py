"""``/api/v1/cases/{case_id}/actions/...``: the status changes of a case.

One route per action, so each documents its own body. The state machine, the flow's checks
(level-1 record before level 2, required steps before a "completed" closure) and the
operators' vetoes are `CaseService.transition`'s: a refusal is a 409 with French issues.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, post
from litestar.di import NamedDependency
from litestar.openapi.spec import Example
from litestar.params import Body
from litestar.status_codes import HTTP_200_OK

from cep_core.kit import Kit
from cep_core.web.api import links
from cep_core.web.api.case_http import (
    BEARER_SECURITY,
    CASES_PATH,
    ETAG_HEADER,
    WRITE_ERRORS,
    CaseId,
    IfMatch,
    case_responses,
    require_client,
    write_case,
)
from cep_core.web.audit import audited
from cep_core.web.auth import ApiClient
from cep_core.web.case_schemas import CaseOut, CloseRequest, CounsellorCaseOut, ReferRequest

CaseAnswer = Response[CaseOut | CounsellorCaseOut]
NO_BODY_ERRORS = tuple(status for status in WRITE_ERRORS if status != 413)

CloseBody = Annotated[
    CloseRequest,
    Body(
        title="Clôture",
        description="Le motif (``completed`` exige toutes les étapes obligatoires du "
        "niveau) et, si besoin, une précision.",
        examples=[Example(summary="Accompagnement terminé", value={"reason": "completed"})],
    ),
]
ReferBody = Annotated[
    ReferRequest,
    Body(
        title="Orientation",
        description="L'opérateur installé vers lequel orienter la personne, le motif et, si "
        "besoin, une précision. L'autre opérateur ouvre son propre dossier : les dossiers ne "
        "sont pas partagés.",
        examples=[
            Example(
                summary="Vers l'opérateur régional, à la demande de la personne",
                value={"target_operator": "regional", "reason": "person_request"},
            )
        ],
    ),
]

_IF_MATCH = " Exige ``If-Match``. Réponse : le dossier modifié et son nouvel ETag."


def _action(
    path: str,
    *,
    operation_id: str,
    summary: str,
    description: str,
    response_description: str,
    errors: tuple[int, ...] = NO_BODY_ERRORS,
) -> post:
    """An action route: POST, answered 200 with the changed case and its ETag, If-Match required."""
    return post(
        path,
        sync_to_thread=True,
        status_code=HTTP_200_OK,
        operation_id=operation_id,
        operation_class=links.CASE_READ,
        summary=summary,
        description=description + _IF_MATCH,
        response_description=response_description,
        response_headers=[ETAG_HEADER],
        responses=case_responses(*errors),
    )


class CaseActionsController(Controller):
    path = CASES_PATH + "/{case_id:str}/actions"
    tags = ["Dossiers"]  # noqa: RUF012 (Litestar reads it as a class attribute)
    guards = [require_client]  # noqa: RUF012
    security = BEARER_SECURITY

    @audited("case.update", "case")
    @_action(
        "/start-level-1",
        operation_id="demarrerNiveau1",
        summary="Démarrer le niveau 1 (accueil individualisé)",
        description="Depuis un dossier ouvert.",
        response_description="Le dossier au niveau 1.",
    )
    def start_level_1(
        self,
        case_id: CaseId,
        client: NamedDependency[ApiClient],
        kit: NamedDependency[Kit],
        if_match: IfMatch = None,
    ) -> CaseAnswer:
        return write_case(kit, client, case_id, if_match, kit.cases.start_level_1)

    @audited("case.update", "case")
    @_action(
        "/start-level-2",
        operation_id="demarrerNiveau2",
        summary="Démarrer le niveau 2 (accompagnement personnalisé)",
        description="Depuis un dossier ouvert, ou du niveau 1 une fois son compte rendu "
        "terminé avec la décision de poursuivre.",
        response_description="Le dossier au niveau 2.",
    )
    def start_level_2(
        self,
        case_id: CaseId,
        client: NamedDependency[ApiClient],
        kit: NamedDependency[Kit],
        if_match: IfMatch = None,
    ) -> CaseAnswer:
        return write_case(kit, client, case_id, if_match, kit.cases.start_level_2)

    @audited("case.update", "case")
    @_action(
        "/pause",
        operation_id="mettreDossierEnPause",
        summary="Mettre le dossier en pause",
        description="Depuis un dossier ouvert ou en cours de niveau ; la reprise est "
        "possible à tout moment, sans délai.",
        response_description="Le dossier en pause.",
    )
    def pause(
        self,
        case_id: CaseId,
        client: NamedDependency[ApiClient],
        kit: NamedDependency[Kit],
        if_match: IfMatch = None,
    ) -> CaseAnswer:
        return write_case(kit, client, case_id, if_match, kit.cases.pause)

    @audited("case.update", "case")
    @_action(
        "/resume",
        operation_id="reprendreDossier",
        summary="Reprendre un dossier en pause",
        description="Le dossier revient au statut qu'il avait avant la pause.",
        response_description="Le dossier repris.",
    )
    def resume(
        self,
        case_id: CaseId,
        client: NamedDependency[ApiClient],
        kit: NamedDependency[Kit],
        if_match: IfMatch = None,
    ) -> CaseAnswer:
        return write_case(kit, client, case_id, if_match, kit.cases.resume)

    @audited("case.update", "case")
    @_action(
        "/close",
        operation_id="cloturerDossier",
        summary="Clôturer le dossier",
        description="Avec un motif ; « completed » (accompagnement mené à son terme) exige "
        "toutes les étapes obligatoires du niveau. Un dossier clôturé ne change plus.",
        response_description="Le dossier clôturé.",
        errors=WRITE_ERRORS,
    )
    def close(
        self,
        case_id: CaseId,
        data: CloseBody,
        client: NamedDependency[ApiClient],
        kit: NamedDependency[Kit],
        if_match: IfMatch = None,
    ) -> CaseAnswer:
        return write_case(
            kit, client, case_id, if_match, kit.cases.close, data.reason, note=data.note
        )

    @audited("case.update", "case")
    @_action(
        "/refer",
        operation_id="orienterVersUnAutreOperateur",
        summary="Orienter la personne vers un autre opérateur",
        description="Le dossier se termine « orienté » ; l'orientation est notée dans le "
        "compte rendu du niveau 1. L'opérateur cible ouvre son propre dossier.",
        response_description="Le dossier orienté.",
        errors=WRITE_ERRORS,
    )
    def refer(
        self,
        case_id: CaseId,
        data: ReferBody,
        client: NamedDependency[ApiClient],
        kit: NamedDependency[Kit],
        if_match: IfMatch = None,
    ) -> CaseAnswer:
        return write_case(
            kit,
            client,
            case_id,
            if_match,
            kit.cases.refer,
            data.target_operator,
            data.reason,
            note=data.note,
        )

"""``/api/v1/cases``: open, find, read a case, its intake, sessions, journal and funding plan.

Thin on purpose: bodies are decoded strictly into the Structs of `cep_core.web.case_schemas`,
`CaseService` decides everything (state machine, operators' rules, concurrency), and its
answers are copied into the role's output Structs. Steps are in `case_steps`, status
changes in `case_actions`; what they share (authentication, If-Match, ETag) in `case_http`.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post, put
from litestar.di import NamedDependency
from litestar.exceptions import PermissionDeniedException
from litestar.openapi.spec import Example
from litestar.params import Body, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from cep_core.domain.case import CaseStatus, Level
from cep_core.domain.forms import FormChannel
from cep_core.kit import Kit
from cep_core.services.cases import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, FundingPlanRequest
from cep_core.services.cases import NewSession as NewSessionStruct
from cep_core.web.api import links
from cep_core.web.api.case_http import (
    BEARER_SECURITY,
    CASES_PATH,
    ETAG_HEADER,
    LOCATION_HEADER,
    READ_ERRORS,
    WRITE_ERRORS,
    CaseId,
    IfMatch,
    case_response,
    case_responses,
    require_client,
    write_case,
)
from cep_core.web.audit import audited
from cep_core.web.auth import ApiClient
from cep_core.web.body import refuse_unknown_query
from cep_core.web.case_schemas import (
    CaseCreate,
    CaseEventOut,
    CaseEventsOut,
    CaseOut,
    CasePageOut,
    CaseSearch,
    CounsellorCaseOut,
    IntakeFormDefinitionOut,
    IntakeFormOut,
    IntakeSubmission,
)
from cep_core.web.idempotency import IDEMPOTENT_ROUTE

CaseAnswer = Response[CaseOut | CounsellorCaseOut]
LIST_PARAMETERS = frozenset({"status", "level", "counsellor_id", "limit", "cursor"})
LIST_HINTS = {
    "name": "La recherche par nom passe par POST /api/v1/cases/search : un nom ne doit "
    "jamais figurer dans une adresse."
}

CREATE_EXAMPLES = [
    Example(
        summary="Salariée en Bretagne, dossier ouvert au niveau 1",
        value={
            "beneficiary": {"first_name": "Maëlle", "last_name": "Roussel"},
            "situation": {"birth_date": "1986-07-14", "status": "employee", "region": "53"},
            "level": 1,
        },
    )
]

CaseCreateBody = Annotated[
    CaseCreate,
    Body(
        title="Dossier à ouvrir",
        description=(
            "La personne (prénom, nom, et si besoin courriel et téléphone), sa situation "
            "(les champs de ``POST /api/v1/orientation``), et au besoin le niveau de départ, "
            "le conseiller référent et les informations d'accueil. Le dossier est ouvert chez "
            "l'opérateur du jeton. Tout champ inconnu est refusé."
        ),
        examples=CREATE_EXAMPLES,
    ),
]
SearchBody = Annotated[
    CaseSearch,
    Body(
        title="Critères de recherche",
        description="Les filtres de la liste, et le nom ou prénom cherché : jamais dans "
        "l'adresse (données personnelles).",
        examples=[Example(summary="Par nom", value={"name": "roussel", "limit": 20})],
    ),
]
IntakeBody = Annotated[
    IntakeSubmission,
    Body(
        title="Informations d'accueil",
        description="Les réponses au formulaire d'accueil de l'opérateur (voir "
        "``GET .../intake-form``) ; elles remplacent les précédentes.",
    ),
]
SessionBody = Annotated[
    NewSessionStruct,
    Body(
        title="Entretien",
        description="Date et heure (avec fuseau), modalité (présentiel, téléphone, visio), "
        "durée ; pour un salarié, s'il a eu lieu hors temps de travail. Les notes sont "
        "confidentielles : seuls les conseillers de l'opérateur les voient.",
        examples=[
            Example(
                summary="Entretien en visio",
                value={
                    "start": "2026-03-02T10:00:00+01:00",
                    "channel": "visio",
                    "duration_minutes": 60,
                    "outside_working_time": True,
                },
            )
        ],
    ),
]
FundingBody = Annotated[
    FundingPlanRequest,
    Body(
        title="Plan de financement à établir",
        description=(
            "Le rang du dispositif du plan d'action à financer et ce que le dossier ne dit "
            "pas : prix, durée, solde CPF, contrat et ancienneté, réponses des financeurs. "
            "Le statut, la reconnaissance de handicap, l'inscription et la région viennent de "
            "la situation du dossier ; la nature, l'intitulé, la certification, Qualiopi et "
            "les dates, du plan d'action. Mêmes calculs que ``POST /api/v1/funding/simulate``."
        ),
        examples=[
            Example(
                summary="Première prestation du plan, solde CPF de 500 €",
                value={
                    "training": {"service": 0, "cost_eur": 1000, "hours": 120},
                    "situation": {"cpf_balance_eur": 500, "contract": "cdi"},
                },
            )
        ],
    ),
]


class CaseController(Controller):
    path = CASES_PATH
    tags = ["Dossiers"]  # noqa: RUF012 (Litestar reads it as a class attribute)
    guards = [require_client]  # noqa: RUF012
    security = BEARER_SECURITY

    @audited("case.create", "case")
    @post(
        "/",
        sync_to_thread=True,
        status_code=HTTP_201_CREATED,
        operation_id="ouvrirDossier",
        **links.with_links(IDEMPOTENT_ROUTE, 201, links.case_links()),
        summary="Ouvrir un dossier à partir d'une orientation",
        description=(
            "Crée la personne et son dossier chez l'opérateur du jeton, en une transaction. "
            "L'orientation est refaite : si elle ne retient pas cet opérateur, la demande est "
            "refusée (400 sur ``operator``, avec les opérateurs compétents) sauf ``force``. "
            "Les informations d'accueil, si elles sont données, sont vérifiées avec le "
            "formulaire de l'opérateur. Réponse : le dossier, son ETag et son adresse."
        ),
        response_description="Le dossier créé.",
        response_headers=[ETAG_HEADER, LOCATION_HEADER],
        responses=case_responses(400, 401, 403, 413, 500, 503),
    )
    def open_case(
        self, data: CaseCreateBody, client: NamedDependency[ApiClient], kit: NamedDependency[Kit]
    ) -> CaseAnswer:
        if data.operator is not None and data.operator != client.operator:
            raise PermissionDeniedException(
                f"Votre jeton agit pour l'opérateur « {client.operator} » : il ne peut pas "
                f"ouvrir de dossier chez « {data.operator} ». Pour adresser la personne à un "
                "autre opérateur, orientez-la depuis son dossier (action « refer »)."
            )
        case = kit.cases.open_case(
            client.operator,
            data.beneficiary,
            data.situation.to_situation(kit.today()),
            level=data.level,
            counsellor_id=data.counsellor_id or client.actor,
            actor=client.actor,
            intake=data.intake,
            channel=data.channel,
            force=data.force,
        )
        return case_response(kit, client, case.id, status_code=HTTP_201_CREATED, created=True)

    @audited("case.list", "case")
    @get(
        "/",
        sync_to_thread=True,
        operation_id="listerDossiers",
        operation_class=links.CASE_PAGE,
        summary="Lister les dossiers de l'opérateur",
        description=(
            "Les dossiers de l'opérateur du jeton, les plus récemment modifiés d'abord, par "
            "pages (``limit``, ``cursor`` : renvoyez le ``next_cursor`` de la page précédente ; "
            "ni doublon ni trou). Filtres combinés : statut, niveau, conseiller. La recherche "
            "par nom passe par ``POST /api/v1/cases/search`` : aucune donnée personnelle dans "
            "l'adresse. Un paramètre inconnu est refusé."
        ),
        response_description="Une page de dossiers.",
        responses=case_responses(400, 401, 500, 503),
    )
    def list_cases(
        self,
        request: Request[Any, Any, Any],
        client: NamedDependency[ApiClient],
        kit: NamedDependency[Kit],
        status: Annotated[
            CaseStatus | None, QueryParameter(description="Statut du dossier.")
        ] = None,
        level: Annotated[Level | None, QueryParameter(description="Niveau : 1 ou 2.")] = None,
        counsellor_id: Annotated[
            str | None,
            QueryParameter(description="Conseiller référent.", min_length=1, max_length=64),
        ] = None,
        limit: Annotated[
            int,
            QueryParameter(ge=1, le=MAX_PAGE_SIZE, description="Taille de page (1 à 200)."),
        ] = DEFAULT_PAGE_SIZE,
        cursor: Annotated[
            str | None, QueryParameter(description="Curseur de la page suivante.", max_length=200)
        ] = None,
    ) -> CasePageOut:
        refuse_unknown_query(request, LIST_PARAMETERS, LIST_HINTS)
        page = kit.cases.list_cases(
            client.operator,
            status=status,
            level=level,
            counsellor_id=counsellor_id,
            limit=limit,
            cursor=cursor,
        )
        return CasePageOut.from_domain(page)

    @audited("case.search", "case", reads=True)
    @post(
        "/search",
        sync_to_thread=True,
        status_code=HTTP_200_OK,
        operation_id="rechercherDossiers",
        operation_class=links.CASE_PAGE,
        summary="Rechercher des dossiers, y compris par nom",
        description=(
            "Les filtres de la liste et la recherche par nom ou prénom (sans accents, "
            "majuscules ni ponctuation ; chaque mot saisi doit être le début d'un mot du "
            "prénom ou du nom : « mar » trouve Martin et Marie), dans le corps de la "
            "requête pour que le nom n'apparaisse dans aucune adresse ni aucun journal de "
            "serveur. Pagination comme la liste (``cursor`` dans le corps)."
        ),
        response_description="Une page de dossiers.",
        responses=case_responses(400, 401, 413, 500, 503),
    )
    def search_cases(
        self, data: SearchBody, client: NamedDependency[ApiClient], kit: NamedDependency[Kit]
    ) -> CasePageOut:
        page = kit.cases.list_cases(
            client.operator,
            status=data.status,
            level=data.level,
            counsellor_id=data.counsellor_id,
            name=data.name,
            limit=data.limit,
            cursor=data.cursor,
        )
        return CasePageOut.from_domain(page)

    @audited("case.read", "case")
    @get(
        "/{case_id:str}",
        sync_to_thread=True,
        operation_id="lireDossier",
        operation_class=links.CASE_READ,
        summary="Lire un dossier",
        description=(
            "Le dossier tel que le rôle du jeton peut le voir : la personne, sa situation, "
            "l'accueil, les entretiens (avec les notes confidentielles pour les seuls "
            "conseillers), les étapes du niveau en cours et la progression, les actions que "
            "le statut permet, la clôture ou l'orientation, le plan de financement. L'en-tête "
            "``ETag`` est à renvoyer dans ``If-Match`` pour le modifier."
        ),
        response_description="Le dossier.",
        response_headers=[ETAG_HEADER],
        responses=case_responses(*READ_ERRORS),
    )
    def get_case(
        self, case_id: CaseId, client: NamedDependency[ApiClient], kit: NamedDependency[Kit]
    ) -> CaseAnswer:
        return case_response(kit, client, case_id)

    @audited("case.read", "case")
    @get(
        "/{case_id:str}/events",
        sync_to_thread=True,
        operation_id="lireJournalDossier",
        summary="Lire le journal d'un dossier",
        description=(
            "L'historique du dossier dans l'ordre (``seq`` 1, 2, 3...) : ouverture, accueil, "
            "entretiens, étapes, changements de statut avec leur motif (un code), plan de "
            "financement ; qui et quand. Jamais le contenu du dossier."
        ),
        response_description="Le journal du dossier.",
        responses=case_responses(*READ_ERRORS),
    )
    def case_events(
        self, case_id: CaseId, client: NamedDependency[ApiClient], kit: NamedDependency[Kit]
    ) -> CaseEventsOut:
        events = kit.cases.case_events(client.operator, case_id)
        return CaseEventsOut(
            case_id=case_id, events=[CaseEventOut.from_domain(event) for event in events]
        )

    @audited("case.read", "case")
    @get(
        "/{case_id:str}/intake-form",
        sync_to_thread=True,
        operation_id="lireFormulaireAccueil",
        summary="Lire le formulaire d'accueil de l'opérateur",
        description=(
            "Le formulaire d'accueil propre à l'opérateur du dossier pour un canal : titre, "
            "aide, et le schéma JSON des réponses (intitulés, aides, types, bornes, choix "
            "possibles). ``form`` vaut ``null`` quand l'opérateur ne demande rien de plus."
        ),
        response_description="Le formulaire.",
        responses=case_responses(400, 401, 404, 500, 503),
    )
    def intake_form(
        self,
        case_id: CaseId,
        client: NamedDependency[ApiClient],
        kit: NamedDependency[Kit],
        channel: Annotated[
            FormChannel, QueryParameter(description="Qui remplit le formulaire.")
        ] = FormChannel.COUNSELLOR,
    ) -> IntakeFormOut:
        kit.cases.get_case(client.operator, case_id)  # 404 unless the caller's operator's
        form = kit.cases.intake_form(client.operator, channel, actor=client.actor)
        return IntakeFormOut(
            channel=channel,
            form=None if form is None else IntakeFormDefinitionOut.from_domain(form),
        )

    @audited("case.update", "case")
    @put(
        "/{case_id:str}/intake",
        sync_to_thread=True,
        operation_id="enregistrerAccueil",
        operation_class=links.CASE_READ,
        summary="Enregistrer les informations d'accueil",
        description=(
            "Vérifie les réponses avec le formulaire de l'opérateur pour le canal (toutes les "
            "erreurs à la fois, chacune avec son chemin), puis les enregistre à la place des "
            "précédentes. Exige ``If-Match``."
        ),
        response_description="Le dossier modifié.",
        response_headers=[ETAG_HEADER],
        responses=case_responses(*WRITE_ERRORS),
    )
    def submit_intake(
        self,
        case_id: CaseId,
        data: IntakeBody,
        client: NamedDependency[ApiClient],
        kit: NamedDependency[Kit],
        if_match: IfMatch = None,
    ) -> CaseAnswer:
        return write_case(
            kit, client, case_id, if_match, kit.cases.submit_intake, data.channel, data.answers
        )

    @audited("case.update", "case")
    @post(
        "/{case_id:str}/sessions",
        sync_to_thread=True,
        status_code=HTTP_201_CREATED,
        operation_id="enregistrerEntretien",
        **links.with_links(IDEMPOTENT_ROUTE, 201, links.case_links()),
        summary="Enregistrer un entretien",
        description=(
            "Ajoute un entretien au dossier (même en pause ; pas s'il est clôturé ou orienté). "
            "Le conseiller est par défaut l'acteur du jeton. Réponse : le dossier, où "
            "l'entretien figure dans ``sessions``. Exige ``If-Match``."
        ),
        response_description="Le dossier modifié.",
        response_headers=[ETAG_HEADER],
        responses=case_responses(*WRITE_ERRORS),
    )
    def record_session(
        self,
        case_id: CaseId,
        data: SessionBody,
        client: NamedDependency[ApiClient],
        kit: NamedDependency[Kit],
        if_match: IfMatch = None,
    ) -> CaseAnswer:
        return write_case(
            kit,
            client,
            case_id,
            if_match,
            kit.cases.record_session,
            data,
            status_code=HTTP_201_CREATED,
        )

    @audited("case.update", "case")
    @put(
        "/{case_id:str}/funding-plan",
        sync_to_thread=True,
        operation_id="etablirPlanFinancement",
        summary="Établir le plan de financement du plan d'action",
        description=(
            "Calcule le plan de financement d'un dispositif du plan d'action (terminé) du "
            "dossier, avec les règles de l'opérateur, et l'enregistre avec le dossier (il "
            "remplace le précédent). Pour les mêmes faits, mêmes montants que le simulateur. "
            "Un plan que les contrôles refusent (Qualiopi, plafonds, délais...) n'est pas "
            "enregistré : 400, chemins sous ``funding_plan``. Exige ``If-Match``."
        ),
        response_description="Le dossier, avec son plan de financement.",
        response_headers=[ETAG_HEADER],
        responses=case_responses(*WRITE_ERRORS),
    )
    def attach_funding_plan(
        self,
        case_id: CaseId,
        data: FundingBody,
        client: NamedDependency[ApiClient],
        kit: NamedDependency[Kit],
        if_match: IfMatch = None,
    ) -> CaseAnswer:
        return write_case(kit, client, case_id, if_match, kit.cases.attach_funding_plan, data)

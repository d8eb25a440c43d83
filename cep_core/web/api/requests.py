"""``/api/v1/requests``: the operator's queue of appointment requests, for its counsellors.

Thin on purpose: `RequestService` decides (the claim that keeps two counsellors from both
accepting, the case opened on acceptance, the e-mails), the handlers copy its answers into
the output Structs below. Every route acts for the operator of the caller's token: another
operator's request is "not found" (404), never 403 (SEC-01). The public request itself is a
page form (``/demander-un-rendez-vous``), not an API call.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Annotated, Any, Final

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import Body, PathParameter, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from cep_core.domain.context import Role
from cep_core.domain.forms import SessionChannel
from cep_core.domain.health_data import sees_health_data
from cep_core.domain.requests import (
    AppointmentInput,
    AppointmentRequest,
    DeclineInput,
    DeclineReason,
    HalfDay,
    RequestStatus,
    Weekday,
)
from cep_core.domain.situation import Status
from cep_core.kit import Kit
from cep_core.services.requests import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, RequestPage
from cep_core.web.api import links
from cep_core.web.api.case_http import (
    BEARER_SECURITY,
    LOCATION_HEADER,
    case_responses,
    case_url,
    require_client,
)
from cep_core.web.audit import audited
from cep_core.web.auth import ApiClient
from cep_core.web.body import refuse_unknown_query
from cep_core.web.idempotency import IDEMPOTENT_ROUTE

REQUESTS_PATH: Final = "/requests"
LIST_PARAMETERS: Final = frozenset({"status", "limit", "cursor"})

RequestId = Annotated[
    str,
    PathParameter(
        description="Identifiant de la demande (32 caractères hexadécimaux).", max_length=64
    ),
]


class SituationOut(msgspec.Struct, frozen=True, kw_only=True):
    """The situation the request was oriented with, without the disability status (SEC-03)
    (``age_only``: only an age was given, the birth date is derived from it)."""

    birth_date: date
    as_of: date
    age: int
    age_only: bool
    status: Status
    cadre: bool
    registered_jobseeker: bool
    working: bool
    seeking_job: bool
    region: str | None


class CounsellorSituationOut(SituationOut, frozen=True, kw_only=True):
    """The situation with the disability status (health data: counsellors only)."""

    disability_recognition: bool


class AppointmentOut(msgspec.Struct, frozen=True, kw_only=True):
    starts_at: datetime
    duration_minutes: int
    channel: SessionChannel
    location: str | None
    counsellor_name: str | None
    proposed_at: datetime


class _RequestFields(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    reference: str
    status: RequestStatus
    created_at: datetime
    updated_at: datetime
    first_name: str
    last_name: str
    email: str
    phone: str | None
    preferred_channel: SessionChannel
    preferred_days: list[Weekday]
    preferred_half_days: list[HalfDay]
    message: str | None
    consent_given_at: datetime
    consent_notice_version: str
    decided_at: datetime | None
    decided_by: str | None
    decline_reason: DeclineReason | None
    decline_text: str | None
    case_id: str | None
    appointment: AppointmentOut | None


class RequestOut(_RequestFields, frozen=True, kw_only=True):
    """A request as the operator's managers see it: without the disability status."""

    situation: SituationOut


class CounsellorRequestOut(_RequestFields, frozen=True, kw_only=True):
    """A request as the operator's counsellors see it."""

    situation: CounsellorSituationOut


def request_out(request: AppointmentRequest, role: Role) -> RequestOut | CounsellorRequestOut:
    """The role's Struct: health data only for those who need it (`sees_health_data`)."""
    facts = request.situation
    situation: dict[str, Any] = {
        "birth_date": facts.birth_date,
        "as_of": facts.as_of,
        "age": facts.age,
        "age_only": request.age_only,
        "status": facts.status,
        "cadre": facts.cadre,
        "registered_jobseeker": facts.registered_jobseeker,
        "working": facts.working,
        "seeking_job": facts.seeking_job,
        "region": facts.region,
    }
    appointment = request.appointment
    fields: dict[str, Any] = {
        "id": request.id,
        "reference": request.reference,
        "status": request.status,
        "created_at": request.created_at,
        "updated_at": request.updated_at,
        "first_name": request.identity.first_name,
        "last_name": request.identity.last_name,
        "email": request.contact.email,
        "phone": request.contact.phone,
        "preferred_channel": request.preferences.channel,
        "preferred_days": list(request.preferences.days),
        "preferred_half_days": list(request.preferences.half_days),
        "message": request.message,
        "consent_given_at": request.consent.given_at,
        "consent_notice_version": request.consent.notice_version,
        "decided_at": request.decided_at,
        "decided_by": request.decided_by,
        "decline_reason": request.decline_reason,
        "decline_text": request.decline_text,
        "case_id": request.case_id,
        "appointment": None
        if appointment is None
        else AppointmentOut(
            starts_at=appointment.starts_at,
            duration_minutes=appointment.duration_minutes,
            channel=appointment.channel,
            location=appointment.location,
            counsellor_name=appointment.counsellor_name,
            proposed_at=appointment.proposed_at,
        ),
    }
    if sees_health_data(role):
        return CounsellorRequestOut(
            **fields,
            situation=CounsellorSituationOut(
                **situation, disability_recognition=facts.disability_recognition
            ),
        )
    return RequestOut(**fields, situation=SituationOut(**situation))


RequestAnswer = RequestOut | CounsellorRequestOut


class RequestSummaryOut(msgspec.Struct, frozen=True, kw_only=True):
    """A request as the queue lists it; ``GET /api/v1/requests/{id}`` gives the rest."""

    id: str
    reference: str
    status: RequestStatus
    created_at: datetime
    first_name: str
    last_name: str
    preferred_channel: SessionChannel
    appointment_starts_at: datetime | None
    case_id: str | None

    @classmethod
    def from_domain(cls, request: AppointmentRequest) -> RequestSummaryOut:
        return cls(
            id=request.id,
            reference=request.reference,
            status=request.status,
            created_at=request.created_at,
            first_name=request.identity.first_name,
            last_name=request.identity.last_name,
            preferred_channel=request.preferences.channel,
            appointment_starts_at=None
            if request.appointment is None
            else request.appointment.starts_at,
            case_id=request.case_id,
        )


class RequestPageOut(msgspec.Struct, frozen=True, kw_only=True):
    """One page of requests; ``next_cursor`` (null on the last page) fetches the next."""

    items: list[RequestSummaryOut]
    next_cursor: str | None

    @classmethod
    def from_domain(cls, page: RequestPage) -> RequestPageOut:
        return cls(
            items=[RequestSummaryOut.from_domain(item) for item in page.items],
            next_cursor=page.next_cursor,
        )


class AcceptedOut(msgspec.Struct, frozen=True, kw_only=True):
    """The accepted request and the case opened from it (its address is in ``Location``)."""

    id: str
    reference: str
    status: RequestStatus
    case_id: str


DeclineBody = Annotated[
    DeclineInput,
    Body(
        title="Refus",
        description="Le motif du refus (une valeur de la liste) et, pour ``other``, une "
        "précision obligatoire.",
        examples=[Example(summary="Demande en double", value={"reason": "duplicate"})],
    ),
]
AppointmentBody = Annotated[
    AppointmentInput,
    Body(
        title="Rendez-vous proposé",
        description="Date et heure (avec fuseau, à venir), modalité, durée en minutes (par "
        "défaut celle des paramètres de l'opérateur) et lieu (obligatoire sur place). La "
        "personne le reçoit par courriel avec une invitation .ics ; une nouvelle proposition "
        "remplace la précédente.",
        examples=[
            Example(
                summary="En visioconférence",
                value={
                    "starts_at": "2030-03-04T10:00:00+01:00",
                    "channel": "visio",
                    "duration_minutes": 60,
                },
            )
        ],
    ),
]

DESCRIPTIONS: Final[dict[int, str]] = {
    404: "Demande introuvable pour l'opérateur du jeton (une demande d'un autre opérateur "
    "l'est aussi).",
    409: "L'état de la demande refuse l'action : déjà acceptée ou refusée, en cours "
    "d'acceptation par un collègue, ou refusée (plus de rendez-vous). ``errors`` dit pourquoi.",
}


def request_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """The documented error responses of a request route (the one problem format)."""
    return {
        status: dataclasses.replace(spec, description=DESCRIPTIONS.get(status, spec.description))
        for status, spec in case_responses(*statuses).items()
    }


class RequestController(Controller):
    path = REQUESTS_PATH
    tags = ["Demandes de rendez-vous"]  # noqa: RUF012 (Litestar reads it as a class attribute)
    guards = [require_client]  # noqa: RUF012
    security = BEARER_SECURITY

    @audited("request.list", "request")
    @get(
        "/",
        sync_to_thread=True,
        operation_id="listerDemandes",
        summary="Lister les demandes de rendez-vous de l'opérateur",
        description=(
            "Les demandes reçues par le formulaire public, pour l'opérateur du jeton. Filtre "
            "``status`` (``pending`` : la file, de la plus ancienne à la plus récente ; les "
            "autres, et toutes sans filtre, de la plus récente à la plus ancienne). Par pages "
            "(``limit``, ``cursor`` : renvoyez le ``next_cursor`` de la page précédente). Un "
            "paramètre inconnu est refusé."
        ),
        response_description="Une page de demandes.",
        responses=request_responses(400, 401, 500, 503),
    )
    def list_requests(
        self,
        request: Request[Any, Any, Any],
        client: NamedDependency[ApiClient],
        kit: NamedDependency[Kit],
        status: Annotated[
            RequestStatus | None, QueryParameter(description="Statut des demandes.")
        ] = None,
        limit: Annotated[
            int,
            QueryParameter(ge=1, le=MAX_PAGE_SIZE, description="Taille de page (1 à 200)."),
        ] = DEFAULT_PAGE_SIZE,
        cursor: Annotated[
            str | None, QueryParameter(description="Curseur de la page suivante.", max_length=200)
        ] = None,
    ) -> RequestPageOut:
        refuse_unknown_query(request, LIST_PARAMETERS)
        page = kit.requests.list_requests(
            client.operator, status=status, limit=limit, cursor=cursor
        )
        return RequestPageOut.from_domain(page)

    @audited("request.read", "request")
    @get(
        "/{request_id:str}",
        sync_to_thread=True,
        operation_id="lireDemande",
        summary="Lire une demande de rendez-vous",
        description=(
            "La demande : la personne et ses coordonnées, ses préférences (modalité, jours, "
            "demi-journées), son message, la situation qui l'a orientée, son consentement "
            "(date et version de la notice), la décision et le rendez-vous proposé."
        ),
        response_description="La demande.",
        responses=request_responses(400, 401, 404, 500, 503),
    )
    def get_request(
        self, request_id: RequestId, client: NamedDependency[ApiClient], kit: NamedDependency[Kit]
    ) -> RequestAnswer:
        return request_out(kit.requests.get(client.operator, request_id), client.role)

    @audited("request.accept", "request")
    @post(
        "/{request_id:str}/accept",
        sync_to_thread=True,
        status_code=HTTP_201_CREATED,
        operation_id="accepterDemande",
        **links.with_links(
            IDEMPOTENT_ROUTE, 201, links.case_links("$response.body#/case_id", writes=False)
        ),
        summary="Accepter une demande : ouvrir son dossier",
        description=(
            "Ouvre le dossier de la personne (identité, coordonnées et situation de la "
            "demande ; canal : formulaire public) avec le porteur du jeton pour conseiller, "
            "puis lie la demande au dossier. De deux conseillers qui acceptent en même temps, "
            "un seul réussit (l'autre reçoit 409). Si l'orientation ne retient plus "
            "l'opérateur, 400 et la demande reste en attente. Réponse : la demande et "
            "l'identifiant du dossier, dont l'adresse est dans ``Location``."
        ),
        response_description="La demande acceptée et son dossier.",
        response_headers=[LOCATION_HEADER],
        responses=request_responses(400, 401, 404, 409, 500, 503),
    )
    def accept(
        self, request_id: RequestId, client: NamedDependency[ApiClient], kit: NamedDependency[Kit]
    ) -> Response[AcceptedOut]:
        accepted = kit.requests.accept(client.operator, request_id, actor=client.actor)
        return Response(
            AcceptedOut(
                id=accepted.request.id,
                reference=accepted.request.reference,
                status=accepted.request.status,
                case_id=accepted.case.id,
            ),
            status_code=HTTP_201_CREATED,
            headers={"Location": case_url(accepted.case.id)},
        )

    @audited("request.decline", "request")
    @post(
        "/{request_id:str}/decline",
        sync_to_thread=True,
        status_code=HTTP_200_OK,
        operation_id="refuserDemande",
        summary="Refuser une demande",
        description=(
            "Refuse une demande en attente, avec un motif (et une précision pour ``other``). "
            "Impossible pendant qu'un collègue l'accepte, ou une fois décidée (409)."
        ),
        response_description="La demande refusée.",
        responses=request_responses(400, 401, 404, 409, 413, 500, 503),
    )
    def decline(
        self,
        request_id: RequestId,
        data: DeclineBody,
        client: NamedDependency[ApiClient],
        kit: NamedDependency[Kit],
    ) -> RequestAnswer:
        declined = kit.requests.decline(client.operator, request_id, data, actor=client.actor)
        return request_out(declined, client.role)

    @audited("request.update", "request")
    @post(
        "/{request_id:str}/appointment",
        sync_to_thread=True,
        status_code=HTTP_200_OK,
        operation_id="proposerRendezVous",
        summary="Proposer un rendez-vous",
        description=(
            "Enregistre le rendez-vous proposé sur la demande (en attente ou acceptée) et "
            "l'envoie à la personne par courriel, avec une invitation .ics, dans la même "
            "transaction. Le nom du conseiller est celui du compte du jeton, s'il y en a un."
        ),
        response_description="La demande et son rendez-vous.",
        responses=request_responses(400, 401, 404, 409, 413, 500, 503),
    )
    def propose_appointment(
        self,
        request_id: RequestId,
        data: AppointmentBody,
        client: NamedDependency[ApiClient],
        kit: NamedDependency[Kit],
    ) -> RequestAnswer:
        name = None
        if client.user_id is not None:
            user = kit.accounts.get_user(client.user_id, operator=client.operator)
            name = None if user is None else user.display_name
        proposed = kit.requests.propose_appointment(
            client.operator, request_id, data, actor=client.actor, counsellor_name=name
        )
        return request_out(proposed, client.role)

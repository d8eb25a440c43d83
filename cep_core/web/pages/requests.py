"""The operator's queue of appointment requests, and the operator's settings.

Counsellors and managers see their own operator's requests only (another operator's request
is "not found", SEC-01): the queue, a request, and three actions — accept (a case is opened
and the counsellor lands on it), decline with a reason, propose an appointment (e-mailed to
the person with an invitation). Managers also edit the operator's settings. Thin: the rules
are `RequestService`'s and `OperatorSettingsService`'s.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Annotated, Any, Final

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import PathParameter, QueryParameter

from cep_core.clock import PARIS
from cep_core.domain.accounts import StaffUser
from cep_core.domain.context import Role
from cep_core.domain.forms import SessionChannel
from cep_core.domain.health_data import sees_health_data
from cep_core.domain.issues import InvalidInput
from cep_core.domain.regions import regions
from cep_core.domain.requests import (
    APPOINTMENT_MAX_MINUTES,
    APPOINTMENT_MIN_MINUTES,
    CHANNEL_LABELS,
    DECLINE_REASON_LABELS,
    DECLINE_TEXT_MAX_LENGTH,
    HALF_DAY_LABELS,
    LOCATION_MAX_LENGTH,
    REQUEST_STATUS_LABELS,
    RETENTION_MAX_MONTHS,
    RETENTION_MIN_MONTHS,
    WEEKDAY_LABELS,
    WELCOME_MAX_LENGTH,
    AppointmentRequest,
    RequestStatus,
)
from cep_core.domain.retention import default_retention_months
from cep_core.domain.situation import STATUS_LABELS
from cep_core.kit import Kit
from cep_core.services.operator_settings import SettingsConflict
from cep_core.services.requests import RequestConflict
from cep_core.web.audit import audited
from cep_core.web.pages.common import (
    FormData,
    FormError,
    blocking,
    current_staff,
    operator_staff,
    read_form,
)
from cep_core.web.pages.public import FLAG_LABELS, FLAGS, form_errors, mail_after_response
from cep_core.web.pages.rendering import Pages, see_other

QUEUE_URL: Final = "/espace/demandes"
CASES_URL: Final = "/espace/dossiers"
PAGE_SIZE: Final = 25
RequestId = Annotated[str, PathParameter(max_length=64)]

# The queue's filters, as they appear in the address (enumerations only, SEC-11).
FILTERS: Final[dict[str, RequestStatus | None]] = {
    "en-attente": RequestStatus.PENDING,
    "acceptees": RequestStatus.ACCEPTED,
    "refusees": RequestStatus.DECLINED,
    "toutes": None,
}
FILTER_LABELS: Final = {
    "en-attente": "En attente",
    "acceptees": "Acceptées",
    "refusees": "Refusées",
    "toutes": "Toutes",
}
DONE_NOTICES: Final = {
    "refusee": "La demande est refusée.",
    "rendez-vous": "Le rendez-vous est proposé : la personne le reçoit par courriel, avec une "
    "invitation à ajouter à son agenda.",
}
DECLINE_IDS: Final = {"reason": "decline_reason", "text": "decline_text"}
APPOINTMENT_IDS: Final = {
    "starts_at": "appointment_date",
    "duration_minutes": "duration_minutes",
    "channel": "channel",
    "location": "location",
}
SETTINGS_IDS: Final = {
    "queue_email": "queue_email",
    "public_requests_open": "public_requests_open",
    "welcome_text": "welcome_text",
    "default_duration_minutes": "default_duration_minutes",
    "retention_months": "retention_months",
}
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$|^(\d{1,2})/(\d{1,2})/(\d{4})$")
_TIME = re.compile(r"^(\d{1,2})[:hH](\d{2})$")
# Stands in for an unreadable date so that the other fields are still checked.
_SOME_INSTANT: Final = "2000-01-01T00:00:00+00:00"


def request_url(request_id: str) -> str:
    return f"{QUEUE_URL}/{request_id}"


def _starts_at(form: FormData) -> tuple[str | None, list[FormError]]:
    """The appointment's date and time, typed in Paris time, as an aware ISO date-time;
    each field's own problem otherwise."""
    errors: list[FormError] = []
    day = _DATE.match(form.get("appointment_date"))
    found_day = None
    if day is not None:
        year, month, dom = (day[1], day[2], day[3]) if day[1] else (day[6], day[5], day[4])
        try:
            found_day = date(int(year), int(month), int(dom))
        except ValueError:
            found_day = None
    if found_day is None:
        errors.append(
            FormError(
                field="appointment_date",
                message="Indiquez une date du calendrier (JJ/MM/AAAA), par exemple 04/03/2027.",
            )
        )
    hour = _TIME.match(form.get("appointment_time"))
    found_time = None
    if hour is not None and int(hour[1]) < 24 and int(hour[2]) < 60:
        found_time = time(int(hour[1]), int(hour[2]))
    if found_time is None:
        errors.append(
            FormError(
                field="appointment_time",
                message="Indiquez l'heure du rendez-vous (HH:MM), par exemple 14:30.",
            )
        )
    if found_day is None or found_time is None:
        return None, errors
    return datetime.combine(found_day, found_time, tzinfo=PARIS).isoformat(), []


class RequestQueueController(Controller):
    path = QUEUE_URL

    @audited("request.list", "request")
    @get("/", name="requests-queue")
    async def queue(
        self,
        request: Request[Any, Any, Any],
        kit: NamedDependency[Kit],
        pages: NamedDependency[Pages],
        statut: Annotated[str | None, QueryParameter(max_length=20)] = None,
        suite: Annotated[str | None, QueryParameter(max_length=200)] = None,
        reference: Annotated[str | None, QueryParameter(max_length=40)] = None,
    ) -> Response[Any]:
        _, operator = await operator_staff(request, kit)
        notice = None
        if reference:
            found = await blocking(kit.requests.find_by_reference, operator, reference)
            if found is not None:
                return see_other(request_url(found.id))
            notice = f"Aucune demande de votre structure ne porte la référence « {reference} »."
        chosen = statut if statut in FILTERS else "en-attente"
        try:
            page = await blocking(
                kit.requests.list_requests,
                operator,
                status=FILTERS[chosen],
                limit=PAGE_SIZE,
                cursor=suite,
            )
        except InvalidInput:  # a stale or edited cursor: back to the first page
            page = await blocking(
                kit.requests.list_requests, operator, status=FILTERS[chosen], limit=PAGE_SIZE
            )
            suite = None
        pending = await blocking(kit.requests.count_pending, operator)
        return await pages.render(
            request,
            "requests/queue.html",
            title=f"Demandes de rendez-vous — {FILTER_LABELS[chosen]}",
            page=page,
            chosen=chosen,
            filters=FILTER_LABELS,
            pending=pending,
            paged=suite is not None,
            notice=notice,
            reference=reference or "",
            status_labels=REQUEST_STATUS_LABELS,
            channel_labels=CHANNEL_LABELS,
        )

    @audited("request.read", "request")
    @get("/{request_id:str}", name="request-detail")
    async def detail(
        self,
        request: Request[Any, Any, Any],
        kit: NamedDependency[Kit],
        pages: NamedDependency[Pages],
        request_id: RequestId,
        fait: Annotated[str | None, QueryParameter(max_length=20)] = None,
    ) -> Response[Any]:
        user, operator = await operator_staff(request, kit)
        found = await blocking(kit.requests.get, operator, request_id)
        return await self._page(
            request, kit, pages, user, found, errors=[], notice=DONE_NOTICES.get(fait or "")
        )

    @audited("request.accept", "request")
    @post("/{request_id:str}/accepter", name="request-accept")
    async def accept(
        self,
        request: Request[Any, Any, Any],
        kit: NamedDependency[Kit],
        pages: NamedDependency[Pages],
        request_id: RequestId,
    ) -> Response[Any]:
        user, operator = await operator_staff(request, kit)
        try:
            accepted = await blocking(kit.requests.accept, operator, request_id, actor=user.id)
        except RequestConflict as exc:
            return await self._failed(request, kit, pages, user, request_id, exc.issues, 409)
        except InvalidInput as exc:
            return await self._failed(request, kit, pages, user, request_id, exc.issues, 400)
        return see_other(f"{CASES_URL}/{accepted.case.id}?message=demande-acceptee")

    @audited("request.decline", "request")
    @post("/{request_id:str}/refuser", name="request-decline")
    async def decline(
        self,
        request: Request[Any, Any, Any],
        kit: NamedDependency[Kit],
        pages: NamedDependency[Pages],
        request_id: RequestId,
    ) -> Response[Any]:
        user, operator = await operator_staff(request, kit)
        form = await read_form(request)
        data = {"reason": form.get("decline_reason")} if form.get("decline_reason") else {}
        if form.get("decline_text"):
            data["text"] = form.get("decline_text")
        try:
            decision = kit.requests.parse_decline(data)
            await blocking(kit.requests.decline, operator, request_id, decision, actor=user.id)
        except InvalidInput as exc:
            errors = form_errors(exc.issues, DECLINE_IDS)
            return await self._failed(request, kit, pages, user, request_id, errors, 400, form)
        except RequestConflict as exc:
            return await self._failed(request, kit, pages, user, request_id, exc.issues, 409, form)
        return see_other(f"{request_url(request_id)}?fait=refusee")

    @audited("request.update", "request")
    @post("/{request_id:str}/rendez-vous", name="request-appointment")
    async def propose(
        self,
        request: Request[Any, Any, Any],
        kit: NamedDependency[Kit],
        pages: NamedDependency[Pages],
        request_id: RequestId,
    ) -> Response[Any]:
        user, operator = await operator_staff(request, kit)
        form = await read_form(request)
        starts_at, errors = _starts_at(form)
        data: dict[str, Any] = {"starts_at": starts_at or _SOME_INSTANT}
        for name in ("channel", "location"):
            if form.get(name):
                data[name] = form.get(name)
        duration = form.get("duration_minutes")
        if duration:
            data["duration_minutes"] = int(duration) if duration.isdigit() else duration
        try:  # every mistake at once: the other fields are checked even without a date
            proposal = kit.requests.parse_appointment(data)
        except InvalidInput as exc:
            errors += form_errors(exc.issues, APPOINTMENT_IDS)
        else:
            if not errors:
                try:
                    await blocking(
                        kit.requests.propose_appointment,
                        operator,
                        request_id,
                        proposal,
                        actor=user.id,
                        counsellor_name=user.display_name,
                    )
                except InvalidInput as exc:
                    errors = form_errors(exc.issues, APPOINTMENT_IDS)
                except RequestConflict as exc:
                    return await self._failed(
                        request, kit, pages, user, request_id, exc.issues, 409, form
                    )
        if errors:
            return await self._failed(request, kit, pages, user, request_id, errors, 400, form)
        response = see_other(f"{request_url(request_id)}?fait=rendez-vous")
        response.background = mail_after_response(kit)
        return response

    async def _failed(
        self,
        request: Request[Any, Any, Any],
        kit: Kit,
        pages: Pages,
        user: StaffUser,
        request_id: str,
        problems: Any,
        status_code: int,
        form: FormData | None = None,
    ) -> Response[Any]:
        errors = [
            problem if isinstance(problem, FormError) else FormError(message=problem.message)
            for problem in problems
        ]
        assert user.operator is not None
        found = await blocking(kit.requests.get, user.operator, request_id)
        return await self._page(
            request,
            kit,
            pages,
            user,
            found,
            errors=errors,
            notice=None,
            values=form.as_dict() if form else {},
            status_code=status_code,
        )

    async def _page(
        self,
        request: Request[Any, Any, Any],
        kit: Kit,
        pages: Pages,
        user: StaffUser,
        found: AppointmentRequest,
        *,
        errors: list[FormError],
        notice: str | None,
        values: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Response[Any]:
        assert user.operator is not None
        settings = await blocking(kit.operator_settings.get, user.operator)
        people = await blocking(kit.accounts.list_users, user.operator)
        names = {person.id: person.display_name for person in people}
        title = f"Demande {found.reference}"
        region = regions().get(found.situation.region or "")
        return await pages.render(
            request,
            "requests/detail.html",
            title=f"Erreur — {title}" if errors else title,
            status_code=status_code,
            item=found,
            errors=errors,
            notice=notice,
            values=values or {},
            names=names,
            health=sees_health_data(Role(user.role)),
            region_name=region.name if region else None,
            flags=[
                FLAG_LABELS[flag]
                for flag in FLAGS
                if getattr(found.situation, flag) and flag != "disability_recognition"
            ],
            status_labels=REQUEST_STATUS_LABELS,
            situation_labels=STATUS_LABELS,
            channel_labels=CHANNEL_LABELS,
            day_labels=WEEKDAY_LABELS,
            half_day_labels=HALF_DAY_LABELS,
            decline_labels=DECLINE_REASON_LABELS,
            decline_choices=list(DECLINE_REASON_LABELS.items()),
            decline_max=DECLINE_TEXT_MAX_LENGTH,
            channel_choices=[(c.value, CHANNEL_LABELS[c]) for c in SessionChannel],
            default_duration=settings.default_duration_minutes,
            duration_bounds=(APPOINTMENT_MIN_MINUTES, APPOINTMENT_MAX_MINUTES),
            location_max=LOCATION_MAX_LENGTH,
        )


class OperatorSettingsController(Controller):
    """The operator's settings: managers only."""

    path = "/espace/parametres"

    @get("/", name="operator-settings")
    async def form(
        self,
        request: Request[Any, Any, Any],
        kit: NamedDependency[Kit],
        pages: NamedDependency[Pages],
        enregistre: Annotated[str | None, QueryParameter(max_length=5)] = None,
    ) -> Response[Any]:
        user = await current_staff(request, kit, Role.MANAGER)
        assert user.operator is not None
        settings = await blocking(kit.operator_settings.get, user.operator)
        values = {
            "queue_email": settings.queue_email or "",
            "public_requests_open": "oui" if settings.public_requests_open else "",
            "welcome_text": settings.welcome_text or "",
            "default_duration_minutes": str(settings.default_duration_minutes),
            "retention_months": str(settings.retention_months or ""),
        }
        return await self._page(
            request,
            kit,
            pages,
            values=values,
            version=settings.version,
            errors=[],
            saved=enregistre == "oui",
        )

    @post("/", name="operator-settings-submit")
    async def submit(
        self,
        request: Request[Any, Any, Any],
        kit: NamedDependency[Kit],
        pages: NamedDependency[Pages],
    ) -> Response[Any]:
        user = await current_staff(request, kit, Role.MANAGER)
        assert user.operator is not None
        form = await read_form(request)
        version = form.get("version")
        expected = int(version) if version.isdigit() and len(version) < 10 else -1
        data: dict[str, Any] = {"public_requests_open": form.get("public_requests_open") == "oui"}
        for name in ("queue_email", "welcome_text"):
            if form.get(name):
                data[name] = form.get(name)
        duration = form.get("default_duration_minutes")
        data["default_duration_minutes"] = int(duration) if duration.isdigit() else duration
        retention = form.get("retention_months")
        if retention:
            data["retention_months"] = int(retention) if retention.isdigit() else retention
        status_code = 400
        try:
            parsed = kit.operator_settings.parse(data)
            await blocking(
                kit.operator_settings.update,
                user.operator,
                parsed,
                actor=user.id,
                expected_version=expected,
            )
        except InvalidInput as exc:
            errors = form_errors(exc.issues, SETTINGS_IDS)
        except SettingsConflict as exc:
            errors, status_code = [FormError(message=str(exc))], 409
        else:
            return see_other("/espace/parametres?enregistre=oui")
        return await self._page(
            request,
            kit,
            pages,
            values=form.as_dict(),
            version=max(expected, 0),
            errors=errors,
            saved=False,
            status_code=status_code,
        )

    async def _page(
        self,
        request: Request[Any, Any, Any],
        kit: Kit,
        pages: Pages,
        *,
        values: dict[str, str],
        version: int,
        errors: list[FormError],
        saved: bool,
        status_code: int = 200,
    ) -> Response[Any]:
        title = "Paramètres de l'opérateur"
        return await pages.render(
            request,
            "requests/settings.html",
            title=f"Erreur — {title}" if errors else title,
            status_code=status_code,
            values=values,
            version=version,
            errors=errors,
            saved=saved,
            fallback=kit.settings.mail.fallback_queue_address,
            welcome_max=WELCOME_MAX_LENGTH,
            duration_bounds=(APPOINTMENT_MIN_MINUTES, APPOINTMENT_MAX_MINUTES),
            retention_bounds=(RETENTION_MIN_MONTHS, RETENTION_MAX_MONTHS),
            retention_default=default_retention_months(kit.today()),
        )

"""Appointment requests use case: the public form's requests and each operator's queue.

- `submit`: the situation is oriented again and the chosen operator must be among the
  competent ones (and accept public requests); the request is stored and, IN THE SAME
  TRANSACTION, the acknowledgement to the person and the notice to the operator's queue are
  queued in the mail outbox — no request without its e-mails, no e-mail without its request.
- the queue (`list_requests`, `count_pending`, `get`, `find_by_reference`): one operator's
  requests only; another operator's request is "not found" (SEC-01).
- `accept`: a conditional update CLAIMS the pending request (of two counsellors accepting at
  once, exactly one gets it), the case is opened from the request's identity and situation
  (channel: public form), then the request is linked to it; if opening fails, the claim is
  released and the request stays pending. A claim left by a crashed process expires after
  `CLAIM_LEASE`.
- `decline` (a reason is required) and `propose_appointment` (stored on the request, e-mailed
  with an ``.ics`` invitation in the same transaction).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from cep_core.clock import Clock, today_in_france
from cep_core.domain.case import Case
from cep_core.domain.forms import FormChannel
from cep_core.domain.issues import InvalidInput, Issue
from cep_core.domain.orientation import Contact, Orientation
from cep_core.domain.requests import (
    APPOINTMENT_MAX_MINUTES,
    APPOINTMENT_MIN_MINUTES,
    CHANNEL_LABELS,
    CONSENT_REQUIRED,
    DECLINE_TEXT_MAX_LENGTH,
    LOCATION_MAX_LENGTH,
    MESSAGE_MAX_LENGTH,
    MIN_AGE,
    NAME_MAX_LENGTH,
    PRIVACY_NOTICE_VERSION,
    Appointment,
    AppointmentInput,
    AppointmentRequest,
    Consent,
    ContactDetails,
    DeclineInput,
    Identity,
    OperatorSettings,
    Preferences,
    PublicSituation,
    RequestStatus,
    RequestSubmission,
    new_reference,
    normalise_reference,
)
from cep_core.domain.situation import MAX_AGE, Situation, Status
from cep_core.errors import CaseNotFound, CaseStateConflict, UnknownOperator
from cep_core.plugins import Hooks
from cep_core.services.cases import CaseService, NewBeneficiary
from cep_core.services.form_input import decode_form, prefixed
from cep_core.services.keyset import check_page_size, decode_keyset, encode_keyset
from cep_core.services.notifications import NotificationService
from cep_core.services.orientation import OrientationService
from cep_core.settings import Settings
from cep_core.storage.database import Database
from cep_core.storage.ids import is_id, new_id
from cep_core.storage.requests import OperatorSettingsRepository, RequestRepository

log = logging.getLogger("cep_core.requests")

# A claim older than this was left by a process that died while accepting: it no longer holds.
CLAIM_LEASE = timedelta(minutes=10)
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
REFERENCE_ATTEMPTS = 5
QUEUE_PATH = "/espace/demandes"

SITUATION_MESSAGES = {
    "status": "Indiquez votre situation professionnelle.",
    "birth_date": "La date de naissance n'est pas valide (exemple : 23/04/1990).",
    "age": f"L'âge doit être un nombre entier de {MIN_AGE} à {MAX_AGE} ans.",
    "region": "Choisissez votre région dans la liste.",
    "cadre": "Réponse invalide.",
    "registered_jobseeker": "Réponse invalide.",
    "disability_recognition": "Réponse invalide.",
    "working": "Réponse invalide.",
    "seeking_job": "Réponse invalide.",
}
SUBMISSION_MESSAGES = {
    "operator": "Choisissez l'opérateur à qui adresser votre demande.",
    "first_name": f"Indiquez votre prénom ({NAME_MAX_LENGTH} caractères au plus).",
    "last_name": f"Indiquez votre nom ({NAME_MAX_LENGTH} caractères au plus).",
    "email": "Indiquez une adresse électronique valide (exemple : prenom.nom@exemple.fr).",
    "phone": "Le numéro de téléphone n'est pas valide (exemple : 06 12 34 56 78).",
    "preferred_channel": "Choisissez comment vous préférez être reçu ou reçue.",
    "preferred_days": "Choisissez les jours parmi ceux proposés.",
    "preferred_half_days": "Choisissez le matin, l'après-midi, ou les deux.",
    "message": f"Votre message ne doit pas dépasser {MESSAGE_MAX_LENGTH} caractères.",
    "consent": "Cochez la case pour accepter le traitement de vos données.",
}
DECLINE_MESSAGES = {
    "reason": "Choisissez le motif du refus.",
    "text": f"La précision ne doit pas dépasser {DECLINE_TEXT_MAX_LENGTH} caractères.",
}
APPOINTMENT_MESSAGES = {
    "starts_at": "Indiquez la date et l'heure du rendez-vous.",
    "channel": "Choisissez la modalité du rendez-vous.",
    "duration_minutes": (
        f"La durée doit être comprise entre {APPOINTMENT_MIN_MINUTES} et "
        f"{APPOINTMENT_MAX_MINUTES} minutes."
    ),
    "location": f"Le lieu tient sur une ligne de {LOCATION_MAX_LENGTH} caractères au plus.",
}


class RequestNotFound(CaseNotFound):
    """No such request for this operator (another operator's request is "not found" too)."""

    def __init__(self, request_id: str) -> None:
        super().__init__(request_id)
        self.request_id = request_id
        self.args = ("Demande introuvable.",)

    def __str__(self) -> str:
        return "Demande introuvable."


class RequestConflict(CaseStateConflict):
    """The request's state forbids the change (already decided, being accepted); HTTP 409."""

    prefix = "Action impossible : "


class RequestPage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of the queue; pass `next_cursor` back for the next one."""

    items: tuple[AppointmentRequest, ...]
    next_cursor: str | None = None


class AcceptedRequest(msgspec.Struct, frozen=True, kw_only=True):
    request: AppointmentRequest
    case: Case


class RequestService:
    def __init__(
        self,
        database: Database,
        hooks: Hooks,
        *,
        settings: Settings,
        clock: Clock,
        cases: CaseService,
        notifications: NotificationService,
    ) -> None:
        self._database = database
        self._hooks = hooks
        self._settings = settings
        self._clock = clock
        self._cases = cases
        self._notifications = notifications
        self._orientation = OrientationService(hooks)

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the clock must return timezone-aware datetimes")
        return now.astimezone(UTC)

    def operator_label(self, operator: str) -> str:
        return self._hooks.operator(operator).label(today_in_france(self._clock))

    # -- input -----------------------------------------------------------------------------

    @staticmethod
    def parse_submission(data: Mapping[str, Any]) -> RequestSubmission:
        """The public form's values (plain JSON types) as a submission, or `InvalidInput`
        with every problem at once, each in plain French (paths ``situation.<field>`` for
        the situation). Cross-field rules (consent, a birth date or an age) included."""
        raw = dict(data)
        situation_raw = raw.get("situation")
        situation, issues = decode_form(
            PublicSituation,
            situation_raw if isinstance(situation_raw, Mapping) else {},
            SITUATION_MESSAGES,
        )
        issues += situation.problems() if situation is not None else _age_missing(situation_raw)
        issues = [prefixed(issue, "situation") for issue in issues]
        # The situation was checked field by field above; a valid stand-in lets every other
        # field be checked too, in the same pass.
        stand_in = {"status": "employee", "age": MIN_AGE}
        found, others = decode_form(
            RequestSubmission,
            {**raw, "situation": situation_raw if situation is not None else stand_in},
            SUBMISSION_MESSAGES,
        )
        issues += [issue for issue in others if not issue.path.startswith("situation")]
        if found is not None:
            issues += [
                issue for issue in found.problems() if not issue.path.startswith("situation")
            ]
        elif raw.get("consent") is not True and not any(i.path == "consent" for i in issues):
            issues.append(CONSENT_REQUIRED)  # said at once, with the other mistakes
        if issues or found is None:
            raise InvalidInput(issues)
        return found

    @staticmethod
    def parse_situation(data: Mapping[str, Any]) -> PublicSituation:
        """The public situation form's values, or `InvalidInput` (paths ``situation.<field>``)."""
        found, issues = decode_form(PublicSituation, data, SITUATION_MESSAGES)
        issues = found.problems() if found is not None else issues + _age_missing(data)
        if issues or found is None:
            raise InvalidInput([prefixed(issue, "situation") for issue in issues])
        return found

    def orient(self, situation: PublicSituation) -> tuple[Situation, Orientation]:
        """« Trouver mon conseiller »: the situation today and the orientation's answer.

        Raises `InvalidInput` (paths ``situation.<field>``) for a situation that cannot be.
        """
        today = today_in_france(self._clock)
        facts = situation.to_situation(today)
        try:
            return facts, self._orientation.orient(facts)
        except InvalidInput as exc:
            raise InvalidInput([prefixed(issue, "situation") for issue in exc.issues]) from None

    @staticmethod
    def parse_decline(data: Mapping[str, Any]) -> DeclineInput:
        found, issues = decode_form(
            DeclineInput, data, DECLINE_MESSAGES, rules=lambda given: given.problems()
        )
        if issues or found is None:
            raise InvalidInput(issues)
        return found

    @staticmethod
    def parse_appointment(data: Mapping[str, Any]) -> AppointmentInput:
        found, issues = decode_form(
            AppointmentInput, data, APPOINTMENT_MESSAGES, rules=lambda given: given.problems()
        )
        if issues or found is None:
            raise InvalidInput(issues)
        return found

    # -- the public form -------------------------------------------------------------------

    def submit(self, submission: RequestSubmission) -> AppointmentRequest:
        """Store a request in its operator's queue and queue its two e-mails (see module).

        Raises `InvalidInput`: bounds, consent, an impossible situation (paths
        ``situation.<field>``), an operator that is not installed, not competent for the
        situation, or not taking public requests (path ``operator``).
        """
        submission = self.parse_submission(msgspec.to_builtins(submission))
        operator = submission.operator
        try:
            info = self._hooks.operator(operator)
        except UnknownOperator:
            raise InvalidInput(
                [Issue(path="operator", code="unknown", message="Cet opérateur n'existe pas.")]
            ) from None
        today = today_in_france(self._clock)
        situation, orientation = self.orient(submission.situation)
        label = info.label(today)
        if not any(choice.id == operator for choice in orientation.operators):
            others = ", ".join(f"« {choice.name} »" for choice in orientation.operators)
            message = f"D'après votre situation, « {label} » n'est pas l'opérateur qui peut vous "
            message += (
                f"accompagner. Opérateur(s) compétent(s) : {others}."
                if others
                else "accompagner. Consultez « Trouver mon conseiller » pour savoir à qui "
                "vous adresser."
            )
            raise InvalidInput([Issue(path="operator", code="not_competent", message=message)])
        with self._database.read() as connection:
            settings = _settings(connection, operator)
        if not settings.public_requests_open:
            raise InvalidInput(
                [
                    Issue(
                        path="operator",
                        code="closed",
                        message=f"« {label} » ne reçoit pas de demandes en ligne pour le "
                        f"moment. {contact_sentence(info.contact)}",
                    )
                ]
            )
        now = self._now()
        request = AppointmentRequest(
            id=new_id(),
            reference="",
            operator=operator,
            status=RequestStatus.PENDING,
            created_at=now,
            updated_at=now,
            identity=Identity(
                first_name=submission.first_name.strip(), last_name=submission.last_name.strip()
            ),
            contact=ContactDetails(
                email=submission.email.strip(),
                phone=(submission.phone or "").strip() or None,
            ),
            preferences=Preferences(
                channel=submission.preferred_channel,
                days=tuple(dict.fromkeys(submission.preferred_days)),
                half_days=tuple(dict.fromkeys(submission.preferred_half_days)),
            ),
            message=(submission.message or "").strip() or None,
            situation=situation,
            age_only=submission.situation.age_only,
            consent=Consent(given_at=now, notice_version=PRIVACY_NOTICE_VERSION),
        )
        contact_text = contact_sentence(info.contact) or None
        for _ in range(REFERENCE_ATTEMPTS):
            request = msgspec.structs.replace(request, reference=new_reference())
            try:
                with self._database.write() as connection:
                    RequestRepository(connection, operator).add(request)
                    self._notify_new(connection, request, label, contact_text)
            except IntegrityError as exc:
                if "reference" not in str(exc.orig).lower():
                    raise
                continue  # 40 random bits met an existing reference: draw again
            return request
        raise RuntimeError("no free request reference after several attempts")

    def _notify_new(
        self,
        connection: Connection,
        request: AppointmentRequest,
        label: str,
        contact_text: str | None,
    ) -> None:
        self._notifications.request_received(
            connection,
            operator=request.operator,
            to=request.contact.email,
            reference=request.reference,
            operator_label=label,
            contact_text=contact_text,
        )
        address = self.queue_address(request.operator, connection)
        if address is None:
            return
        try:
            self._notifications.new_request_notice(
                connection,
                operator=request.operator,
                to=address,
                reference=request.reference,
                operator_label=label,
                queue_url=f"{self._settings.public_url.rstrip('/')}{QUEUE_PATH}/{request.id}",
            )
        except InvalidInput as exc:  # a misconfigured address must not lose the request
            log.error("queue notice for %s not queued: %s", request.operator, exc)

    def queue_address(self, operator: str, connection: Connection | None = None) -> str | None:
        """Where the queue's notices go: the operator's own address, else the deployment's
        fallback (``CEP_MAIL_QUEUE_FALLBACK``), else nowhere."""
        if connection is None:
            with self._database.read() as reading:
                settings = _settings(reading, operator)
        else:
            settings = _settings(connection, operator)
        return settings.queue_email or self._settings.mail.fallback_queue_address

    # -- the queue -------------------------------------------------------------------------

    def list_requests(
        self,
        operator: str,
        *,
        status: RequestStatus | None = RequestStatus.PENDING,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> RequestPage:
        """The operator's requests of `status` (None: all), `limit` (1 to 200) at a time.

        Pending requests come oldest first (a queue is served in order of arrival), the
        others newest first. Keyset pagination on (created_at, id): no duplicate, no gap.
        """
        self._hooks.operator(operator)
        check_page_size(limit, MAX_PAGE_SIZE)
        if status is not None:
            status = _status(status)
        after = None if cursor is None else decode_cursor(cursor)
        oldest_first = status is RequestStatus.PENDING
        with self._database.read() as connection:
            found = RequestRepository(connection, operator).find(
                status=status, after=after, oldest_first=oldest_first, limit=limit + 1
            )
        items = tuple(found[:limit])
        next_cursor = encode_cursor(items[-1]) if len(found) > limit else None
        return RequestPage(items=items, next_cursor=next_cursor)

    def count_pending(self, operator: str) -> int:
        self._hooks.operator(operator)
        with self._database.read() as connection:
            return RequestRepository(connection, operator).count(RequestStatus.PENDING)

    def get(self, operator: str, request_id: str) -> AppointmentRequest:
        """The request, or `RequestNotFound` — also for another operator's request."""
        self._hooks.operator(operator)
        if not is_id(request_id):
            raise RequestNotFound(request_id)
        with self._database.read() as connection:
            found = RequestRepository(connection, operator).get(request_id)
        if found is None:
            raise RequestNotFound(request_id)
        return found

    def for_case(self, operator: str, case_id: str) -> AppointmentRequest | None:
        """The operator's request the case was opened from (None: the case was opened
        otherwise, or is another operator's — SEC-01)."""
        self._hooks.operator(operator)
        if not is_id(case_id):
            return None
        with self._database.read() as connection:
            return RequestRepository(connection, operator).by_case(case_id)

    def find_by_reference(self, operator: str, reference: str) -> AppointmentRequest | None:
        """The operator's request with this reference, as a person may type or say it."""
        self._hooks.operator(operator)
        normalised = normalise_reference(reference)
        if normalised is None:
            return None
        with self._database.read() as connection:
            return RequestRepository(connection, operator).by_reference(normalised)

    # -- decisions -------------------------------------------------------------------------

    def accept(self, operator: str, request_id: str, *, actor: str) -> AcceptedRequest:
        """Open a case from the request and link it; `actor` becomes its counsellor.

        Raises `RequestNotFound`, `RequestConflict` (already decided, or a colleague is
        accepting it) and whatever opening the case raises (`InvalidInput` when the
        orientation no longer retains the operator) — then the request stays pending.
        """
        request = self.get(operator, request_id)
        if request.decision_problems():
            raise RequestConflict(request.decision_problems())
        token = new_id()
        now = self._now()
        with self._database.write() as connection:
            claimed = RequestRepository(connection, operator).claim(
                request_id, token, now=now, cutoff=now - CLAIM_LEASE
            )
        if not claimed:
            raise RequestConflict(self._why_not_claimed(operator, request_id))
        try:
            case = self._cases.open_case(
                operator,
                NewBeneficiary(
                    first_name=request.identity.first_name,
                    last_name=request.identity.last_name,
                    email=request.contact.email,
                    phone=request.contact.phone,
                ),
                request.situation,
                counsellor_id=actor,
                actor=actor,
                channel=FormChannel.PUBLIC,
            )
        except BaseException:
            with self._database.write() as connection:
                RequestRepository(connection, operator).release(request_id, token)
            raise
        decided = self._now()
        with self._database.write() as connection:
            repository = RequestRepository(connection, operator)
            current = repository.get(request_id, for_update=True)
            stored = None
            if current is not None:
                accepted = msgspec.structs.replace(
                    current,
                    status=RequestStatus.ACCEPTED,
                    decided_at=decided,
                    decided_by=actor,
                    case_id=case.id,
                    updated_at=decided,
                )
                stored = repository.replace(accepted, claim=token, clear_claim=True)
        if stored is None:
            # Only when this process outlived its lease and a colleague took over.
            log.error("request %s: case %s opened but the claim was lost", request_id, case.id)
            raise RequestConflict(self._why_not_claimed(operator, request_id))
        return AcceptedRequest(request=stored, case=case)

    def _why_not_claimed(self, operator: str, request_id: str) -> list[Issue]:
        current = self.get(operator, request_id)
        return current.decision_problems() or [
            Issue(
                path="status",
                code="being_accepted",
                message="Un collègue est en train d'accepter cette demande : rechargez la page "
                "dans un instant.",
            )
        ]

    def decline(
        self, operator: str, request_id: str, decision: DeclineInput, *, actor: str
    ) -> AppointmentRequest:
        """Decline a pending request with a reason (and a text for « other »)."""
        decision = self.parse_decline(msgspec.to_builtins(decision))
        self.get(operator, request_id)
        now = self._now()
        cutoff = now - CLAIM_LEASE
        with self._database.write() as connection:
            repository = RequestRepository(connection, operator)
            found = repository.get_with_claim(request_id, for_update=True)
            if found is None:
                raise RequestNotFound(request_id)
            current, claim = found
            if current.decision_problems():
                raise RequestConflict(current.decision_problems())
            if claim.live(cutoff):
                raise RequestConflict(
                    [
                        Issue(
                            path="status",
                            code="being_accepted",
                            message="Un collègue est en train d'accepter cette demande : elle "
                            "ne peut plus être refusée.",
                        )
                    ]
                )
            declined = msgspec.structs.replace(
                current,
                status=RequestStatus.DECLINED,
                decided_at=now,
                decided_by=actor,
                decline_reason=decision.reason,
                decline_text=(decision.text or "").strip() or None,
                updated_at=now,
            )
            stored = repository.replace(declined, unclaimed_before=cutoff, clear_claim=True)
        if stored is None:  # pragma: no cover - the row is locked for this transaction
            raise RequestConflict(_changed())
        return stored

    def propose_appointment(
        self,
        operator: str,
        request_id: str,
        proposal: AppointmentInput,
        *,
        actor: str,
        counsellor_name: str | None = None,
    ) -> AppointmentRequest:
        """Store the proposed appointment and e-mail it to the person with an ``.ics`` file,
        in one transaction. The duration defaults to the operator's setting."""
        proposal = self.parse_appointment(msgspec.to_builtins(proposal))
        now = self._now()
        issues = proposal.problems(now)
        if issues:
            raise InvalidInput(issues)
        self.get(operator, request_id)
        label = self.operator_label(operator)
        with self._database.write() as connection:
            repository = RequestRepository(connection, operator)
            current = repository.get(request_id, for_update=True)
            if current is None:
                raise RequestNotFound(request_id)
            if current.proposal_problems():
                raise RequestConflict(current.proposal_problems())
            settings = _settings(connection, operator)
            appointment = Appointment(
                starts_at=proposal.starts_at.astimezone(UTC),
                duration_minutes=proposal.duration_minutes or settings.default_duration_minutes,
                channel=proposal.channel,
                location=(proposal.location or "").strip() or None,
                counsellor_name=(counsellor_name or "").strip() or None,
                proposed_at=now,
                proposed_by=actor,
            )
            stored = repository.replace(
                msgspec.structs.replace(current, appointment=appointment, updated_at=now)
            )
            if stored is None:  # pragma: no cover - the row is locked for this transaction
                raise RequestConflict(_changed())
            self._notifications.appointment_proposed(
                connection,
                operator=operator,
                to=stored.contact.email,
                reference=stored.reference,
                operator_label=label,
                starts_at=appointment.starts_at,
                duration_minutes=appointment.duration_minutes,
                channel_label=CHANNEL_LABELS[appointment.channel],
                location=appointment.location,
                counsellor_name=appointment.counsellor_name,
            )
        return stored


def contact_sentence(contact: Contact | None) -> str:
    """« Pour le joindre : par téléphone au 3949, ou sur https://... » (empty: no contact)."""
    if contact is None:
        return ""
    ways = []
    if contact.phone:
        ways.append(f"par téléphone au {contact.phone}")
    if contact.email:
        ways.append(f"par courriel à {contact.email}")
    if contact.url:
        ways.append(f"sur {contact.url}")
    if not ways:
        return ""
    return "Pour le joindre : " + ", ou ".join(ways) + "."


def _age_missing(data: object) -> list[Issue]:
    """Neither a birth date nor an age: said even when other fields are wrong too (the
    Struct's own rule only runs once every field decodes)."""
    given = isinstance(data, Mapping) and ("birth_date" in data or "age" in data)
    if given:
        return []
    return PublicSituation(status=Status.EMPLOYEE).problems()


def _settings(connection: Connection, operator: str) -> OperatorSettings:
    found = OperatorSettingsRepository(connection, operator).get()
    return found or OperatorSettings(operator=operator)


def _changed() -> list[Issue]:
    return [
        Issue(
            path="status",
            code="changed",
            message="La demande a changé entre-temps : rechargez la page.",
        )
    ]


def _status(value: RequestStatus | str) -> RequestStatus:
    try:
        return RequestStatus(value)
    except ValueError as exc:
        known = ", ".join(s.value for s in RequestStatus)
        raise InvalidInput(
            [Issue(path="status", code="invalid", message=f"Statut inconnu (statuts : {known}).")]
        ) from exc


# -- cursors ---------------------------------------------------------------------------------


def encode_cursor(request: AppointmentRequest) -> str:
    """Opaque to callers: where a page ended (``[created_at, id]``, see `keyset`)."""
    return encode_keyset(request.created_at, request.id)


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    return decode_keyset(cursor, is_id)

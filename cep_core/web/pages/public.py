"""The public pages, without an account: home, « Trouver mon conseiller », « Demander un
rendez-vous », the confirmation with its reference, accessibility and personal data.

Everything a person types travels in POST bodies, never in an address (SEC-11): the answer
of the orientation is shown on the same URL, and its « Demander un rendez-vous » buttons are
forms that carry the situation in hidden fields. The forms are limited per client address
(`client_address`: the peer, or what a trusted proxy forwarded), so a script cannot fill an
operator's queue. The confirmation page shows only the reference and the operator's name,
and only to the browser that sent the request, for an hour: a signed cookie bound to that
browser's anonymous cookie says so, and guessing an id shows nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any, Final

import anyio.to_thread
import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.background_tasks import BackgroundTask
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException, TooManyRequestsException
from litestar.params import PathParameter

from cep_core.domain.forms import SessionChannel
from cep_core.domain.issues import InvalidInput, Issue
from cep_core.domain.orientation import Contact, Orientation
from cep_core.domain.regions import regions
from cep_core.domain.requests import (
    CHANNEL_LABELS,
    HALF_DAY_LABELS,
    MESSAGE_MAX_LENGTH,
    PRIVACY_NOTICE_VERSION,
    WEEKDAY_LABELS,
    PublicSituation,
)
from cep_core.domain.situation import STATUS_LABELS, Situation, Status
from cep_core.kit import Kit
from cep_core.services.idempotency import Claimed, InProgress, Replay
from cep_core.services.requests import contact_sentence
from cep_core.web.audit import audit_exempt, audited, set_audit_subject
from cep_core.web.pages import form_tokens
from cep_core.web.pages.common import FormData, FormError, blocking, read_form
from cep_core.web.pages.errors import error_page
from cep_core.web.pages.rendering import Pages, see_other
from cep_core.web.sessions import ANON_COOKIE, client_address

log = logging.getLogger("cep_core.web")

# SEC-15: per client address. Orientation answers are cheap but scriptable; requests land in
# a human queue, hence the tighter limit.
ORIENTATION_LIMIT: Final = (30, 60)  # 30 forms a minute
REQUEST_LIMIT: Final = (5, 3600)  # 5 requests an hour
SENT_COOKIE: Final = "__Host-cep-demande"
SENT_PAGE_SECONDS: Final = 3600

SITUATION_FIELDS: Final = (
    "status",
    "birth_date",
    "age",
    "region",
    "cadre",
    "registered_jobseeker",
    "disability_recognition",
    "working",
    "seeking_job",
)
FLAGS: Final = (
    "cadre",
    "registered_jobseeker",
    "disability_recognition",
    "working",
    "seeking_job",
)
# Status choices in plain French, with what each covers.
STATUS_CHOICES: Final = (
    (Status.EMPLOYEE, "Salarié ou salariée du secteur privé", "En CDI, CDD, intérim, ..."),
    (Status.SELF_EMPLOYED, "Travailleur ou travailleuse indépendante", "Artisan, commerçant, "
     "profession libérale, micro-entrepreneur, ..."),
    (Status.JOBSEEKER, "En recherche d'emploi", "Inscrit ou non à France Travail."),
    (Status.PUBLIC_AGENT, "Agent ou agente de la fonction publique", "Fonctionnaire, "
     "contractuel ou vacataire de l'État, d'une collectivité ou d'un hôpital."),
    (Status.APPRENTICE, "Apprenti ou apprentie", None),
    (Status.STUDENT, "Étudiant ou étudiante", None),
    (Status.RETIRED, "Retraité ou retraitée", None),
    (Status.INACTIVE, "Sans activité professionnelle", None),
)  # fmt: skip
FLAG_LABELS: Final = {
    "working": "J'exerce une activité professionnelle, même à temps partiel ou ponctuelle",
    "seeking_job": "Je cherche un emploi",
    "registered_jobseeker": "Je suis inscrit ou inscrite à France Travail (ex-Pôle emploi)",
    "cadre": "Je suis cadre, ou je cherche un emploi de cadre",
    "disability_recognition": "J'ai une reconnaissance de handicap (RQTH ou autre)",
}
# Where each issue path of the forms is shown (the id of its field).
FIELD_IDS: Final = {
    "operator": "operator",
    "situation.status": "status",
    "situation.birth_date": "birth_date",
    "situation.age": "age",
    "situation.region": "region",
    **{f"situation.{flag}": flag for flag in FLAGS},
    "first_name": "first_name",
    "last_name": "last_name",
    "email": "email",
    "phone": "phone",
    "preferred_channel": "preferred_channel",
    "preferred_days": "preferred_days",
    "preferred_half_days": "preferred_half_days",
    "message": "message",
    "consent": "consent",
}
_FRENCH_DATE = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")

# REL-10: the single-use token of the appointment request form.
REQUEST_FORM: Final = "demande-de-rendez-vous"
ALREADY_SENDING: Final = (
    "Votre demande est déjà en cours d'envoi. Patientez quelques secondes, puis "
    "rechargez la page : elle ne sera pas envoyée deux fois."
)


# When the automated checks behind the accessibility statement were last run and reviewed
# (axe-core on every page in Chromium, tests/browser); update it with each new review.
ACCESSIBILITY_STATEMENT_DATE = date(2026, 11, 29)


class OperatorCard(msgspec.Struct, frozen=True, kw_only=True):
    """An operator as the public pages show it."""

    id: str
    name: str
    description: str
    contact: Contact | None
    contact_text: str
    open: bool
    welcome: str | None


class SituationSummary(msgspec.Struct, frozen=True, kw_only=True):
    lines: tuple[str, ...]


# -- helpers shared with the workspace pages -------------------------------------------------


def mail_after_response(kit: Kit) -> BackgroundTask:
    """Send the e-mails a page queued once its answer is out (never slows the person down;
    what fails stays in the outbox for the next run)."""

    async def deliver() -> None:
        try:
            await anyio.to_thread.run_sync(lambda: kit.notifications.deliver_pending())
        except Exception:
            log.exception("mail delivery after a page failed; the outbox keeps the messages")

    return BackgroundTask(deliver)


def form_errors(issues: tuple[Issue, ...] | list[Issue], ids: Mapping[str, str]) -> list[FormError]:
    """Service issues as page errors, each pointing at its field when the page has one, in
    the order of the fields on the page (`ids`' order)."""
    order = {field: index for index, field in enumerate(ids.values())}
    errors = [FormError(message=issue.message, field=ids.get(issue.path)) for issue in issues]
    return sorted(errors, key=lambda error: order.get(error.field or "", len(order)))


async def rate_limit(
    request: Request[Any, Any, Any], kit: Kit, name: str, limit: tuple[int, int]
) -> None:
    """Count one hit for this client on `name`; 429 with Retry-After beyond `limit`."""
    count, window = limit
    key = f"public:{name}:{client_address(request, kit)}"
    decision = await blocking(kit.limiter.hit, key, limit=count, window=window)
    if not decision.allowed:
        minutes = max(1, (decision.reset_after + 59) // 60)
        raise TooManyRequestsException(
            detail=f"Vous avez envoyé trop de demandes en peu de temps. Pour la sécurité du "
            f"service, réessayez dans {minutes} minute{'s' if minutes > 1 else ''}.",
            headers=decision.headers(),
        )


def operator_cards(kit: Kit) -> list[OperatorCard]:
    """The installed operators, their public description, contact and settings."""
    today = kit.today()
    cards = []
    for info in kit.hooks.operators():
        settings = kit.operator_settings.get(info.id)
        cards.append(
            OperatorCard(
                id=info.id,
                name=info.label(today),
                description=info.description,
                contact=info.contact,
                contact_text=contact_sentence(info.contact),
                open=settings.public_requests_open,
                welcome=settings.welcome_text,
            )
        )
    return sorted(cards, key=lambda card: card.name.lower())


def situation_values(form: FormData) -> dict[str, Any]:
    """The situation fields of a form as the plain values the service decodes.

    Empty fields are left out; the birth date may be typed « 23/04/1990 » when the browser
    has no date picker; when a birth date is given the age is not needed.
    """
    values: dict[str, Any] = {}
    status = form.get("status")
    if status:
        values["status"] = status
    birth = form.get("birth_date")
    if birth:
        found = _FRENCH_DATE.match(birth)
        values["birth_date"] = (
            f"{found[3]}-{int(found[2]):02d}-{int(found[1]):02d}" if found else birth
        )
    else:
        age = form.get("age")
        if age:
            values["age"] = int(age) if age.isdigit() and len(age) <= 3 else age
    region = form.get("region")
    if region:
        values["region"] = region
    for flag in FLAGS:
        values[flag] = form.get(flag) == "oui"
    return values


def summary(situation: Situation, public: PublicSituation) -> SituationSummary:
    """The situation in a few French lines (what the person will be contacted about)."""
    lines = [f"Situation : {STATUS_LABELS[situation.status]}"]
    if public.birth_date is not None:
        lines.append(f"Date de naissance : {public.birth_date.strftime('%d/%m/%Y')}")
    else:
        lines.append(f"Âge : {situation.age} ans")
    if situation.region:
        found = regions().get(situation.region)
        lines.append(f"Région : {found.name if found else situation.region}")
    lines += [FLAG_LABELS[flag] for flag in FLAGS if getattr(situation, flag)]
    return SituationSummary(lines=tuple(lines))


def _choices() -> dict[str, Any]:
    return {
        "status_choices": STATUS_CHOICES,
        "flag_labels": FLAG_LABELS,
        "flags": FLAGS,
        "region_choices": [
            (r.code, r.name) for r in sorted(regions().values(), key=lambda r: r.name)
        ],
    }


# -- the confirmation cookie ----------------------------------------------------------------


def _sent_signature(kit: Kit, operator: str, request_id: str, expires: int, anon: str) -> str:
    material = f"sent|{operator}|{request_id}|{expires}|{anon}".encode()
    return hmac.new(kit.secret_key, material, hashlib.sha256).hexdigest()


def sent_cookie(kit: Kit, operator: str, request_id: str, anon: str) -> Cookie:
    expires = int(kit.clock().timestamp()) + SENT_PAGE_SECONDS
    signature = _sent_signature(kit, operator, request_id, expires, anon)
    return Cookie(
        key=SENT_COOKIE,
        value=f"{operator}.{request_id}.{expires}.{signature}",
        path="/",
        secure=True,
        httponly=True,
        samesite="lax",
        max_age=SENT_PAGE_SECONDS,
    )


def sent_operator(kit: Kit, request: Request[Any, Any, Any], request_id: str) -> str | None:
    """The operator of `request_id` when this browser sent it less than an hour ago."""
    parts = request.cookies.get(SENT_COOKIE, "").split(".")
    anon = request.cookies.get(ANON_COOKIE, "")
    if len(parts) != 4 or not anon or not parts[2].isdigit():
        return None
    operator, found_id, expires, signature = parts
    expected = _sent_signature(kit, operator, found_id, int(expires), anon)
    if not hmac.compare_digest(signature, expected) or found_id != request_id:
        return None
    if int(expires) < kit.clock().timestamp():
        return None
    return operator


# -- pages -----------------------------------------------------------------------------------


class PublicController(Controller):
    path = "/"

    @get("/", name="home")
    async def home(
        self,
        request: Request[Any, Any, Any],
        kit: NamedDependency[Kit],
        pages: NamedDependency[Pages],
    ) -> Response[Any]:
        cards = await blocking(operator_cards, kit)
        return await pages.render(
            request,
            "public/home.html",
            title="Le conseil en évolution professionnelle",
            operators=cards,
        )

    @get("/trouver-mon-conseiller", name="orientation")
    async def orientation_form(
        self,
        request: Request[Any, Any, Any],
        kit: NamedDependency[Kit],
        pages: NamedDependency[Pages],
    ) -> Response[Any]:
        return await pages.render(
            request,
            "public/orientation.html",
            title="Trouver mon conseiller — Étape 1 sur 3 : votre situation",
            errors=[],
            values={},
            answer=None,
            **_choices(),
        )

    @post("/trouver-mon-conseiller", name="orientation-submit")
    async def orientation_submit(
        self,
        request: Request[Any, Any, Any],
        kit: NamedDependency[Kit],
        pages: NamedDependency[Pages],
    ) -> Response[Any]:
        await rate_limit(request, kit, "orientation", ORIENTATION_LIMIT)
        form = await read_form(request)
        raw = situation_values(form)
        values = _form_values(form)
        try:
            public = kit.requests.parse_situation(raw)
            situation, answer = await blocking(kit.requests.orient, public)
        except InvalidInput as exc:
            return await pages.render(
                request,
                "public/orientation.html",
                title="Erreur — Trouver mon conseiller — Étape 1 sur 3 : votre situation",
                status_code=400,
                errors=form_errors(exc.issues, FIELD_IDS),
                values=values,
                answer=None,
                **_choices(),
            )
        cards = await blocking(operator_cards, kit)
        return await pages.render(
            request,
            "public/orientation.html",
            title="Trouver mon conseiller — Étape 2 sur 3 : les conseillers pour vous",
            errors=[],
            values=values,
            answer=_answer(answer, cards),
            carried=_carried(public),
            summary=summary(situation, public),
            **_choices(),
        )

    @get("/demander-un-rendez-vous", name="request-form")
    async def request_form(
        self,
        request: Request[Any, Any, Any],
        kit: NamedDependency[Kit],
        pages: NamedDependency[Pages],
    ) -> Response[Any]:
        return await self._request_page(request, kit, pages, FormData({}), errors=[])

    @audited("request.create", "request")
    @post("/demander-un-rendez-vous", name="request-submit")
    async def request_submit(
        self,
        request: Request[Any, Any, Any],
        kit: NamedDependency[Kit],
        pages: NamedDependency[Pages],
    ) -> Response[Any]:
        await rate_limit(request, kit, "orientation", ORIENTATION_LIMIT)
        form = await read_form(request)
        if form.get("etape") != "envoi":  # from the orientation's answer: the form, filled
            return await self._request_page(request, kit, pages, form, errors=[])
        data: dict[str, Any] = {
            "situation": situation_values(form),
            "preferred_days": form.get_all("preferred_days"),
            "preferred_half_days": form.get_all("preferred_half_days"),
            "consent": form.get("consent") == "oui",
        }
        for name in ("operator", "first_name", "last_name", "email", "phone", "message"):
            if form.get(name):
                data[name] = form.get(name)
        if form.get("preferred_channel"):
            data["preferred_channel"] = form.get("preferred_channel")
        # REL-10: a double click or a reload files one request (single-use form token).
        token, lease = form_tokens.token_of(form), None
        if token is not None:
            claimed = await form_tokens.claim(kit, REQUEST_FORM, token)
            if isinstance(claimed, Replay):
                operator, _, request_id = claimed.answer.body.decode().partition(".")
                set_audit_subject(request, request_id, operator=operator)
                return self._sent(request, kit, operator, request_id)
            if isinstance(claimed, InProgress):
                return error_page(request, 409, ALREADY_SENDING)
            if isinstance(claimed, Claimed):
                lease = claimed.lease
        try:
            submission = kit.requests.parse_submission(data)
            await rate_limit(request, kit, "request", REQUEST_LIMIT)
            stored = await blocking(kit.requests.submit, submission)
        except BaseException as exc:
            if token is not None and lease is not None:
                await form_tokens.release(kit, REQUEST_FORM, token, lease)
            if not isinstance(exc, InvalidInput):
                raise
            return await self._request_page(
                request, kit, pages, form, errors=form_errors(exc.issues, FIELD_IDS)
            )
        if token is not None and lease is not None:
            done = f"{stored.operator}.{stored.id}"
            await form_tokens.complete(kit, REQUEST_FORM, token, lease, done)
        set_audit_subject(request, stored.id, operator=stored.operator)
        response = self._sent(request, kit, stored.operator, stored.id)
        response.background = mail_after_response(kit)
        return response

    @staticmethod
    def _sent(
        request: Request[Any, Any, Any], kit: Kit, operator: str, request_id: str
    ) -> Response[Any]:
        """To the confirmation, with the cookie that lets this browser see it."""
        response = see_other(f"/demande-envoyee/{request_id}")
        anon = request.cookies.get(ANON_COOKIE, "")
        response.cookies.append(sent_cookie(kit, operator, request_id, anon))
        return response

    async def _request_page(
        self,
        request: Request[Any, Any, Any],
        kit: NamedDependency[Kit],
        pages: Pages,
        form: FormData,
        *,
        errors: list[FormError],
    ) -> Response[Any]:
        """The request form: pre-filled from the orientation (the situation carried in
        hidden fields and summarised), or asking everything when the person came directly
        or the carried situation does not hold."""
        cards = await blocking(operator_cards, kit)
        raw = situation_values(form)
        carried: dict[str, str] | None = None
        situation_summary = None
        chosen = next((card for card in cards if card.id == form.get("operator")), None)
        situation_errors = [e for e in errors if e.field in set(FIELD_IDS.values()) - _OWN]
        if form.get("situation_fixee") == "oui" or form.get("etape") == "choix":
            try:
                public = kit.requests.parse_situation(raw)
                facts, _ = await blocking(kit.requests.orient, public)
            except InvalidInput:
                public = None
            if public is not None and not situation_errors:
                carried = _carried(public)
                situation_summary = summary(facts, public)
        prefilled = carried is not None and chosen is not None
        title = (
            "Demander un rendez-vous — Étape 3 sur 3 : vos coordonnées"
            if prefilled
            else "Demander un rendez-vous"
        )
        if errors:
            title = f"Erreur — {title}"
        return await pages.render(
            request,
            "public/request.html",
            title=title,
            status_code=400 if errors else 200,
            errors=errors,
            values=_form_values(form),
            selected_days=form.get_all("preferred_days"),
            selected_half_days=form.get_all("preferred_half_days"),
            prefilled=prefilled,
            carried=carried or {},
            summary=situation_summary,
            chosen=chosen,
            operators=[card for card in cards if card.open],
            channel_choices=[(c.value, CHANNEL_LABELS[c]) for c in SessionChannel],
            day_choices=[(d.value, label) for d, label in WEEKDAY_LABELS.items()],
            half_day_choices=[(h.value, label) for h, label in HALF_DAY_LABELS.items()],
            message_max=MESSAGE_MAX_LENGTH,
            notice_version=PRIVACY_NOTICE_VERSION,
            form_token=form_tokens.token_of(form) or form_tokens.new_token(),
            **_choices(),
        )

    @audit_exempt("shows the reference and the operator only")
    @get("/demande-envoyee/{request_id:str}", name="request-sent")
    async def request_sent(
        self,
        request: Request[Any, Any, Any],
        kit: NamedDependency[Kit],
        pages: NamedDependency[Pages],
        request_id: Annotated[str, PathParameter(max_length=64)],
    ) -> Response[Any]:
        operator = sent_operator(kit, request, request_id)
        if operator is None:
            raise NotFoundException()
        stored = await blocking(kit.requests.get, operator, request_id)
        label = await blocking(kit.requests.operator_label, operator)
        return await pages.render(
            request,
            "public/sent.html",
            title="Demande envoyée",
            reference=stored.reference,
            operator_label=label,
        )

    @get("/accessibilite", name="accessibility")
    async def accessibility(
        self,
        request: Request[Any, Any, Any],
        kit: NamedDependency[Kit],
        pages: NamedDependency[Pages],
    ) -> Response[Any]:
        cards = await blocking(operator_cards, kit)
        return await pages.render(
            request,
            "public/accessibility.html",
            title="Déclaration d'accessibilité",
            operators=cards,
            statement_date=ACCESSIBILITY_STATEMENT_DATE,
        )

    @get("/donnees-personnelles", name="privacy")
    async def privacy(
        self,
        request: Request[Any, Any, Any],
        kit: NamedDependency[Kit],
        pages: NamedDependency[Pages],
    ) -> Response[Any]:
        cards = await blocking(operator_cards, kit)
        return await pages.render(
            request,
            "public/privacy.html",
            title="Données personnelles",
            operators=cards,
            notice_version=PRIVACY_NOTICE_VERSION,
        )


# Fields of the request form itself (not of the situation).
_OWN: Final = frozenset(
    {
        "operator",
        "first_name",
        "last_name",
        "email",
        "phone",
        "preferred_channel",
        "preferred_days",
        "preferred_half_days",
        "message",
        "consent",
    }
)


class Answer(msgspec.Struct, frozen=True, kw_only=True):
    eligible: bool
    reasons: tuple[str, ...]
    operators: tuple[tuple[OperatorCard, str], ...]  # each competent operator and why
    redirect_name: str | None = None
    redirect_reason: str | None = None
    redirect_url: str | None = None


def _answer(orientation: Orientation, cards: list[OperatorCard]) -> Answer:
    by_id = {card.id: card for card in cards}
    chosen = tuple(
        (by_id[choice.id], choice.reason) for choice in orientation.operators if choice.id in by_id
    )
    redirect = orientation.redirect
    return Answer(
        eligible=orientation.eligible,
        reasons=orientation.reasons,
        operators=chosen,
        redirect_name=redirect.name if redirect else None,
        redirect_reason=redirect.reason if redirect else None,
        redirect_url=redirect.url if redirect else None,
    )


def _carried(public: PublicSituation) -> dict[str, str]:
    """The situation as hidden fields (never in the address): exactly what was typed."""
    carried = {"status": public.status.value}
    if public.birth_date is not None:
        carried["birth_date"] = public.birth_date.isoformat()
    elif public.age is not None:
        carried["age"] = str(public.age)
    if public.region:
        carried["region"] = public.region
    for flag in FLAGS:
        if getattr(public, flag):
            carried[flag] = "oui"
    return carried


def _form_values(form: FormData) -> dict[str, str]:
    return form.as_dict()

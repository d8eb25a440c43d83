"""Documents de synthèse from the workspace, and the person's single-use download link.

- a counsellor produces a level's synthesis (``kit.syntheses``: a new version only when the
  case changed), downloads any stored version through a route scoped to their operator (another
  operator's synthesis is "not found", SEC-01);
- « Envoyer le lien à la personne » creates a single-use link that expires in 7 days, queues
  the e-mail that carries it and writes the case's journal line (the level, never the
  address), in ONE write transaction (all or nothing), then delivers the queue after the
  answer is sent. The e-mail never carries the PDF itself;
- ``/telechargement/<secret>`` is that link: GET only shows a page with a button — mail
  scanners fetch links ahead of people, and must not spend them — and the button's POST
  spends the link and answers the PDF. A spent or expired link gets 410, an unknown one 404.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Final

from litestar import Controller, Request, Response, get, post
from litestar.background_tasks import BackgroundTask
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import PathParameter
from litestar.response import Redirect

from cep_core.documents.errors import DocumentError, DocumentTooLarge, RenderFailed, RenderTimeout
from cep_core.domain.accounts import StaffUser
from cep_core.domain.case import Level
from cep_core.domain.synthesis import Synthesis
from cep_core.kit import Kit
from cep_core.services.download_links import LinkState
from cep_core.services.syntheses import SynthesisNotAvailable, SynthesisNotFound
from cep_core.web.audit import audit_exempt, audited, set_audit_subject
from cep_core.web.pages.case_support import (
    LINK_ACTOR_PREFIX,
    CaseId,
    SynthesisId,
    case_url,
    workspace_user,
)
from cep_core.web.pages.cases import case_context
from cep_core.web.pages.common import FormError, blocking, read_form
from cep_core.web.pages.rendering import Pages, see_other

LINK_LIFETIME: Final = timedelta(days=7)
DOWNLOAD_PATH: Final = "/telechargement"
Secret = Annotated[str, PathParameter(max_length=64, description="Le secret du lien.")]


def pdf_response(synthesis: Synthesis, pdf: bytes) -> Response[bytes]:
    """The stored PDF as an attachment, never kept by a cache (personal data)."""
    name = f"synthese-niveau-{int(synthesis.level)}-v{synthesis.version}.pdf"
    return Response(
        pdf,
        status_code=200,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


class CaseSynthesesController(Controller):
    path = "/espace/dossiers/{case_id:str}/syntheses"

    @audited("synthesis.generate", "case")
    @post("/", name="case-synthesis-generate")
    async def generate(
        self,
        request: Request[Any, Any, Any],
        case_id: CaseId,
        kit: NamedDependency[Kit],
        pages: NamedDependency[Pages],
    ) -> Response[Any]:
        user, operator = await workspace_user(request, kit)
        form = await read_form(request)
        level = {"1": Level.ONE, "2": Level.TWO}.get(form.get("niveau"))
        if level is None:
            return await _case_page_error(
                request,
                kit,
                pages,
                user,
                operator,
                case_id,
                FormError(field="niveau", message="Choisissez le niveau du document."),
                400,
            )
        try:
            result = await blocking(kit.syntheses.generate, operator, case_id, level, actor=user.id)
        except SynthesisNotAvailable as exc:
            return await _case_page_error(
                request, kit, pages, user, operator, case_id, FormError(message=str(exc)), 409
            )
        except (DocumentTooLarge, RenderTimeout, RenderFailed) as exc:
            return await _case_page_error(
                request, kit, pages, user, operator, case_id, FormError(message=str(exc)), 422
            )
        except DocumentError as exc:
            return await _case_page_error(
                request, kit, pages, user, operator, case_id, FormError(message=str(exc)), 503
            )
        message = "synthese-produite" if result.created else "synthese-inchangee"
        return see_other(f"{case_url(case_id)}?message={message}#syntheses-titre")

    @audited("synthesis.download", "case")
    @get("/{synthesis_id:str}/pdf", name="case-synthesis-pdf")
    async def pdf(
        self,
        request: Request[Any, Any, Any],
        case_id: CaseId,
        synthesis_id: SynthesisId,
        kit: NamedDependency[Kit],
    ) -> Response[bytes]:
        user, operator = await workspace_user(request, kit)
        try:
            synthesis, pdf = await blocking(
                kit.syntheses.download, operator, case_id, synthesis_id, actor=user.id
            )
        except SynthesisNotFound:
            raise NotFoundException() from None
        return pdf_response(synthesis, pdf)

    @audited("synthesis.send_link", "case")
    @post("/{synthesis_id:str}/envoi", name="case-synthesis-send")
    async def send_link(
        self,
        request: Request[Any, Any, Any],
        case_id: CaseId,
        synthesis_id: SynthesisId,
        kit: NamedDependency[Kit],
        pages: NamedDependency[Pages],
    ) -> Response[Any]:
        user, operator = await workspace_user(request, kit)
        case = await blocking(kit.cases.get_case, operator, case_id)  # 404 across operators
        person = await blocking(kit.cases.get_beneficiary, operator, case.beneficiary_id)
        if person is None or not person.email:
            return await _case_page_error(
                request,
                kit,
                pages,
                user,
                operator,
                case_id,
                FormError(
                    message="La personne n'a pas d'adresse électronique : le lien ne peut "
                    "pas lui être envoyé."
                ),
                409,
            )
        try:
            await blocking(
                _queue_link,
                kit,
                operator,
                case_id,
                synthesis_id,
                person.email,
                pages.operator_label(operator),
                user.id,
            )
        except SynthesisNotFound:
            raise NotFoundException() from None
        # Delivered once the answer is sent: the person's wait is not the SMTP server's.
        return Redirect(
            path=f"{case_url(case_id)}?message=lien-envoye#syntheses-titre",
            status_code=303,
            background=BackgroundTask(kit.notifications.deliver_pending),
        )


def _queue_link(
    kit: Kit,
    operator: str,
    case_id: str,
    synthesis_id: str,
    email: str,
    label: str,
    actor: str,
) -> None:
    """The link, the e-mail that carries it and the journal line, in one transaction."""
    synthesis = kit.syntheses.get(operator, case_id, synthesis_id)
    with kit.database.write() as conn:
        secret = kit.download_links.create(
            conn, operator=operator, case_id=case_id, synthesis_id=synthesis_id, ttl=LINK_LIFETIME
        )
        kit.notifications.synthesis_ready(
            conn,
            operator=operator,
            to=email,
            operator_label=label,
            link_url=f"{kit.settings.public_url.rstrip('/')}{DOWNLOAD_PATH}/{secret}",
            expires_at=kit.clock() + LINK_LIFETIME,
        )
        event = kit.cases.journal_link_sent(conn, operator, case_id, synthesis.level, actor=actor)
    kit.cases.announce(operator, event, actor=actor)


async def _case_page_error(
    request: Request[Any, Any, Any],
    kit: Kit,
    pages: Pages,
    user: StaffUser,
    operator: str,
    case_id: str,
    error: FormError,
    status_code: int,
) -> Response[Any]:
    context = await case_context(kit, pages, user, operator, case_id)
    return await pages.render(
        request,
        "cases/case.html",
        title=f"Erreur — Dossier de {context['person_name']}",
        status_code=status_code,
        notice=None,
        errors=[error],
        **context,
    )


GONE: Final[dict[LinkState, tuple[str, str]]] = {
    LinkState.USED: (
        "Ce lien a déjà servi",
        "Pour protéger vos données, un lien de téléchargement ne sert qu'une fois. Si vous "
        "n'avez pas reçu le document, demandez un nouveau lien à votre conseiller ou "
        "conseillère.",
    ),
    LinkState.EXPIRED: (
        "Ce lien a expiré",
        "Pour protéger vos données, un lien de téléchargement n'est valable que quelques jours. "
        "Demandez un nouveau lien à votre conseiller ou conseillère.",
    ),
}
UNKNOWN: Final = (
    "Lien inconnu",
    "Ce lien de téléchargement n'existe pas. Vérifiez qu'il a été copié en entier depuis le "
    "message reçu, ou demandez un nouveau lien à votre conseiller ou conseillère.",
)


class DownloadLinkController(Controller):
    """The person's single-use link (no account: the secret is the credential)."""

    path = DOWNLOAD_PATH

    @audit_exempt("shows the operator and the expiry only; the download is the POST")
    @get("/{secret:str}", name="download-link")
    async def show(
        self,
        request: Request[Any, Any, Any],
        secret: Secret,
        kit: NamedDependency[Kit],
        pages: NamedDependency[Pages],
    ) -> Response[Any]:
        status = await blocking(kit.download_links.peek, secret)
        if status is None or status.state is not LinkState.VALID:
            return await pages.link_gone(
                request, None if status is None else status.state, GONE, UNKNOWN
            )
        return await pages.render(
            request,
            "cases/download.html",
            title="Télécharger votre document de synthèse",
            action=f"{DOWNLOAD_PATH}/{secret}",
            operator_label=pages.operator_label(status.operator),
            expires_at=status.expires_at,
        )

    @audited("synthesis.download", "case")
    @post("/{secret:str}", name="download-link-consume")
    async def consume(
        self,
        request: Request[Any, Any, Any],
        secret: Secret,
        kit: NamedDependency[Kit],
        pages: NamedDependency[Pages],
    ) -> Response[Any]:
        grant = await blocking(kit.download_links.consume, secret)
        if grant is not None:  # the person, known by the link only (no account)
            set_audit_subject(
                request,
                grant.case_id,
                operator=grant.operator,
                actor=f"{LINK_ACTOR_PREFIX}{grant.link_id}",
            )
        if grant is None:
            status = await blocking(kit.download_links.peek, secret)
            return await pages.link_gone(
                request, None if status is None else status.state, GONE, UNKNOWN
            )
        try:
            synthesis, pdf = await blocking(
                kit.syntheses.download,
                grant.operator,
                grant.case_id,
                grant.synthesis_id,
                actor=f"{LINK_ACTOR_PREFIX}{grant.link_id}",
            )
        except SynthesisNotFound:
            return await pages.link_gone(request, None, GONE, UNKNOWN)
        return pdf_response(synthesis, pdf)

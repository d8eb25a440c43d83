"""« Tableau de bord d'activité » (managers) and the person's questionnaire link (no account).

- ``/espace/activite``: the operator's indicators for a period, each as an SVG chart (or a
  figure) with its data table, filtered by agency or counsellor (query parameters are dates
  and an index or an opaque id, never free text); a warning when no statistical export was
  made for more than the dated number of months; a POST downloads a pseudonymised export
  (recorded and audited by `ReportService`). Counsellors get 403: the figures compare
  colleagues.
- ``/espace/activite/agences``: the manager sets each staff member's agency.
- ``/questionnaire/<secret>``: GET shows the form without spending the link (mail scanners
  pre-fetch links); the POST answers it, once.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any, Final

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import PathParameter, QueryParameter

from cep_core.domain.accounts import StaffUser
from cep_core.domain.context import Role
from cep_core.domain.reporting import (
    AGREEMENT_LABELS,
    COMMENT_MAX_LENGTH,
    FOLLOW_UP_LABELS,
    LIKERT_LABELS,
    SATISFACTION_QUESTIONS,
    Chart,
    FollowUpAnswer,
    IndicatorResult,
    SatisfactionAnswer,
    SurveyKind,
)
from cep_core.domain.rules import add_months
from cep_core.kit import Kit
from cep_core.services.download_links import LinkState
from cep_core.services.indicators import AGENCY_MAX_LENGTH, Period, Scope, UnknownStaff
from cep_core.services.reports import ExportFormat, ExportKind
from cep_core.services.surveys import SURVEY_PATH
from cep_core.web.charts import bar_chart, format_number, line_chart
from cep_core.web.pages.common import FormData, FormError, blocking, current_staff, read_form
from cep_core.web.pages.rendering import Pages, see_other

DASHBOARD_PATH: Final = "/espace/activite"
DAY_PATTERN: Final = r"^([0-9]{4}-[0-9]{2}-[0-9]{2})?$"
Secret = Annotated[str, PathParameter(max_length=64, description="Le secret du lien.")]
KIND_LABELS = {
    ExportKind.ACTIVITY: "Activité (effectifs par mois, tranche d'âge, niveau, modalité)",
    ExportKind.PATHS: "Parcours (une ligne par dossier, identifiants pseudonymisés)",
}


async def _manager(request: Request[Any, Any, Any], kit: Kit) -> tuple[StaffUser, str]:
    user = await current_staff(request, kit, Role.MANAGER)
    assert user.operator is not None  # the schema requires it for managers
    return user, user.operator


def _day(value: str | None) -> date | None:
    """A ``YYYY-MM-DD`` from the filter form; None when empty or impossible (30 February)."""
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def default_period(today: date) -> Period:
    """The last twelve months, this one included."""
    return Period(start=add_months(today.replace(day=1), -11), end=today)


class ChartView(msgspec.Struct, frozen=True, kw_only=True):
    result: IndicatorResult
    svg: str | None
    rows: list[tuple[str, str]]
    figure: str


def chart_view(index: int, result: IndicatorResult) -> ChartView:
    points = [(p.label, p.value) for p in result.points]
    rows = [(label, format_number(value, result.unit)) for label, value in points]
    figure = format_number(result.value, result.unit)
    svg = None
    if result.chart is not Chart.VALUE and points:
        draw = line_chart if result.chart is Chart.LINE else bar_chart
        svg = str(draw(f"graphique-{index}", result.label, points, result.unit))
    return ChartView(result=result, svg=svg, rows=rows, figure=figure)


class DashboardController(Controller):
    """The operator's activity, for its managers."""

    path = DASHBOARD_PATH

    @get("/", name="activity-dashboard")
    async def dashboard(
        self,
        request: Request[Any, Any, Any],
        kit: NamedDependency[Kit],
        pages: NamedDependency[Pages],
        du: Annotated[str | None, QueryParameter(max_length=10, pattern=DAY_PATTERN)] = None,
        au: Annotated[str | None, QueryParameter(max_length=10, pattern=DAY_PATTERN)] = None,
        agence: Annotated[
            str | None,
            QueryParameter(max_length=4, pattern=r"^[0-9]{0,4}$", description="Rang de l'agence."),
        ] = None,
        conseiller: Annotated[
            str | None, QueryParameter(max_length=32, pattern=r"^([0-9a-f]{32})?$")
        ] = None,
    ) -> Response[Any]:
        _, operator = await _manager(request, kit)
        errors: list[FormError] = []
        period = default_period(kit.today())
        start, end = _day(du) or period.start, _day(au) or period.end
        if du or au:
            if start > end:
                errors.append(
                    FormError(message="La date de début doit précéder la date de fin.", field="du")
                )
            elif (end - start) > timedelta(days=3 * 366):
                errors.append(
                    FormError(message="La période ne peut pas dépasser trois ans.", field="du")
                )
            else:
                period = Period(start=start, end=end)
        agencies = await blocking(kit.indicators.agency_names, operator)
        counsellors = await blocking(kit.indicators.counsellors, operator)
        rank = int(agence) if agence else None
        agency = agencies[rank] if rank is not None and rank < len(agencies) else None
        known = {user_id for user_id, _ in counsellors}
        counsellor = conseiller if conseiller in known else None
        scope = Scope(operator=operator, agency=agency, counsellor=counsellor)
        results = await blocking(kit.indicators.compute, scope, period)
        status = await blocking(kit.reports.status, operator)
        return await pages.render(
            request,
            "reporting/dashboard.html",
            title=("Erreur — " if errors else "") + "Tableau de bord d'activité",
            status_code=400 if errors else 200,
            errors=errors,
            period=period,
            charts=[chart_view(i, r) for i, r in enumerate(results, start=1)],
            agencies=list(enumerate(agencies)),
            agency_index=rank if agency is not None else None,
            counsellors=counsellors,
            counsellor=counsellor,
            export_status=status,
            kinds=list(KIND_LABELS.items()),
        )

    @post("/export", name="activity-export")
    async def export(
        self,
        request: Request[Any, Any, Any],
        kit: NamedDependency[Kit],
    ) -> Response[Any]:
        user, operator = await _manager(request, kit)
        form = await read_form(request)
        try:
            period = Period(
                start=date.fromisoformat(form.get("du")), end=date.fromisoformat(form.get("au"))
            )
            kind = ExportKind(form.get("type"))
            fmt = ExportFormat(form.get("format"))
        except ValueError:
            return see_other(f"{DASHBOARD_PATH}?export=invalide")
        export = await blocking(
            kit.reports.export, operator, period, kind=kind, fmt=fmt, actor=user.id
        )
        return Response(
            export.content,
            status_code=200,
            media_type=export.media_type,
            headers={
                "Content-Disposition": f'attachment; filename="{export.filename}"',
                "Cache-Control": "no-store",
            },
        )

    @get("/agences", name="activity-agencies")
    async def agencies(
        self,
        request: Request[Any, Any, Any],
        kit: NamedDependency[Kit],
        pages: NamedDependency[Pages],
    ) -> Response[Any]:
        _, operator = await _manager(request, kit)
        return await self._agencies_page(request, kit, pages, operator, errors=[])

    @post("/agences", name="activity-agencies-save")
    async def save_agencies(
        self,
        request: Request[Any, Any, Any],
        kit: NamedDependency[Kit],
        pages: NamedDependency[Pages],
    ) -> Response[Any]:
        _, operator = await _manager(request, kit)
        form = await read_form(request)
        staff = await blocking(kit.indicators.counsellors, operator)
        errors: list[FormError] = []
        for user_id, name in staff:
            field = f"agence-{user_id}"
            if not form.has(field):
                continue
            label = form.get(field)
            if len(label) > AGENCY_MAX_LENGTH:
                errors.append(
                    FormError(
                        message=f"{name} : {AGENCY_MAX_LENGTH} caractères au plus.", field=field
                    )
                )
                continue
            try:
                await blocking(kit.indicators.set_agency, operator, user_id, label)
            except UnknownStaff:
                continue
        if errors:
            return await self._agencies_page(
                request, kit, pages, operator, errors=errors, status_code=400
            )
        return see_other(f"{DASHBOARD_PATH}/agences?enregistre=1")

    async def _agencies_page(
        self,
        request: Request[Any, Any, Any],
        kit: Kit,
        pages: Pages,
        operator: str,
        *,
        errors: list[FormError],
        status_code: int = 200,
    ) -> Response[Any]:
        staff = await blocking(kit.indicators.counsellors, operator)
        current = await blocking(kit.indicators.agencies, operator)
        return await pages.render(
            request,
            "reporting/agencies.html",
            title=("Erreur — " if errors else "") + "Agences de l'équipe",
            status_code=status_code,
            staff=[(user_id, name, current.get(user_id, "")) for user_id, name in staff],
            errors=errors,
            saved=request.query_params.get("enregistre") == "1",
            max_length=AGENCY_MAX_LENGTH,
        )


# -- the person's questionnaire --------------------------------------------------------------

GONE: Final = {
    LinkState.EXPIRED: (
        "Ce questionnaire a expiré",
        "Le délai pour répondre est dépassé. Merci de l'attention que vous nous portez.",
    ),
    LinkState.USED: (
        "Vous avez déjà répondu",
        "Ce questionnaire a déjà reçu une réponse : merci pour votre participation.",
    ),
}
UNKNOWN: Final = (
    "Questionnaire introuvable",
    "Ce lien n'est pas valide. Vérifiez qu'il a été copié en entier.",
)
YES_NO: Final = [("oui", "Oui"), ("non", "Non")]


def _parse(kind: SurveyKind, form: FormData) -> tuple[Any, list[FormError]]:
    """The answer from the form, or the errors to show (French, next to each field)."""
    errors: list[FormError] = []
    values: dict[str, Any] = {}

    def likert(name: str, number: int) -> None:
        raw = form.get(name)
        if raw not in {"1", "2", "3", "4", "5"}:
            message = f"Question {number} : choisissez une réponse de 1 à 5."
            errors.append(FormError(message=message, field=name))
        else:
            values[name] = int(raw)

    def yes_no(name: str, number: int) -> None:
        raw = form.get(name)
        if raw not in ("oui", "non"):
            message = f"Question {number} : répondez par oui ou par non."
            errors.append(FormError(message=message, field=name))
        else:
            values[name] = raw == "oui"

    comment = form.get("comment")
    if len(comment) > COMMENT_MAX_LENGTH:
        errors.append(
            FormError(message=f"{COMMENT_MAX_LENGTH} caractères au plus.", field="comment")
        )
    values["comment"] = comment or None
    if kind is SurveyKind.SATISFACTION:
        for number, (name, _) in enumerate(SATISFACTION_QUESTIONS, start=1):
            likert(name, number)
        yes_no("recommend", len(SATISFACTION_QUESTIONS) + 1)
        model: type[Any] = SatisfactionAnswer
    else:
        situation = form.get("situation")
        if situation not in {s.value for s in FOLLOW_UP_LABELS}:
            message = "Question 1 : choisissez votre situation."
            errors.append(FormError(message=message, field="situation"))
        else:
            values["situation"] = situation
        likert("satisfaction", 2)
        yes_no("cep_helped", 3)
        model = FollowUpAnswer
    if errors:
        return None, errors
    return msgspec.convert(values, model), []


class SurveyController(Controller):
    """The person's questionnaire (no account: the secret in the link is the credential)."""

    path = SURVEY_PATH

    @get("/{secret:str}", name="survey")
    async def show(
        self,
        request: Request[Any, Any, Any],
        secret: Secret,
        kit: NamedDependency[Kit],
        pages: NamedDependency[Pages],
    ) -> Response[Any]:
        link = await blocking(kit.surveys.peek, secret)
        if link is None or link.state is not LinkState.VALID:
            return await pages.link_gone(
                request, None if link is None else link.state, GONE, UNKNOWN
            )
        return await _form(request, pages, secret, link.kind, link.operator, {}, [])

    @post("/{secret:str}", name="survey-answer")
    async def answer(
        self,
        request: Request[Any, Any, Any],
        secret: Secret,
        kit: NamedDependency[Kit],
        pages: NamedDependency[Pages],
    ) -> Response[Any]:
        link = await blocking(kit.surveys.peek, secret)
        if link is None or link.state is not LinkState.VALID:
            return await pages.link_gone(
                request, None if link is None else link.state, GONE, UNKNOWN
            )
        form = await read_form(request)
        answer, errors = _parse(link.kind, form)
        if errors:
            return await _form(
                request, pages, secret, link.kind, link.operator, form.as_dict(), errors, 400
            )
        if not await blocking(kit.surveys.answer, secret, answer):
            again = await blocking(kit.surveys.peek, secret)
            return await pages.link_gone(
                request, None if again is None else again.state, GONE, UNKNOWN
            )
        return await pages.render(
            request,
            "public/survey_done.html",
            title="Merci pour vos réponses",
            operator_label=pages.operator_label(link.operator),
        )


async def _form(
    request: Request[Any, Any, Any],
    pages: Pages,
    secret: str,
    kind: SurveyKind,
    operator: str,
    values: dict[str, str],
    errors: list[FormError],
    status_code: int = 200,
) -> Response[Any]:
    satisfaction = kind is SurveyKind.SATISFACTION
    title = "Votre avis sur votre accompagnement" if satisfaction else "Où en êtes-vous ?"
    return await pages.render(
        request,
        "public/survey.html",
        title=("Erreur — " if errors else "") + title,
        status_code=status_code,
        heading=title,
        satisfaction=satisfaction,
        action=f"{SURVEY_PATH}/{secret}",
        operator_label=pages.operator_label(operator),
        questions=SATISFACTION_QUESTIONS,
        likert=[(str(k), f"{k} – {v}") for k, v in LIKERT_LABELS.items()],
        agreement=[(str(k), f"{k} – {v}") for k, v in AGREEMENT_LABELS.items()],
        situations=[(s.value, label) for s, label in FOLLOW_UP_LABELS.items()],
        yes_no=YES_NO,
        values=values,
        errors=errors,
        comment_max=COMMENT_MAX_LENGTH,
    )

"""The counsellors' workspace: the dashboard, the list of cases and its name search, opening a
case for a person met directly, and the case page.

Thin like the API: `CaseService` (``kit.cases``) decides; these handlers read the form, call it
off the event loop with the signed-in staff member's operator, and show the answer in French.
The case page shows what the role may see (SEC-03): the disability status, health answers and
the sessions' confidential notes are for the operator's counsellors only.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Final

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import PermissionDeniedException
from litestar.params import QueryParameter

from cep_core.defaults.synthesis import FUNDING_STATUS_LABELS
from cep_core.domain.accounts import StaffUser
from cep_core.domain.case import (
    CLOSE_REASON_LABELS,
    REFERRAL_REASON_LABELS,
    Case,
    CaseStatus,
    Level,
)
from cep_core.domain.context import Role
from cep_core.domain.forms import FormChannel
from cep_core.domain.funding import FundingStatus, ParticipationPayer
from cep_core.domain.issues import InvalidInput, Issue
from cep_core.domain.lifecycle import Action
from cep_core.domain.regions import region, regions
from cep_core.domain.requests import CHANNEL_LABELS, AppointmentRequest
from cep_core.domain.situation import STATUS_LABELS, Situation, Status
from cep_core.domain.steps import LEVEL_TWO_ACTION_PLAN, StepState, StepStatus
from cep_core.errors import PluginFailure
from cep_core.kit import Kit
from cep_core.services.cases import CasePage, CaseView, NewBeneficiary
from cep_core.services.funding import SimulationAnswer
from cep_core.web.audit import audit_exempt, audited
from cep_core.web.pages.case_forms import (
    SESSION_CHANNEL_LABELS,
    FieldSpec,
    describe,
    form_errors,
    form_spec,
    layout,
    near_fields,
    parse,
    without_sensitive,
)
from cep_core.web.pages.case_support import (
    CASES_URL,
    LEVEL_NAMES,
    STATUS_BADGES,
    STATUS_NAMES,
    CaseId,
    actor_name,
    case_url,
    journal,
    notice,
    shows_health,
    staff_names,
    step_url,
    workspace_user,
)
from cep_core.web.pages.common import FormData, FormError, blocking, read_form
from cep_core.web.pages.rendering import Pages, see_other

PAGE_SIZE: Final = 25
DASHBOARD_SIZE: Final = 10
MINE, ALL = "mes-dossiers", "tous"
STEP_STATUS_NAMES: Final[dict[StepStatus, str]] = {
    StepStatus.NOT_STARTED: "À faire",
    StepStatus.DRAFT: "Brouillon",
    StepStatus.COMPLETED: "Terminée",
}
INTAKE_PREFIX: Final = "intake."
# Fields of the new-case form, by the path the service reports problems at.
NEW_CASE_FIELDS: Final[dict[str, str]] = {
    "first_name": "first_name",
    "last_name": "last_name",
    "email": "email",
    "phone": "phone",
    "birth_date": "birth_date",
    "as_of": "birth_date",
    "status": "status",
    "region": "region",
    "operator": "force",
    "force": "force",
    "level": "level",
}
SITUATION_FLAGS: Final = (
    ("cadre", "Cadre (ou jeune diplômé·e visant un poste de cadre)"),
    ("registered_jobseeker", "Inscrit·e à France Travail"),
    ("working", "En activité (emploi, même à temps partiel)"),
    ("seeking_job", "En recherche d'emploi"),
)
DISABILITY_FLAG: Final = ("disability_recognition", "Reconnaissance administrative du handicap")
# Who pays the CPF participation, said to the counsellor about the person (the synthesis
# speaks to the person: « à votre charge »).
PAYER_TEXT: Final[dict[ParticipationPayer, str]] = {
    ParticipationPayer.HOLDER: "à la charge de la personne",
    ParticipationPayer.EMPLOYER: "prise en charge par l'employeur",
    ParticipationPayer.OPCO: "prise en charge par l'OPCO",
    ParticipationPayer.TRAINING_BODY: "prise en charge par l'organisme de formation",
    ParticipationPayer.NONE: "aucune participation due (exonération)",
}
LEVEL_CHOICES: Final = (
    ("", "Ouvrir le dossier sans démarrer de niveau"),
    ("1", "Démarrer au niveau 1 (accueil individualisé)"),
    ("2", "Démarrer au niveau 2 (accompagnement personnalisé)"),
)


def badge(status: CaseStatus) -> dict[str, str]:
    return {"label": STATUS_NAMES[status], "css": STATUS_BADGES[status]}


def page_rows(page: CasePage, names: dict[str, str]) -> list[dict[str, Any]]:
    """The cases of a list page: the person's names, status, level and counsellor."""
    rows = []
    for case in page.items:
        person = page.beneficiaries.get(case.beneficiary_id)
        rows.append(
            {
                "url": case_url(case.id),
                "name": f"{person.first_name} {person.last_name}" if person else "(personne)",
                "badge": badge(case.status),
                "level": "—" if case.level is None else f"Niveau {int(case.level)}",
                "counsellor": "—"
                if case.counsellor_id is None
                else actor_name(case.counsellor_id, names),
                "updated_at": case.updated_at,
            }
        )
    return rows


class WorkspaceController(Controller):
    """``/espace``: what waits for the signed-in counsellor or manager."""

    path = "/espace"

    @audited("case.list", "case")
    @get("/", name="workspace")
    async def dashboard(
        self,
        request: Request[Any, Any, Any],
        kit: NamedDependency[Kit],
        pages: NamedDependency[Pages],
    ) -> Response[Any]:
        user, operator = await workspace_user(request, kit)
        mine = user.role is Role.COUNSELLOR
        page = await blocking(
            kit.cases.list_cases,
            operator,
            counsellor_id=user.id if mine else None,
            limit=DASHBOARD_SIZE,
        )
        pending = await blocking(kit.requests.count_pending, operator)
        names = await staff_names(kit, operator)
        return await pages.render(
            request,
            "cases/dashboard.html",
            title="Tableau de bord",
            mine=mine,
            rows=page_rows(page, names),
            more=page.next_cursor is not None,
            pending=pending,
            can_open=user.role is Role.COUNSELLOR,
        )


class CasesController(Controller):
    """``/espace/dossiers``: the operator's cases, the name search, a new case, a case."""

    path = CASES_URL

    @audited("case.list", "case")
    @get("/", name="cases")
    async def list_cases(
        self,
        request: Request[Any, Any, Any],
        kit: NamedDependency[Kit],
        pages: NamedDependency[Pages],
        statut: Annotated[CaseStatus | None, QueryParameter(description="Statut.")] = None,
        niveau: Annotated[Level | None, QueryParameter(description="Niveau.")] = None,
        vue: Annotated[
            str | None, QueryParameter(max_length=20, pattern=f"^({MINE}|{ALL})$")
        ] = None,
        curseur: Annotated[str | None, QueryParameter(max_length=200)] = None,
    ) -> Response[Any]:
        user, operator = await workspace_user(request, kit)
        view = vue or (MINE if user.role is Role.COUNSELLOR else ALL)
        filters = {
            "statut": statut.value if statut else "",
            "niveau": str(int(niveau)) if niveau else "",
            "vue": view,
        }
        return await self._results(
            request, kit, pages, user, operator, filters, name=None, cursor=curseur
        )

    @audited("case.search", "case", reads=True)
    @post("/recherche", name="cases-search", status_code=200)
    async def search(
        self,
        request: Request[Any, Any, Any],
        kit: NamedDependency[Kit],
        pages: NamedDependency[Pages],
    ) -> Response[Any]:
        """The name search: by POST, so a name never appears in a URL (SEC-11)."""
        user, operator = await workspace_user(request, kit)
        form = await read_form(request)
        statut = form.get("statut")
        niveau = form.get("niveau")
        vue = form.get("vue")
        filters = {
            "statut": statut if statut in {s.value for s in CaseStatus} else "",
            "niveau": niveau if niveau in ("1", "2") else "",
            "vue": vue if vue in (MINE, ALL) else ALL,
        }
        name = form.get("nom")[:200]
        return await self._results(
            request,
            kit,
            pages,
            user,
            operator,
            filters,
            name=name,
            cursor=form.get("curseur") or None,
        )

    async def _results(
        self,
        request: Request[Any, Any, Any],
        kit: Kit,
        pages: Pages,
        user: StaffUser,
        operator: str,
        filters: dict[str, str],
        *,
        name: str | None,
        cursor: str | None,
    ) -> Response[Any]:
        errors: list[FormError] = []
        page = CasePage(items=())
        try:
            page = await blocking(
                kit.cases.list_cases,
                operator,
                status=CaseStatus(filters["statut"]) if filters["statut"] else None,
                level=Level(int(filters["niveau"])) if filters["niveau"] else None,
                counsellor_id=user.id if filters["vue"] == MINE else None,
                name=name if name is not None else None,
                limit=PAGE_SIZE,
                cursor=cursor,
            )
        except InvalidInput as exc:
            fields = {"name": "nom", "cursor": None}
            errors = [
                FormError(message=issue.message, field=fields.get(issue.path))
                for issue in exc.issues
            ]
        names = await staff_names(kit, operator)
        searching = name is not None
        title = "Recherche de dossiers" if searching else "Dossiers"
        return await pages.render(
            request,
            "cases/list.html",
            title=f"Erreur — {title}" if errors else title,
            status_code=400 if errors else 200,
            errors=errors,
            rows=page_rows(page, names),
            next_cursor=page.next_cursor,
            first_page=cursor is not None,
            filters=filters,
            name=name or "",
            searching=searching,
            statuses=[(s.value, STATUS_NAMES[s]) for s in CaseStatus],
            views=[(MINE, "Mes dossiers"), (ALL, "Tous les dossiers de l'opérateur")],
            can_open=user.role is Role.COUNSELLOR,
        )

    # -- opening a case ----------------------------------------------------------------------

    @audit_exempt("an empty form: no beneficiary data yet")
    @get("/nouveau", name="case-new")
    async def new_case(
        self,
        request: Request[Any, Any, Any],
        kit: NamedDependency[Kit],
        pages: NamedDependency[Pages],
    ) -> Response[Any]:
        _, operator = await _counsellor(request, kit)
        return await self._new_case_page(request, kit, pages, operator, FormData({}), [], False)

    @audited("case.create", "case")
    @post("/nouveau", name="case-new-submit")
    async def open_case(
        self,
        request: Request[Any, Any, Any],
        kit: NamedDependency[Kit],
        pages: NamedDependency[Pages],
    ) -> Response[Any]:
        user, operator = await _counsellor(request, kit)
        form = await read_form(request)
        intake_specs = await _intake_specs(kit, operator)
        errors: list[FormError] = []
        situation, situation_errors = _situation(form, kit.today())
        errors += situation_errors
        intake: dict[str, Any] | None = None
        if intake_specs:
            answers = parse(intake_specs, form, prefix=INTAKE_PREFIX)
            intake = answers if any(v is not False for v in answers.values()) else None
        level = {"1": Level.ONE, "2": Level.TWO}.get(form.get("level"))
        not_competent = False
        if not errors and situation is not None:
            person = NewBeneficiary(
                first_name=form.get("first_name"),
                last_name=form.get("last_name"),
                email=form.get("email") or None,
                phone=form.get("phone") or None,
            )
            try:
                case = await blocking(
                    kit.cases.open_case,
                    operator,
                    person,
                    situation,
                    level=level,
                    counsellor_id=user.id,
                    actor=user.id,
                    intake=intake,
                    channel=FormChannel.COUNSELLOR,
                    force=form.get("force") == "oui",
                )
            except InvalidInput as exc:
                not_competent = any(i.code == "not_competent" for i in exc.issues)
                errors += _new_case_errors(exc.issues, intake_specs, form)
            else:
                return see_other(case_url(case.id) + "?message=dossier-ouvert")
        return await self._new_case_page(
            request, kit, pages, operator, form, errors, not_competent, status_code=400
        )

    async def _new_case_page(
        self,
        request: Request[Any, Any, Any],
        kit: Kit,
        pages: Pages,
        operator: str,
        form: FormData,
        errors: list[FormError],
        not_competent: bool,
        *,
        status_code: int = 200,
    ) -> Response[Any]:
        intake_form = await blocking(kit.cases.intake_form, operator, FormChannel.COUNSELLOR)
        specs = () if intake_form is None else form_spec(intake_form.input)
        submitted = bool(form.as_dict())
        intake_values = layout(
            specs,
            parse(specs, form, prefix=INTAKE_PREFIX) if submitted else None,
            prefix=INTAKE_PREFIX,
        )
        title = "Ouvrir un dossier"
        return await pages.render(
            request,
            "cases/new.html",
            title=f"Erreur — {title}" if errors else title,
            status_code=status_code,
            errors=errors,
            field_errors=near_fields(errors),
            values=form.as_dict(),
            statuses=[(s.value, STATUS_LABELS[s].capitalize()) for s in Status],
            regions=sorted(((r.code, r.name) for r in regions().values()), key=lambda r: r[1]),
            flags=[*SITUATION_FLAGS, DISABILITY_FLAG],
            levels=LEVEL_CHOICES,
            intake_form=intake_form,
            intake_fields=intake_values,
            show_force=not_competent or form.get("force") == "oui",
            operator_label=pages.operator_label(operator),
        )

    # -- the case page -----------------------------------------------------------------------

    @audited("case.read", "case")
    @get("/{case_id:str}", name="case")
    async def case_page(
        self,
        request: Request[Any, Any, Any],
        case_id: CaseId,
        kit: NamedDependency[Kit],
        pages: NamedDependency[Pages],
        message: Annotated[str | None, QueryParameter(max_length=40)] = None,
    ) -> Response[Any]:
        user, operator = await workspace_user(request, kit)
        context = await case_context(kit, pages, user, operator, case_id)
        return await pages.render(
            request,
            "cases/case.html",
            title=f"Dossier de {context['person_name']}",
            notice=notice(message),
            errors=[],
            **context,
        )


async def _counsellor(request: Request[Any, Any, Any], kit: Kit) -> tuple[StaffUser, str]:
    """Opening a case for a person met directly is a counsellor's act."""
    user, operator = await workspace_user(request, kit)
    if user.role is not Role.COUNSELLOR:
        raise PermissionDeniedException(
            "Seuls les conseillers et conseillères ouvrent un dossier pour une personne."
        )
    return user, operator


async def _intake_specs(kit: Kit, operator: str) -> tuple[FieldSpec, ...]:
    found = await blocking(kit.cases.intake_form, operator, FormChannel.COUNSELLOR)
    return () if found is None else form_spec(found.input)


def _situation(form: FormData, today: date) -> tuple[Situation | None, list[FormError]]:
    """The situation typed in the form, or the errors that keep it from being one."""
    errors: list[FormError] = []
    birth: date | None = None
    raw_birth = form.get("birth_date")
    if not raw_birth:
        errors.append(FormError(field="birth_date", message="Saisissez la date de naissance."))
    else:
        try:
            birth = date.fromisoformat(raw_birth)
        except ValueError:
            errors.append(
                FormError(field="birth_date", message="La date de naissance n'existe pas.")
            )
    status = form.get("status")
    if status not in {s.value for s in Status}:
        errors.append(FormError(field="status", message="Choisissez la situation professionnelle."))
    code = form.get("region")
    if code and region(code) is None:
        errors.append(FormError(field="region", message="Choisissez une région de la liste."))
    for field, message in (
        ("first_name", "Saisissez le prénom."),
        ("last_name", "Saisissez le nom."),
    ):
        if not form.get(field):
            errors.append(FormError(field=field, message=message))
    if errors or birth is None:
        return None, errors
    flags = {name: form.get(name) == "oui" for name, _ in (*SITUATION_FLAGS, DISABILITY_FLAG)}
    return (
        Situation(
            birth_date=birth, as_of=today, status=Status(status), region=code or None, **flags
        ),
        [],
    )


def _new_case_errors(
    issues: tuple[Issue, ...], intake_specs: tuple[FieldSpec, ...], form: FormData
) -> list[FormError]:
    own = [issue for issue in issues if not issue.path.startswith("intake")]
    errors = [
        FormError(message=issue.message, field=NEW_CASE_FIELDS.get(issue.path)) for issue in own
    ]
    intake_issues = [issue for issue in issues if issue.path.startswith("intake")]
    if intake_issues:
        views = layout(
            intake_specs, parse(intake_specs, form, prefix=INTAKE_PREFIX), prefix=INTAKE_PREFIX
        )
        errors += form_errors(intake_issues, views)
    return errors


# -- the case page's content -----------------------------------------------------------------


async def load_view(kit: Kit, user: StaffUser, operator: str, case_id: str) -> CaseView:
    """The case as the user's role may see it (SEC-03); `CaseNotFound` for another
    operator's case (SEC-01)."""
    role = Role(user.role)
    return await blocking(kit.cases.view_case, operator, case_id, role=role)


def step_rows(case_id: str, states: tuple[StepState, ...]) -> list[dict[str, Any]]:
    titles = {state.id: state.title for state in states}
    return [
        {
            "title": state.title,
            "url": step_url(case_id, state.level, state.id),
            "status": STEP_STATUS_NAMES[state.status],
            "done": state.status is StepStatus.COMPLETED,
            "required": state.required,
            "blocked_by": [titles.get(d, d) for d in state.blocked_by],
            "updated_at": state.updated_at,
        }
        for state in states
    ]


def person_name(view: CaseView) -> str:
    person = view.beneficiary
    return f"{person.first_name} {person.last_name}" if person else "personne inconnue"


async def case_context(
    kit: Kit, pages: Pages, user: StaffUser, operator: str, case_id: str
) -> dict[str, Any]:
    """Everything the case page shows, as the user's role may see it."""
    view = await load_view(kit, user, operator, case_id)
    case = view.case
    health = shows_health(user)
    names = await staff_names(kit, operator)
    events = await blocking(kit.cases.case_events, operator, case_id)
    syntheses = await blocking(kit.syntheses.list_for_case, operator, case_id)
    flows: dict[Level, Any] = {}
    for level in (Level.ONE, Level.TWO):
        flows[level] = await blocking(kit.cases.step_definitions, operator, case_id, level)
    titles = {step.id: step.title for flow in flows.values() for step in flow}
    other_levels = []
    if case.level is Level.TWO and any(step.id in case.steps for step in flows[Level.ONE]):
        level_one = await blocking(kit.cases.steps, operator, case_id, Level.ONE)
        other_levels.append(
            {"name": LEVEL_NAMES[Level.ONE], "steps": step_rows(case.id, level_one)}
        )
    action_plan = None
    plan_step = next((s for s in flows[Level.TWO] if s.id == LEVEL_TWO_ACTION_PLAN), None)
    record = case.steps.get(LEVEL_TWO_ACTION_PLAN)
    if plan_step is not None and record is not None:
        specs = form_spec(plan_step.input)
        action_plan = {
            "answers": describe(specs if health else without_sensitive(specs), record.data),
            "completed": record.completed,
            "url": step_url(case.id, Level.TWO, LEVEL_TWO_ACTION_PLAN),
        }
    intake = None
    if case.intake is not None:
        try:
            form = await blocking(kit.cases.intake_form, operator, case.intake.channel)
        except PluginFailure:
            form = None
        if form is not None:
            specs = form_spec(form.input)
            intake = {
                "title": form.title,
                "answers": describe(
                    specs if health else without_sensitive(specs), case.intake.answers
                ),
                "at": case.intake.submitted_at,
            }
    situation = case.situation
    place = region(situation.region) if situation.region else None
    origin = await blocking(kit.requests.for_case, operator, case.id)
    allowed = set(view.allowed_actions)
    terminal = case.status in (CaseStatus.CLOSED, CaseStatus.REFERRED)
    person = view.beneficiary
    return {
        "view": view,
        "case": case,
        "case_url": case_url(case.id),
        "person": person,
        "person_name": person_name(view),
        "show_health": health,
        "badge": badge(case.status),
        "level_name": LEVEL_NAMES[case.level] if case.level else "Aucun niveau démarré",
        "progress": view.progress,
        "steps": step_rows(case.id, view.steps),
        "other_levels": other_levels,
        "situation": situation,
        "situation_status": STATUS_LABELS[situation.status],
        "age": situation.age,
        "region_name": place.name if place else None,
        "sessions": [
            {
                "start": s.start,
                "channel": SESSION_CHANNEL_LABELS.get(s.channel, s.channel.value),
                "duration": s.duration_minutes,
                "counsellor": actor_name(s.counsellor_id, names),
                "outside": "—"
                if s.outside_working_time is None
                else ("Oui" if s.outside_working_time else "Non"),
                "notes": s.notes if health else None,
            }
            for s in case.sessions
        ],
        "intake": intake,
        "action_plan": action_plan,
        "funding": _funding(case),
        "funding_url": f"{case_url(case.id)}/financement",
        "origin": _request(origin, names),
        "syntheses": syntheses,
        "synthesis_levels": []
        if case.level is None
        else [(str(int(lvl)), LEVEL_NAMES[lvl]) for lvl in Level if lvl <= case.level],
        "journal": journal(events, names, titles)[::-1],
        "counsellor": actor_name(case.counsellor_id, names) if case.counsellor_id else None,
        "can": {
            "start_level_1": Action.START_LEVEL_1 in allowed,
            "start_level_2": Action.START_LEVEL_2 in allowed,
            "pause": Action.PAUSE in allowed,
            "resume": Action.RESUME in allowed,
            "close": Action.CLOSE in allowed,
            "refer": Action.REFER in allowed,
            "session": not terminal,
            "funding": not terminal and case.level is Level.TWO,
            "send_link": bool(person and person.email),
        },
        "closure": None
        if case.closure is None
        else {
            "reason": CLOSE_REASON_LABELS[case.closure.reason],
            "note": case.closure.note,
            "at": case.closure.at,
        },
        "referral": None
        if case.referral is None
        else {
            "target": pages.operator_label(case.referral.target_operator),
            "reason": REFERRAL_REASON_LABELS[case.referral.reason],
            "note": case.referral.note,
            "at": case.referral.at,
        },
    }


def _request(found: AppointmentRequest | None, names: dict[str, str]) -> dict[str, Any] | None:
    """The appointment request the case was opened from, and the appointment proposed."""
    if found is None:
        return None
    appointment = found.appointment
    return {
        "reference": found.reference,
        "created_at": found.created_at,
        "appointment": None
        if appointment is None
        else {
            "starts_at": appointment.starts_at,
            "duration": appointment.duration_minutes,
            "channel": CHANNEL_LABELS[appointment.channel],
            "location": appointment.location,
            "counsellor": appointment.counsellor_name,
            "proposed_at": appointment.proposed_at,
            "proposed_by": actor_name(appointment.proposed_by, names),
        },
    }


def _funding(case: Case) -> dict[str, Any] | None:
    plan = case.funding_plan
    if plan is None or plan.purchase_date is None or plan.ptp is None:
        return None
    answer = SimulationAnswer.from_plan(plan, list(plan.warnings))
    return {
        "answer": answer,
        "lines": [
            {
                "label": line.label,
                "amount_cents": round(line.amount_eur * 100),
                "status": FUNDING_STATUS_LABELS.get(FundingStatus(line.status), line.status),
            }
            for line in answer.lines
        ],
        "total_cents": round(answer.total_eur * 100),
        "funded_cents": round(answer.funded_eur * 100),
        "remaining_cents": round(answer.remaining_eur * 100),
        "participation_cents": round(answer.participation_eur * 100),
        "participation_payer": PAYER_TEXT.get(
            ParticipationPayer(answer.participation_payer), answer.participation_payer
        ),
    }

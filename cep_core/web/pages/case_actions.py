"""What changes a case from the workspace: sessions, the funding plan, and its status (start a
level, pause, resume, close with a reason, refer to another operator).

Every form carries the case version it was built on. When the case moved on meanwhile
(`VersionConflict`), the page comes back with who changed it, the case's state now, and the
person's values kept, with a button that re-applies them on the new version: nothing typed is
lost. Refusals of the state machine, the flow or a plugin come back in French.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, time
from typing import Annotated, Any, Final

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import PathParameter

from cep_core.clock import PARIS
from cep_core.domain.accounts import StaffUser
from cep_core.domain.case import (
    CLOSE_REASON_LABELS,
    NOTE_MAX_LENGTH,
    REFERRAL_REASON_LABELS,
    SESSION_MAX_MINUTES,
    SESSION_NOTES_MAX_LENGTH,
    CloseReason,
    ReferralReason,
)
from cep_core.domain.forms import SessionChannel
from cep_core.domain.funding import (
    CddKind,
    ContractKind,
    FunderKind,
    FundingStatus,
    ParticipationPayer,
    TrainingKind,
)
from cep_core.domain.issues import InvalidInput, Issue
from cep_core.domain.lifecycle import ACTION_LABELS, Action
from cep_core.domain.steps import LEVEL_TWO_ACTION_PLAN, SERVICE_KIND_LABELS
from cep_core.errors import CaseStateConflict, VersionConflict
from cep_core.kit import Kit
from cep_core.services.cases import FundingPlanRequest, NewSession, decode_input
from cep_core.web.audit import audited
from cep_core.web.pages.case_forms import (
    SESSION_CHANNEL_LABELS,
    Overrides,
    form_errors,
    form_spec,
    layout,
    near_fields,
    parse,
)
from cep_core.web.pages.case_support import (
    TRAINING_KIND_LABELS,
    CaseId,
    Conflict,
    case_url,
    conflict_for,
    issue_errors,
    shows_health,
    submitted_version,
    workspace_user,
)
from cep_core.web.pages.cases import case_context, load_view, person_name
from cep_core.web.pages.common import FormError, blocking, read_form
from cep_core.web.pages.rendering import Pages, see_other

# The simple status changes (a button on the case page), by their path segment.
BUTTON_ACTIONS: Final[dict[str, Action]] = {
    "demarrer-niveau-1": Action.START_LEVEL_1,
    "demarrer-niveau-2": Action.START_LEVEL_2,
    "pause": Action.PAUSE,
    "reprise": Action.RESUME,
}
ActionName = Annotated[str, PathParameter(max_length=30, description="Action sur le dossier.")]

SESSION_FIELDS: Final[dict[str, str]] = {
    "start": "date",
    "channel": "channel",
    "duration_minutes": "duration",
    "outside_working_time": "outside_working_time",
    "notes": "notes",
}
CLOSE_FIELDS: Final[dict[str, str]] = {"reason": "reason", "note": "note"}
REFER_FIELDS: Final[dict[str, str]] = {
    "target_operator": "target_operator",
    "reason": "reason",
    "note": "note",
}

FUNDING_LABELS: Final[dict[str, str]] = {
    "training": "L'action à financer",
    "situation": "Ce que le financement doit savoir de la personne",
    "situation.cpf_balance_eur": "Solde du compte personnel de formation",
    "situation.employer_topup_eur": "Abondement de l'employeur",
    "situation.contract": "Contrat de travail",
    "situation.cdd_kind": "Type de CDD",
    "situation.cdd_end_date": "Fin du CDD",
    "situation.months_salaried_total": "Ancienneté salariée totale (mois)",
    "situation.months_current_employer": "Ancienneté chez l'employeur actuel (mois)",
    "situation.months_salaried_last_60": "Mois salariés sur les 60 derniers mois",
    "situation.months_cdd_last_12": "Mois en CDD sur les 12 derniers mois",
    "situation.low_qualified": "Niveau de qualification inférieur au bac",
    "situation.working_time_percent": "Temps de travail (en % d'un temps plein)",
    "situation.activity_months_this_year": "Mois d'activité cette année",
    "situation.reference_monthly_salary_eur": "Salaire mensuel de référence",
    "situation.reemployed_after_dismissal": "Reprise d'emploi après un licenciement",
    "situation.occupational_disease_absence": "Absence pour maladie professionnelle",
    "situation.absence_months_last_24": "Mois d'absence sur les 24 derniers mois",
    "situation.days_worked_last_60_months": "Jours travaillés sur les 60 derniers mois",
    "situation.c2p_points_used": "Points du compte professionnel de prévention mobilisés",
    "situation.atmp_reconversion_topup": "Abondement reconversion AT-MP",
    "situation.employer_headcount": "Effectif de l'employeur",
    "situation.professional_reviews_held": "Entretiens professionnels tenus par l'employeur",
    "situation.non_compulsory_training": "Formation non obligatoire suivie ces 6 dernières années",
    "purchase_date": "Date d'achat de la formation",
    "participation_payer": "Qui paie la participation forfaitaire au CPF",
    "funders": "Réponses déjà obtenues des financeurs",
    "funders[].funder": "Financeur",
    "funders[].amount_eur": "Montant accordé ou demandé",
    "funders[].status": "État de la demande",
    "funders[].requested_on": "Date de la demande",
}


# Help the page knows better than the request's developer-facing descriptions.
FUNDING_HELPS: Final[dict[str, str | None]] = {
    "training.service": "Le dispositif ou la prestation du plan d'action à financer.",
    "purchase_date": "Laissée vide : la date du jour.",
    "funders[].funder": "Le CPF et l'abondement de l'employeur se renseignent plus haut.",
}
# Funders a counsellor may name in « Réponses déjà obtenues » (the CPF and the holder are
# computed, the employer's top-up has its own field), labelled from the funding parameters
# when they name the funder, else here.
FUNDER_LABELS: Final[dict[FunderKind, str]] = {
    FunderKind.OPCO: "Opérateur de compétences (OPCO)",
    FunderKind.REGION: "Conseil régional",
    FunderKind.FRANCE_TRAVAIL: "France Travail",
    FunderKind.TRANSITIONS_PRO: "Transitions Pro",
    FunderKind.AGEFIPH: "Agefiph",
    FunderKind.FIPHFP: "FIPHFP",
    FunderKind.OTHER: "Autre financeur",
}
# The participation is paid by the person, their employer or the OPCO — never by the
# training body (décret n° 2024-394), and « none » is what the rules conclude, not a choice:
# the service refuses both, so they are not offered.
PAYER_LABELS: Final[dict[ParticipationPayer, str]] = {
    ParticipationPayer.HOLDER: "La personne",
    ParticipationPayer.EMPLOYER: "L'employeur",
    ParticipationPayer.OPCO: "L'OPCO",
}


def _labelled(labels: Mapping[Any, str], enum: Any) -> tuple[tuple[str, str], ...]:
    return tuple((member.value, labels.get(member, member.value)) for member in enum)


def funder_choices(kit: Kit, when: date) -> tuple[tuple[str, str], ...]:
    """The funders a plan may already have an answer from, with their French labels."""
    params = kit.funding.parameters
    choices = []
    for funder, label in FUNDER_LABELS.items():
        name = f"funders.{funder.value}.label"
        if name in params and params.defined(name, when):
            label = params.text(name, when)
        choices.append((funder.value, label))
    return tuple(choices)


FUNDING_CHOICES: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "training.kind": _labelled(TRAINING_KIND_LABELS, TrainingKind),
    "situation.contract": _labelled(
        {ContractKind.CDI: "CDI", ContractKind.CDD: "CDD"}, ContractKind
    ),
    "situation.cdd_kind": _labelled(
        {
            CddKind.STANDARD: "CDD de droit commun",
            CddKind.APPRENTICESHIP: "Contrat d'apprentissage",
            CddKind.PROFESSIONALISATION: "Contrat de professionnalisation",
            CddKind.CAE_PEC: "Contrat aidé (CAE, PEC)",
            CddKind.STUDENT: "CDD conclu pendant les études",
            CddKind.CDD_TO_CDI: "CDD suivi d'un CDI",
        },
        CddKind,
    ),
    "participation_payer": tuple((payer.value, label) for payer, label in PAYER_LABELS.items()),
    "funders[].status": _labelled(
        {
            FundingStatus.REQUESTED: "Demandé",
            FundingStatus.GRANTED: "Accordé",
            FundingStatus.TACITLY_GRANTED: "Accordé (acceptation tacite)",
            FundingStatus.REFUSED: "Refusé",
        },
        FundingStatus,
    ),
}


class Outcome(msgspec.Struct, kw_only=True):
    """How a versioned write ended: done, or what the form must show again (and its status)."""

    done: bool = False
    errors: list[FormError] = msgspec.field(default_factory=list)
    conflict: Conflict | None = None
    version: int
    status_code: int = 400

    @classmethod
    def fresh(cls, version: int) -> Outcome:
        """A form shown for the first time: no error, the case's current version."""
        return cls(version=version, status_code=200)


async def attempt(
    kit: Kit,
    user: StaffUser,
    operator: str,
    case_id: str,
    fields: Mapping[str, str],
    write: Callable[[], object],
    *,
    version: int,
) -> Outcome:
    """Run a write that carries the form's case version; turn its refusals into form state.

    A stale version shows the conflict page (the case as it is now, the typed values kept);
    a refused transition (409) or invalid input (400) become errors linked to `fields`.
    `version` is the one the form was shown with.
    """
    try:
        await blocking(write)
    except VersionConflict as exc:
        conflict = await conflict_for(kit, user, operator, case_id, exc)
        return Outcome(conflict=conflict, version=conflict.version, status_code=409)
    except (CaseStateConflict, InvalidInput) as exc:
        status = 409 if isinstance(exc, CaseStateConflict) else 400
        return Outcome(errors=issue_errors(exc.issues, fields), version=version, status_code=status)
    return Outcome(done=True, version=version, status_code=303)


async def action_page(
    request: Request[Any, Any, Any],
    pages: Pages,
    template: str,
    title: str,
    case_id: str,
    name: str,
    values: Mapping[str, str],
    outcome: Outcome,
    **context: Any,
) -> Response[Any]:
    """One of the case's action forms, with its errors or its conflict."""
    failed = bool(outcome.errors or outcome.conflict)
    return await pages.render(
        request,
        template,
        title=f"Erreur — {title}" if failed else title,
        status_code=outcome.status_code,
        case_url=case_url(case_id),
        person_name=name,
        values=values,
        errors=outcome.errors,
        conflict=outcome.conflict,
        version=outcome.version,
        **context,
    )


class CaseActionPagesController(Controller):
    path = "/espace/dossiers/{case_id:str}"

    # -- status changes from a button ------------------------------------------------------

    @audited("case.update", "case")
    @post("/actions/{action:str}", name="case-action")
    async def button(
        self,
        request: Request[Any, Any, Any],
        case_id: CaseId,
        action: ActionName,
        kit: NamedDependency[Kit],
        pages: NamedDependency[Pages],
    ) -> Response[Any]:
        user, operator = await workspace_user(request, kit)
        chosen = BUTTON_ACTIONS.get(action)
        if chosen is None:
            raise NotFoundException()
        form = await read_form(request)
        try:
            await blocking(
                kit.cases.transition,
                operator,
                case_id,
                chosen,
                expected_version=submitted_version(form),
                actor=user.id,
            )
        except VersionConflict as exc:
            conflict = await conflict_for(kit, user, operator, case_id, exc)
            view = await load_view(kit, user, operator, case_id)
            return await pages.render(
                request,
                "cases/conflict.html",
                title=f"Erreur — {ACTION_LABELS[chosen].capitalize()}",
                status_code=409,
                conflict=conflict,
                case_url=case_url(case_id),
                person_name=person_name(view),
                action=f"{case_url(case_id)}/actions/{action}",
                action_label=ACTION_LABELS[chosen],
                allowed=chosen in view.allowed_actions,
            )
        except (CaseStateConflict, InvalidInput) as exc:
            return await _case_page_with(request, kit, pages, user, operator, case_id, exc.issues)
        return see_other(f"{case_url(case_id)}?message=statut-modifie")

    # -- close -----------------------------------------------------------------------------

    @audited("case.read", "case")
    @get("/cloture", name="case-close")
    async def close_form(
        self,
        request: Request[Any, Any, Any],
        case_id: CaseId,
        kit: NamedDependency[Kit],
        pages: NamedDependency[Pages],
    ) -> Response[Any]:
        user, operator = await workspace_user(request, kit)
        view = await load_view(kit, user, operator, case_id)
        return await self._close_page(
            request, pages, view.case.id, person_name(view), {}, Outcome.fresh(view.case.version)
        )

    @audited("case.update", "case")
    @post("/cloture", name="case-close-submit")
    async def close(
        self,
        request: Request[Any, Any, Any],
        case_id: CaseId,
        kit: NamedDependency[Kit],
        pages: NamedDependency[Pages],
    ) -> Response[Any]:
        user, operator = await workspace_user(request, kit)
        view = await load_view(kit, user, operator, case_id)
        form = await read_form(request)
        values = {"reason": form.get("reason"), "note": form.get("note")}
        errors: list[FormError] = []
        reason = _enum(CloseReason, values["reason"])
        if reason is None:
            errors.append(FormError(field="reason", message="Choisissez le motif de clôture."))
        if len(values["note"]) > NOTE_MAX_LENGTH:
            errors.append(
                FormError(
                    field="note",
                    message=f"La précision compte {NOTE_MAX_LENGTH} caractères au plus.",
                )
            )
        outcome = Outcome(errors=errors, version=view.case.version)
        if not errors and reason is not None:
            outcome = await attempt(
                kit,
                user,
                operator,
                case_id,
                CLOSE_FIELDS,
                lambda: kit.cases.close(
                    operator,
                    case_id,
                    reason,
                    note=values["note"] or None,
                    expected_version=submitted_version(form),
                    actor=user.id,
                ),
                version=view.case.version,
            )
            if outcome.done:
                return see_other(f"{case_url(case_id)}?message=dossier-cloture")
        return await self._close_page(request, pages, case_id, person_name(view), values, outcome)

    async def _close_page(
        self,
        request: Request[Any, Any, Any],
        pages: Pages,
        case_id: str,
        name: str,
        values: Mapping[str, str],
        outcome: Outcome,
    ) -> Response[Any]:
        return await action_page(
            request,
            pages,
            "cases/close.html",
            "Clôturer le dossier",
            case_id,
            name,
            values,
            outcome,
            reasons=[(r.value, label) for r, label in CLOSE_REASON_LABELS.items()],
            note_max=NOTE_MAX_LENGTH,
        )

    # -- refer -----------------------------------------------------------------------------

    @audited("case.read", "case")
    @get("/orientation", name="case-refer")
    async def refer_form(
        self,
        request: Request[Any, Any, Any],
        case_id: CaseId,
        kit: NamedDependency[Kit],
        pages: NamedDependency[Pages],
    ) -> Response[Any]:
        user, operator = await workspace_user(request, kit)
        view = await load_view(kit, user, operator, case_id)
        return await self._refer_page(
            request,
            kit,
            pages,
            operator,
            case_id,
            person_name(view),
            {},
            Outcome.fresh(view.case.version),
        )

    @audited("case.update", "case")
    @post("/orientation", name="case-refer-submit")
    async def refer(
        self,
        request: Request[Any, Any, Any],
        case_id: CaseId,
        kit: NamedDependency[Kit],
        pages: NamedDependency[Pages],
    ) -> Response[Any]:
        user, operator = await workspace_user(request, kit)
        view = await load_view(kit, user, operator, case_id)
        form = await read_form(request)
        values = {
            "target_operator": form.get("target_operator")[:64],
            "reason": form.get("reason"),
            "note": form.get("note"),
        }
        errors: list[FormError] = []
        reason = _enum(ReferralReason, values["reason"])
        if not values["target_operator"]:
            errors.append(
                FormError(
                    field="target_operator", message="Choisissez l'opérateur vers lequel orienter."
                )
            )
        if reason is None:
            errors.append(
                FormError(field="reason", message="Choisissez le motif de l'orientation.")
            )
        if len(values["note"]) > NOTE_MAX_LENGTH:
            errors.append(
                FormError(
                    field="note",
                    message=f"La précision compte {NOTE_MAX_LENGTH} caractères au plus.",
                )
            )
        outcome = Outcome(errors=errors, version=view.case.version)
        if not errors and reason is not None:
            outcome = await attempt(
                kit,
                user,
                operator,
                case_id,
                REFER_FIELDS,
                lambda: kit.cases.refer(
                    operator,
                    case_id,
                    values["target_operator"],
                    reason,
                    note=values["note"] or None,
                    expected_version=submitted_version(form),
                    actor=user.id,
                ),
                version=view.case.version,
            )
            if outcome.done:
                return see_other(f"{case_url(case_id)}?message=personne-orientee")
        return await self._refer_page(
            request, kit, pages, operator, case_id, person_name(view), values, outcome
        )

    async def _refer_page(
        self,
        request: Request[Any, Any, Any],
        kit: Kit,
        pages: Pages,
        operator: str,
        case_id: str,
        name: str,
        values: Mapping[str, str],
        outcome: Outcome,
    ) -> Response[Any]:
        today = kit.today()
        return await action_page(
            request,
            pages,
            "cases/refer.html",
            "Orienter vers un autre opérateur",
            case_id,
            name,
            values,
            outcome,
            operators=[(i.id, i.label(today)) for i in kit.hooks.operators() if i.id != operator],
            reasons=[(r.value, label) for r, label in REFERRAL_REASON_LABELS.items()],
            note_max=NOTE_MAX_LENGTH,
        )

    # -- sessions --------------------------------------------------------------------------

    @audited("case.read", "case")
    @get("/entretiens/nouveau", name="case-session")
    async def session_form(
        self,
        request: Request[Any, Any, Any],
        case_id: CaseId,
        kit: NamedDependency[Kit],
        pages: NamedDependency[Pages],
    ) -> Response[Any]:
        user, operator = await workspace_user(request, kit)
        view = await load_view(kit, user, operator, case_id)
        now = kit.clock().astimezone(PARIS)
        values = {
            "date": now.date().isoformat(),
            "time": now.strftime("%H:%M"),
            "channel": SessionChannel.IN_PERSON.value,
            "duration": "60",
        }
        return await self._session_page(
            request,
            pages,
            user,
            case_id,
            person_name(view),
            values,
            Outcome.fresh(view.case.version),
        )

    @audited("case.update", "case")
    @post("/entretiens/nouveau", name="case-session-submit")
    async def record_session(
        self,
        request: Request[Any, Any, Any],
        case_id: CaseId,
        kit: NamedDependency[Kit],
        pages: NamedDependency[Pages],
    ) -> Response[Any]:
        user, operator = await workspace_user(request, kit)
        view = await load_view(kit, user, operator, case_id)
        form = await read_form(request)
        health = shows_health(user)
        values = {
            name: form.get(name)
            for name in ("date", "time", "channel", "duration", "outside_working_time", "notes")
        }
        if not health:
            values["notes"] = ""  # notes are for counsellors, who alone may read them back
        session, errors = _session(values)
        outcome = Outcome(errors=errors, version=view.case.version)
        if session is not None:
            checked = session
            outcome = await attempt(
                kit,
                user,
                operator,
                case_id,
                SESSION_FIELDS,
                lambda: kit.cases.record_session(
                    operator,
                    case_id,
                    checked,
                    expected_version=submitted_version(form),
                    actor=user.id,
                ),
                version=view.case.version,
            )
            if outcome.done:
                return see_other(f"{case_url(case_id)}?message=entretien-enregistre")
        return await self._session_page(
            request, pages, user, case_id, person_name(view), values, outcome
        )

    async def _session_page(
        self,
        request: Request[Any, Any, Any],
        pages: Pages,
        user: StaffUser,
        case_id: str,
        name: str,
        values: Mapping[str, str],
        outcome: Outcome,
    ) -> Response[Any]:
        return await action_page(
            request,
            pages,
            "cases/session.html",
            "Enregistrer un entretien",
            case_id,
            name,
            values,
            outcome,
            channels=[(c.value, label) for c, label in SESSION_CHANNEL_LABELS.items()],
            show_notes=shows_health(user),
            notes_max=SESSION_NOTES_MAX_LENGTH,
            duration_max=SESSION_MAX_MINUTES,
        )

    # -- funding plan ----------------------------------------------------------------------

    @audited("case.read", "case")
    @get("/financement", name="case-funding")
    async def funding_form(
        self,
        request: Request[Any, Any, Any],
        case_id: CaseId,
        kit: NamedDependency[Kit],
        pages: NamedDependency[Pages],
    ) -> Response[Any]:
        user, operator = await workspace_user(request, kit)
        return await self._funding_page(
            request, kit, pages, user, operator, case_id, None, [], None
        )

    @audited("case.update", "case")
    @post("/financement", name="case-funding-submit")
    async def attach_funding_plan(
        self,
        request: Request[Any, Any, Any],
        case_id: CaseId,
        kit: NamedDependency[Kit],
        pages: NamedDependency[Pages],
    ) -> Response[Any]:
        user, operator = await workspace_user(request, kit)
        view = await load_view(kit, user, operator, case_id)
        form = await read_form(request)
        overrides = _funding_overrides(_services(view.case.steps), funder_choices(kit, kit.today()))
        specs = form_spec(FundingPlanRequest, overrides)
        answers = parse(specs, form)
        checked, issues = decode_input(FundingPlanRequest, answers)
        conflict = None
        status = 400
        if checked is not None:
            try:
                await blocking(
                    kit.cases.attach_funding_plan,
                    operator,
                    case_id,
                    checked,
                    expected_version=submitted_version(form),
                    actor=user.id,
                )
            except VersionConflict as exc:
                conflict = await conflict_for(kit, user, operator, case_id, exc)
                status = 409
            except InvalidInput as exc:
                issues = list(exc.issues)
            except CaseStateConflict as exc:
                issues, status = list(exc.issues), 409
            else:
                return see_other(f"{case_url(case_id)}?message=plan-financement")
        return await self._funding_page(
            request, kit, pages, user, operator, case_id, answers, issues, conflict, status
        )

    async def _funding_page(
        self,
        request: Request[Any, Any, Any],
        kit: Kit,
        pages: Pages,
        user: StaffUser,
        operator: str,
        case_id: str,
        answers: dict[str, Any] | None,
        issues: Sequence[Issue],
        conflict: Conflict | None,
        status_code: int = 200,
    ) -> Response[Any]:
        view = await load_view(kit, user, operator, case_id)
        services = _services(view.case.steps)
        overrides = _funding_overrides(services, funder_choices(kit, kit.today()))
        specs = form_spec(FundingPlanRequest, overrides)
        fields = layout(specs, answers)
        errors = form_errors(issues, fields)
        title = "Plan de financement"
        record = view.case.steps.get(LEVEL_TWO_ACTION_PLAN)
        return await pages.render(
            request,
            "cases/funding.html",
            title=f"Erreur — {title}" if errors or conflict else title,
            status_code=status_code,
            case_url=case_url(case_id),
            person_name=person_name(view),
            ready=bool(services) and record is not None and record.completed,
            fields=fields,
            errors=errors,
            field_errors=near_fields(errors),
            conflict=conflict,
            version=conflict.version if conflict else view.case.version,
            has_plan=view.case.funding_plan is not None,
            action_plan_url=f"{case_url(case_id)}/niveau/2/{LEVEL_TWO_ACTION_PLAN}",
        )


def _services(steps: Mapping[str, Any]) -> list[dict[str, Any]]:
    record = steps.get(LEVEL_TWO_ACTION_PLAN)
    if record is None:
        return []
    found = record.data.get("services", [])
    return [s for s in found if isinstance(s, dict)] if isinstance(found, list) else []


def _funding_overrides(
    services: list[dict[str, Any]], funders: tuple[tuple[str, str], ...]
) -> Overrides:
    choices = dict(FUNDING_CHOICES)
    choices["funders[].funder"] = funders
    kinds = {k.value: label for k, label in SERVICE_KIND_LABELS.items()}
    choices["training.service"] = tuple(
        (str(index), f"{service.get('label', '—')} ({kinds.get(str(service.get('kind')), '')})")
        for index, service in enumerate(services[:20])
    )
    return Overrides(labels=FUNDING_LABELS, helps=FUNDING_HELPS, choices=choices)


def _enum(kind: Any, value: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        return None


def _session(values: Mapping[str, str]) -> tuple[NewSession | None, list[FormError]]:
    """The session typed in the form, or every error that keeps it from being one."""
    errors: list[FormError] = []
    day: date | None = None
    at: time | None = None
    try:
        day = date.fromisoformat(values["date"]) if values["date"] else None
    except ValueError:
        errors.append(FormError(field="date", message="La date de l'entretien n'existe pas."))
    else:
        if day is None:
            errors.append(FormError(field="date", message="Saisissez la date de l'entretien."))
    try:
        at = time.fromisoformat(values["time"]) if values["time"] else None
    except ValueError:
        errors.append(FormError(field="time", message="Saisissez l'heure au format HH:MM."))
    else:
        if at is None:
            errors.append(FormError(field="time", message="Saisissez l'heure de l'entretien."))
    raw: dict[str, Any] = {
        "channel": values["channel"] or None,
        "duration_minutes": int(values["duration"])
        if values["duration"].isdigit() and len(values["duration"]) < 6
        else values["duration"] or None,
    }
    if day is not None and at is not None:
        raw["start"] = datetime.combine(day, at, tzinfo=PARIS).isoformat()
    else:
        raw["start"] = datetime(2000, 1, 1, tzinfo=PARIS).isoformat()  # reported above
    answer = {"oui": True, "non": False}.get(values["outside_working_time"])
    if answer is not None:
        raw["outside_working_time"] = answer
    if values["notes"]:
        raw["notes"] = values["notes"]
    raw = {key: value for key, value in raw.items() if value is not None}
    checked, issues = decode_input(NewSession, raw)
    messages = {
        "channel": "Choisissez la modalité de l'entretien.",
        "duration_minutes": f"Saisissez la durée en minutes, de 1 à {SESSION_MAX_MINUTES}.",
        "notes": f"Les notes comptent {SESSION_NOTES_MAX_LENGTH} caractères au plus.",
    }
    errors += [
        FormError(field=SESSION_FIELDS.get(i.path), message=messages.get(i.path, i.message))
        for i in issues
        if i.path != "start"
    ]
    if errors or checked is None:
        return None, errors
    return checked, []


async def _case_page_with(
    request: Request[Any, Any, Any],
    kit: Kit,
    pages: Pages,
    user: StaffUser,
    operator: str,
    case_id: str,
    issues: Sequence[Issue],
) -> Response[Any]:
    """The case page again, with why the change was refused."""
    context = await case_context(kit, pages, user, operator, case_id)
    return await pages.render(
        request,
        "cases/case.html",
        title=f"Erreur — Dossier de {context['person_name']}",
        status_code=409,
        notice=None,
        errors=[FormError(message=issue.message) for issue in issues],
        **context,
    )

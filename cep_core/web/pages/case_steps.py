"""The step pages: ``/espace/dossiers/<id>/niveau/<1|2>/<step id>``, « Étape 2 sur 5 — … ».

Each step's form is generated from its definition (`case_forms`): the core's steps and each
operator's own, with no page code per operator. « Enregistrer le brouillon » stores the
answers as typed, even incomplete (a draft is never lost); « Valider l'étape » completes the
step when every check passes — otherwise the page comes back with the errors summarised at the
top, each linked to its field, and the typed values kept. A step of the case's other level,
or of an ended case, is shown read-only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Final

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import PathParameter, QueryParameter

from cep_core.domain.accounts import StaffUser
from cep_core.domain.case import CaseStatus, Level
from cep_core.domain.forms import StepDefinition
from cep_core.domain.issues import InvalidInput, Issue
from cep_core.domain.steps import StepStatus
from cep_core.errors import CaseStateConflict, UnknownStep, VersionConflict
from cep_core.kit import Kit
from cep_core.services.cases import CaseView, decode_input
from cep_core.web.audit import audited
from cep_core.web.pages.case_forms import (
    FieldSpec,
    Overrides,
    describe,
    form_errors,
    form_spec,
    layout,
    near_fields,
    parse,
    without_sensitive,
)
from cep_core.web.pages.case_support import (
    CaseId,
    Conflict,
    StepId,
    case_url,
    conflict_for,
    shows_health,
    step_url,
    submitted_version,
    workspace_user,
)
from cep_core.web.pages.cases import load_view, person_name
from cep_core.web.pages.common import FormError, blocking, read_form
from cep_core.web.pages.rendering import Pages, see_other

LevelNumber = Annotated[int, PathParameter(ge=1, le=2, description="Niveau : 1 ou 2.")]
VALIDATE = "valider"  # the other button saves a draft
NOTICES: Final[dict[str, str]] = {
    "brouillon": "Brouillon enregistré. Vous pouvez le compléter plus tard.",
    "terminee": "Étape terminée.",
}
STATUS_TEXT: Final[dict[StepStatus, str]] = {
    StepStatus.NOT_STARTED: "Étape à faire",
    StepStatus.DRAFT: "Brouillon enregistré",
    StepStatus.COMPLETED: "Étape terminée",
}


class StepPage:
    """One step of a case as the signed-in user sees it, before any form is read."""

    def __init__(
        self,
        view: CaseView,
        flow: Sequence[StepDefinition],
        step: StepDefinition,
        level: Level,
        operator_choices: tuple[tuple[str, str], ...],
        health: bool,
    ) -> None:
        self.view = view
        self.flow = tuple(flow)
        self.step = step
        self.level = level
        self.index = next(i for i, s in enumerate(self.flow) if s.id == step.id)
        # The level-1 record names the operator a person is referred to: a list, not a code.
        specs = form_spec(step.input, Overrides(choices={"referral.operator": operator_choices}))
        self.hidden: tuple[FieldSpec, ...] = (
            () if health else tuple(s for s in specs if s.sensitive)
        )
        self.specs = specs if health else without_sensitive(specs)
        record = view.case.steps.get(step.id)
        self.data: dict[str, Any] | None = None if record is None else dict(record.data)
        self.completed = record is not None and record.completed

    @property
    def case_id(self) -> str:
        return self.view.case.id

    @property
    def editable(self) -> bool:
        case = self.view.case
        return case.level is self.level and case.status not in (
            CaseStatus.CLOSED,
            CaseStatus.REFERRED,
        )

    @property
    def title(self) -> str:
        return f"Étape {self.index + 1} sur {len(self.flow)} — {self.step.title}"

    def link(self, offset: int) -> dict[str, str] | None:
        at = self.index + offset
        if not 0 <= at < len(self.flow):
            return None
        step = self.flow[at]
        return {"url": step_url(self.case_id, self.level, step.id), "title": step.title}

    def status(self) -> str:
        if self.data is None:
            return STATUS_TEXT[StepStatus.NOT_STARTED]
        return STATUS_TEXT[StepStatus.COMPLETED if self.completed else StepStatus.DRAFT]

    def missing(self, full_data: dict[str, Any] | None) -> list[FormError]:
        """For a draft: what still keeps it from being completed (the input's own rules)."""
        if full_data is None or self.completed:
            return []
        _, issues = decode_input(self.step.input, full_data)
        hidden = {spec.name for spec in self.hidden}
        shown = [i for i in issues if i.path.split(".")[0].split("[")[0] not in hidden]
        return form_errors(shown, layout(self.specs, self.data))


async def _load(
    kit: Kit, user: StaffUser, operator: str, case_id: str, level: int, step_id: str
) -> StepPage:
    view = await load_view(kit, user, operator, case_id)
    wanted = Level(level)
    flow = await blocking(kit.cases.step_definitions, operator, case_id, wanted)
    step = next((s for s in flow if s.id == step_id), None)
    if step is None:
        raise NotFoundException()
    operators = tuple(
        (info.id, info.label(kit.today())) for info in kit.hooks.operators() if info.id != operator
    )
    return StepPage(view, flow, step, wanted, operators, shows_health(user))


class StepPagesController(Controller):
    path = "/espace/dossiers/{case_id:str}/niveau/{level:int}"

    @audited("case.read", "case")
    @get("/{step_id:str}", name="case-step")
    async def show(
        self,
        request: Request[Any, Any, Any],
        case_id: CaseId,
        level: LevelNumber,
        step_id: StepId,
        kit: NamedDependency[Kit],
        pages: NamedDependency[Pages],
        etat: Annotated[str | None, QueryParameter(max_length=20)] = None,
    ) -> Response[Any]:
        user, operator = await workspace_user(request, kit)
        page = await _load(kit, user, operator, case_id, level, step_id)
        full = page.data
        if page.hidden and full is not None:
            stored = await blocking(kit.cases.get_case, operator, case_id)
            record = stored.steps.get(page.step.id)
            full = None if record is None else dict(record.data)
        return await self._render(
            request,
            pages,
            page,
            values=page.data,
            errors=[],
            missing=page.missing(full),
            notice=NOTICES.get(etat or ""),
            conflict=None,
            version=page.view.case.version,
        )

    @audited("case.update", "case")
    @post("/{step_id:str}", name="case-step-submit")
    async def save(
        self,
        request: Request[Any, Any, Any],
        case_id: CaseId,
        level: LevelNumber,
        step_id: StepId,
        kit: NamedDependency[Kit],
        pages: NamedDependency[Pages],
    ) -> Response[Any]:
        user, operator = await workspace_user(request, kit)
        page = await _load(kit, user, operator, case_id, level, step_id)
        form = await read_form(request)
        kept: dict[str, Any] | None = None
        if page.hidden:
            stored = await blocking(kit.cases.get_case, operator, case_id)
            record = stored.steps.get(page.step.id)
            kept = None if record is None else dict(record.data)
        answers = parse(page.specs, form, kept=kept, hidden=page.hidden)
        complete = form.get("action") == VALIDATE
        try:
            await blocking(
                kit.cases.save_step,
                operator,
                case_id,
                page.step.id,
                answers,
                complete=complete,
                expected_version=submitted_version(form),
                actor=user.id,
            )
        except InvalidInput as exc:
            return await self._refused(request, pages, page, answers, exc.issues, 400)
        except VersionConflict as exc:
            conflict = await conflict_for(kit, user, operator, case_id, exc)
            return await self._render(
                request,
                pages,
                page,
                values=answers,
                errors=[],
                missing=[],
                notice=None,
                conflict=conflict,
                version=conflict.version,
                status_code=409,
            )
        except CaseStateConflict as exc:
            return await self._refused(request, pages, page, answers, exc.issues, 409)
        except UnknownStep:
            raise NotFoundException() from None
        state = "terminee" if complete else "brouillon"
        return see_other(f"{step_url(case_id, page.level, page.step.id)}?etat={state}")

    async def _refused(
        self,
        request: Request[Any, Any, Any],
        pages: Pages,
        page: StepPage,
        answers: dict[str, Any],
        issues: Sequence[Issue],
        status_code: int,
    ) -> Response[Any]:
        views = layout(page.specs, answers)
        return await self._render(
            request,
            pages,
            page,
            values=answers,
            errors=form_errors(issues, views),
            missing=[],
            notice=None,
            conflict=None,
            version=page.view.case.version,
            status_code=status_code,
        )

    async def _render(
        self,
        request: Request[Any, Any, Any],
        pages: Pages,
        page: StepPage,
        *,
        values: dict[str, Any] | None,
        errors: list[FormError],
        missing: list[FormError],
        notice: str | None,
        conflict: Conflict | None,
        version: int,
        status_code: int = 200,
    ) -> Response[Any]:
        title = page.title
        if errors or conflict:
            title = f"Erreur — {title}"
        return await pages.render(
            request,
            "cases/step.html",
            title=title,
            status_code=status_code,
            page=page,
            heading=page.title,
            person_name=person_name(page.view),
            case_url=case_url(page.case_id),
            action=step_url(page.case_id, page.level, page.step.id),
            fields=layout(page.specs, values),
            answers=describe(page.specs, page.data),
            status=page.status(),
            errors=errors,
            field_errors=near_fields(errors),
            missing=missing,
            notice=notice,
            conflict=conflict,
            version=version,
            previous=page.link(-1),
            next=page.link(1),
            blocked_by=[
                {"title": s.title, "url": step_url(page.case_id, page.level, s.id)}
                for s in page.flow
                if s.id in page.step.depends_on and not page.view.case.step_completed(s.id)
            ],
        )

"""A person's data, for the operator's managers: what is held, export, erasure (SEC-18).

The same service as ``cep gdpr`` (`cep_core.services.gdpr`), scoped to the manager's operator:
another operator's person is "not found". Each request writes its audit event here (the
middleware's `audited` declaration names records by case or request id; these pages name a
person): reads are deferred, erasure is recorded before the answer leaves. Erasure asks for
an explicit confirmation in the form.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Final, TypeVar

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import PathParameter

from cep_core.domain.accounts import StaffUser
from cep_core.domain.context import Role
from cep_core.kit import Kit
from cep_core.services.gdpr import (
    ACTION_LABELS,
    POLICIES,
    BeneficiaryNotFound,
    Selection,
    export_document,
    export_json,
)
from cep_core.storage.ids import is_id
from cep_core.web.pages.common import FormError, blocking, current_staff, read_form
from cep_core.web.pages.rendering import Pages, see_other

BeneficiaryId = Annotated[
    str, PathParameter(max_length=64, description="Identifiant de la personne.")
]
CONFIRM_FIELD: Final = "confirmation"
T = TypeVar("T")


def _page_url(beneficiary_id: str) -> str:
    return f"/espace/personnes/{beneficiary_id}/donnees"


async def _manager(request: Request[Any, Any, Any], kit: Kit) -> StaffUser:
    user = await current_staff(request, kit, Role.MANAGER)
    assert user.operator is not None  # managers belong to an operator
    return user


def _journal(kit: Kit, user: StaffUser, action: str, beneficiary_id: str, outcome: str) -> None:
    write = kit.audit.record if action == "gdpr.erase" else kit.audit.defer
    write(
        action=action,
        operator=user.operator,
        actor=user.id,
        record_type="beneficiary",
        record_id=beneficiary_id if is_id(beneficiary_id) else None,
        outcome=outcome,
    )


async def _for_person(
    kit: Kit,
    user: StaffUser,
    beneficiary_id: str,
    action: str,
    call: Callable[[str, str], T],
) -> T:
    """`call(operator, beneficiary_id)` off the event loop; an unknown person is journaled
    ``not_found`` under `action` and answered 404."""
    assert user.operator is not None
    try:
        return await blocking(call, user.operator, beneficiary_id)
    except BeneficiaryNotFound:
        await blocking(_journal, kit, user, action, beneficiary_id, "not_found")
        raise NotFoundException() from None


async def _selection(kit: Kit, user: StaffUser, beneficiary_id: str, action: str) -> Selection:
    return await _for_person(kit, user, beneficiary_id, action, kit.gdpr.select)


def _attachment(content: bytes, media_type: str, name: str) -> Response[bytes]:
    return Response(
        content=content,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


class PersonDataController(Controller):
    path = "/espace/personnes/{beneficiary_id:str}/donnees"

    @get("/", name="person-data")
    async def page(
        self,
        request: Request[Any, Any, Any],
        beneficiary_id: BeneficiaryId,
        kit: NamedDependency[Kit],
        pages: NamedDependency[Pages],
    ) -> Response[Any]:
        user = await _manager(request, kit)
        selection = await _selection(kit, user, beneficiary_id, "gdpr.view")
        await blocking(_journal, kit, user, "gdpr.view", beneficiary_id, "success")
        return await _render(request, pages, selection, errors=[], status_code=200)

    @get("/export.json", name="person-data-json")
    async def export_json(
        self,
        request: Request[Any, Any, Any],
        beneficiary_id: BeneficiaryId,
        kit: NamedDependency[Kit],
    ) -> Response[bytes]:
        user = await _manager(request, kit)
        selection = await _selection(kit, user, beneficiary_id, "gdpr.export")
        content = export_json(export_document(selection, generated_at=kit.clock()))
        await blocking(_journal, kit, user, "gdpr.export", beneficiary_id, "success")
        name = f"export-rgpd-{user.operator}-{beneficiary_id}.json"
        return _attachment(content, "application/json", name)

    @get("/export.pdf", name="person-data-pdf")
    async def export_pdf(
        self,
        request: Request[Any, Any, Any],
        beneficiary_id: BeneficiaryId,
        kit: NamedDependency[Kit],
    ) -> Response[bytes]:
        user = await _manager(request, kit)
        export = await _for_person(kit, user, beneficiary_id, "gdpr.export", kit.gdpr.export)
        await blocking(_journal, kit, user, "gdpr.export", beneficiary_id, "success")
        name = f"export-rgpd-{user.operator}-{beneficiary_id}.pdf"
        return _attachment(export.pdf, "application/pdf", name)

    @post("/effacer", name="person-data-erase")
    async def erase(
        self,
        request: Request[Any, Any, Any],
        beneficiary_id: BeneficiaryId,
        kit: NamedDependency[Kit],
        pages: NamedDependency[Pages],
    ) -> Response[Any]:
        user = await _manager(request, kit)
        assert user.operator is not None
        form = await read_form(request)
        if form.get(CONFIRM_FIELD) != "oui":
            selection = await _selection(kit, user, beneficiary_id, "gdpr.erase")
            await blocking(_journal, kit, user, "gdpr.erase", beneficiary_id, "invalid")
            error = FormError(
                field=CONFIRM_FIELD,
                message="Cochez la case pour confirmer l'effacement définitif.",
            )
            return await _render(request, pages, selection, errors=[error], status_code=400)
        await _for_person(kit, user, beneficiary_id, "gdpr.erase", kit.gdpr.erase)
        await blocking(_journal, kit, user, "gdpr.erase", beneficiary_id, "success")
        return see_other(f"{_page_url(beneficiary_id)}?efface=oui")


async def _render(
    request: Request[Any, Any, Any],
    pages: Pages,
    selection: Selection,
    *,
    errors: list[FormError],
    status_code: int,
) -> Response[Any]:
    person = selection.rows["beneficiaries"][0]
    summary = [
        {
            "label": POLICIES[name].label,
            "rows": len(rows),
            "erase": ACTION_LABELS[POLICIES[name].erase],
            "why": POLICIES[name].why,
        }
        for name, rows in selection.rows.items()
        if name in POLICIES
    ]
    title = "Données personnelles de la personne"
    return await pages.render(
        request,
        "gdpr/person.html",
        title=f"Erreur — {title}" if errors else title,
        status_code=status_code,
        errors=errors,
        beneficiary_id=selection.beneficiary_id,
        anonymised=person["anonymised_at"] is not None,
        summary=summary,
        erased=request.query_params.get("efface") == "oui",
        page_url=_page_url(selection.beneficiary_id),
    )

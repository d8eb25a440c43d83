"""Staff self-service and account management: password, personal access tokens, the team
(operator managers) and the platform (admins).

Managers act only on their own operator's accounts and tokens: another operator's account id
is "not found" (SEC-01). Admins manage operators' managers but never see a case.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import PathParameter

from cep_core.domain.accounts import ROLE_LABELS, StaffUser
from cep_core.domain.context import Role
from cep_core.kit import Kit
from cep_core.services.accounts import AccountError, SignInRefused
from cep_core.web.pages.common import FormData, FormError, blocking, current_staff, read_form
from cep_core.web.pages.rendering import Pages, see_other
from cep_core.web.sessions import client_address

ID = Annotated[str, PathParameter(max_length=64)]
STAFF = (Role.COUNSELLOR, Role.MANAGER, Role.ADMIN)
VALIDITY_CHOICES = (("30", "30 jours"), ("90", "90 jours"), ("365", "1 an"))


def _error(exc: AccountError) -> FormError:
    return FormError(message=str(exc), field=exc.field)


async def set_account_status(
    kit: Kit, actor: StaffUser, user_id: str, form: FormData, *, operator: str | None
) -> None:
    """Disable or re-enable an account of `operator` (None: any, for admins); 404 otherwise.

    Nobody disables their own account: a manager or admin cannot lock themselves out.
    """
    if user_id == actor.id:
        raise NotFoundException()
    try:
        await blocking(
            kit.accounts.set_active, user_id, form.get("active") == "1", operator=operator
        )
    except AccountError:
        raise NotFoundException() from None


class PasswordController(Controller):
    path = "/espace/mot-de-passe"

    @get("/", name="password")
    async def form(
        self,
        request: Request[Any, Any, Any],
        kit: NamedDependency[Kit],
        pages: NamedDependency[Pages],
    ) -> Response[Any]:
        await current_staff(request, kit, *STAFF)
        return await pages.render(
            request,
            "accounts/password.html",
            title="Changer de mot de passe",
            errors=[],
            done=False,
        )

    @post("/", name="password-submit")
    async def submit(
        self,
        request: Request[Any, Any, Any],
        kit: NamedDependency[Kit],
        pages: NamedDependency[Pages],
    ) -> Response[Any]:
        user = await current_staff(request, kit, *STAFF)
        form = await read_form(request)
        errors: list[FormError] = []
        try:
            await blocking(
                kit.accounts.authenticate,
                user.email,
                form.get("current"),
                client_ip=client_address(request, kit),
            )
        except SignInRefused:
            errors.append(
                FormError(field="current", message="Le mot de passe actuel est incorrect.")
            )
        if form.get("new") != form.get("confirm"):
            errors.append(
                FormError(field="confirm", message="Les deux saisies ne sont pas identiques.")
            )
        if not errors:
            try:
                await blocking(kit.accounts.set_password, user.id, form.get("new"))
            except AccountError as exc:
                errors.append(FormError(field="new", message=str(exc)))
        if errors:
            return await pages.render(
                request,
                "accounts/password.html",
                title="Erreur — Changer de mot de passe",
                status_code=400,
                errors=errors,
                done=False,
            )
        # Changing the password ended every session, this one included: sign in again.
        return see_other("/connexion?motif=expiree")


class TokensController(Controller):
    """Personal access tokens of the signed-in user (the API's credentials)."""

    path = "/espace/jetons"

    @get("/", name="tokens")
    async def list_tokens(
        self,
        request: Request[Any, Any, Any],
        kit: NamedDependency[Kit],
        pages: NamedDependency[Pages],
    ) -> Response[Any]:
        user = await current_staff(request, kit, *STAFF)
        return await self._page(request, kit, pages, user, errors=[], created=None, name="")

    @post("/", name="tokens-create")
    async def create(
        self,
        request: Request[Any, Any, Any],
        kit: NamedDependency[Kit],
        pages: NamedDependency[Pages],
    ) -> Response[Any]:
        user = await current_staff(request, kit, Role.COUNSELLOR, Role.MANAGER)
        form = await read_form(request)
        days = form.get("valid_days", "90")
        valid_days = int(days) if days in {value for value, _ in VALIDITY_CHOICES} else 90
        try:
            secret, _ = await blocking(
                kit.accounts.create_token, user, name=form.get("name"), valid_days=valid_days
            )
        except AccountError as exc:
            return await self._page(
                request,
                kit,
                pages,
                user,
                errors=[_error(exc)],
                created=None,
                name=form.get("name"),
                status_code=400,
            )
        # Shown once, on this answer only (never stored, never in a URL).
        return await self._page(request, kit, pages, user, errors=[], created=secret, name="")

    @post("/{token_id:str}/revoquer", name="tokens-revoke")
    async def revoke(
        self, request: Request[Any, Any, Any], kit: NamedDependency[Kit], token_id: ID
    ) -> Response[Any]:
        user = await current_staff(request, kit, *STAFF)
        form = await read_form(request)
        # Managers may revoke any token of their operator; others only their own.
        owner = None if user.role is Role.MANAGER else user.id
        done = await blocking(
            kit.accounts.revoke_token, token_id, operator=user.operator, user_id=owner
        )
        if done is None or (user.operator is None and done.user_id != user.id):
            raise NotFoundException()
        back = "/espace/equipe" if owner is None and form.get("retour") == "equipe" else None
        return see_other(back or "/espace/jetons")

    async def _page(
        self,
        request: Request[Any, Any, Any],
        kit: Kit,
        pages: Pages,
        user: StaffUser,
        *,
        errors: list[FormError],
        created: str | None,
        name: str,
        status_code: int = 200,
    ) -> Response[Any]:
        tokens = await blocking(kit.accounts.list_tokens, operator=user.operator, user_id=user.id)
        return await pages.render(
            request,
            "accounts/tokens.html",
            title=("Erreur — " if errors else "") + "Jetons d'accès à l'API",
            status_code=status_code,
            tokens=tokens,
            now=kit.clock(),
            errors=errors,
            created=created,
            name=name,
            validity_choices=VALIDITY_CHOICES,
            can_create=user.operator is not None,
        )


class TeamController(Controller):
    """An operator's staff, managed by its managers."""

    path = "/espace/equipe"

    @get("/", name="team")
    async def team(
        self,
        request: Request[Any, Any, Any],
        kit: NamedDependency[Kit],
        pages: NamedDependency[Pages],
    ) -> Response[Any]:
        manager = await current_staff(request, kit, Role.MANAGER)
        return await self._page(request, kit, pages, manager, errors=[], values={})

    @post("/", name="team-create")
    async def create(
        self,
        request: Request[Any, Any, Any],
        kit: NamedDependency[Kit],
        pages: NamedDependency[Pages],
    ) -> Response[Any]:
        manager = await current_staff(request, kit, Role.MANAGER)
        form = await read_form(request)
        role = Role.MANAGER if form.get("role") == Role.MANAGER.value else Role.COUNSELLOR
        try:
            await blocking(
                kit.accounts.create_user,
                email=form.get("email"),
                display_name=form.get("display_name"),
                role=role,
                operator=manager.operator,
                password=form.get("password"),
            )
        except AccountError as exc:
            return await self._page(
                request,
                kit,
                pages,
                manager,
                errors=[_error(exc)],
                values=form.as_dict(),
                status_code=400,
            )
        return see_other("/espace/equipe?cree=1")

    @post("/{user_id:str}/statut", name="team-status")
    async def set_status(
        self, request: Request[Any, Any, Any], kit: NamedDependency[Kit], user_id: ID
    ) -> Response[Any]:
        manager = await current_staff(request, kit, Role.MANAGER)
        form = await read_form(request)
        await set_account_status(kit, manager, user_id, form, operator=manager.operator)
        return see_other("/espace/equipe")

    async def _page(
        self,
        request: Request[Any, Any, Any],
        kit: Kit,
        pages: Pages,
        manager: StaffUser,
        *,
        errors: list[FormError],
        values: dict[str, str],
        status_code: int = 200,
    ) -> Response[Any]:
        users = await blocking(kit.accounts.list_users, manager.operator)
        tokens = await blocking(kit.accounts.list_tokens, operator=manager.operator)
        names = {user.id: user.display_name for user in users}
        return await pages.render(
            request,
            "accounts/team.html",
            title=("Erreur — " if errors else "") + "Équipe de l'opérateur",
            status_code=status_code,
            users=users,
            tokens=[token for token in tokens if token.usable(kit.clock())],
            names=names,
            role_labels=ROLE_LABELS,
            errors=errors,
            values=values,
            created=request.query_params.get("cree") == "1",
        )


class AdminController(Controller):
    """The platform: installed plugins and operators, refused plugins, operators' managers."""

    path = "/admin"

    @get("/", name="admin")
    async def platform(
        self,
        request: Request[Any, Any, Any],
        kit: NamedDependency[Kit],
        pages: NamedDependency[Pages],
    ) -> Response[Any]:
        await current_staff(request, kit, Role.ADMIN)
        today = kit.today()
        operators = [
            {"id": info.id, "label": info.label(today), "description": info.description}
            for info in kit.hooks.operators()
        ]
        plugins = [
            {
                "name": record.name,
                "id": record.info.id,
                "kind": record.info.kind.value,
                "version": record.version or "",
                "builtin": record.builtin,
            }
            for record in kit.registry.records.values()
        ]
        refused = [{"name": r.name, "reason": r.reason} for r in kit.registry.refused]
        users = await blocking(kit.accounts.list_users, None)
        counts: dict[str, int] = {}
        for user in users:
            counts[user.operator or ""] = counts.get(user.operator or "", 0) + 1
        return await pages.render(
            request,
            "accounts/admin.html",
            title="Plateforme — opérateurs et extensions",
            operators=operators,
            plugins=sorted(plugins, key=lambda p: (p["builtin"], p["name"])),
            refused=refused,
            counts=counts,
        )

    @get("/comptes", name="admin-accounts")
    async def accounts(
        self,
        request: Request[Any, Any, Any],
        kit: NamedDependency[Kit],
        pages: NamedDependency[Pages],
    ) -> Response[Any]:
        await current_staff(request, kit, Role.ADMIN)
        return await self._accounts_page(request, kit, pages, errors=[], values={})

    @post("/comptes", name="admin-accounts-create")
    async def create(
        self,
        request: Request[Any, Any, Any],
        kit: NamedDependency[Kit],
        pages: NamedDependency[Pages],
    ) -> Response[Any]:
        await current_staff(request, kit, Role.ADMIN)
        form = await read_form(request)
        role = Role.ADMIN if form.get("role") == Role.ADMIN.value else Role.MANAGER
        operators = {info.id for info in kit.hooks.operators()}
        operator = form.get("operator") or None
        errors: list[FormError] = []
        if role is Role.MANAGER and operator not in operators:
            errors.append(
                FormError(field="operator", message="Choisissez l'opérateur du responsable.")
            )
        if not errors:
            try:
                await blocking(
                    kit.accounts.create_user,
                    email=form.get("email"),
                    display_name=form.get("display_name"),
                    role=role,
                    operator=operator,
                    password=form.get("password"),
                )
            except AccountError as exc:
                errors.append(_error(exc))
        if errors:
            return await self._accounts_page(
                request, kit, pages, errors=errors, values=form.as_dict(), status_code=400
            )
        return see_other("/admin/comptes")

    @post("/comptes/{user_id:str}/statut", name="admin-accounts-status")
    async def set_status(
        self, request: Request[Any, Any, Any], kit: NamedDependency[Kit], user_id: ID
    ) -> Response[Any]:
        admin = await current_staff(request, kit, Role.ADMIN)
        form = await read_form(request)
        await set_account_status(kit, admin, user_id, form, operator=None)
        return see_other("/admin/comptes")

    async def _accounts_page(
        self,
        request: Request[Any, Any, Any],
        kit: Kit,
        pages: Pages,
        *,
        errors: list[FormError],
        values: dict[str, str],
        status_code: int = 200,
    ) -> Response[Any]:
        today = kit.today()
        users = await blocking(kit.accounts.list_users, None)
        operators = [(info.id, info.label(today)) for info in kit.hooks.operators()]
        return await pages.render(
            request,
            "accounts/admin_accounts.html",
            title=("Erreur — " if errors else "") + "Comptes de la plateforme",
            status_code=status_code,
            users=users,
            operators=operators,
            operator_labels=dict(operators),
            role_labels=ROLE_LABELS,
            errors=errors,
            values=values,
        )

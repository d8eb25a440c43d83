"""Sign-in and sign-out for staff (SEC-06, SEC-07, SEC-15); each attempt is journaled (SEC-12)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import Redirect

from cep_core.kit import Kit
from cep_core.services.accounts import SignInRefused
from cep_core.web.pages.common import FormError, blocking, read_form
from cep_core.web.pages.rendering import Pages, see_other
from cep_core.web.sessions import (
    SESSION_COOKIE,
    client_address,
    expired_session_cookie,
    session_cookie,
    signed_in,
)


def safe_next(value: str | None) -> str:
    """Only a local path may follow sign-in (no open redirect to another site)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/espace"
    return value


def home_of(role: str) -> str:
    return "/admin" if role == "admin" else "/espace"


class SignInController(Controller):
    path = "/"

    @get("/connexion", name="signin")
    async def form(
        self,
        request: Request[Any, Any, Any],
        kit: NamedDependency[Kit],
        pages: NamedDependency[Pages],
        suite: Annotated[str | None, QueryParameter(max_length=500)] = None,
        motif: Annotated[str | None, QueryParameter(max_length=20)] = None,
    ) -> Response[Any]:
        found = await signed_in(request, kit)
        if found is not None:
            return see_other(safe_next(suite) if suite else home_of(found.user.role))
        notice = {
            "expiree": "Votre session a pris fin : connectez-vous de nouveau.",
            "deconnexion": "Vous êtes déconnecté·e.",
        }.get(motif or "")
        if notice is None and suite:
            notice = "Cette page est réservée aux professionnels : connectez-vous pour y accéder."
        return await pages.render(
            request,
            "auth/signin.html",
            title="Connexion à l'espace professionnel",
            errors=[],
            email="",
            next=safe_next(suite),
            notice=notice,
        )

    @post("/connexion", name="signin-submit")
    async def submit(
        self,
        request: Request[Any, Any, Any],
        kit: NamedDependency[Kit],
        pages: NamedDependency[Pages],
    ) -> Response[Any]:
        form = await read_form(request)
        email, password = form.get("email")[:254], form.get("password")
        target = safe_next(form.get("suite"))
        errors: list[FormError] = []
        if not email:
            errors.append(FormError(field="email", message="Saisissez votre adresse électronique."))
        if not password:
            errors.append(FormError(field="password", message="Saisissez votre mot de passe."))
        status, headers = 400, {}
        if not errors:
            try:
                user = await blocking(
                    kit.accounts.authenticate,
                    email,
                    password,
                    client_ip=client_address(request, kit),
                )
            except SignInRefused as refused:
                await _journal(kit, refused.user_id, refused.operator, refused.outcome)
                errors.append(FormError(message=str(refused), field="email"))
                if refused.throttle is not None:
                    status, headers = 429, refused.throttle.headers()
                else:
                    status = 401
            else:
                secret, _ = await blocking(kit.accounts.open_session, user)
                await _journal(kit, user.id, user.operator, "success")
                response: Redirect = see_other(
                    target if target != "/espace" else home_of(user.role)
                )
                response.cookies.append(
                    session_cookie(secret, max_age=kit.settings.session_max_hours * 3600)
                )
                return response
        page = await pages.render(
            request,
            "auth/signin.html",
            title="Erreur — Connexion à l'espace professionnel",
            status_code=status,
            errors=errors,
            email=email,
            next=target,
            notice=None,
        )
        page.headers.update(headers)
        return page

    @post("/deconnexion", name="signout")
    async def signout(self, request: Request[Any, Any, Any], kit: NamedDependency[Kit]) -> Redirect:
        secret = request.cookies.get(SESSION_COOKIE)
        if secret:
            found = await signed_in(request, kit)
            await blocking(kit.accounts.end_session, secret)
            if found is not None:
                user = found.user
                await _journal(kit, user.id, user.operator, "success", "auth.sign_out")
        response = see_other("/connexion?motif=deconnexion")
        response.cookies.append(expired_session_cookie())
        return response


async def _journal(
    kit: Kit,
    user_id: str | None,
    operator: str | None,
    outcome: str,
    action: str = "auth.sign_in",
) -> None:
    """One sign-in event (SEC-12): the account id when the e-mail names one, never the e-mail."""
    await blocking(
        kit.audit.record,
        action=action,
        operator=operator,
        actor=user_id,
        record_type="account",
        record_id=user_id,
        outcome=outcome,
    )


def signin_redirect(path: str) -> Redirect:
    return see_other(f"/connexion?suite={quote(path, safe='/')}")

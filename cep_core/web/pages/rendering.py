"""Server-rendered French pages: one Jinja environment per app, autoescaped, no inline script.

Templates live in ``cep_core/web/templates``; every page extends ``base.html`` (landmarks,
skip link, header, footer). Controllers call `Pages.render` with a title that says where the
person is (RGAA: the title names the page and the step) and plain data; templates never see
the kit.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from litestar import Request, Response
from litestar.enums import MediaType
from litestar.response import Redirect

from cep_core.documents.formatting import (
    date_filter,
    datetime_filter,
    format_date,
    format_datetime,
    format_short_date,
    format_time,
    minutes_filter,
    money_filter,
    percent_filter,
)
from cep_core.domain.context import Role
from cep_core.errors import UnknownOperator
from cep_core.kit import Kit
from cep_core.services.accounts import SignedIn
from cep_core.services.download_links import LinkState
from cep_core.web.sessions import (
    CSRF_FIELD,
    anon_cookie,
    anonymous_secret,
    csrf_token,
    signed_in,
)

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
SITE_NAME = "Conseil en évolution professionnelle"


class NavItem:
    __slots__ = ("href", "label")

    def __init__(self, href: str, label: str) -> None:
        self.href = href
        self.label = label


def staff_navigation(found: SignedIn | None) -> list[NavItem]:
    """The workspace menu for the signed-in role (links only to pages that role may open)."""
    if found is None:
        return []
    role = found.user.role
    items: list[NavItem] = []
    if role in (Role.COUNSELLOR, Role.MANAGER):
        items += [
            NavItem("/espace", "Tableau de bord"),
            NavItem("/espace/demandes", "Demandes"),
            NavItem("/espace/dossiers", "Dossiers"),
        ]
    if role is Role.MANAGER:
        items += [
            NavItem("/espace/equipe", "Équipe"),
            NavItem("/espace/parametres", "Paramètres"),
            NavItem("/espace/journal", "Journal des accès"),
            NavItem("/espace/activite", "Activité"),
        ]
    if role is Role.ADMIN:
        items += [
            NavItem("/admin", "Plateforme"),
            NavItem("/admin/comptes", "Comptes"),
        ]
    items.append(NavItem("/espace/jetons", "Jetons d'accès"))
    return items


class Pages:
    """Renders the kit's pages for one app."""

    def __init__(self, kit: Kit) -> None:
        self.kit = kit
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters.update(
            money=money_filter,
            date=date_filter,
            datetime=datetime_filter,
            minutes=minutes_filter,
            percent=percent_filter,
            long_date=format_date,
            short_date=format_short_date,
            time=format_time,
            long_datetime=format_datetime,
        )
        self.env.globals.update(site_name=SITE_NAME, csrf_field=CSRF_FIELD)

    def operator_label(self, operator: str | None) -> str:
        if operator is None:
            return "Plateforme"
        return self.kit.hooks.operator_label(operator, self.kit.today())

    def base_context(
        self, request: Request[Any, Any, Any], found: SignedIn | None, anon: str | None
    ) -> dict[str, Any]:
        """What the layout needs: who is signed in, their menu and theme, the CSRF token."""
        operator = found.user.operator if found else None
        return {
            "viewer": found.user if found else None,
            "viewer_operator_label": self.operator_label(operator) if found else None,
            "theme_operator": operator,
            "theme_logo": self.has_logo(operator),
            "navigation": staff_navigation(found),
            "csrf_token": csrf_token(self.kit, found, anon),
            "current_path": request.url.path,
        }

    def has_logo(self, operator: str | None) -> bool:
        if operator is None:
            return False
        try:
            theme = self.kit.hooks.operator(operator).theme
        except UnknownOperator:
            return False
        return bool(theme and theme.logo)

    async def render(
        self,
        request: Request[Any, Any, Any],
        template: str,
        *,
        title: str,
        status_code: int = 200,
        **context: Any,
    ) -> Response[str]:
        """The page `template` with `context`, plus what every page needs (CSRF, viewer)."""
        found = await signed_in(request, self.kit)
        anon, fresh = (None, False) if found is not None else anonymous_secret(request)
        values = {
            **self.base_context(request, found, anon),
            "page_title": title,
            **context,
        }
        values["theme_logo"] = self.has_logo(values["theme_operator"])
        html = self.env.get_template(template).render(values)
        return Response(
            content=html,
            media_type=MediaType.HTML,
            status_code=status_code,
            cookies=[anon_cookie(anon)] if fresh and anon else [],
        )

    async def link_gone(
        self,
        request: Request[Any, Any, Any],
        state: LinkState | None,
        gone: Mapping[LinkState, tuple[str, str]],
        unknown: tuple[str, str],
    ) -> Response[str]:
        """The page of a single-use link that no longer opens (a download, a questionnaire):
        410 with the text of its state when it was used or has expired, 404 otherwise."""
        title, message = gone.get(state, unknown) if state is not None else unknown
        return await self.render(
            request,
            "cases/download_gone.html",
            title=title,
            status_code=410 if state in gone else 404,
            heading=title,
            message=message,
        )


def see_other(path: str) -> Redirect:
    """Post/redirect/get: after a form, the browser lands on a page it can reload safely."""
    return Redirect(path=path, status_code=303)

"""The French pages: public pages, the staff sign-in, the counsellors' workspace, admin.

Every page controller is listed in `PAGE_CONTROLLERS`; the router adds the CSRF check to
every unsafe request and renders errors as pages. A test walks the route table: each page is
either on the public allow-list or requires a signed-in user.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Router
from litestar.di import Provide
from litestar.types import ControllerRouterHandler

from cep_core.kit import Kit
from cep_core.web.audit import audit_middleware
from cep_core.web.pages.accounts import (
    AdminController,
    PasswordController,
    TeamController,
    TokensController,
)
from cep_core.web.pages.audit import AuditJournalController
from cep_core.web.pages.auth import SignInController
from cep_core.web.pages.case_actions import CaseActionPagesController
from cep_core.web.pages.case_steps import StepPagesController
from cep_core.web.pages.cases import CasesController, WorkspaceController
from cep_core.web.pages.errors import page_exception_handlers
from cep_core.web.pages.gdpr import PersonDataController
from cep_core.web.pages.public import PublicController
from cep_core.web.pages.rendering import Pages
from cep_core.web.pages.reporting import DashboardController, SurveyController
from cep_core.web.pages.requests import OperatorSettingsController, RequestQueueController
from cep_core.web.pages.static import static_handlers
from cep_core.web.pages.syntheses import CaseSynthesesController, DownloadLinkController
from cep_core.web.sessions import check_csrf

PAGE_CONTROLLERS: list[ControllerRouterHandler] = [
    SignInController,
    PublicController,
    RequestQueueController,
    OperatorSettingsController,
    PasswordController,
    TokensController,
    TeamController,
    AdminController,
    WorkspaceController,
    CasesController,
    StepPagesController,
    CaseActionPagesController,
    CaseSynthesesController,
    DownloadLinkController,
    DashboardController,
    SurveyController,
    AuditJournalController,
    PersonDataController,
]


def pages_router(kit: Kit, pages: Pages) -> Router:
    def provide_pages() -> Pages:
        return pages

    async def csrf_guard(request: Request[Any, Any, Any]) -> None:
        await check_csrf(request, kit)

    return Router(
        path="/",
        route_handlers=[*PAGE_CONTROLLERS, *static_handlers()],
        dependencies={"pages": Provide(provide_pages, sync_to_thread=False)},
        before_request=csrf_guard,
        middleware=[audit_middleware(kit)],
        exception_handlers=page_exception_handlers(),
        include_in_schema=False,
    )

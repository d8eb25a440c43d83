"""The JSON API, version 1 (``/api/v1``): one module per resource, each a thin controller."""

from __future__ import annotations

from typing import Any

from litestar import Request, Router

from cep_core.web.api.audit import AuditController
from cep_core.web.api.case_actions import CaseActionsController
from cep_core.web.api.case_steps import CaseStepsController
from cep_core.web.api.cases import CaseController
from cep_core.web.api.funding import FundingController
from cep_core.web.api.orientation import OrientationController
from cep_core.web.api.requests import RequestController
from cep_core.web.api.syntheses import SynthesisController
from cep_core.web.audit import arm_change_event
from cep_core.web.body import strict_json_body

API_PREFIX = "/api/v1"


def api_router() -> Router:
    """Version 1 of the API; every JSON body under it is decoded strictly (wrong type: 400)."""
    return Router(
        path=API_PREFIX,
        route_handlers=[
            OrientationController,
            FundingController,
            CaseController,
            CaseStepsController,
            CaseActionsController,
            SynthesisController,
            RequestController,
            AuditController,
        ],
        before_request=before_api_request,
    )


async def before_api_request(request: Request[Any, Any, Any]) -> None:
    """Refuse a body that does not fit strictly, then let the change's audit event ride in
    the handler's first write (`cep_core.web.audit.Change`)."""
    await strict_json_body(request)
    await arm_change_event(request)

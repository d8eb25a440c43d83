"""The JSON API, version 1 (``/api/v1``): one module per resource, each a thin controller."""

from __future__ import annotations

from litestar import Router

from cep_core.web.api.audit import AuditController
from cep_core.web.api.case_actions import CaseActionsController
from cep_core.web.api.case_steps import CaseStepsController
from cep_core.web.api.cases import CaseController
from cep_core.web.api.funding import FundingController
from cep_core.web.api.orientation import OrientationController
from cep_core.web.api.requests import RequestController
from cep_core.web.api.syntheses import SynthesisController
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
        before_request=strict_json_body,
    )

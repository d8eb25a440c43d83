"""Stateful fuzzing along the OpenAPI links the app declares (REL-02, UX-11).

Schemathesis chains operations through the links of the document (`cep_core.web.api.links`):
a case opened (or a request accepted) leads to its reads, and the ``ETag`` of every answer
about a case leads to its writes with ``If-Match`` — open -> read -> update -> action. It
runs as operator A's counsellor, with every check on (``use_after_free`` and
``ensure_resource_availability`` included) and the cross-tenant check of
`test_schemathesis`. ``CEP_FUZZ_STATEFUL_EXAMPLES`` scenarios of up to 10 steps on the case resource (50 in CI;
200 for the nightly run, REL-02).
"""

from __future__ import annotations

import os
from typing import Any

import schemathesis
from fuzz_world import (
    ACCEPTED_REFUSALS,
    MAX_RESPONSE_TIME,
    OPERATOR_A,
    PDF_OPERATIONS,
    FuzzWorld,
    LateApp,
    no_foreign_objects,
    openapi_document,
)
from hypothesis import HealthCheck, settings
from schemathesis import Case, Response
from schemathesis.checks import max_response_time
from schemathesis.config import SchemathesisConfig

SCENARIOS = int(os.environ.get("CEP_FUZZ_STATEFUL_EXAMPLES", "50"))


def schema_for(token: str) -> Any:
    """Every check on (see `test_schemathesis`), A's token as the API's bearer credential."""
    config = SchemathesisConfig.from_dict(
        {
            "checks": {
                "max_response_time": MAX_RESPONSE_TIME,
                "positive_data_acceptance": {"expected-statuses": ACCEPTED_REFUSALS},
                "allow_header_conformance": {"enabled": False},
            },
            "auth": {"openapi": {"bearer": {"bearer": token}}},
        }
    )
    schema = schemathesis.openapi.from_dict(openapi_document(), config=config)
    # The case resource only: every step then belongs to the create -> read -> update chain.
    return schema.include(path_regex=r"^/api/v1/cases")


def test_links_are_declared_for_the_case_chain() -> None:
    document = openapi_document()
    created = document["paths"]["/api/v1/cases"]["post"]["responses"]["201"]["links"]
    assert created["lireDossier"]["parameters"] == {"case_id": "$response.body#/id"}
    read = document["paths"]["/api/v1/cases/{case_id}"]["get"]["responses"]["200"]["links"]
    assert read["enregistrerAccueil"]["parameters"] == {
        "case_id": "$response.body#/id",
        "If-Match": "$response.header.ETag",
    }
    accepted = document["paths"]["/api/v1/requests/{request_id}/accept"]["post"]
    assert accepted["responses"]["201"]["links"]["lireDossier"]["parameters"] == {
        "case_id": "$response.body#/case_id"
    }


def test_case_chains_follow_the_links(world: FuzzWorld) -> None:
    schema = schema_for(world.tokens[OPERATOR_A])
    app = LateApp()
    app.target = world.app
    schema.app = app
    followed: list[tuple[str, int]] = []
    cross_tenant = no_foreign_objects(world)

    class Chains(schema.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case: Case) -> None:
            world.clock.advance(seconds=1)

        def after_call(self, response: Response, case: Case) -> None:
            super().after_call(response, case)
            followed.append((case.operation.label, response.status_code))

        def validate_response(
            self, response: Response, case: Case, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            excluded = [max_response_time] if case.operation.label in PDF_OPERATIONS else []
            case.validate_response(
                response,
                additional_checks=[cross_tenant],
                excluded_checks=excluded,
                transport_kwargs=kwargs or None,
                recorder=self.recorder,
            )

    Chains.run(
        settings=settings(
            max_examples=SCENARIOS,
            stateful_step_count=10,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )
    # The chains reached real cases through the links (ids from a page or a creation).
    succeeded = {label for label, status in followed if 200 <= status < 300}
    assert any("{case_id}" in label for label in succeeded), sorted(succeeded)

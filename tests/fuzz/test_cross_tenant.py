"""Cross-tenant fuzzing (REL-03, SEC-01): operator B's counsellor aimed at operator A's objects.

Random ids never hit anything, so here every operation that names an object in its path is
fuzzed by schemathesis with schema-valid requests whose ids are A's real ones (cases, the
appointment request, the synthesis and its case), with B's token and, for writes, the case's
current ``If-Match``: only the tenant check stands between B and A's data. Any 2xx fails.
``CEP_FUZZ_EXAMPLES`` / 4 examples per operation (25 in CI).
"""

from __future__ import annotations

import os
import re
from typing import Any

import pytest
import schemathesis
from fuzz_world import OPERATOR_A, OPERATOR_B, FuzzWorld, LateApp, openapi_document
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

EXAMPLES = max(10, int(os.environ.get("CEP_FUZZ_EXAMPLES", "100")) // 4)
DOCUMENT = openapi_document()
APP = LateApp()
SCHEMA = schemathesis.openapi.from_dict(DOCUMENT)
SCHEMA.app = APP
OBJECT_PARAMETERS = re.compile(r"\{(case_id|request_id|synthesis_id)\}")
TARGETS = sorted(
    (method.upper(), path)
    for path, item in DOCUMENT["paths"].items()
    if OBJECT_PARAMETERS.search(path)
    for method in item
    if method in {"get", "post", "put", "patch", "delete"}
)


def ids_of_a(world: FuzzWorld) -> dict[str, Any]:
    """Strategies for A's ids, by path parameter (the synthesis with its own case)."""
    syntheses = [(world.synthesis_case_a, world.synthesis_a)]
    cases = [case.id for case in world.kit.cases.list_cases(OPERATOR_A, limit=200).items]
    return {
        "pair": st.sampled_from(syntheses),
        "case_id": st.sampled_from(cases),
        "request_id": st.just(world.request_a),
    }


@pytest.mark.parametrize(("method", "path"), TARGETS, ids=[f"{m} {p}" for m, p in TARGETS])
def test_counsellor_of_b_never_gets_an_object_of_a(
    world: FuzzWorld, method: str, path: str
) -> None:
    APP.target = world.app
    operation = SCHEMA[path][method]
    strategies = ids_of_a(world)
    seen: set[int] = set()

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        case_id=strategies["case_id"],
        pair=strategies["pair"],
    )
    def aim_at_a(case: Any, case_id: str, pair: tuple[str, str]) -> None:
        parameters = case.path_parameters
        if "synthesis_id" in parameters:
            parameters["case_id"], parameters["synthesis_id"] = pair
        elif "case_id" in parameters:
            parameters["case_id"] = case_id
        if "request_id" in parameters:
            parameters["request_id"] = world.request_a
        headers = dict(world.headers(OPERATOR_B))
        if "case_id" in parameters and method != "GET":
            headers["If-Match"] = world.etag(OPERATOR_A, parameters["case_id"])
        world.clock.advance(seconds=1)
        response = case.call(headers=headers)
        assert not 200 <= response.status_code < 300, (
            f"{response.status_code} for « {OPERATOR_B} » on {method} {case.formatted_path}: "
            f"{response.text[:300]}"
        )
        seen.add(response.status_code)

    aim_at_a()
    # Not found, as for any unknown id (SEC-01): B cannot even learn that the id exists.
    assert 404 in seen, seen


def test_the_ids_aimed_at_are_live_for_their_own_operator(world: FuzzWorld) -> None:
    """Control: A itself reads the very objects B is refused."""
    from litestar.testing import TestClient

    with TestClient(world.app) as client:
        headers = world.headers(OPERATOR_A)
        case = client.get(f"/api/v1/cases/{world.synthesis_case_a}", headers=headers)
        request = client.get(f"/api/v1/requests/{world.request_a}", headers=headers)
        pdf = client.get(
            f"/api/v1/cases/{world.synthesis_case_a}/syntheses/{world.synthesis_a}/pdf",
            headers=headers,
        )
    assert (case.status_code, request.status_code, pdf.status_code) == (200, 200, 200)
    assert pdf.content.startswith(b"%PDF")
    assert len(TARGETS) >= 20

"""Property-based fuzzing of every API operation with schemathesis (REL-01, REL-03, REL-04).

Every operation of the app's own OpenAPI document is fuzzed three times, with every
schemathesis check on (but ``allow_header_conformance``: Litestar 2.25 answers OPTIONS with
the ``Allow`` of the first handler registered at a path, a framework bug reported to the
lead): anonymously, as a counsellor of operator A (Apec) and as a counsellor
of operator B (Mission locale), each with a personal access token. On top of schemathesis'
checks, `no_foreign_objects` fails any 2xx answer whose request or body names an object of
another operator than the caller's. Requests must answer within 1 s, PDF production and
download excepted (REL-04).

Length: ``CEP_FUZZ_EXAMPLES`` examples per operation and phase (100 by default, as in CI;
the nightly run uses ``CEP_FUZZ_EXAMPLES=1000``). ``CEP_FUZZ_OPERATIONS`` (a regular
expression on the path) narrows the run while investigating. SQLite only: the API layer is
what is fuzzed here; the storage suite runs on both databases.
"""

from __future__ import annotations

import os
from typing import Any

import schemathesis
from fuzz_world import (
    ACCEPTED_REFUSALS,
    ANONYMOUS,
    MAX_RESPONSE_TIME,
    OPENAPI_URL,
    OPERATOR_A,
    OPERATOR_B,
    PDF_OPERATIONS,
    FuzzWorld,
    LateApp,
    no_foreign_objects,
    openapi_document,
)
from schemathesis import Case
from schemathesis.checks import max_response_time
from schemathesis.config import SchemathesisConfig
from schemathesis.core.parameters import ParameterLocation

EXAMPLES = int(os.environ.get("CEP_FUZZ_EXAMPLES", "100"))
OPERATIONS = os.environ.get("CEP_FUZZ_OPERATIONS")
# Schemathesis' coverage phase (boundary values of every field, then each field broken in
# turn) for A's counsellor: half of this file's time, so on in the nightly run
# (``CEP_FUZZ_COVERAGE=1``), off in CI where the 100 random examples per operation run.
COVERAGE = os.environ.get("CEP_FUZZ_COVERAGE", "") == "1"
DOCUMENT = openapi_document()
APP = LateApp()  # bound to the world's app by the ``world`` fixture


def schema_for(role: str) -> Any:
    """A schemathesis schema for one role: every check on, and the response-time guard.

    Tokens exist only once the world does: each call sends the role's ``Authorization``
    (`authorization`); the document declares the bearer scheme, so ``ignored_auth`` knows
    it is the credential, removes it and expects a 401.
    """
    config = SchemathesisConfig.from_dict(
        {
            "checks": {
                "max_response_time": MAX_RESPONSE_TIME,
                "positive_data_acceptance": {"expected-statuses": ACCEPTED_REFUSALS},
                "allow_header_conformance": {"enabled": False},
            },
            "generation": {"max-examples": EXAMPLES},
            # The coverage phase (boundary values of every field, then each field broken in
            # turn) costs most of the time: it runs for A's counsellor only, whose requests
            # pass authentication and so reach the validation; anonymous requests stop at
            # the 401 and B's at the tenant check, for which fuzzing is enough.
            "phases": {"coverage": {"enabled": role == OPERATOR_A and COVERAGE}},
        }
    )
    schema = schemathesis.openapi.from_dict(DOCUMENT, config=config)
    schema.app = APP
    if OPERATIONS:
        schema = schema.include(path_regex=OPERATIONS)
    return schema


anonymous_schema = schema_for(ANONYMOUS)
counsellor_a_schema = schema_for(OPERATOR_A)
counsellor_b_schema = schema_for(OPERATOR_B)


def authorization(world: FuzzWorld, role: str, case: Case) -> dict[str, str]:
    """The role's credential, unless this negative case removed it on purpose.

    Adding it back would turn "required header missing" into a valid request, which the app
    then rightly accepts and schemathesis reports as negative data accepted.
    """
    if role == ANONYMOUS:
        return {}
    meta = case.meta
    sent = {name.lower() for name in (case.headers or {})}
    removed = "authorization" not in sent
    if meta is not None and meta.is_negative_at(ParameterLocation.HEADER) and removed:
        return {}
    return world.headers(role)


def call_and_validate(world: FuzzWorld, case: Case, role: str) -> None:
    world.clock.advance(seconds=1)
    excluded = [max_response_time] if case.operation.label in PDF_OPERATIONS else []
    APP.target = world.app
    case.call_and_validate(
        headers=authorization(world, role, case),
        excluded_checks=excluded,
        additional_checks=[no_foreign_objects(world)],
    )


@anonymous_schema.parametrize()
def test_anonymous(case: Case, world: FuzzWorld) -> None:
    call_and_validate(world, case, ANONYMOUS)


@counsellor_a_schema.parametrize()
def test_counsellor_of_operator_a(case: Case, world: FuzzWorld) -> None:
    call_and_validate(world, case, OPERATOR_A)


@counsellor_b_schema.parametrize()
def test_counsellor_of_operator_b(case: Case, world: FuzzWorld) -> None:
    call_and_validate(world, case, OPERATOR_B)


def test_world_serves_the_fuzzed_document(world: FuzzWorld) -> None:
    """The document fuzzed above (read at collection) is the one the world's app serves."""
    from litestar.testing import TestClient

    with TestClient(world.app) as client:
        served = client.get(OPENAPI_URL)
    assert served.status_code == 200
    assert served.json() == DOCUMENT
    operations = [
        (method, path)
        for path, item in DOCUMENT["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    ]
    assert len(operations) >= 28

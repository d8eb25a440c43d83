"""The world the API fuzz suite (``tests/fuzz``) runs against, and the OpenAPI document.

One kit with the five bundled operator plugins on SQLite, seeded with demo data, two
counsellors with personal access tokens (operator A = ``apec``, operator B =
``mission_locale``), a few more objects of A's (a case at level 2 with a synthesis, an
appointment request) whose ids B's run aims at, and a clock that moves one second per request
so the API's rate limit (600 per minute and client) measures a realistic pace instead of
stopping the fuzzer after 600 calls.

The document is read at import time from a throw-away kit with the same plugins, because
``schema.parametrize()`` makes one test per operation at collection time; the world's app
serves the same document (``test_world_serves_the_fuzzed_document`` checks it).
"""

from __future__ import annotations

import functools
import json
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient
from request_helpers import FakeClock, submit
from schemathesis import Case, CheckContext, Response
from sqlalchemy import select

from cep_core.domain.case import CaseStatus, Level
from cep_core.domain.context import Role
from cep_core.kit import Kit
from cep_core.services.demo import seed_demo
from cep_core.settings import Settings
from cep_core.storage.tables import appointment_requests, cases, syntheses
from cep_core.web import create_app

OPENAPI_URL = "/schema/openapi.json"
OPERATOR_A = "apec"
OPERATOR_B = "mission_locale"
# Demo cases per operator: every stage of `cep_core.services.demo.STAGES` at least once.
DEMO_CASES = 8
PASSWORD = "une phrase de passe pour les tests du fuzzing"  # throw-away accounts
ID_PATTERN = re.compile(r"[0-9a-f]{32}")
# Seconds (REL-04); ``CEP_FUZZ_MAX_RESPONSE_TIME`` overrides it on a machine known to be slower.
MAX_RESPONSE_TIME = float(os.environ.get("CEP_FUZZ_MAX_RESPONSE_TIME", "1.0"))
# REL-04 excludes PDF jobs: producing a synthesis renders a PDF (and may wait up to 2 s before
# answering 202); the download streams a stored PDF. Both still get every other check.
PDF_OPERATIONS = frozenset(
    {
        "POST /api/v1/cases/{case_id}/syntheses",
        "GET /api/v1/cases/{case_id}/syntheses/jobs/{job_id}",
        "GET /api/v1/cases/{case_id}/syntheses/{synthesis_id}/pdf",
    }
)
ANONYMOUS = "anonymous"
# What a schema-valid request may still get, besides schemathesis' defaults (2xx, 3xx, 401,
# 403, 404, 409, 429, 5xx — a 5xx still fails `not_a_server_error`): 400 for the business
# rules JSON Schema cannot state (a birth date after the reference date, a funder listed
# twice, an appointment in the past, a cursor this API did not issue, ``other`` without a
# text...); 412 and 428 for the version check of writes (a stale or missing ``If-Match``);
# 422 for an ``Idempotency-Key`` reused with another body.
ACCEPTED_REFUSALS = [
    "2xx",
    "3xx",
    "400",
    "401",
    "403",
    "404",
    "409",
    "412",
    "422",
    "428",
    "429",
    "5xx",
]


class LateApp:
    """An ASGI app that forwards to the world's app, which exists only once the fixture ran.

    The schemas are loaded at collection (one test per operation), before any fixture: they
    are given this object as their app, so that schemathesis sends every request, and every
    probe of its checks (``ignored_auth`` resends without credentials), in-process.
    """

    def __init__(self) -> None:
        self.target: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self.target is None:
            raise RuntimeError("the fuzz world is not built yet (fixture « world »)")
        await self.target(scope, receive, send)


def settings_for(root: Path) -> Settings:
    return Settings(data_dir=root, hash_profile="fast", public_url="https://cep.exemple.fr")


def openapi_document() -> dict[str, Any]:
    """The app's OpenAPI document, as served, from a throw-away kit (built once), as a new
    dict at each call: schemathesis writes into the dict it is given, and a stateful
    schema's changes made the document another module compares against differ from the
    served one (``test_world_serves_the_fuzzed_document`` failed when run after it)."""
    document: dict[str, Any] = json.loads(_served_openapi())
    return document


@functools.cache
def _served_openapi() -> bytes:
    with tempfile.TemporaryDirectory(prefix="cep-fuzz-doc-") as root:
        kit = Kit(settings=settings_for(Path(root)))
        try:
            with TestClient(create_app(kit)) as client:
                response = client.get(OPENAPI_URL)
                response.raise_for_status()
                return response.content
        finally:
            kit.close()


@dataclass
class Owned:
    """Ids of the objects each operator owns: what another operator must never reach."""

    operator_of: dict[str, str] = field(default_factory=dict)

    def add(self, operator: str, ids: Iterable[str]) -> None:
        for identifier in ids:
            self.operator_of[identifier] = operator

    def of(self, operator: str) -> list[str]:
        return sorted(i for i, owner in self.operator_of.items() if owner == operator)

    def foreign_ids_in(self, text: str, operator: str) -> set[str]:
        """Ids of other operators' objects that appear in `text`."""
        return {
            found
            for found in ID_PATTERN.findall(text)
            if self.operator_of.get(found, operator) != operator
        }


class FuzzWorld:
    """The kit, its app, tokens per role and who owns what."""

    def __init__(self, root: Path) -> None:
        self.clock = FakeClock()  # moved one second per request by the tests
        self.kit = Kit(settings=settings_for(root), clock=self.clock)
        refused = [record.name for record in self.kit.registry.refused]
        assert not refused, f"plugins refused: {refused}"
        self.kit.database.upgrade()
        seed_demo(self.kit, per_operator=DEMO_CASES)
        self.tokens: dict[str, str] = {}
        self.token_operator: dict[str, str] = {}
        for operator in (OPERATOR_A, OPERATOR_B):
            user = self.kit.accounts.create_user(
                email=f"fuzz.{operator}@test.invalid",
                display_name=f"Conseiller fuzz {operator}",
                role=Role.COUNSELLOR,
                operator=operator,
                password=PASSWORD,
            )
            token, _ = self.kit.accounts.create_token(user, name="fuzz", valid_days=None)
            self.tokens[operator] = token
            self.token_operator[token] = operator
        self.request_a = self._request_of_a()
        self.synthesis_a = self._synthesis_of_a()
        self.owned = self._ownership()
        self.app: Litestar = create_app(self.kit)

    def close(self) -> None:
        self.kit.close()

    def headers(self, operator: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[operator]}"}

    def etag(self, operator: str, case_id: str) -> str:
        """The current ETag of a case, as its own operator reads it."""
        case = self.kit.cases.get_case(operator, case_id)
        return f'"{case.id}-{case.version}"'

    def operator_of_request(self, headers: Any) -> str | None:
        """The operator of the token a request was sent with (None: anonymous or unknown)."""
        value = headers.get("Authorization") or headers.get("authorization") or ""
        scheme, _, token = str(value).partition(" ")
        if scheme.lower() != "bearer":
            return None
        return self.token_operator.get(token.strip())

    # -- A's objects ---------------------------------------------------------------------

    def _request_of_a(self) -> str:
        request = submit(
            self.kit,
            operator=OPERATOR_A,
            email="maelle.roussel@exemple.invalid",
            phone="06 39 98 12 34",
        )
        return request.id

    def _synthesis_of_a(self) -> str:
        """A level-1 synthesis of one of A's demo cases that has its level-1 record."""
        page = self.kit.cases.list_cases(OPERATOR_A, limit=200)
        for case in page.items:
            if case.status in {CaseStatus.LEVEL_TWO, CaseStatus.CLOSED}:
                try:
                    generated = self.kit.syntheses.generate(OPERATOR_A, case.id, Level.ONE)
                except Exception:  # a case whose level 1 is incomplete: try the next one
                    continue
                self.synthesis_case_a = case.id
                return generated.synthesis.id
        raise AssertionError("no demo case of operator A can have a level-1 synthesis")

    def _ownership(self) -> Owned:
        owned = Owned()
        with self.kit.database.read() as connection:
            for table in (cases, appointment_requests, syntheses):
                rows = connection.execute(select(table.c.id, table.c.operator)).all()
                for identifier, operator in rows:
                    owned.add(operator, [identifier])
        return owned


def no_foreign_objects(world: FuzzWorld) -> Any:
    """The cross-tenant check (REL-03): a 2xx never names another operator's object."""

    def check(ctx: CheckContext, response: Response, case: Case) -> bool | None:
        if not 200 <= response.status_code < 300:
            return None
        operator = world.operator_of_request(response.request.headers)
        if operator is None:
            return None
        sent = str(response.request.url)
        body = response.content.decode("utf-8", "replace") if response.content else ""
        foreign = world.owned.foreign_ids_in(sent + "\n" + body, operator)
        assert not foreign, (
            f"{response.status_code} for a client of « {operator} » on objects of another "
            f"operator: {sorted(foreign)}"
        )
        return None

    check.__name__ = "no_foreign_objects"
    return check

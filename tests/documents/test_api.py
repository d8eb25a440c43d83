"""The syntheses API: produce (201 / 200 / 202 and a status URL), list, download; the
journal; French problem details; tenant isolation; the event loop stays free."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from cep_core import RenderRequest
from cep_core.documents.errors import RenderTimeout
from cep_core.kit import Kit
from cep_core.settings import Settings, parse_api_tokens
from cep_core.storage.repositories import BeneficiaryRepository, CaseRepository
from cep_core.web import create_app

APEC = "a" * 40
MISSION_LOCALE = "m" * 40


class Harness:
    def __init__(self, http: TestClient[Litestar], kit: Kit, renderer: Any, case_id: str):
        self.http = http
        self.kit = kit
        self.renderer = renderer
        self.case_id = case_id
        self.base = f"/api/v1/cases/{case_id}/syntheses"

    def call(self, method: str, path: str, token: str | None = APEC, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.http.request(method, path, headers=headers, **kw)

    def journal(self) -> list[tuple[str, str | None, str | None]]:
        answer = self.call("GET", f"/api/v1/cases/{self.case_id}/events")
        assert answer.status_code == 200, answer.text
        return [
            (e["kind"], e["actor"], e["reason"])
            for e in answer.json()["events"]
            if e["kind"].startswith("synthesis")
        ]


@pytest.fixture
def api(tmp_path: Path, renderer: Any, clock: Any, samples: SimpleNamespace) -> Iterator[Harness]:
    tokens = parse_api_tokens(
        f"apec:c.martin:{APEC}\nmission_locale:m.durand:{MISSION_LOCALE}", "test"
    )
    kit = Kit(
        [renderer],
        settings=Settings(
            data_dir=tmp_path,
            database_url=f"sqlite:///{tmp_path / 'api.sqlite3'}",
            api_tokens=tokens,
        ),
        load_entrypoints=True,
        clock=clock,
    )
    kit.database.upgrade()
    case = samples.full_case(operator="apec")
    with kit.database.write() as connection:
        BeneficiaryRepository(connection, "apec").add(samples.beneficiary(operator="apec"))
        CaseRepository(connection, "apec").add(case)
    with TestClient(create_app(kit)) as http:
        yield Harness(http, kit, renderer, case.id)
    kit.close()


def test_produce_list_and_download(api: Harness, pdf_tools: SimpleNamespace) -> None:
    created = api.call("POST", api.base, json={"level": 2})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["status"] == "created"
    synthesis = body["synthesis"]
    assert (synthesis["level"], synthesis["version"], synthesis["author"]) == (2, 1, "c.martin")
    assert created.headers["location"] == synthesis["pdf_url"]

    again = api.call("POST", api.base, json={"level": 2})
    assert again.status_code == 200
    assert again.json()["status"] == "unchanged"
    assert again.json()["synthesis"]["id"] == synthesis["id"]

    listed = api.call("GET", api.base)
    assert listed.status_code == 200
    assert [s["id"] for s in listed.json()["syntheses"]] == [synthesis["id"]]

    calls = api.renderer.calls
    pdf = api.call("GET", synthesis["pdf_url"])
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["cache-control"] == "no-store"
    assert 'filename="synthese-niveau-2-v1.pdf"' in pdf.headers["content-disposition"]
    assert "Plan de financement" in pdf_tools.text(pdf.content)
    assert api.renderer.calls == calls  # a download never renders

    assert api.journal() == [
        ("synthesis_generated", "c.martin", "level_2"),
        ("synthesis_downloaded", "c.martin", "level_2"),
    ]


def test_a_slow_render_answers_202_then_the_status_url_gives_the_synthesis(
    api: Harness,
) -> None:
    pool = api.renderer.pool

    class Slow:
        def render(self, request: RenderRequest) -> bytes:
            time.sleep(3)
            return bytes(pool.render(request))

    api.renderer.pool = Slow()
    started = time.monotonic()
    answer = api.call("POST", api.base, json={"level": 1})
    assert answer.status_code == 202, answer.text
    assert time.monotonic() - started < 2.9
    status_url = answer.json()["status_url"]
    assert answer.headers["location"] == status_url
    assert answer.headers["retry-after"] == "1"
    # The app keeps serving while the document renders.
    started = time.monotonic()
    assert api.call("GET", api.base).status_code == 200
    assert time.monotonic() - started < 1
    assert api.call("GET", status_url).status_code == 202
    assert api.call("GET", status_url, token=MISSION_LOCALE).status_code == 404
    for _ in range(100):
        done = api.call("GET", status_url)
        if done.status_code != 202:
            break
        time.sleep(0.1)
    assert done.status_code == 200, done.text
    assert done.json()["synthesis"]["level"] == 1


def test_errors_are_french_problem_details(api: Harness) -> None:
    def problem(answer: Any, status: int) -> str:
        assert answer.status_code == status, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        detail: str = answer.json()["detail"]
        return detail

    assert "Authentification" in problem(api.call("POST", api.base, token=None, json={}), 401)
    problem(api.call("POST", api.base, json={"level": 3}), 400)
    problem(api.call("POST", api.base, json={"level": 1, "html": "<p>"}), 400)
    other = "/api/v1/cases/" + "f" * 32 + "/syntheses"
    assert "introuvable" in problem(api.call("POST", other, json={"level": 1}), 404)
    # Another operator's token: the case does not exist for it.
    problem(api.call("POST", api.base, token=MISSION_LOCALE, json={"level": 1}), 404)
    problem(api.call("GET", api.base, token=MISSION_LOCALE), 404)
    created = api.call("POST", api.base, json={"level": 1}).json()["synthesis"]
    problem(api.call("GET", created["pdf_url"], token=MISSION_LOCALE), 404)
    problem(api.call("GET", f"{api.base}/{'0' * 32}/pdf"), 404)
    problem(api.call("GET", f"{api.base}/jobs/unknown"), 404)


def test_a_level_not_reached_is_a_conflict(api: Harness, samples: SimpleNamespace) -> None:
    case = samples.full_case(operator="apec", level=1, id="1" * 32)
    with api.kit.database.write() as connection:
        CaseRepository(connection, "apec").add(case)
    answer = api.call("POST", f"/api/v1/cases/{case.id}/syntheses", json={"level": 2})
    assert answer.status_code == 409
    assert "n'a pas atteint le niveau 2" in answer.json()["detail"]


def test_a_render_timeout_is_a_422_that_says_what_to_do(api: Harness) -> None:
    def fail(request: RenderRequest) -> bytes:
        raise RenderTimeout(30)

    api.renderer.pool = SimpleNamespace(render=fail)
    answer = api.call("POST", api.base, json={"level": 1})
    assert answer.status_code == 422
    assert "temps limite (30 s)" in answer.json()["detail"]
    assert api.call("GET", api.base).json()["syntheses"] == []

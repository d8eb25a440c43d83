"""The HTTP contract of ``POST /api/v1/orientation``: exact keys, types and values."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from cep_core.web import create_app

URL = "/api/v1/orientation"


def post(client: TestClient[Litestar], **body: Any) -> Any:
    response = client.post(URL, json=body)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


def test_response_has_exactly_the_contract_keys_and_types(client: TestClient[Litestar]) -> None:
    answer = post(client, birth_date="1980-05-01", status="employee", cadre=True, working=True)

    assert set(answer) == {"eligible", "reasons", "operators", "redirect"}
    assert answer["eligible"] is True
    assert isinstance(answer["reasons"], list)
    assert answer["reasons"]
    assert all(isinstance(r, str) and r for r in answer["reasons"])
    assert [o["id"] for o in answer["operators"]] == ["apec", "regional"]
    for operator in answer["operators"]:
        assert {"id", "name", "reason"} <= set(operator) <= {"id", "name", "reason", "contact"}
        assert all(isinstance(operator[k], str) for k in ("id", "name", "reason"))
    assert answer["redirect"] is None


def test_redirect_is_null_not_missing(client: TestClient[Litestar]) -> None:
    response = client.post(URL, json={"birth_date": "1980-05-01", "status": "employee"})
    assert '"redirect":null' in response.text


def test_redirect_is_an_object_for_a_public_agent(client: TestClient[Litestar]) -> None:
    answer = post(client, birth_date="1980-05-01", status="public_agent")

    redirect = answer["redirect"]
    assert isinstance(redirect, dict)
    assert {"name", "reason"} <= set(redirect) <= {"name", "reason", "url"}
    assert isinstance(redirect["name"], str)
    assert redirect["name"]
    assert isinstance(redirect["reason"], str)
    assert redirect["reason"]


def test_contact_is_given_only_when_the_operator_has_one(client: TestClient[Litestar]) -> None:
    answer = post(client, birth_date="1980-05-01", status="employee", cadre=True)

    by_id = {o["id"]: o for o in answer["operators"]}
    assert by_id["apec"]["contact"] == {"url": "https://apec.example/"}
    assert "contact" not in by_id["regional"]


def test_as_of_defaults_to_the_kits_today(
    client: TestClient[Litestar], fakes: SimpleNamespace
) -> None:
    answer = post(client, birth_date="2000-03-11", status="employee")

    # The fixed clock says 2025-03-10: the person turns 25 tomorrow.
    reasons = {o["id"]: o["reason"] for o in answer["operators"]}
    assert reasons["regional"] == "Au 2025-03-10, vous avez 24 ans."
    assert "mission_locale" in reasons


def test_explicit_as_of_and_null_as_of(client: TestClient[Litestar]) -> None:
    answer = post(client, birth_date="2000-03-11", status="employee", as_of="2030-01-01")
    reasons = {o["id"]: o["reason"] for o in answer["operators"]}
    assert reasons["regional"] == "Au 2030-01-01, vous avez 29 ans."
    assert "mission_locale" not in reasons

    answer = post(client, birth_date="2000-03-11", status="employee", as_of=None)
    assert answer["operators"][0]["reason"].startswith("Au 2025-03-10")


def test_every_documented_field_is_accepted(client: TestClient[Litestar]) -> None:
    answer = post(
        client,
        birth_date="1990-01-31",
        as_of="2025-01-01",
        status="jobseeker",
        cadre=False,
        registered_jobseeker=True,
        disability_recognition=True,
        working=False,
        seeking_job=True,
        region="53",
    )
    assert answer["eligible"] is True


def test_every_status_is_accepted(client: TestClient[Litestar]) -> None:
    statuses = [
        "employee",
        "public_agent",
        "self_employed",
        "jobseeker",
        "apprentice",
        "student",
        "retired",
        "inactive",
    ]
    for status in statuses:
        answer = post(client, birth_date="1990-01-31", status=status)
        assert isinstance(answer["eligible"], bool)


def test_not_eligible_lists_no_operator(client: TestClient[Litestar]) -> None:
    answer = post(client, birth_date="1950-01-01", status="retired")

    assert answer["eligible"] is False
    assert answer["operators"] == []
    assert answer["redirect"] is None
    assert answer["reasons"]


def test_born_today_is_valid(client: TestClient[Litestar]) -> None:
    answer = post(client, birth_date="2025-03-10", status="student", seeking_job=True)
    assert answer["operators"][0]["reason"] == "Au 2025-03-10, vous avez 0 ans."


def test_a_failing_operator_is_left_out_and_named(make_kit: Any, fakes: SimpleNamespace) -> None:
    broken = fakes.operator("cap_emploi", raises=RuntimeError("boom"))
    app = create_app(make_kit(*fakes.defaults(), broken))

    with TestClient(app) as client:
        answer = post(client, birth_date="1980-05-01", status="employee")

    assert [o["id"] for o in answer["operators"]] == ["regional"]
    notice = answer["reasons"][-1]
    assert "« cap_emploi »" in notice
    assert "indisponible" in notice
    assert "boom" not in notice


def test_a_failing_policy_is_a_503_in_french(make_kit: Any, fakes: SimpleNamespace) -> None:
    app = create_app(make_kit(*fakes.defaults(), fakes.failing_policy()))

    with TestClient(app) as client:
        response = client.post(URL, json={"birth_date": "1980-05-01", "status": "employee"})

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 503
    assert problem["title"] == "Service momentanément indisponible"
    assert "a rencontré une erreur" in problem["detail"]
    assert problem["errors"] == []
    assert "secret internal detail" not in response.text
    assert "Traceback" not in response.text

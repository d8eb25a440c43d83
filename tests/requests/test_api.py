"""``/api/v1/requests``: bearer authentication, the operator's queue only (another operator's
request is 404), French problem details, acceptance with a Location, role-filtered output."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from pages import make_staff
from request_helpers import FakeClock, submit

from cep_core.kit import Kit
from cep_core.settings import parse_api_tokens
from cep_core.web.app import create_app

APEC_TOKEN = "jeton-apec-conseiller-0123456789abcdefghij"
REGIONAL_TOKEN = "jeton-regional-conseiller-0123456789abcdef"
BASE = "/api/v1/requests"


@pytest.fixture
def kit(make_kit: Callable[..., Kit]) -> Kit:
    tokens = parse_api_tokens(
        f"apec:conseiller-apec:{APEC_TOKEN},regional:conseiller-regional:{REGIONAL_TOKEN}",
        "tests",
    )
    return make_kit(api_tokens=tokens)


@pytest.fixture
def client(kit: Kit) -> Iterator[TestClient[Litestar]]:
    with TestClient(create_app(kit), base_url="https://testserver.local") as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


APEC = bearer(APEC_TOKEN)
REGIONAL = bearer(REGIONAL_TOKEN)


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


def test_every_route_needs_a_token(client: TestClient[Litestar], kit: Kit) -> None:
    request = submit(kit)
    for method, url in [
        ("GET", BASE),
        ("GET", f"{BASE}/{request.id}"),
        ("POST", f"{BASE}/{request.id}/accept"),
        ("POST", f"{BASE}/{request.id}/decline"),
        ("POST", f"{BASE}/{request.id}/appointment"),
    ]:
        body = problem(client.request(method, url, json={}), 401)
        assert "Authorization: Bearer" in body["detail"]
    assert kit.requests.get("apec", request.id).pending


def test_the_queue_lists_the_operators_requests_only(
    client: TestClient[Litestar], kit: Kit, clock: FakeClock
) -> None:
    first = submit(kit)
    clock.advance(minutes=5)
    second = submit(kit, email="autre@exemple.fr")

    page = client.get(BASE, params={"status": "pending", "limit": 1}, headers=APEC).json()
    assert [item["reference"] for item in page["items"]] == [first.reference]
    following = client.get(
        BASE, params={"status": "pending", "cursor": page["next_cursor"]}, headers=APEC
    ).json()
    assert [item["id"] for item in following["items"]] == [second.id]
    assert following["next_cursor"] is None

    summary = page["items"][0]
    assert summary["first_name"] == "Maëlle" and summary["status"] == "pending"
    assert "email" not in summary and "situation" not in summary  # the queue lists, GET tells
    item = client.get(f"{BASE}/{first.id}", headers=APEC).json()
    assert item["email"] == "maelle.roussel@exemple.fr"
    assert item["preferred_days"] == ["monday", "thursday"]
    assert item["situation"]["age"] == 41 and item["situation"]["age_only"] is True
    assert item["consent_notice_version"]

    assert client.get(BASE, headers=REGIONAL).json()["items"] == []


def test_unknown_filters_and_bad_cursors_are_refused(client: TestClient[Litestar]) -> None:
    body = problem(client.get(BASE, params={"name": "Roussel"}, headers=APEC), 400)
    assert body["errors"][0]["path"] == "name"
    body = problem(client.get(BASE, params={"cursor": "%%%"}, headers=APEC), 400)
    assert body["errors"][0]["path"] == "cursor"
    problem(client.get(BASE, params={"status": "perdue"}, headers=APEC), 400)


def test_another_operators_request_is_not_found(client: TestClient[Litestar], kit: Kit) -> None:
    request = submit(kit)
    for method, url, payload in [
        ("GET", f"{BASE}/{request.id}", None),
        ("POST", f"{BASE}/{request.id}/accept", None),
        ("POST", f"{BASE}/{request.id}/decline", {"reason": "duplicate"}),
        (
            "POST",
            f"{BASE}/{request.id}/appointment",
            {"starts_at": "2030-01-01T10:00:00+01:00", "channel": "visio"},
        ),
    ]:
        body = problem(client.request(method, url, json=payload, headers=REGIONAL), 404)
        assert body["detail"] == "Demande introuvable."
    assert kit.requests.get("apec", request.id).pending
    problem(client.get(f"{BASE}/0190f0c0a0b07c0d8e0f101112131415", headers=APEC), 404)


def test_accepting_answers_201_with_the_case(client: TestClient[Litestar], kit: Kit) -> None:
    request = submit(kit)

    response = client.post(f"{BASE}/{request.id}/accept", headers=APEC)

    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == f"/api/v1/cases/{body['case_id']}"
    assert body["status"] == "accepted" and body["reference"] == request.reference
    stored = client.get(f"{BASE}/{request.id}", headers=APEC).json()
    assert stored["case_id"] == body["case_id"]
    assert stored["decided_by"] == "conseiller-apec"
    case = client.get(response.headers["location"], headers=APEC)
    assert case.status_code == 200 and case.json()["beneficiary"]["last_name"] == "Roussel"

    again = problem(client.post(f"{BASE}/{request.id}/accept", headers=APEC), 409)
    assert again["errors"][0]["code"] == "already_decided"
    assert "déjà été acceptée" in again["detail"]


def test_declining_needs_a_reason_from_the_list(client: TestClient[Litestar], kit: Kit) -> None:
    request = submit(kit)
    url = f"{BASE}/{request.id}/decline"
    problem(client.post(url, json={}, headers=APEC), 400)
    body = problem(client.post(url, json={"reason": "other"}, headers=APEC), 400)
    assert body["errors"] == [
        {"path": "text", "code": "missing_field", "message": "Précisez le motif du refus."}
    ]
    body = problem(client.post(url, json={"reason": "duplicate", "status": "x"}, headers=APEC), 400)
    assert body["errors"][0]["code"] == "unknown_field"

    response = client.post(url, json={"reason": "unreachable"}, headers=APEC)
    assert response.status_code == 200, response.text
    assert response.json()["decline_reason"] == "unreachable"
    problem(client.post(f"{BASE}/{request.id}/accept", headers=APEC), 409)


def test_proposing_an_appointment(client: TestClient[Litestar], kit: Kit, clock: FakeClock) -> None:
    request = submit(kit)
    url = f"{BASE}/{request.id}/appointment"
    past = problem(
        client.post(
            url, json={"starts_at": clock.now.isoformat(), "channel": "visio"}, headers=APEC
        ),
        400,
    )
    assert past["errors"][0]["path"] == "starts_at"
    when = (clock.now + timedelta(days=3)).isoformat()
    no_place = problem(
        client.post(url, json={"starts_at": when, "channel": "presentiel"}, headers=APEC), 400
    )
    assert no_place["errors"][0]["path"] == "location"

    response = client.post(
        url,
        json={"starts_at": when, "channel": "telephone", "duration_minutes": 45},
        headers=APEC,
    )
    assert response.status_code == 200, response.text
    appointment = response.json()["appointment"]
    assert appointment["duration_minutes"] == 45 and appointment["channel"] == "telephone"
    assert appointment["counsellor_name"] is None  # a machine token has no account


def test_health_data_is_for_counsellors_only(client: TestClient[Litestar], kit: Kit) -> None:
    request = submit(
        kit,
        operator="cap_emploi",
        situation={"status": "employee", "age": 35, "disability_recognition": True},
    )
    counsellor = make_staff(kit, operator="cap_emploi", role="counsellor")
    manager = make_staff(kit, operator="cap_emploi", role="manager", email="m@cap.exemple.fr")
    own, _ = kit.accounts.create_token(counsellor, name="essai")
    managers, _ = kit.accounts.create_token(manager, name="essai")

    seen = client.get(f"{BASE}/{request.id}", headers=bearer(own)).json()
    assert seen["situation"]["disability_recognition"] is True
    hidden = client.get(f"{BASE}/{request.id}", headers=bearer(managers)).json()
    assert "disability_recognition" not in hidden["situation"]

    # A personal token signs the appointment with its owner's name.
    when = (kit.clock() + timedelta(days=2)).isoformat()
    response = client.post(
        f"{BASE}/{request.id}/appointment",
        json={"starts_at": when, "channel": "visio"},
        headers=bearer(own),
    )
    assert response.json()["appointment"]["counsellor_name"] == counsellor.display_name


def test_the_operations_are_documented_in_french(client: TestClient[Litestar]) -> None:
    paths = client.get("/schema/openapi.json").json()["paths"]
    assert set(paths[BASE]) == {"get"}
    assert paths[f"{BASE}/{{request_id}}/accept"]["post"]["summary"].startswith("Accepter")
    responses = paths[f"{BASE}/{{request_id}}/decline"]["post"]["responses"]
    assert {"200", "400", "401", "404", "409"} <= set(responses)
    assert "autre opérateur" in responses["404"]["description"]

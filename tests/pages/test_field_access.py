"""Field-level access (SEC-03): the disability status, health answers and confidential notes
reach the operator's counsellors only — snapshots of the JSON keys and of the HTML fields each
role gets, in the API and in the pages. A manager's save keeps the health answers it could not
see."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape
from typing import Any

import pytest
from litestar.testing import TestClient
from pages import make_staff
from workspace_pages import World, post, text_of

from cep_core.domain.case import Case
from cep_core.domain.forms import SessionChannel
from cep_core.domain.situation import Status
from cep_core.services.cases import NewSession

NOTES = "Très motivée, anxieuse à l'idée de l'entretien"
INTAKE = {
    "recognition_kind": "rqth",
    "recognition_valid_until": "2030-01-31",
    "renewal_requested": True,
    "currently_employed": True,
    "job_retention": False,
    "on_sick_leave": True,
}
HEALTH_INTAKE_KEYS = {
    "recognition_kind",
    "recognition_valid_until",
    "recognition_permanent",
    "renewal_requested",
    "on_sick_leave",
    "occupational_health_involved",
}
CASE_KEYS = {
    "id", "operator", "version", "status", "level", "paused_from", "counsellor_id",
    "created_at", "updated_at", "beneficiary", "situation", "intake", "steps", "progress",
    "allowed_actions", "closure", "referral", "funding_plan", "sessions",
}  # fmt: skip
SITUATION_KEYS = {
    "birth_date", "as_of", "status", "cadre", "registered_jobseeker", "working",
    "seeking_job", "region",
}  # fmt: skip
SESSION_KEYS = {
    "id", "start", "channel", "duration_minutes", "counsellor_id", "outside_working_time",
    "level", "recorded_at", "recorded_by",
}  # fmt: skip
# The allow-lists, per role.
JSON_ALLOWED: dict[str, dict[str, set[str]]] = {
    "counsellor": {
        "case": CASE_KEYS,
        "situation": SITUATION_KEYS | {"disability_recognition"},
        "session": SESSION_KEYS | {"notes"},
    },
    "manager": {"case": CASE_KEYS, "situation": SITUATION_KEYS, "session": SESSION_KEYS},
}
SITUATION_FACTS = [
    "Date de naissance", "Situation professionnelle", "Région", "Cadre",
    "Inscrit·e à France Travail", "En activité", "En recherche d'emploi",
]  # fmt: skip
SESSION_COLUMNS = [
    "Date", "Modalité", "Durée", "Conseiller ou conseillère", "Hors temps de travail",
]  # fmt: skip
HTML_ALLOWED: dict[str, dict[str, list[str]]] = {
    "counsellor": {
        "situation": [*SITUATION_FACTS, "Reconnaissance du handicap"],
        "sessions": [*SESSION_COLUMNS, "Notes confidentielles"],
        "intake": [
            "Reconnaissance du handicap",
            "Fin de validité de la reconnaissance",
            "Reconnaissance attribuée sans limitation de durée",
            "Renouvellement demandé",
            "En emploi actuellement",
            "La demande porte sur le maintien dans l'emploi actuel",
            "En arrêt de travail actuellement",
            "Le service de prévention et de santé au travail est déjà sollicité",
        ],
    },
    "manager": {
        "situation": SITUATION_FACTS,
        "sessions": SESSION_COLUMNS,
        "intake": [
            "En emploi actuellement",
            "La demande porte sur le maintien dans l'emploi actuel",
        ],
    },
}


def cap_emploi_case(world: World) -> tuple[Case, Any, Any]:
    """A Cap emploi case with health data everywhere: situation, intake, a step, session notes."""
    counsellor = make_staff(world.kit, operator="cap_emploi", name="Léa Fontaine")
    manager = make_staff(world.kit, operator="cap_emploi", role="manager", name="Marc Roy")
    case = world.case(
        "cap_emploi",
        status=Status.JOBSEEKER,
        disability=True,
        counsellor=counsellor,
        intake=INTAKE,
    )
    case = world.kit.cases.record_session(
        "cap_emploi",
        case.id,
        NewSession(
            start=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
            channel=SessionChannel.IN_PERSON,
            duration_minutes=60,
            notes=NOTES,
        ),
        expected_version=case.version,
        actor=counsellor.id,
    )
    saved = world.kit.cases.save_step(
        "cap_emploi",
        case.id,
        "cap_emploi.compensation_needs",
        {"needs": ["working_hours"], "compensation_in_place": True},
        expected_version=case.version,
        actor=counsellor.id,
    )
    return saved.case, counsellor, manager


def dl_terms(html: str, dl_id: str) -> list[str]:
    found = re.search(rf'<dl class="facts[^"]*" id="{dl_id}">(.*?)</dl>', html, flags=re.S)
    assert found, dl_id
    return [unescape(t).strip() for t in re.findall(r"<dt>(.*?)</dt>", found.group(1), flags=re.S)]


def section(html: str, title_id: str) -> str:
    start = html.index(f'id="{title_id}"')
    end = html.find("</section>", start)
    return html[start:end]


@pytest.mark.parametrize("role", ["counsellor", "manager"])
def test_api_case_json_carries_the_roles_allow_list(world: World, role: str) -> None:
    case, counsellor, manager = cap_emploi_case(world)
    user = counsellor if role == "counsellor" else manager
    secret, _ = world.kit.accounts.create_token(user, name="Essai", valid_days=30)
    with TestClient(world.app, base_url="https://testserver.local") as api:
        headers = {"Authorization": f"Bearer {secret}"}
        body = api.get(f"/api/v1/cases/{case.id}", headers=headers).json()
        steps = api.get(f"/api/v1/cases/{case.id}/steps", headers=headers).json()
    allowed = JSON_ALLOWED[role]
    assert set(body) == allowed["case"]
    assert set(body["situation"]) == allowed["situation"]
    assert set(body["sessions"][0]) == allowed["session"]
    [needs] = [s for s in body["steps"] if s["id"] == "cap_emploi.compensation_needs"]
    [listed] = [s for s in steps["steps"] if s["id"] == "cap_emploi.compensation_needs"]
    # (The steps' JSON Schemas list every possible answer: only the answers are checked.)
    encoded = str(body) + str([step["data"] for step in steps["steps"]])
    if role == "counsellor":
        assert body["situation"]["disability_recognition"] is True
        assert body["sessions"][0]["notes"] == NOTES
        assert set(body["intake"]["answers"]) >= set(INTAKE)
        assert (
            needs["data"]
            == listed["data"]
            == {
                "needs": ["working_hours"],
                "compensation_in_place": True,
            }
        )
    else:
        assert not set(body["intake"]["answers"]) & HEALTH_INTAKE_KEYS
        assert set(body["intake"]["answers"]) == {
            "currently_employed",
            "job_retention",
            "referred_by",
        }
        assert needs["data"] == listed["data"] == {}
        for secret_text in (NOTES, "rqth", "working_hours", "2030-01-31"):
            assert secret_text not in encoded


@pytest.mark.parametrize("role", ["counsellor", "manager"])
def test_case_page_shows_the_roles_allow_list(world: World, role: str) -> None:
    case, counsellor, manager = cap_emploi_case(world)
    client = world.client(counsellor if role == "counsellor" else manager)
    page = client.get(f"/espace/dossiers/{case.id}")
    assert page.status_code == 200
    allowed = HTML_ALLOWED[role]
    assert dl_terms(page.text, "situation") == allowed["situation"]
    headers = re.findall(r'<th scope="col">(.*?)</th>', section(page.text, "entretiens-titre"))
    assert headers == allowed["sessions"]
    intake = section(page.text, "accueil-titre")
    terms = [unescape(t) for t in re.findall(r"<dt>(.*?)</dt>", intake)]
    assert terms == allowed["intake"]
    text = text_of(page.text)
    if role == "manager":
        for hidden in (NOTES, "Reconnaissance du handicap", "RQTH", "arrêt de travail"):
            assert hidden not in text
    else:
        assert NOTES in text


def test_a_managers_step_form_hides_health_answers_and_keeps_them(world: World) -> None:
    case, counsellor, manager = cap_emploi_case(world)
    url = f"/espace/dossiers/{case.id}/niveau/1/cap_emploi.compensation_needs"
    as_counsellor = world.client(counsellor).get(url)
    assert 'id="f-compensation_in_place"' in as_counsellor.text
    assert 'value="working_hours" checked' in as_counsellor.text
    client = world.client(manager)
    page = client.get(url)
    assert page.status_code == 200
    assert "f-compensation_in_place" not in page.text and "f-needs" not in page.text
    saved = post(client, url, version=str(case.version), action="brouillon")
    assert saved.status_code == 303
    record = world.kit.cases.get_case("cap_emploi", case.id).steps["cap_emploi.compensation_needs"]
    assert record.data == {"needs": ["working_hours"], "compensation_in_place": True}
    # The session form of a manager has no notes field: they could not read them back.
    session_form = client.get(f"/espace/dossiers/{case.id}/entretiens/nouveau")
    assert 'id="notes"' not in session_form.text


def test_a_step_saved_through_the_api_answers_without_health_data(world: World) -> None:
    case, _, manager = cap_emploi_case(world)
    secret, _ = world.kit.accounts.create_token(manager, name="Essai", valid_days=30)
    with TestClient(world.app, base_url="https://testserver.local") as api:
        answer = api.put(
            f"/api/v1/cases/{case.id}/steps/cap_emploi.compensation_needs",
            json={"data": {"needs": ["transport"], "compensation_in_place": False}},
            headers={
                "Authorization": f"Bearer {secret}",
                "If-Match": f'"{case.id}-{case.version}"',
            },
        )
    assert answer.status_code == 200, answer.text
    assert answer.json()["step"]["data"] == {}
    assert '"transport"' not in answer.text

"""Done-when of the case lifecycle, over HTTP, with the five real operator plugins.

For each operator, one API client (its own token) drives a complete case as a counsellor's
tool would: orientation, a case opened from it, intake with the operator's own form, level 1
with its steps and the core record, level 2 with a pause and a resume in the middle, the
project, the operator's steps and the action plan, a funding plan, and a "completed"
closure. The journal then tells the whole story, in order. One case is referred from one
operator to another, which opens its own. Every journey runs on SQLite and on PostgreSQL.

Step answers are built the way a client would: from the JSON Schema each step publishes
(``GET .../steps``), smallest valid answer, plus the few values the operators' own rules
require (`STEP_ANSWERS`); the intake answers are written out for each operator's form.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cases_http import CASES, CaseClient, problem, token
from litestar import Litestar
from litestar.testing import TestClient

from cep_apec import hooks as apec
from cep_cap_emploi import hooks as cap_emploi
from cep_core.kit import Kit
from cep_core.settings import Settings, parse_api_tokens
from cep_core.web import create_app
from cep_mission_locale import hooks as mission_locale
from cep_pole_emploi import hooks as pole_emploi
from cep_regional import hooks as regional

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TODAY = START.date()
OPERATORS = ("apec", "cap_emploi", "mission_locale", "pole_emploi", "regional")

SITUATIONS: dict[str, dict[str, Any]] = {
    "apec": {"birth_date": "1979-05-04", "status": "employee", "cadre": True, "region": "11"},
    "cap_emploi": {
        "birth_date": "1975-09-01", "status": "jobseeker", "registered_jobseeker": True,
        "disability_recognition": True, "region": "84",
    },
    "mission_locale": {
        "birth_date": "2005-01-20", "status": "jobseeker", "seeking_job": True, "region": "93",
    },
    "pole_emploi": {
        "birth_date": "1984-02-10", "status": "jobseeker", "registered_jobseeker": True,
        "region": "32",
    },
    "regional": {"birth_date": "1986-07-14", "status": "employee", "region": "53"},
}  # fmt: skip

# Each operator's own intake form, filled in as a counsellor would.
INTAKES: dict[str, dict[str, Any]] = {
    "apec": {
        "cadre_basis": "cadre_contract",
        "position_title": "Responsable de production",
        "position_current": True,
        "request": "change_employer",
        "position_rome": "H2502",
        "years_as_cadre": 8,
        "manages_team": True,
        "team_size": 12,
        "sector": "Industrie agroalimentaire",
    },
    "cap_emploi": {
        "recognition_kind": "rqth",
        "recognition_permanent": True,
        "currently_employed": False,
        "referred_by": "france_travail",
    },
    "mission_locale": {
        "schooling_level": "level_3",
        "in_education": False,
        "left_education_on": "2023-06-30",
        "followed_by": ["mission_locale"],
        "last_diploma_title": "CAP Cuisine",
    },
    "pole_emploi": {
        "registered": True,
        "registration_id": "AB12345",
        "target_job": "Comptable",
        "income": "are",
        "registered_on": "2025-11-03",
        "target_rome": "M1203",
    },
    "regional": {
        "contract": "cdi",
        "employer_size": "from_50_to_299",
        "employer_informed": False,
        "company_entry_on": "2019-09-01",
        "job_title": "Technicienne de maintenance",
    },
}

CORE: dict[str, dict[str, Any]] = {
    "level1.record": {
        "request": "Je souhaite faire le point sur mon parcours.",
        "clarified_need": "Construire un projet d'évolution réaliste.",
        "information_given": ["cep_service", "job_market", "funding"],
        "shared_review": "La personne veut être accompagnée pour formaliser son projet.",
        "continues": True,
    },
    "level2.project": {
        "objective": "career_development",
        "description": "Évoluer vers un poste de coordination.",
        "strategies": ["Formation courte certifiante", "Mobilité interne"],
        "rome_code": "M1302",
    },
    "level2.action_plan": {
        "services": [
            {
                "kind": "training",
                "label": "Titre professionnel de coordination d'équipe",
                "provider": "Organisme régional",
                "provider_qualiopi": True,
                "certification_code": "RNCP34828",
                "start": "2026-10-05",
                "end": "2027-03-26",
            }
        ],
        "personal_steps": [{"description": "Rencontrer deux coordinateurs en poste"}],
        "milestones": [{"on": "2026-06-01", "label": "Entrée en formation"}],
    },
}

# Values the operators' own rules require beyond the smallest typed answer.
STEP_ANSWERS: dict[str, dict[str, Any]] = {
    "apec.situation_review": {"urgency": "within_six_months", "mobility": "regional"},
    "apec.positioning": {
        "key_skills": ["Management d'équipe", "Amélioration continue"],
        "target_functions": ["Directrice de site"],
        "target_rome_codes": ["H2502"],
        "market_reading": "balanced",
    },
    "apec.job_search_strategy": {"channels": ["network", "apec_offers"], "cv_updated": True},
    "pole_emploi.plan_review": {"match": "matches", "plan_target_job": "Comptable"},
    "pole_emploi.plan_consistency": {"consistency": "consistent"},
    "pole_emploi.jobseeker_aids": {"aids": ["cpf_top_up"], "training_start_on": "2026-10-05"},
    "mission_locale.living_situation": {
        "housing": "with_parents",
        "mobility": ["public_transport"],
        "resources": ["family_support"],
    },
    "mission_locale.barriers_plan": {
        "actions": [{"barrier": "mobility", "action": "Demande d'aide au permis de conduire"}]
    },
    "regional.entretien_professionnel": {"topics": [], "mention_cep": False},
    "regional.ptp": {
        "certification_code": "RNCP34828",
        "certification_title": "Titre professionnel de coordination d'équipe",
        "training_start_on": "2026-12-07",
        "training_end_on": "2027-06-25",
        "continuous_absence_months": 6,
        "positioning_done": True,
        "leave_request_on": "2026-07-15",
        "salaried_months_total": 160,
    },
    "regional.demission_reconversion": {
        "project_kind": "training",
        "days_worked_last_60_months": 1320,
        "certification_code": "RNCP34828",
    },
}

# What the funding plan request adds to the case (the same for every operator).
FUNDING: dict[str, Any] = {
    "training": {"service": 0, "cost_eur": 2400, "hours": 210},
    "situation": {"cpf_balance_eur": 1500},
}


def simulate(platform: Platform, situation: dict[str, Any]) -> dict[str, Any]:
    """``POST /api/v1/funding/simulate`` with what the case and `FUNDING` say together."""
    service = CORE["level2.action_plan"]["services"][0]
    from_case = ("status", "disability_recognition", "registered_jobseeker", "region")
    answer = platform.http.post(
        "/api/v1/funding/simulate",
        json={
            "training": {
                "cost_eur": FUNDING["training"]["cost_eur"],
                "hours": FUNDING["training"]["hours"],
                "kind": "certification",
                "certification_code": service["certification_code"],
                "qualiopi": service["provider_qualiopi"],
                "start_date": service["start"],
                "end_date": service["end"],
                "title": service["label"],
            },
            "situation": {
                **FUNDING["situation"],
                **{key: situation[key] for key in from_case if key in situation},
            },
        },
    )
    assert answer.status_code == 200, answer.text
    simulated: dict[str, Any] = answer.json()
    return simulated


# -- answers from a JSON Schema ----------------------------------------------------------------


def smallest(schema: dict[str, Any], defs: dict[str, Any]) -> Any:
    """The smallest value a (msgspec) JSON Schema accepts: required fields only, first
    choices, lower bounds, dates today."""
    if "$ref" in schema:
        return smallest(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
    if "anyOf" in schema:
        options = schema["anyOf"]
        if any(option.get("type") == "null" for option in options):
            return None
        return smallest(options[0], defs)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        required = schema.get("required", [])
        return {name: smallest(schema["properties"][name], defs) for name in required}
    if kind == "array":
        return [smallest(schema["items"], defs) for _ in range(schema.get("minItems", 0))]
    if kind == "string":
        if schema.get("format") == "date":
            return TODAY.isoformat()
        assert "pattern" not in schema, f"give a value for a patterned string: {schema}"
        return "Réponse".ljust(schema.get("minLength", 0), "x")[: schema.get("maxLength", 7)]
    if kind == "integer":
        return max(schema.get("minimum", 0), min(1, schema.get("maximum", 1)))
    if kind == "boolean":
        return True
    raise AssertionError(f"no smallest value for {schema}")


def answers_for(step: dict[str, Any]) -> dict[str, Any]:
    if step["id"] in CORE:
        return CORE[step["id"]]
    schema = step["input_schema"]
    value = smallest(schema, schema.get("$defs", {}))
    assert isinstance(value, dict)
    return {**value, **STEP_ANSWERS.get(step["id"], {})}


# -- fixtures ----------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Platform:
    kit: Kit
    http: TestClient[Litestar]
    clock: Clock
    clients: dict[str, CaseClient]


@pytest.fixture
def platform(database_url: str, tmp_path: Path) -> Iterator[Platform]:
    entries = ",".join(f"{op}:conseil-{op}:{token(op[:3])}" for op in OPERATORS)
    clock = Clock()
    kit = Kit(
        [apec, cap_emploi, mission_locale, pole_emploi, regional],
        settings=Settings(
            data_dir=tmp_path,
            database_url=database_url,
            api_tokens=parse_api_tokens(entries, "test"),
            # The test PostgreSQL runs with fsync=off (tests/conftest.py): REL-08 would refuse it.
            allow_non_durable_database=database_url.startswith("postgresql"),
        ),
        load_entrypoints=False,
        clock=clock,
    )
    assert kit.registry.refused == []
    kit.database.upgrade()
    with TestClient(create_app(kit)) as http:
        clients = {op: CaseClient(http, token(op[:3])) for op in OPERATORS}
        yield Platform(kit=kit, http=http, clock=clock, clients=clients)
    kit.close()


# -- the journeys ------------------------------------------------------------------------------


def ok(answer: Any, status: int = 200) -> str:
    """Check the answer's status; return its ETag."""
    assert answer.status_code == status, answer.text
    etag: str = answer.headers["etag"]
    return etag


def complete_level(client: CaseClient, case_id: str, etag: str, level: int) -> str:
    """Complete every step of the level in flow order, as a client reading the flow."""
    flow = client.request("GET", f"{CASES}/{case_id}/steps?level={level}")
    assert flow.status_code == 200, flow.text
    for step in flow.json()["steps"]:
        data = answers_for(step)
        etag = ok(client.save_step(case_id, step["id"], data, etag, complete=True))
    progress = client.request("GET", f"{CASES}/{case_id}/steps").json()["progress"]
    assert (progress["level"], progress["percent"], progress["missing"]) == (level, 100, [])
    return etag


@pytest.mark.parametrize("operator", OPERATORS)
def test_a_complete_case_through_the_api(platform: Platform, operator: str) -> None:
    client = platform.clients[operator]
    situation = SITUATIONS[operator]

    # Orientation, then a case opened from it with this operator.
    orientation = platform.http.post("/api/v1/orientation", json={**situation})
    assert operator in [o["id"] for o in orientation.json()["operators"]], orientation.text
    created = client.create(
        {
            "beneficiary": {"first_name": "Maëlle", "last_name": "Roussel"},
            "situation": situation,
            "operator": operator,
        }
    )
    etag = ok(created, 201)
    case_id = created.json()["id"]
    assert created.headers["location"] == f"{CASES}/{case_id}"

    # Intake with the operator's own form.
    form = client.request("GET", f"{CASES}/{case_id}/intake-form").json()["form"]
    assert form is not None and form["operator"] == operator
    fields = form["input_schema"]["$defs"][form["input_schema"]["$ref"].rsplit("/", 1)[-1]]
    assert set(INTAKES[operator]) <= set(fields["properties"])
    etag = ok(
        client.request(
            "PUT", f"{CASES}/{case_id}/intake", etag=etag, json={"answers": INTAKES[operator]}
        )
    )

    # Level 1: a session, the operator's steps and the core record.
    etag = ok(client.action(case_id, "start-level-1", etag))
    session = {
        "start": "2026-03-02T10:00:00+01:00",
        "channel": "presentiel",
        "duration_minutes": 90,
        "outside_working_time": True,
        "notes": "Notes du conseiller.",
    }
    etag = ok(client.request("POST", f"{CASES}/{case_id}/sessions", etag=etag, json=session), 201)
    etag = complete_level(client, case_id, etag, 1)

    # Level 2, paused and resumed half a year later (no expiry).
    etag = ok(client.action(case_id, "start-level-2", etag))
    etag = ok(client.action(case_id, "pause", etag))
    platform.clock.now = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
    resumed = client.action(case_id, "resume", etag)
    etag = ok(resumed)
    assert resumed.json()["status"] == "level_2"
    etag = complete_level(client, case_id, etag, 2)

    # The funding plan of the action plan, then the closure.
    funded = client.request("PUT", f"{CASES}/{case_id}/funding-plan", etag=etag, json=FUNDING)
    etag = ok(funded)
    plan = funded.json()["funding_plan"]
    assert plan["total_eur"] == 2400
    assert sum(line["amount_eur"] for line in plan["lines"]) + plan["remaining_eur"] == 2400
    # The case plan and the simulator agree for the same facts, whoever gives the CEP.
    simulated = simulate(platform, situation)
    for key in ("total_eur", "lines", "participation_eur", "remaining_eur", "ptp"):
        assert plan[key] == simulated[key], key
    closed = client.action(case_id, "close", etag, {"reason": "completed"})
    ok(closed)
    assert (closed.json()["status"], closed.json()["level"]) == ("closed", 2)
    assert closed.json()["sessions"][0]["notes"] == "Notes du conseiller."

    # The journal tells the whole story, in order.
    events = client.events(case_id)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert [e["at"] for e in events] == sorted(e["at"] for e in events)
    story = [(e["kind"], e["to_status"]) for e in events if e["kind"] not in {"step_completed"}]
    assert story == [
        ("opened", "opened"),
        ("intake_submitted", None),
        ("transition", "level_1"),
        ("session_recorded", None),
        ("transition", "level_2"),
        ("transition", "paused"),
        ("transition", "level_2"),
        ("funding_plan_attached", None),
        ("transition", "closed"),
    ]
    completed = [e["reason"] for e in events if e["kind"] == "step_completed"]
    assert "level1.record" in completed
    assert completed.index("level2.project") < completed.index("level2.action_plan")
    assert events[-1]["reason"] == "completed"
    assert {e["actor"] for e in events} == {f"conseil-{operator}"}

    # A closed case refuses every change, and says so in French.
    refused = problem(client.action(case_id, "resume", ok(client.get(case_id))), 409)
    assert "clôturé" in refused["detail"]


def test_a_case_referred_to_another_operator(platform: Platform) -> None:
    apec_client, regional_client = platform.clients["apec"], platform.clients["regional"]
    cadre = SITUATIONS["apec"]
    created = apec_client.create(
        {
            "beneficiary": {"first_name": "Théo", "last_name": "Garnier"},
            "situation": cadre,
            "level": 1,
        }
    )
    etag = ok(created, 201)
    case_id = created.json()["id"]
    referral = {
        "target_operator": "regional",
        "reason": "person_request",
        "note": "Préfère un conseiller près de chez lui.",
    }
    referred = apec_client.action(case_id, "refer", etag, referral)
    ok(referred)
    assert referred.json()["status"] == "referred"
    assert referred.json()["referral"]["target_operator"] == "regional"
    last = apec_client.events(case_id)[-1]
    assert (last["from_status"], last["to_status"], last["reason"]) == (
        "level_1",
        "referred",
        "person_request",
    )
    # The regional operator cannot see the Apec case; it opens its own.
    problem(regional_client.get(case_id), 404)
    theirs = regional_client.create(
        {"beneficiary": {"first_name": "Théo", "last_name": "Garnier"}, "situation": cadre}
    )
    ok(theirs, 201)
    found = regional_client.request("POST", f"{CASES}/search", json={"name": "theo garnier"})
    assert [item["id"] for item in found.json()["items"]] == [theirs.json()["id"]]
    mine = apec_client.request("POST", f"{CASES}/search", json={"name": "garnier"}).json()
    assert [(item["id"], item["status"]) for item in mine["items"]] == [(case_id, "referred")]

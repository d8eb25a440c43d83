"""The cases API over HTTP, with small fake operators: every route's happy path and errors.

- authentication first (401 whatever the body), tenant isolation (404 for another operator's
  case on every route taking a case id, lists included), read-only fields refused (400);
- optimistic concurrency: ETag on every representation, If-Match on every write (428
  without, 412 when stale, with the current ETag), two clients never overwrite each other;
- refusals in French with the right status (400, 404, 409, 412, 428) and nothing
  half-written: the case and its journal are the same before and after.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest
from cases_http import (
    ACTION_PLAN,
    CASES,
    PROJECT,
    RECORD,
    Alpha,
    Beta,
    CaseClient,
    Gamma,
    paths,
    problem,
    token,
)
from litestar import Litestar
from litestar.testing import TestClient

from cep_core import Role
from cep_core.domain.forms import unbounded_fields
from cep_core.kit import Kit
from cep_core.services.cases import (
    CaseFundingFacts,
    CaseTraining,
    FundingPlanRequest,
    NewSession,
)
from cep_core.services.funding import SituationQuery
from cep_core.settings import Settings, parse_api_tokens
from cep_core.web import create_app
from cep_core.web.api.case_actions import CaseActionsController
from cep_core.web.api.case_steps import CaseStepsController
from cep_core.web.api.cases import CaseController
from cep_core.web.case_schemas import (
    CaseCreate,
    CaseOut,
    CaseSearch,
    CloseRequest,
    CounsellorCaseOut,
    IntakeSubmission,
    ReferRequest,
    StepSave,
    case_out,
)
from cep_core.web.concurrency import candidate_versions, entity_tag

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
TOKENS = {"alpha": token("a"), "alpha-2": token("b"), "beta": token("c")}
INTAKE = {"contract": "cdi", "employer_size": 250}
SESSION = {
    "start": "2026-03-02T10:00:00+01:00",
    "channel": "visio",
    "duration_minutes": 60,
    "outside_working_time": True,
    "notes": "Très motivée ; évoque des difficultés personnelles.",
}


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    kit: Kit
    http: TestClient[Litestar]
    alpha: CaseClient  # counsellor c-alpha, operator alpha
    alpha2: CaseClient  # counsellor c-alpha-2, operator alpha
    beta: CaseClient  # counsellor c-beta, operator beta
    anonymous: CaseClient
    operators: dict[str, Any]
    clock: Clock

    def open(
        self, client: CaseClient | None = None, **changes: Any
    ) -> tuple[str, str, dict[str, Any]]:
        """Open a case (alpha's by default); return its id, ETag and body."""
        answer = (client or self.alpha).create(new_case(**changes))
        assert answer.status_code == 201, answer.text
        body: dict[str, Any] = answer.json()
        return body["id"], answer.headers["etag"], body


def new_case(first: str = "Camille", last: str = "Martin", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "beneficiary": {"first_name": first, "last_name": last},
        "situation": {"birth_date": "1988-04-12", "status": "employee", "region": "53"},
    }
    body.update(changes)
    return body


@contextmanager
def build_world(tmp_path: Path, database_url: str | None = None) -> Iterator[World]:
    operators = {"alpha": Alpha(), "beta": Beta(), "gamma": Gamma()}
    entries = ",".join(
        [
            f"alpha:c-alpha:{TOKENS['alpha']}",
            f"alpha:c-alpha-2:{TOKENS['alpha-2']}",
            f"beta:c-beta:{TOKENS['beta']}",
        ]
    )
    clock = Clock()
    settings = Settings(
        data_dir=tmp_path,
        database_url=database_url,
        api_tokens=parse_api_tokens(entries, "test"),
        # The test PostgreSQL runs with fsync=off (tests/conftest.py): REL-08 would refuse it.
        allow_non_durable_database=(database_url or "").startswith("postgresql"),
    )
    kit = Kit(list(operators.values()), settings=settings, load_entrypoints=False, clock=clock)
    kit.database.upgrade()
    try:
        with TestClient(create_app(kit)) as http:
            yield World(
                kit=kit,
                http=http,
                alpha=CaseClient(http, TOKENS["alpha"]),
                alpha2=CaseClient(http, TOKENS["alpha-2"]),
                beta=CaseClient(http, TOKENS["beta"]),
                anonymous=CaseClient(http, None),
                operators=operators,
                clock=clock,
            )
    finally:
        kit.close()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    """Fake operators on a SQLite file; the concurrency test runs on PostgreSQL too."""
    with build_world(tmp_path) as built:
        yield built


def at_level_2(world: World) -> tuple[str, str]:
    """An alpha case at level 2 with its project and completed action plan."""
    case_id, etag, _ = world.open(level=2)
    for step, data in (("level2.project", PROJECT), ("level2.action_plan", ACTION_PLAN)):
        answer = world.alpha.save_step(case_id, step, data, etag, complete=True)
        assert answer.status_code == 200, answer.text
        etag = answer.headers["etag"]
    return case_id, etag


# -- the route table ---------------------------------------------------------------------------

FUNDING = {"training": {"cost_eur": 1000, "hours": 120}, "situation": {"cpf_balance_eur": 500}}

# Every route taking a case id, with a body that is valid for it.
CASE_ROUTES: list[tuple[str, str, Any]] = [
    ("GET", "", None),
    ("GET", "/events", None),
    ("GET", "/intake-form", None),
    ("PUT", "/intake", {"answers": INTAKE}),
    ("POST", "/sessions", SESSION),
    ("GET", "/steps", None),
    ("PUT", "/steps/alpha.positioning", {"data": {"score": 5}, "complete": False}),
    ("POST", "/actions/start-level-1", None),
    ("POST", "/actions/start-level-2", None),
    ("POST", "/actions/pause", None),
    ("POST", "/actions/resume", None),
    ("POST", "/actions/close", {"reason": "abandoned"}),
    ("POST", "/actions/refer", {"target_operator": "beta", "reason": "other"}),
    ("PUT", "/funding-plan", FUNDING),
]
OTHER_ROUTES: list[tuple[str, str, Any]] = [
    ("POST", "", new_case()),
    ("GET", "", None),
    ("POST", "/search", {"name": "martin"}),
]
OUR_CONTROLLERS = {c.__name__ for c in (CaseController, CaseStepsController, CaseActionsController)}


def test_the_route_table_covers_every_case_route(world: World) -> None:
    """The matrices below are generated from this table: a new route must join it."""
    found = set()
    for route in world.http.app.routes:
        for handler in getattr(route, "route_handlers", []):
            function = getattr(handler.fn, "func", handler.fn)  # sync handlers are wrapped
            if function.__qualname__.split(".")[0] not in OUR_CONTROLLERS:
                continue
            for method in handler.http_methods - {"OPTIONS", "HEAD"}:
                found.add((method, route.path_format.replace("{step_id}", "alpha.positioning")))
    table = {(m, f"{CASES}/{{case_id}}{p}") for m, p, _ in CASE_ROUTES}
    table |= {(m, f"{CASES}{p}") for m, p, _ in OTHER_ROUTES}
    assert found == table


@pytest.mark.parametrize(("method", "path", "body"), CASE_ROUTES + OTHER_ROUTES)
@pytest.mark.parametrize("auth", ["none", "unknown"])
def test_every_route_wants_a_valid_token_before_anything_else(
    world: World, method: str, path: str, body: Any, auth: str
) -> None:
    case_id, etag, _ = world.open()
    url = f"{CASES}/{case_id}{path}" if (method, path, body) in CASE_ROUTES else f"{CASES}{path}"
    client = world.anonymous if auth == "none" else CaseClient(world.http, token("z"))
    # Even a broken body and no If-Match: authentication comes first.
    answer = client.request(method, url, content=b"{not json", etag=None)
    body_ = problem(answer, 401)
    assert answer.headers["www-authenticate"].startswith("Bearer")
    assert body_["detail"].startswith(("Authentification requise", "Jeton inconnu"))
    assert world.alpha.snapshot(case_id)[2] == etag


@pytest.mark.parametrize(("method", "path", "body"), CASE_ROUTES)
def test_another_operators_case_is_not_found_on_every_route(
    world: World, method: str, path: str, body: Any
) -> None:
    case_id, etag, _ = world.open(level=1)
    before = world.alpha.snapshot(case_id)
    answer = world.beta.request(method, f"{CASES}/{case_id}{path}", etag=etag, json=body)
    assert problem(answer, 404)["detail"] == "Dossier introuvable."
    assert world.alpha.snapshot(case_id) == before
    # Its own id and a made-up one get exactly the same answer.
    unknown = world.beta.request(method, f"{CASES}/{'0' * 32}{path}", etag=etag, json=body)
    assert problem(unknown, 404) == problem(answer, 404)


def test_lists_and_search_never_show_another_operators_cases(world: World) -> None:
    world.open(first="Alice", last="Durand")
    world.open(world.beta, first="Bruno", last="Durand")
    for client, first in ((world.alpha, "Alice"), (world.beta, "Bruno")):
        listed = client.request("GET", CASES).json()["items"]
        found = client.request("POST", f"{CASES}/search", json={"name": "durand"}).json()
        assert [item["beneficiary"]["first_name"] for item in listed] == [first]
        assert [item["beneficiary"]["first_name"] for item in found["items"]] == [first]


# -- creating ----------------------------------------------------------------------------------


def test_open_a_case(world: World) -> None:
    answer = world.alpha.create(new_case(level=1, intake=INTAKE))
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert answer.headers["location"] == f"{CASES}/{body['id']}"
    assert answer.headers["etag"] == f'"{body["id"]}-1"'
    assert (body["operator"], body["status"], body["level"], body["version"]) == (
        "alpha",
        "level_1",
        1,
        1,
    )
    assert body["counsellor_id"] == "c-alpha"  # the token's actor by default
    assert body["beneficiary"]["first_name"] == "Camille"
    # Stored as the form's Struct gives them back: defaults included.
    assert body["intake"]["answers"] == {"contract": "cdi", "employer_size": 250, "wishes": None}
    assert body["intake"]["channel"] == "counsellor"
    assert [step["id"] for step in body["steps"]] == ["alpha.positioning", "level1.record"]
    assert body["progress"] == {
        "level": 1,
        "required": 2,
        "completed": 0,
        "missing": ["alpha.positioning", "level1.record"],
        "percent": 0,
    }
    assert "start_level_2" in body["allowed_actions"]
    events = world.alpha.events(body["id"])
    assert [(e["seq"], e["kind"], e["actor"], e["to_status"]) for e in events] == [
        (1, "opened", "c-alpha", "level_1"),
        (2, "intake_submitted", "c-alpha", None),
    ]
    # Read back: the same representation, the same ETag.
    again = world.alpha.get(body["id"])
    assert again.json() == body
    assert again.headers["etag"] == answer.headers["etag"]


def test_a_case_for_another_operator_is_forbidden(world: World) -> None:
    answer = world.alpha.create(new_case(operator="beta"))
    assert "« beta »" in problem(answer, 403)["detail"]
    assert world.alpha.create(new_case(operator="alpha")).status_code == 201
    assert len(world.alpha.request("GET", CASES).json()["items"]) == 1
    assert world.beta.request("GET", CASES).json()["items"] == []


def test_an_operator_the_orientation_leaves_out_needs_force(tmp_path: Path) -> None:
    gamma = Gamma()
    kit = Kit(
        [gamma, Beta()],
        settings=Settings(
            data_dir=tmp_path, api_tokens=parse_api_tokens(f"gamma:c-g:{token('g')}", "t")
        ),
        load_entrypoints=False,
    )
    kit.database.upgrade()
    with TestClient(create_app(kit)) as http:
        client = CaseClient(http, token("g"))
        refused = problem(client.create(new_case()), 400)
        assert paths(refused) == {"operator"}
        assert "Opérateur beta" in refused["errors"][0]["message"]
        forced = client.create(new_case(force=True))
        assert forced.status_code == 201
        assert client.events(forced.json()["id"])[0]["reason"] == "forced"
        public = problem(client.create(new_case(force=True, channel="public")), 400)
        assert "force" in paths(public)
    kit.close()


def test_invalid_situation_or_intake_is_400_with_every_problem(world: World) -> None:
    body = new_case(intake={"contract": "interim", "employer_size": 0})
    answer = problem(world.alpha.create(body), 400)
    assert paths(answer) == {"intake.contract", "intake.employer_size"}
    assert "Valeurs possibles : cdd, cdi" in answer["errors"][0]["message"]
    impossible = new_case()
    impossible["situation"]["birth_date"] = "2030-01-01"
    assert paths(problem(world.alpha.create(impossible), 400)) == {"birth_date"}
    wrong_type = new_case()
    wrong_type["beneficiary"]["first_name"] = 12
    assert paths(problem(world.alpha.create(wrong_type), 400)) == {"beneficiary.first_name"}
    assert world.alpha.request("GET", CASES).json()["items"] == []


@pytest.mark.parametrize(
    "field",
    ["id", "version", "created_at", "updated_at", "status", "beneficiary_id", "operator_id"],
)
def test_read_only_fields_are_refused_when_opening(world: World, field: str) -> None:
    answer = problem(world.alpha.create({**new_case(), field: "x"}), 400)
    assert paths(answer) == {field}
    assert world.alpha.request("GET", CASES).json()["items"] == []


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "/intake", {"answers": INTAKE, "version": 9}),
        ("PUT", "/intake", {"answers": INTAKE, "operator": "beta"}),
        ("POST", "/sessions", {**SESSION, "id": "x"}),
        ("POST", "/sessions", {**SESSION, "recorded_by": "someone"}),
        ("PUT", "/steps/alpha.positioning", {"data": {"score": 5}, "completed_at": "x"}),
        ("POST", "/actions/close", {"reason": "abandoned", "status": "closed"}),
        ("POST", "/actions/refer", {"target_operator": "beta", "reason": "other", "by": "x"}),
        ("PUT", "/funding-plan", {**FUNDING, "created_at": "2026-01-01"}),
    ],
)
def test_read_only_fields_are_refused_on_writes(
    world: World, method: str, path: str, body: dict[str, Any]
) -> None:
    case_id, etag, _ = world.open(level=1)
    before = world.alpha.snapshot(case_id)
    answer = problem(
        world.alpha.request(method, f"{CASES}/{case_id}{path}", etag=etag, json=body), 400
    )
    assert answer["errors"][0]["code"] == "unknown_field"
    assert world.alpha.snapshot(case_id) == before


INPUT_STRUCTS = [
    CaseCreate,
    CaseSearch,
    IntakeSubmission,
    NewSession,
    StepSave,
    CloseRequest,
    ReferRequest,
    FundingPlanRequest,
    CaseTraining,
    CaseFundingFacts,
]


@pytest.mark.parametrize("struct", INPUT_STRUCTS, ids=lambda s: s.__name__)
def test_input_structs_are_bounded_and_strict(struct: type[msgspec.Struct]) -> None:
    assert unbounded_fields(struct) == []
    assert struct.__struct_config__.forbid_unknown_fields


def test_case_funding_facts_are_the_simulators_minus_what_the_case_holds() -> None:
    from cep_core.services.cases import FUNDING_FACTS_FROM_CASE

    simulator = set(SituationQuery.__struct_fields__)
    assert set(CaseFundingFacts.__struct_fields__) == simulator - set(FUNDING_FACTS_FROM_CASE)


def test_answers_are_bounded_json(world: World) -> None:
    case_id, etag, _ = world.open(level=1)
    too_deep = {"score": [[[[[1]]]]]}
    answer = world.alpha.save_step(case_id, "alpha.positioning", too_deep, etag, complete=False)
    problem(answer, 400)
    huge = {"comment": "x" * 10_001}
    problem(world.alpha.save_step(case_id, "alpha.positioning", huge, etag, complete=False), 400)


# -- reading -----------------------------------------------------------------------------------


def test_confidential_notes_are_for_counsellors_only(world: World) -> None:
    case_id, etag, _ = world.open(level=1)
    recorded = world.alpha.request("POST", f"{CASES}/{case_id}/sessions", etag=etag, json=SESSION)
    assert recorded.status_code == 201, recorded.text
    [session] = recorded.json()["sessions"]
    assert session["notes"] == SESSION["notes"]
    assert session["counsellor_id"] == "c-alpha"
    assert recorded.headers["etag"] == f'"{case_id}-2"'

    counsellor = world.kit.cases.view_case("alpha", case_id, role=Role.COUNSELLOR)
    as_counsellor = msgspec.to_builtins(case_out(counsellor))
    assert isinstance(case_out(counsellor), CounsellorCaseOut)
    for role in (Role.MANAGER, Role.ADMIN, Role.BENEFICIARY, Role.SYSTEM):
        view = world.kit.cases.view_case("alpha", case_id, role=role)
        out = case_out(view)
        assert type(out) is CaseOut
        plain = msgspec.to_builtins(out)
        # The allow-list: the counsellor's keys minus the notes, nothing more.
        assert set(plain) == set(as_counsellor)
        assert set(plain["sessions"][0]) == set(as_counsellor["sessions"][0]) - {"notes"}
        assert "Très motivée" not in msgspec.json.encode(out).decode()


def test_case_representation_keys_are_the_allow_list(world: World) -> None:
    _, _, body = world.open(level=1)
    assert set(body) == {
        "id", "operator", "version", "status", "level", "paused_from", "counsellor_id",
        "created_at", "updated_at", "beneficiary", "situation", "intake", "steps", "progress",
        "allowed_actions", "closure", "referral", "funding_plan", "sessions",
    }  # fmt: skip
    assert set(CaseOut.__struct_fields__) == set(body)
    assert set(CounsellorCaseOut.__struct_fields__) == set(body)


def test_unknown_case_is_404_in_french(world: World) -> None:
    for url in (f"{CASES}/{'f' * 32}", f"{CASES}/nope", f"{CASES}/{'a' * 300}"):
        assert problem(world.alpha.request("GET", url), 404)["detail"] == "Dossier introuvable."


def test_journal_in_order(world: World) -> None:
    case_id, etag, _ = world.open()
    for action in ("start-level-1", "pause", "resume"):
        answer = world.alpha.action(case_id, action, etag)
        assert answer.status_code == 200, answer.text
        etag = answer.headers["etag"]
        world.clock.now = world.clock.now.replace(hour=world.clock.now.hour + 1)
    events = world.alpha.events(case_id)
    assert [e["seq"] for e in events] == [1, 2, 3, 4]
    assert [(e["kind"], e["from_status"], e["to_status"]) for e in events] == [
        ("opened", None, "opened"),
        ("transition", "opened", "level_1"),
        ("transition", "level_1", "paused"),
        ("transition", "paused", "level_1"),
    ]
    assert [e["at"] for e in events] == sorted(e["at"] for e in events)
    assert set(events[0]) == {"seq", "at", "kind", "actor", "from_status", "to_status", "reason"}


# -- lists -------------------------------------------------------------------------------------


def test_pages_have_no_duplicates_and_no_gaps(world: World) -> None:
    ids = {world.open(first=f"Personne{i}")[0] for i in range(7)}  # one timestamp for all
    for method in ("GET", "POST"):
        seen: list[str] = []
        cursor = None
        pages = 0
        while True:
            if method == "GET":
                query = f"?limit=3&cursor={cursor}" if cursor else "?limit=3"
                page = world.alpha.request("GET", CASES + query).json()
            else:
                body = {"limit": 3, **({"cursor": cursor} if cursor else {})}
                page = world.alpha.request("POST", f"{CASES}/search", json=body).json()
            seen += [item["id"] for item in page["items"]]
            pages += 1
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert pages == 3
        assert len(seen) == len(set(seen)) == 7
        assert set(seen) == ids


def test_list_filters(world: World) -> None:
    first, _, _ = world.open(level=1)
    second, _, _ = world.open(level=2, counsellor_id="c-other")
    world.open()

    def listed(query: str) -> set[str]:
        answer = world.alpha.request("GET", f"{CASES}?{query}")
        assert answer.status_code == 200, answer.text
        return {item["id"] for item in answer.json()["items"]}

    assert listed("status=level_1") == {first}
    assert listed("level=2") == {second}
    assert listed("counsellor_id=c-other") == {second}
    assert listed("status=level_2&counsellor_id=c-alpha") == set()
    item = world.alpha.request("GET", f"{CASES}?level=1").json()["items"][0]
    assert set(item) == {
        "id", "version", "status", "level", "paused_from", "counsellor_id", "beneficiary",
        "created_at", "updated_at",
    }  # fmt: skip
    assert set(item["beneficiary"]) == {"id", "first_name", "last_name"}


@pytest.mark.parametrize(
    ("query", "path"),
    [
        ("status=archived", "status"),
        ("level=3", "level"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("cursor=%21%21", "cursor"),
        ("name=martin", "name"),
        ("email=x%40y.fr", "email"),
    ],
)
def test_bad_list_parameters_are_400(world: World, query: str, path: str) -> None:
    answer = problem(world.alpha.request("GET", f"{CASES}?{query}"), 400)
    assert path in paths(answer)
    if path == "name":
        assert "POST /api/v1/cases/search" in answer["errors"][0]["message"]


def test_search_by_name_in_the_body(world: World) -> None:
    wanted, _, _ = world.open(first="Élodie", last="Lefèvre-Gaël")
    world.open(first="Jean", last="Dupont")
    for name in ("elodie", "LEFEVRE", "gael élodie"):
        answer = world.alpha.request("POST", f"{CASES}/search", json={"name": name})
        assert answer.status_code == 200, answer.text
        assert [item["id"] for item in answer.json()["items"]] == [wanted]
    empty = problem(world.alpha.request("POST", f"{CASES}/search", json={"name": "--"}), 400)
    assert paths(empty) == {"name"}


# -- intake ------------------------------------------------------------------------------------


def test_intake_form_describes_the_operators_fields(world: World) -> None:
    case_id, _, _ = world.open()
    answer = world.alpha.request("GET", f"{CASES}/{case_id}/intake-form?channel=public")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["channel"] == "public"
    form = body["form"]
    assert (form["operator"], form["title"], form["help"]) == (
        "alpha",
        "Accueil alpha",
        "Le contrat.",
    )
    schema = form["input_schema"]
    struct = schema["$defs"][schema["$ref"].rsplit("/", 1)[-1]]
    assert set(struct["required"]) == {"contract", "employer_size"}
    size = struct["properties"]["employer_size"]
    assert (size["title"], size["minimum"], size["maximum"]) == ("Effectif", 1, 1_000_000)
    # An operator without a form of its own: "form" is null.
    other, _, _ = world.open(world.beta)
    assert world.beta.request("GET", f"{CASES}/{other}/intake-form").json() == {
        "channel": "counsellor",
        "form": None,
    }
    problem(world.alpha.request("GET", f"{CASES}/{case_id}/intake-form?channel=fax"), 400)


def test_submit_intake(world: World) -> None:
    case_id, etag, _ = world.open()
    url = f"{CASES}/{case_id}/intake"
    before = world.alpha.snapshot(case_id)
    bad = {"answers": {"contract": "cdd", "employer_size": 10}}
    refused = problem(world.alpha.request("PUT", url, etag=etag, json=bad), 400)
    assert refused["errors"] == [
        {"path": "wishes", "message": "Pour un CDD, précisez les souhaits.", "code": "invalid"}
    ]
    assert world.alpha.snapshot(case_id) == before
    answer = world.alpha.request("PUT", url, etag=etag, json={"answers": INTAKE})
    assert answer.status_code == 200, answer.text
    assert answer.json()["intake"]["answers"] == {**INTAKE, "wishes": None}
    assert answer.headers["etag"] == f'"{case_id}-2"'
    assert world.alpha.events(case_id)[-1]["kind"] == "intake_submitted"


# -- sessions ----------------------------------------------------------------------------------


def test_session_of_an_employee_says_whether_outside_working_time(world: World) -> None:
    case_id, etag, _ = world.open()
    before = world.alpha.snapshot(case_id)
    body = {k: v for k, v in SESSION.items() if k != "outside_working_time"}
    url = f"{CASES}/{case_id}/sessions"
    refused = problem(world.alpha.request("POST", url, etag=etag, json=body), 400)
    assert paths(refused) == {"outside_working_time"}
    assert "temps de travail" in refused["errors"][0]["message"]
    problem(
        world.alpha.request("POST", url, etag=etag, json={**SESSION, "duration_minutes": 0}), 400
    )
    problem(
        world.alpha.request(
            "POST", url, etag=etag, json={**SESSION, "start": "2026-03-02T10:00:00"}
        ),
        400,
    )
    assert world.alpha.snapshot(case_id) == before


# -- steps -------------------------------------------------------------------------------------


def test_steps_of_a_level_with_schemas_and_progress(world: World) -> None:
    case_id, etag, _ = world.open(level=1)
    answer = world.alpha.request("GET", f"{CASES}/{case_id}/steps")
    assert answer.status_code == 200, answer.text
    assert answer.headers["etag"] == etag
    body = answer.json()
    assert (body["case_id"], body["version"], body["level"]) == (case_id, 1, 1)
    assert [s["id"] for s in body["steps"]] == ["alpha.positioning", "level1.record"]
    record = body["steps"][1]
    assert record["status"] == "not_started"
    assert record["title"] == "Compte rendu du niveau 1"
    defs = record["input_schema"]["$defs"]
    assert "continues" in defs["Level1Record"]["properties"]
    assert body["progress"]["missing"] == ["alpha.positioning", "level1.record"]
    level_2 = world.alpha.request("GET", f"{CASES}/{case_id}/steps?level=2").json()
    assert [s["id"] for s in level_2["steps"]] == [
        "level2.project",
        "level2.action_plan",
        "alpha.follow_up",
    ]
    assert level_2["steps"][1]["blocked_by"] == ["level2.project"]
    # No level yet: no steps.
    opened, _, _ = world.open()
    empty = world.alpha.request("GET", f"{CASES}/{opened}/steps").json()
    assert (empty["level"], empty["steps"], empty["progress"]) == (None, [], None)


def test_a_draft_is_kept_and_says_what_is_missing(world: World) -> None:
    case_id, etag, _ = world.open(level=1)
    draft = {"request": "Changer de métier.", "continues": "peut-être"}
    answer = world.alpha.save_step(case_id, "level1.record", draft, etag, complete=False)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["step"]["status"] == "draft"
    assert body["step"]["data"] == draft
    assert {"clarified_need", "continues", "information_given", "shared_review"} <= {
        issue["path"] for issue in body["issues"]
    }
    assert body["version"] == 2
    assert answer.headers["etag"] == f'"{case_id}-2"'


def test_completing_a_step_checks_everything_and_writes_nothing_when_wrong(world: World) -> None:
    case_id, etag, _ = world.open(level=1)
    before = world.alpha.snapshot(case_id)
    wrong = {**RECORD, "information_given": []}
    answer = world.alpha.save_step(case_id, "level1.record", wrong, etag, complete=True)
    assert paths(problem(answer, 400)) == {"information_given"}
    veto = world.alpha.save_step(case_id, "alpha.positioning", {"score": 0}, etag, complete=True)
    assert problem(veto, 400)["errors"][0]["message"] == "Un positionnement nul n'est pas accepté."
    assert world.alpha.snapshot(case_id) == before
    done = world.alpha.save_step(case_id, "level1.record", RECORD, etag, complete=True)
    assert done.status_code == 200, done.text
    assert done.json()["step"]["status"] == "completed"
    assert done.json()["issues"] == []
    assert world.alpha.events(case_id)[-1]["kind"] == "step_completed"
    assert world.alpha.events(case_id)[-1]["reason"] == "level1.record"


def test_unknown_step_is_404_and_a_step_of_the_other_level_is_409(world: World) -> None:
    case_id, etag, _ = world.open(level=1)
    before = world.alpha.snapshot(case_id)
    unknown = world.alpha.save_step(case_id, "alpha.nothing", {}, etag, complete=False)
    assert "alpha.nothing" in problem(unknown, 404)["detail"]
    other = world.alpha.save_step(case_id, "level2.project", PROJECT, etag, complete=True)
    assert "niveau 2" in problem(other, 409)["errors"][0]["message"]
    no_level, no_level_etag, _ = world.open()
    refused = world.alpha.save_step(no_level, "level1.record", RECORD, no_level_etag, complete=True)
    assert "Démarrez d'abord" in problem(refused, 409)["errors"][0]["message"]
    assert world.alpha.snapshot(case_id) == before


def test_a_failing_plugin_is_503_in_french(world: World) -> None:
    case_id, _, _ = world.open(level=1)
    world.operators["alpha"].broken_steps = True
    answer = problem(world.alpha.request("GET", f"{CASES}/{case_id}/steps"), 503)
    assert "« alpha »" in answer["detail"]
    assert "panne" not in answer["detail"]  # no internal detail leaks


# -- transitions -------------------------------------------------------------------------------


def test_forbidden_transitions_are_409_in_french_and_write_nothing(world: World) -> None:
    case_id, etag, _ = world.open(level=1)
    before = world.alpha.snapshot(case_id)
    cases = [
        ("start-level-1", None, "status", "déjà en cours"),
        ("start-level-2", None, "steps.level1.record", "compte rendu du niveau 1"),
        ("resume", None, "status", "pas en pause"),
        ("close", {"reason": "completed"}, "steps.alpha.positioning", "Positionnement"),
    ]
    for action, body, path, words in cases:
        answer = problem(world.alpha.action(case_id, action, etag, body), 409)
        assert path in paths(answer), answer
        assert words in " ".join(e["message"] for e in answer["errors"])
        assert answer["title"] == "Conflit"
    assert world.alpha.snapshot(case_id) == before


def test_a_plugin_veto_is_409(world: World) -> None:
    from cep_core import Issue

    case_id, etag, _ = world.open(level=1)
    world.operators["alpha"].veto = [Issue(path="status", message="Pause refusée par alpha.")]
    answer = problem(world.alpha.action(case_id, "pause", etag), 409)
    assert answer["errors"][0]["message"] == "Pause refusée par alpha."


@pytest.mark.parametrize(
    ("action", "body", "path"),
    [
        ("close", {}, "reason"),
        ("close", {"reason": "bored"}, "reason"),
        ("close", {"reason": "other", "note": ""}, "note"),
        ("refer", {"target_operator": "ghost", "reason": "other"}, "target_operator"),
        ("refer", {"target_operator": "alpha", "reason": "other"}, "target_operator"),
        ("refer", {"reason": "other"}, "target_operator"),
        ("refer", {"target_operator": "beta", "reason": "why"}, "reason"),
    ],
)
def test_bad_close_and_referral_bodies_are_400(
    world: World, action: str, body: dict[str, Any], path: str
) -> None:
    case_id, etag, _ = world.open(level=1)
    before = world.alpha.snapshot(case_id)
    answer = problem(world.alpha.action(case_id, action, etag, body), 400)
    assert path in paths(answer)
    assert world.alpha.snapshot(case_id) == before


def test_pause_resume_close_and_nothing_after(world: World) -> None:
    case_id, etag, _ = world.open(level=1)
    paused = world.alpha.action(case_id, "pause", etag)
    assert (paused.json()["status"], paused.json()["paused_from"]) == ("paused", "level_1")
    assert paused.json()["allowed_actions"] == ["resume"]
    resumed = world.alpha.action(case_id, "resume", paused.headers["etag"])
    assert resumed.json()["status"] == "level_1"
    closed = world.alpha.action(
        case_id,
        "close",
        resumed.headers["etag"],
        {"reason": "unreachable", "note": "Trois appels."},
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["closure"]["reason"] == "unreachable"
    assert closed.json()["closure"]["note"] == "Trois appels."
    assert closed.json()["allowed_actions"] == []
    etag = closed.headers["etag"]
    before = world.alpha.snapshot(case_id)
    for action in ("resume", "start-level-2", "pause"):
        problem(world.alpha.action(case_id, action, etag), 409)
    problem(
        world.alpha.request("POST", f"{CASES}/{case_id}/sessions", etag=etag, json=SESSION), 409
    )
    problem(world.alpha.save_step(case_id, "level1.record", RECORD, etag, complete=False), 409)
    assert world.alpha.snapshot(case_id) == before


def test_referral(world: World) -> None:
    case_id, etag, _ = world.open(level=1)
    body = {"target_operator": "beta", "reason": "better_suited", "note": "Plus proche."}
    answer = world.alpha.action(case_id, "refer", etag, body)
    assert answer.status_code == 200, answer.text
    referred = answer.json()
    assert referred["status"] == "referred"
    assert referred["referral"]["target_operator"] == "beta"
    assert referred["steps"][1]["data"]["referral"]["operator"] == "beta"
    last = world.alpha.events(case_id)[-1]
    assert (last["from_status"], last["to_status"], last["reason"]) == (
        "level_1",
        "referred",
        "better_suited",
    )
    # The case stays alpha's: beta opens its own.
    problem(world.beta.get(case_id), 404)


# -- concurrency -------------------------------------------------------------------------------


def test_writes_need_if_match(world: World) -> None:
    case_id, _, _ = world.open(level=1)
    before = world.alpha.snapshot(case_id)
    for method, path, body in CASE_ROUTES:
        if method == "GET":
            continue
        url = f"{CASES}/{case_id}{path}"
        missing = problem(world.alpha.request(method, url, json=body), 428)
        assert missing["title"] == "Précondition requise"
        assert "If-Match" in missing["detail"]
        star = problem(world.alpha.request(method, url, etag="*", json=body), 428)
        assert "If-Match: *" in star["detail"]
    assert world.alpha.snapshot(case_id) == before


def test_stale_weak_foreign_or_malformed_tags(world: World) -> None:
    case_id, etag, _ = world.open(level=1)
    other_id, other_etag, _ = world.open()
    moved = world.alpha.action(case_id, "pause", etag)
    current = moved.headers["etag"]
    before = world.alpha.snapshot(case_id)
    for sent in (etag, f"W/{current}", other_etag, f'"{case_id}-99"', '"3"'):
        answer = world.alpha.action(case_id, "resume", sent)
        body = problem(answer, 412)
        assert body["title"] == "Précondition échouée"
        assert body["detail"].startswith("Ce dossier a été modifié")
        assert answer.headers["etag"] == current  # what to reload
    for sent in ("abc", f"{current}, junk", '"unterminated'):
        assert paths(problem(world.alpha.action(case_id, "resume", sent), 400)) == {"If-Match"}
    assert world.alpha.snapshot(case_id) == before
    # A list naming the current version matches (RFC 9110).
    answer = world.alpha.action(case_id, "resume", f"{etag}, {current}")
    assert answer.status_code == 200, answer.text
    assert other_id != case_id


def test_two_counsellors_never_overwrite_each_other(world: World) -> None:
    case_id, _, _ = world.open(level=1)
    first_read = world.alpha.get(case_id).headers["etag"]
    second_read = world.alpha2.get(case_id).headers["etag"]
    assert first_read == second_read
    mine = {"score": 7, "comment": "Lecture du premier conseiller."}
    theirs = {"score": 3, "comment": "Lecture du second conseiller."}
    won = world.alpha.save_step(case_id, "alpha.positioning", mine, first_read, complete=True)
    assert won.status_code == 200, won.text
    lost = world.alpha2.save_step(case_id, "alpha.positioning", theirs, second_read, complete=True)
    assert problem(lost, 412)
    assert lost.headers["etag"] == won.headers["etag"]
    saved = world.alpha.get(case_id).json()["steps"][0]
    assert saved["data"] == mine
    # The second counsellor reloads, and may now write over it knowingly.
    retried = world.alpha2.save_step(
        case_id, "alpha.positioning", theirs, lost.headers["etag"], complete=True
    )
    assert retried.status_code == 200, retried.text
    events = world.alpha.events(case_id)
    assert [(e["kind"], e["actor"]) for e in events[-2:]] == [
        ("step_completed", "c-alpha"),
        ("step_completed", "c-alpha-2"),
    ]


def test_concurrent_writes_with_one_version_exactly_one_wins(
    database_url: str, tmp_path: Path
) -> None:
    """Six clients send the same If-Match at once: one write, five 412, nothing lost."""
    with build_world(tmp_path, database_url) as world:
        case_id, etag, _ = world.open(level=1)
        statuses: list[int] = []
        lock = threading.Lock()
        barrier = threading.Barrier(6)

        def write(score: int) -> None:
            barrier.wait()
            answer = world.alpha.save_step(
                case_id, "alpha.positioning", {"score": score}, etag, complete=False
            )
            with lock:
                statuses.append(answer.status_code)

        threads = [threading.Thread(target=write, args=(n + 1,)) for n in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(statuses) == [200, 412, 412, 412, 412, 412]
        case, events, _ = world.alpha.snapshot(case_id)
        assert case["version"] == 2
        assert [e["kind"] for e in events] == ["opened", "step_draft_saved"]


def test_if_match_parsing() -> None:
    case_id = "c" * 32
    tag = entity_tag(case_id, 12)
    assert tag == f'"{case_id}-12"'
    assert candidate_versions(tag, case_id) == (12,)
    assert candidate_versions(f' W/"{case_id}-3", {tag} ,"x-4"', case_id) == (12,)
    assert candidate_versions(f'"{"d" * 32}-12"', case_id) == ()
    assert candidate_versions(f'"{case_id}-0"', case_id) == ()


# -- funding plan ------------------------------------------------------------------------------


def test_funding_plan_needs_a_completed_action_plan(world: World) -> None:
    case_id, etag, _ = world.open(level=2)
    url = f"{CASES}/{case_id}/funding-plan"
    before = world.alpha.snapshot(case_id)
    answer = problem(world.alpha.request("PUT", url, etag=etag, json=FUNDING), 409)
    assert paths(answer) == {"steps.level2.action_plan"}
    assert world.alpha.snapshot(case_id) == before


def test_funding_plan_has_the_simulators_figures(world: World) -> None:
    case_id, etag = at_level_2(world)
    request = {
        "training": {"cost_eur": 1234.5, "hours": 120},
        "situation": {"cpf_balance_eur": 500, "contract": "cdi", "months_salaried_total": 60},
    }
    answer = world.alpha.request("PUT", f"{CASES}/{case_id}/funding-plan", etag=etag, json=request)
    assert answer.status_code == 200, answer.text
    plan = answer.json()["funding_plan"]
    service = ACTION_PLAN["services"][0]
    simulated = world.http.post(
        "/api/v1/funding/simulate",
        json={
            "training": {
                "cost_eur": 1234.5,
                "hours": 120,
                "kind": "certification",
                "certification_code": service["certification_code"],
                "qualiopi": True,
                "start_date": service["start"],
                "end_date": service["end"],
                "title": service["label"],
            },
            "situation": {
                "status": "employee",
                "region": "53",
                "cpf_balance_eur": 500,
                "contract": "cdi",
                "months_salaried_total": 60,
            },
        },
    )
    assert simulated.status_code == 200, simulated.text
    expected = simulated.json()
    for key in (
        "total_eur",
        "lines",
        "participation_eur",
        "participation_payer",
        "remaining_eur",
        "ptp",
        "funded_eur",
    ):
        assert plan[key] == expected[key], key
    assert plan["lines"][0]["funder"] == "cpf"
    assert plan["lines"][0]["amount_eur"] == 500
    last = world.alpha.events(case_id)[-1]
    assert (last["kind"], last["reason"]) == ("funding_plan_attached", "certification")


def test_a_plan_the_checks_refuse_is_not_stored(world: World) -> None:
    from cep_core import Issue

    case_id, etag = at_level_2(world)
    before = world.alpha.snapshot(case_id)
    url = f"{CASES}/{case_id}/funding-plan"
    world.operators["alpha"].plan_problems = [
        Issue(path="remaining", code="too_high", message="Reste à charge trop élevé pour alpha.")
    ]
    refused = problem(world.alpha.request("PUT", url, etag=etag, json=FUNDING), 400)
    assert refused["errors"] == [
        {
            "path": "funding_plan.remaining",
            "message": "Reste à charge trop élevé pour alpha.",
            "code": "too_high",
        }
    ]
    world.operators["alpha"].plan_problems = []
    out_of_range = {**FUNDING, "training": {"service": 3, "cost_eur": 100}}
    assert paths(problem(world.alpha.request("PUT", url, etag=etag, json=out_of_range), 400)) == {
        "training.service"
    }
    negative = {"training": {"cost_eur": -1}}
    assert paths(problem(world.alpha.request("PUT", url, etag=etag, json=negative), 400)) == {
        "training.cost_eur"
    }
    assert world.alpha.snapshot(case_id) == before


# -- OpenAPI -----------------------------------------------------------------------------------


def test_case_operations_are_documented(world: World) -> None:
    doc = world.http.get("/schema/openapi.json").json()
    assert doc["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": doc["components"]["securitySchemes"]["bearer"]["description"],
    }
    table = {(m.lower(), f"{CASES}/{{case_id}}{p}") for m, p, _ in CASE_ROUTES}
    table |= {(m.lower(), f"{CASES}{p}") for m, p, _ in OTHER_ROUTES}
    table = {(m, p.replace("alpha.positioning", "{step_id}")) for m, p in table}
    operations = [
        (path, method, operation)
        for path, item in doc["paths"].items()
        for method, operation in item.items()
        if (method, path) in table
    ]
    assert len(operations) == len(table)
    ids = set()
    for path, method, operation in operations:
        where = f"{method.upper()} {path}"
        ids.add(operation["operationId"])
        assert operation["summary"] and operation["description"], where
        assert operation["security"] == [{"bearer": []}], where
        assert operation["tags"] == ["Dossiers"], where
        responses = operation["responses"]
        assert {"401", "500", "503"} <= set(responses), where
        for status, response in responses.items():
            if status.startswith(("4", "5")) and status != "400":
                assert list(response["content"]) == ["application/problem+json"], where
        headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
        if "{case_id}" in path:
            assert "404" in responses, where
        if method in {"put", "post"} and "{case_id}" in path:
            assert headers - {"Idempotency-Key"} == {"If-Match"}, where  # REL-10: creations
            assert {"409", "412", "428"} <= set(responses), where
            success = next(s for s in responses if s.startswith("2"))
            assert "ETag" in responses[success]["headers"], where
            assert "412" in responses and "ETag courant" in responses["412"]["description"]
    assert len(ids) == len(operations)  # unique operation ids
    create = doc["paths"][CASES]["post"]
    assert set(create["responses"]["201"]["headers"]) == {"ETag", "Location"}
    assert {"403", "400"} <= set(create["responses"])


def test_request_examples_are_valid_requests(world: World) -> None:
    from cep_core.services.cases import FundingPlanRequest as Funding

    doc = world.http.get("/schema/openapi.json").json()
    models = {
        (CASES, "post"): CaseCreate,
        (f"{CASES}/search", "post"): CaseSearch,
        (f"{CASES}/{{case_id}}/sessions", "post"): NewSession,
        (f"{CASES}/{{case_id}}/steps/{{step_id}}", "put"): StepSave,
        (f"{CASES}/{{case_id}}/actions/close", "post"): CloseRequest,
        (f"{CASES}/{{case_id}}/actions/refer", "post"): ReferRequest,
        (f"{CASES}/{{case_id}}/funding-plan", "put"): Funding,
    }
    for (path, method), model in models.items():
        schema = doc["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
        assert schema["examples"], path
        for example in schema["examples"]:
            msgspec.convert(example, model, strict=False)


def test_funding_plan_errors_point_at_the_case_or_the_request(world: World) -> None:
    case_id, etag = at_level_2(world)
    url = f"{CASES}/{case_id}/funding-plan"
    before = world.alpha.snapshot(case_id)
    # The action plan's service starts before this purchase date: the action plan is named.
    late = {**FUNDING, "purchase_date": "2026-12-01"}
    answer = problem(world.alpha.request("PUT", url, etag=etag, json=late), 400)
    assert paths(answer) == {"steps.level2.action_plan.services[0].start"}
    payer = {**FUNDING, "participation_payer": "training_body"}
    assert paths(problem(world.alpha.request("PUT", url, etag=etag, json=payer), 400)) == {
        "participation_payer"
    }
    assert world.alpha.snapshot(case_id) == before
    closed = world.alpha.action(case_id, "close", etag, {"reason": "abandoned"})
    refused = problem(
        world.alpha.request("PUT", url, etag=closed.headers["etag"], json=FUNDING), 409
    )
    assert "clôturé" in refused["errors"][0]["message"]


# -- no personal data in URLs, junk never breaks the API ----------------------------------------

# Query parameters of the case routes: opaque ids and enumerations only (SEC-11).
QUERY_PARAMETERS = {"counsellor_id", "cursor", "limit", "status", "level", "channel"}


def test_urls_carry_no_personal_data(world: World) -> None:
    """Route lint: path parameters are opaque ids, query parameters known ids or choices."""
    doc = world.http.get("/schema/openapi.json").json()
    for path, item in doc["paths"].items():
        if not path.startswith(CASES):
            continue
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                where = (path, parameter["name"])
                if parameter["in"] == "path":
                    assert parameter["name"].endswith("_id"), where
                elif parameter["in"] == "query":
                    assert parameter["name"] in QUERY_PARAMETERS, where


def test_random_bodies_never_break_the_api(world: World) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    case_id, _, _ = world.open(level=1)
    scalars = (
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(max_size=20)
    )
    values = st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
        ),
        max_leaves=10,
    )
    fields = st.sampled_from(
        ["beneficiary", "situation", "level", "intake", "data", "complete", "answers", "reason"]
    )
    bodies = values | st.dictionaries(fields, values, max_size=4)

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(body=bodies, target=st.sampled_from(["create", "step", "intake", "close", "search"]))
    def send(body: Any, target: str) -> None:
        etag = world.alpha.get(case_id).headers["etag"]
        route = {
            "create": ("POST", CASES),
            "step": ("PUT", f"{CASES}/{case_id}/steps/alpha.positioning"),
            "intake": ("PUT", f"{CASES}/{case_id}/intake"),
            "close": ("POST", f"{CASES}/{case_id}/actions/close"),
            "search": ("POST", f"{CASES}/search"),
        }
        method, url = route[target]
        answer = world.alpha.request(method, url, etag=etag, json=body)
        assert answer.status_code in {200, 201, 400, 409}, answer.text
        if answer.status_code >= 400:
            problem(answer, answer.status_code)

    send()

"""Every route that touches beneficiary data writes exactly one audit event (SEC-12).

The route table is read from the app itself: a route added later under cases, syntheses,
requests or download links fails here until it declares its audit action (`audited`) or why
it needs none (`audit_exempt`). Then each audited route, API and pages, is driven once and
the journal must have grown by exactly one event with the right action, actor, operator,
record and outcome, and no personal value of the case in it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from pages import BASE_URL, csrf_from, make_staff, page_client, page_kit, sign_in
from sqlalchemy import select

from cep_core.domain.accounts import StaffUser
from cep_core.domain.case import Level
from cep_core.domain.situation import Situation, Status
from cep_core.kit import Kit
from cep_core.services.cases import NewBeneficiary
from cep_core.storage.syntheses import SynthesisRepository
from cep_core.storage.tables import audit_events
from cep_core.web.app import create_app
from cep_core.web.audit import AuditExempt, AuditSpec, outcome_of

# The areas where every route must say what it journals (pages and API alike).
AUDITED_AREAS = (
    "/api/v1/cases",
    "/api/v1/requests",
    "/api/v1/audit",
    "/espace/dossiers",
    "/espace/demandes",
    "/espace/journal",
    "/telechargement",
    "/demande-envoyee",
)
# Public routes that create beneficiary data outside those areas.
AUDITED_ROUTES = {("POST", "/demander-un-rendez-vous"), ("GET", "/espace")}
PLACEHOLDER = re.compile(r"\{([a-z_]+)(?::[a-z]+)?\}")
UNKNOWN_ID = "0190f0c0a0b07c0d8e0f101112131415"
PERSONAL = ("Maëlle", "Roussel", "maelle.roussel", "1986-07-14", "Brest")


@dataclass
class World:
    kit: Kit
    app: Litestar
    counsellor: StaffUser
    manager: StaffUser
    case_id: str
    synthesis_id: str
    request_id: str
    link_secret: str
    link_id: str


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    kit = page_kit(tmp_path)
    counsellor = make_staff(kit, operator="apec", role="counsellor")
    manager = make_staff(kit, operator="apec", role="manager", name="Paul Durand")
    case = kit.cases.open_case(
        "apec",
        NewBeneficiary(first_name="Maëlle", last_name="Roussel", email="maelle.roussel@ex.fr"),
        Situation(
            birth_date=date(1986, 7, 14),
            as_of=kit.today(),
            status=Status.EMPLOYEE,
            cadre=True,
            region="53",
        ),
        level=Level.ONE,
        counsellor_id=counsellor.id,
        actor=counsellor.id,
        force=True,
    )
    with kit.database.write() as conn:
        synthesis = SynthesisRepository(conn, "apec").add(
            case_id=case.id,
            level=Level.ONE,
            content_hash="0" * 64,
            created_at=kit.clock(),
            author=counsellor.id,
            pdf=b"%PDF-1.7 test",
        )
        secret = kit.download_links.create(
            conn,
            operator="apec",
            case_id=case.id,
            synthesis_id=synthesis.id,
            ttl=timedelta(days=1),
        )
    request = kit.requests.submit(
        kit.requests.parse_submission(
            {
                "operator": "apec",
                "situation": {"status": "employee", "age": 41, "cadre": True, "region": "53"},
                "first_name": "Maëlle",
                "last_name": "Roussel",
                "email": "maelle.roussel@ex.fr",
                "preferred_channel": "visio",
                "consent": True,
            }
        )
    )
    grant = kit.download_links.peek(secret)
    assert grant is not None
    with kit.database.read() as conn:
        from cep_core.storage.tables import download_links

        link_id = conn.execute(select(download_links.c.id)).scalar_one()
    app = create_app(kit)
    yield World(
        kit=kit,
        app=app,
        counsellor=counsellor,
        manager=manager,
        case_id=case.id,
        synthesis_id=synthesis.id,
        request_id=request.id,
        link_secret=secret,
        link_id=link_id,
    )
    kit.close()


def route_table(app: Litestar) -> list[tuple[str, str, Any]]:
    found = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            for method in sorted(getattr(handler, "http_methods", ())):
                if method not in {"HEAD", "OPTIONS"}:
                    found.append((method, route.path, handler))
    return sorted(found, key=lambda item: (item[1], item[0]))


def in_scope(method: str, path: str) -> bool:
    return path.startswith(AUDITED_AREAS) or (method, path) in AUDITED_ROUTES


def test_every_route_on_beneficiary_data_declares_its_audit(tmp_path: Path) -> None:
    kit = page_kit(tmp_path)
    app = create_app(kit)
    kit.close()
    missing: list[str] = []
    declared = 0
    for method, path, handler in route_table(app):
        declaration = handler.opt.get("audit")
        if in_scope(method, path):
            if not isinstance(declaration, AuditSpec | AuditExempt):
                missing.append(f"{method} {path} ({handler.handler_name})")
            declared += 1
        elif isinstance(declaration, AuditSpec):
            declared += 1
    assert not missing, (
        "Routes on beneficiary data without @audited(...) or @audit_exempt(...):\n"
        + "\n".join(missing)
    )
    assert declared >= 55


def events(kit: Kit) -> list[dict[str, Any]]:
    kit.audit.flush()
    with kit.database.read() as conn:
        rows = conn.execute(select(audit_events).order_by(audit_events.c.id)).mappings()
        return [dict(row) for row in rows]


def test_each_audited_route_writes_exactly_one_event(world: World) -> None:
    kit = world.kit
    token, _ = kit.accounts.create_token(world.counsellor, name="essai")
    manager_token, _ = kit.accounts.create_token(world.manager, name="essai")
    values = {
        "case_id": world.case_id,
        "synthesis_id": world.synthesis_id,
        "request_id": world.request_id,
        "step_id": "level1.record",
        "level": "1",
        "action": "pause",
        "job_id": UNKNOWN_ID,
        "secret": world.link_secret,
    }

    def concrete(path: str) -> str:
        return PLACEHOLDER.sub(lambda m: values[m.group(1)], path)

    staff = page_client(world.app)
    sign_in(staff, world.counsellor)
    boss = page_client(world.app)
    sign_in(boss, world.manager)
    public = page_client(world.app)
    csrf = {
        id(staff): csrf_from(staff.get("/espace/jetons").text),
        id(boss): csrf_from(boss.get("/espace/jetons").text),
        id(public): csrf_from(public.get("/demander-un-rendez-vous").text),
    }
    api = TestClient(world.app, base_url=BASE_URL)
    failures: list[str] = []
    driven = 0
    statuses: list[int] = []
    routes = [
        (method, path, handler.opt["audit"])
        for method, path, handler in route_table(world.app)
        if isinstance(handler.opt.get("audit"), AuditSpec)
    ]
    # The single-use link and the public creation last: nothing else depends on them.
    routes.sort(key=lambda r: r[1].startswith(("/telechargement", "/demander")))
    for method, path, spec in routes:
        before = len(events(kit))
        url = concrete(path)
        actor = world.counsellor.id
        if path.startswith("/api/"):
            manager_only = path.startswith("/api/v1/audit")
            actor = world.manager.id if manager_only else actor
            bearer = manager_token if manager_only else token
            body: dict[str, Any] | None = None
            if method == "POST" and path == "/api/v1/cases":
                body = {
                    "beneficiary": {"first_name": "Maëlle", "last_name": "Roussel"},
                    "situation": {"birth_date": "1986-07-14", "status": "employee"},
                    "level": 1,
                    "force": True,
                }
            response = api.request(
                method,
                url,
                json=body if body is not None else ({} if method != "GET" else None),
                headers={"authorization": f"Bearer {bearer}"},
            )
        else:
            client = staff
            if path.startswith("/espace/journal"):
                client, actor = boss, world.manager.id
            elif path.startswith(("/telechargement", "/demander")):
                client = public
            data: dict[str, Any] = {"_csrf": csrf[id(client)]}
            if path == "/demander-un-rendez-vous":
                data |= {
                    "etape": "envoi",
                    "operator": "apec",
                    "status": "employee",
                    "age": "41",
                    "cadre": "oui",
                    "region": "53",
                    "first_name": "Maëlle",
                    "last_name": "Roussel",
                    "email": "maelle.roussel@ex.fr",
                    "preferred_channel": "visio",
                    "consent": "oui",
                }
            if method == "GET":
                response = client.get(url, follow_redirects=False)
            else:
                response = client.request(method, url, data=data, follow_redirects=False)
        driven += 1
        statuses.append(response.status_code)
        new = events(kit)[before:]
        where = f"{method} {path} -> {response.status_code}"
        if len(new) != 1:
            failures.append(f"{where}: {len(new)} events {[e['action'] for e in new]}")
            continue
        [event] = new
        param = spec.param or ""
        expected_record = values[param] if param and "{" + param in path else None
        if path == "/demander-un-rendez-vous":
            actor, expected_record = "anonymous", event["record_id"]
            assert event["record_id"] not in (None, world.request_id)
        elif path.startswith("/telechargement"):
            actor, expected_record = f"lien:{world.link_id}", world.case_id
        elif spec.action == "case.create" and response.status_code == 201:
            expected_record = response.headers["location"].rsplit("/", 1)[-1]
        expected = {
            "action": spec.action,
            "record_type": spec.record_type,
            "actor": actor,
            "operator": "apec",
            "record_id": expected_record,
            "outcome": outcome_of(response.status_code),
        }
        got = {key: event[key] for key in expected}
        if got != expected:
            failures.append(f"{where}: {got} != {expected}")
    assert driven == len(routes) >= 50
    # Real accesses, and refusals too: both are journaled.
    assert sum(status < 400 for status in statuses) >= 25
    assert {400, 404, 409, 428} <= set(statuses)
    assert not failures, "\n".join(failures)
    stored = repr(events(kit))
    assert not [value for value in PERSONAL if value in stored]
    # The creation through the API named the case it created; the download named its case.
    assert any(e["action"] == "case.create" and e["record_id"] for e in events(kit))


def test_a_wrong_bearer_token_is_journaled_and_an_anonymous_visit_is_not(world: World) -> None:
    api = TestClient(world.app, base_url=BASE_URL)
    before = len(events(world.kit))
    assert api.get(f"/api/v1/cases/{world.case_id}").status_code == 401
    assert len(events(world.kit)) == before
    wrong = api.get(
        f"/api/v1/cases/{world.case_id}", headers={"authorization": "Bearer cep_pas-un-jeton"}
    )
    assert wrong.status_code == 401
    [event] = events(world.kit)[before:]
    assert (event["action"], event["actor"], event["outcome"]) == (
        "auth.token",
        "anonymous",
        "denied",
    )
    visitor = page_client(world.app)
    answer = visitor.get(f"/espace/dossiers/{world.case_id}", follow_redirects=False)
    assert answer.status_code == 303
    assert len(events(world.kit)) == before + 1


def test_a_replayed_creation_is_journaled_with_the_case_it_created(world: World) -> None:
    token, _ = world.kit.accounts.create_token(world.counsellor, name="essai")
    api = TestClient(world.app, base_url=BASE_URL)
    body = {
        "beneficiary": {"first_name": "Anne", "last_name": "Dupont"},
        "situation": {"birth_date": "1990-01-02", "status": "employee"},
        "force": True,
    }
    headers = {"authorization": f"Bearer {token}", "idempotency-key": "essai-audit-1"}
    first = api.post("/api/v1/cases", json=body, headers=headers)
    again = api.post("/api/v1/cases", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.headers["location"] == again.headers["location"]
    created = [e for e in events(world.kit) if e["action"] == "case.create"]
    case_id = first.headers["location"].rsplit("/", 1)[-1]
    assert [(e["record_id"], e["actor"]) for e in created] == [(case_id, world.counsellor.id)] * 2


def test_an_api_change_commits_once_with_its_event(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The event of a change rides in the change's own transaction: one durable commit per
    request, and no separate write that could be lost or fail on its own."""
    from sqlalchemy import event

    token, _ = world.kit.accounts.create_token(world.counsellor, name="essai")
    api = TestClient(world.app, base_url=BASE_URL)
    auth = {"authorization": f"Bearer {token}"}
    etag = api.get(f"/api/v1/cases/{world.case_id}", headers=auth).headers["etag"]
    world.kit.audit.flush()
    # Statements of each committed write transaction (reads are rolled back).
    running: dict[int, list[str]] = {}
    committed: list[list[str]] = []

    def statement(conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        running.setdefault(id(conn), []).append(sql.split("(")[0].strip().upper())

    def commit(conn: Any) -> None:
        committed.append(running.pop(id(conn), []))

    engine = world.kit.database.engine
    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    event.listen(engine, "rollback", lambda conn: running.pop(id(conn), None))

    def no_separate_write(**_: object) -> None:
        raise AssertionError("the event of a change must not need a write of its own")

    before = len(events(world.kit))
    monkeypatch.setattr(world.kit.audit, "record", no_separate_write)
    draft = {"data": {"request": "Changer de métier."}, "complete": False}
    saved = api.put(
        f"/api/v1/cases/{world.case_id}/steps/level1.record",
        json=draft,
        headers={**auth, "if-match": etag},
    )
    assert saved.status_code == 200, saved.text
    changes = [t for t in committed if any(("CASES" in s or "AUDIT" in s) for s in t)]
    assert len(changes) == 1  # the change and its event: one transaction, one commit
    assert any(s.startswith("INSERT INTO AUDIT_EVENTS") for s in changes[0])
    assert any(s.startswith("UPDATE CASES") for s in changes[0])
    [change] = events(world.kit)[before:]
    assert (change["action"], change["record_id"], change["actor"], change["outcome"]) == (
        "case.update",
        world.case_id,
        world.counsellor.id,
        "success",
    )
    # A refused change writes nothing of the case: its event is written on its own.
    monkeypatch.undo()
    stale = api.put(
        f"/api/v1/cases/{world.case_id}/steps/level1.record",
        json=draft,
        headers={**auth, "if-match": etag},
    )
    assert stale.status_code == 412
    [refused] = events(world.kit)[before + 1 :]
    assert (refused["action"], refused["outcome"]) == ("case.update", "conflict")

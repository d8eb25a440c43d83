"""``Idempotency-Key`` on the API's creating routes (REL-10), on SQLite and PostgreSQL.

Same key and same request: the same status, headers that matter and body, and one resource
only, even for 10 concurrent requests; same key and another request: 422; while the first
runs: 409 with Retry-After; keys per caller; a 5xx releases its key; a dead request's lease
runs out; keys kept 24 h, then purged. The key is optional (a request without one runs as
before): refusing it would break every existing client.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from cases_http import RECORD, CaseClient, problem
from httpx import Response
from idempotency_world import FAKE_PDF, Delta, World
from litestar.testing import TestClient
from request_helpers import submission
from sqlalchemy import select

from cep_core.services.idempotency import (
    Claimed,
    InProgress,
    Mismatch,
    Replay,
    StoredAnswer,
    caller_scope,
    fingerprint,
)
from cep_core.storage.tables import (
    appointment_requests,
    cases,
    idempotency_keys,
    syntheses,
)
from cep_core.storage.tables import (
    case_events as events_table,
)
from cep_core.web.idempotency import HEADER, OPT_KEY, REPLAYED_HEADER

CASES = "/api/v1/cases"
BODY: dict[str, Any] = {
    "beneficiary": {"first_name": "Camille", "last_name": "Martin"},
    "situation": {"birth_date": "1988-04-12", "status": "employee", "region": "53"},
}
SESSION = {
    "start": "2026-03-02T10:00:00+01:00",
    "channel": "visio",
    "duration_minutes": 60,
    "outside_working_time": True,
}
KEPT = ("content-type", "location", "etag")


def post(
    client: CaseClient, path: str, body: Any, key: str | bytes | None, **headers: str
) -> Response:
    all_headers: dict[str, Any] = client.headers(**headers)
    if key is not None:
        all_headers[HEADER] = key
    content = None if body is None else json.dumps(body).encode()
    if content is not None:
        all_headers["Content-Type"] = "application/json"
    return client.http.post(path, content=content, headers=all_headers)


def key_rows(world: World, key: str) -> list[Any]:
    with world.kit.database.read() as connection:
        return list(
            connection.execute(select(idempotency_keys).where(idempotency_keys.c.key == key)).all()
        )


def same_answer(first: Response, again: Response) -> None:
    assert again.status_code == first.status_code
    assert again.content == first.content
    for name in KEPT:
        assert again.headers.get(name) == first.headers.get(name), name
    assert again.headers[REPLAYED_HEADER] == "true"
    assert REPLAYED_HEADER not in first.headers


# -- same key, same request ---------------------------------------------------------------------


def test_a_replay_answers_the_first_answer_and_creates_nothing(world: World, delta: Delta) -> None:
    first = post(world.alpha, CASES, BODY, "open-camille-1")
    assert first.status_code == 201, first.text
    # The same request, with its JSON written differently (key order, spacing).
    reordered = json.dumps(dict(reversed(list(BODY.items()))), indent=2).encode()
    headers = {
        **world.alpha.headers(),
        HEADER: "open-camille-1",
        "Content-Type": "application/json",
    }
    again = world.http.post(CASES, content=reordered, headers=headers)
    same_answer(first, again)
    assert delta(cases) == 1
    assert delta(idempotency_keys) == 1


def test_without_a_key_every_request_creates(world: World, delta: Delta) -> None:
    """The header is optional: clients that do not send it keep today's behaviour."""
    for _ in range(2):
        assert post(world.alpha, CASES, BODY, None).status_code == 201
    assert delta(cases) == 2
    assert delta(idempotency_keys) == 0


def test_every_creating_route_replays(world: World, delta: Delta) -> None:
    """Sessions, syntheses and request acceptance, besides opening a case."""
    case_id = post(world.alpha, CASES, {**BODY, "level": 1}, None).json()["id"]
    etag = world.alpha.get(case_id).headers["etag"]
    path = f"{CASES}/{case_id}/sessions"
    first = post(world.alpha, path, SESSION, "session-1", **{"If-Match": etag})
    assert first.status_code == 201, first.text
    # The client retries with the ETag it had: a replay, not a 412 nor a second session.
    same_answer(first, post(world.alpha, path, SESSION, "session-1", **{"If-Match": etag}))
    assert len(world.alpha.get(case_id).json()["sessions"]) == 1

    etag = world.alpha.get(case_id).headers["etag"]
    saved = world.alpha.save_step(case_id, "level1.record", RECORD, etag, complete=True)
    assert saved.status_code == 200, saved.text
    path = f"{CASES}/{case_id}/syntheses/"
    first = post(world.alpha, path, {"level": 1}, "synthesis-1")
    assert first.status_code == 201, first.text
    pdf = world.alpha.request("GET", first.json()["synthesis"]["pdf_url"])
    assert pdf.content == FAKE_PDF
    events = delta(events_table)
    same_answer(first, post(world.alpha, path, {"level": 1}, "synthesis-1"))
    assert delta(syntheses) == 1
    assert delta(events_table) == events  # not even an "unchanged" journal line
    assert world.renderer.calls == 1

    request = world.kit.requests.submit(
        world.kit.requests.parse_submission(submission(operator="alpha"))
    )
    path = f"/api/v1/requests/{request.id}/accept"
    first = post(world.alpha, path, None, "accept-1")
    assert first.status_code == 201, first.text
    same_answer(first, post(world.alpha, path, None, "accept-1"))
    assert delta(cases) == 2  # the first case, and the request's
    with world.kit.database.read() as connection:
        status = connection.execute(select(appointment_requests.c.status)).scalar_one()
    assert status == "accepted"


def test_a_4xx_is_stored_and_replayed_like_a_success(world: World, delta: Delta) -> None:
    """Stripe semantics: the same request would fail the same way; nothing is run again."""
    refused = {**BODY, "operator": "beta"}  # alpha's token cannot open a case at beta
    first = post(world.alpha, CASES, refused, "refused-1")
    problem(first, 403)
    same_answer(first, post(world.alpha, CASES, refused, "refused-1"))
    assert delta(cases) == 0


# -- same key, another request ------------------------------------------------------------------


def test_the_same_key_for_another_request_is_a_422(world: World, delta: Delta) -> None:
    first = post(world.alpha, CASES, BODY, "key-1")
    assert first.status_code == 201
    other = {**BODY, "beneficiary": {"first_name": "Léa", "last_name": "Martin"}}
    body = problem(post(world.alpha, CASES, other, "key-1"), 422)
    assert "Idempotency-Key" in body["detail"]
    assert "autre requête" in body["detail"]
    # Another path with the same key: 422 too (and nothing recorded there).
    path = f"{CASES}/{first.json()['id']}/sessions"
    etag = first.headers["etag"]
    problem(post(world.alpha, path, SESSION, "key-1", **{"If-Match": etag}), 422)
    assert delta(cases) == 1
    assert world.alpha.get(first.json()["id"]).json()["sessions"] == []


@pytest.mark.parametrize(
    "key",
    ["", " ", "deux mots", "clé".encode(), "x" * 256, "tab\tkey"],
    ids=["empty", "space", "inner-space", "non-ascii", "too-long", "tab"],
)
def test_a_malformed_key_is_a_400_in_french(world: World, delta: Delta, key: str | bytes) -> None:
    body = problem(post(world.alpha, CASES, BODY, key), 400)
    assert body["errors"][0]["path"] == HEADER
    assert "caractères ASCII visibles" in body["errors"][0]["message"]
    assert delta(cases) == 0


def test_a_key_of_255_visible_characters_is_accepted(world: World) -> None:
    key = "".join(chr(33 + i % 94) for i in range(255))
    assert post(world.alpha, CASES, BODY, key).status_code == 201


def test_an_anonymous_request_with_a_key_is_a_401(world: World, delta: Delta) -> None:
    answer = world.http.post(CASES, json=BODY, headers={HEADER: "k"})
    problem(answer, 401)
    assert delta(idempotency_keys) == 0


# -- scope ---------------------------------------------------------------------------------------


def test_keys_belong_to_their_caller(world: World, delta: Delta) -> None:
    """Another counsellor of the same operator, or another operator, has its own keys."""
    ids = set()
    for client in (world.alpha, world.alpha2, world.beta):
        answer = post(client, CASES, BODY, "shared-key")
        assert answer.status_code == 201, answer.text
        assert REPLAYED_HEADER not in answer.headers
        ids.add(answer.json()["id"])
    assert len(ids) == 3
    # Each caller still replays its own.
    again = post(world.alpha2, CASES, BODY, "shared-key")
    assert again.headers[REPLAYED_HEADER] == "true"
    assert delta(cases) == 3


# -- failures, running requests, leases ---------------------------------------------------------


def test_a_server_error_releases_the_key(
    world: World, delta: Delta, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    real = world.kit.cases.open_case

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("panne injectée")

    monkeypatch.setattr(world.kit.cases, "open_case", broken)
    problem(post(world.alpha, CASES, BODY, "retry-me"), 500)
    assert delta(idempotency_keys) == 0  # released, not stored
    monkeypatch.setattr(world.kit.cases, "open_case", real)
    answer = post(world.alpha, CASES, BODY, "retry-me")
    assert answer.status_code == 201
    assert REPLAYED_HEADER not in answer.headers
    assert delta(cases) == 1


def test_a_duplicate_while_the_first_runs_is_a_409_with_retry_after(
    world: World, delta: Delta, monkeypatch: pytest.MonkeyPatch
) -> None:
    started, finish = threading.Event(), threading.Event()
    real = world.kit.cases.open_case

    def slow(*args: Any, **kwargs: Any) -> Any:
        started.set()
        assert finish.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(world.kit.cases, "open_case", slow)
    answers: list[Response] = []
    other = TestClient(world.app)  # its own event loop; the app is already started
    first = threading.Thread(
        target=lambda: answers.append(
            post(CaseClient(other, world.alpha.secret), CASES, BODY, "running")
        )
    )
    first.start()
    assert started.wait(30)
    duplicate = post(world.alpha, CASES, BODY, "running")
    finish.set()
    first.join(30)
    body = problem(duplicate, 409)
    assert "encore en cours" in body["detail"]
    assert 1 <= int(duplicate.headers["retry-after"]) <= 60
    assert [a.status_code for a in answers] == [201]
    same_answer(answers[0], post(world.alpha, CASES, BODY, "running"))
    assert delta(cases) == 1


def test_a_dead_request_does_not_hold_its_key_past_the_lease(world: World) -> None:
    """A process that died mid-request leaves a running row: after 60 s, a retry takes over."""
    service = world.kit.idempotency
    scope = caller_scope("alpha", "c-alpha")
    print_ = fingerprint("POST", CASES, json.dumps(BODY).encode())
    claim = service.claim(scope, "orphan", "alpha", print_)
    assert isinstance(claim, Claimed)  # ... and never completed
    problem(post(world.alpha, CASES, BODY, "orphan"), 409)
    world.clock.advance(seconds=61)
    answer = post(world.alpha, CASES, BODY, "orphan")
    assert answer.status_code == 201, answer.text
    # The dead request's lease is gone: it can neither store nor release over the new one.
    assert not service.complete(
        scope, "orphan", claim.lease, StoredAnswer(status=500, headers=[], body=b"")
    )
    service.release(scope, "orphan", claim.lease)
    same_answer(answer, post(world.alpha, CASES, BODY, "orphan"))


def test_ten_concurrent_identical_requests_create_one_resource(
    world: World, delta: Delta, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ten threads, each with its own client on the same app, send the same keyed request at
    once; opening the case is slowed down so that they overlap."""
    real = world.kit.cases.open_case
    barrier = threading.Barrier(10)

    def slowed(*args: Any, **kwargs: Any) -> Any:
        threading.Event().wait(0.3)
        return real(*args, **kwargs)

    monkeypatch.setattr(world.kit.cases, "open_case", slowed)
    answers: list[Response] = []
    lock = threading.Lock()

    def one() -> None:
        # Its own client (and event loop), no lifespan: the app is already started.
        http = TestClient(world.app)
        client = CaseClient(http, world.alpha.secret)
        barrier.wait(30)
        answer = post(client, CASES, BODY, "ten-at-once")
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=one) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(answers) == 10
    statuses = sorted(a.status_code for a in answers)
    assert set(statuses) <= {201, 409}, statuses
    created = [a for a in answers if a.status_code == 201]
    assert created
    assert len({a.content for a in created}) == 1
    for conflict in (a for a in answers if a.status_code == 409):
        assert int(conflict.headers["retry-after"]) >= 1
    assert delta(cases) == 1
    same_answer(
        next(a for a in created if REPLAYED_HEADER not in a.headers),
        post(world.alpha, CASES, BODY, "ten-at-once"),
    )


# -- retention -----------------------------------------------------------------------------------


def test_keys_are_kept_24_hours_then_purged(world: World) -> None:
    first = post(world.alpha, CASES, BODY, "daily")
    assert first.status_code == 201
    world.clock.advance(hours=23, minutes=59)
    world.kit.idempotency.purge(world.clock())  # (earlier tests' keys may go)
    assert len(key_rows(world, "daily")) == 1
    same_answer(first, post(world.alpha, CASES, BODY, "daily"))
    world.clock.advance(minutes=1)
    assert world.kit.idempotency.purge(world.clock()) >= 1
    assert key_rows(world, "daily") == []
    again = post(world.alpha, CASES, BODY, "daily")
    assert again.status_code == 201
    assert again.json()["id"] != first.json()["id"]  # a new key: a new request


def test_an_expired_key_not_yet_purged_is_a_new_key(world: World) -> None:
    first = post(world.alpha, CASES, BODY, "stale")
    world.clock.advance(hours=24, seconds=1)
    other = {**BODY, "beneficiary": {"first_name": "Léa", "last_name": "Roux"}}
    again = post(world.alpha, CASES, other, "stale")  # no 422: the old use is forgotten
    assert again.status_code == 201
    assert again.json()["id"] != first.json()["id"]
    (row,) = key_rows(world, "stale")
    assert row.created_at == world.clock()
    assert row.state == "done"


# -- the service on its own ----------------------------------------------------------------------


def test_the_claim_is_atomic_and_says_what_it_found(world: World) -> None:
    service = world.kit.idempotency
    scope = caller_scope("alpha", "c-alpha")
    first = service.claim(scope, "atomic", "alpha", "print-1")
    assert isinstance(first, Claimed)
    assert isinstance(service.claim(scope, "atomic", "alpha", "print-1"), InProgress)
    assert isinstance(service.claim(scope, "atomic", "alpha", "print-2"), Mismatch)
    answer = StoredAnswer(status=201, headers=[("location", "/x")], body=b"{}")
    assert service.complete(scope, "atomic", first.lease, answer)
    replay = service.claim(scope, "atomic", "alpha", "print-1")
    assert isinstance(replay, Replay)
    assert replay.answer == answer
    other_scope = caller_scope("alpha", "c-alpha-2")
    assert isinstance(service.claim(other_scope, "atomic", "alpha", "print-1"), Claimed)
    # Released, a key is free again at once.
    again = service.claim(other_scope, "released", "alpha", "print-1")
    assert isinstance(again, Claimed)
    service.release(other_scope, "released", again.lease)
    assert isinstance(service.claim(other_scope, "released", "alpha", "print-2"), Claimed)


def test_concurrent_claims_across_instances_give_one_winner(world: World) -> None:
    """Two kits on the same database stand for two app instances."""
    from cep_core.kit import Kit

    other = Kit(
        list(world.operators.values()),
        settings=world.kit.settings,
        load_entrypoints=False,
        clock=world.clock,
    )
    try:
        services = [world.kit.idempotency, other.idempotency] * 5
        results: list[object] = []
        barrier = threading.Barrier(len(services))

        def claim(service: Any) -> None:
            barrier.wait(30)
            results.append(service.claim("scope", "race", "alpha", "p"))

        threads = [threading.Thread(target=claim, args=(s,)) for s in services]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        other.close()
    assert sum(isinstance(r, Claimed) for r in results) == 1
    assert sum(isinstance(r, InProgress) for r in results) == len(services) - 1


# -- the OpenAPI document ------------------------------------------------------------------------

IDEMPOTENT_OPERATIONS = {
    ("/api/v1/cases", "post"),
    ("/api/v1/cases/{case_id}/sessions", "post"),
    ("/api/v1/cases/{case_id}/syntheses", "post"),
    ("/api/v1/requests/{request_id}/accept", "post"),
}


def test_every_marked_route_documents_the_header(world: World) -> None:
    """The routes marked ``opt={"idempotent": True}`` are those whose operation documents
    the optional header and its 409 and 422 answers, and the four creating routes are."""
    document = world.http.get("/schema/openapi.json").json()
    marked = {
        (route.path.replace(":str", ""), method.lower())
        for route in world.app.routes
        for handler in getattr(route, "route_handlers", [])
        if handler.opt.get(OPT_KEY)
        for method in handler.http_methods
    }
    assert marked >= IDEMPOTENT_OPERATIONS
    documented: set[tuple[str, str]] = set()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            headers = [p for p in operation.get("parameters", []) if p["name"] == HEADER]
            if not headers:
                continue
            documented.add((path, method))
            assert headers[0]["in"] == "header"
            assert headers[0]["required"] is False
            assert headers[0]["schema"]["maxLength"] == 255
            for status in ("409", "422"):
                assert "Idempotency-Key" in operation["responses"][status]["description"]
                content = operation["responses"][status]["content"]
                assert content["application/problem+json"]["schema"]["$ref"].endswith("/Problem")
    assert documented == {(path.rstrip("/") or "/", method) for path, method in marked}

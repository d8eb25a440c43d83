"""REL-11: concurrent edits of one case through a real server: exactly one wins, none is lost.

Each *lane* is one case and two client threads. For every pair, both threads hold the same
ETag, start together (a barrier, then a random jitter of up to 2 ms so either may arrive
first) and write with ``If-Match``: a session (appended to the case) or a draft of the level-1
record (replaced), at random. Exactly one must get 2xx, the other 412 (with the winner's ETag
when the answer carries one); the winner's ETag is the next pair's. At the end each case
holds exactly the winners' sessions in order, the last winning draft, a journal line per
winner and version = 2 + winners: zero lost updates, zero writes by a loser.

SQLite: one server, both threads on it. PostgreSQL: two servers on one database, each thread
of a pair on its own instance. CI runs 1,000 pairs per database; more:

    CEP_EDIT_PAIRS=10000 uv run pytest -q tests/reliability/test_concurrent_edits.py
"""

from __future__ import annotations

import math
import os
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from .crash_harness import CASES, SESSION, SITUATION, STEP, marker
from .servers import LOCKED, AppServer, api_client, is_postgresql, make_token, running

PAIRS = int(os.environ.get("CEP_EDIT_PAIRS", "1000"))
LANES = 8
PAIRS_PER_TOKEN = 250  # each side sends one request per pair: under 600 a minute per token


@dataclass
class Plan:
    kind: str  # "session" or "step"
    markers: tuple[str, str]
    jitter: tuple[float, float]


@dataclass
class Lane:
    """One case, two writers; `plan` and `judge` run in the barriers' actions (one thread)."""

    index: int
    case_id: str
    etag: str
    rng: random.Random
    pairs: int
    plan: Plan | None = None
    results: list[tuple[int, str | None, str] | None] = field(default_factory=lambda: [None, None])
    won_sessions: list[str] = field(default_factory=list)
    won_step: str | None = None
    winners: Counter[str] = field(default_factory=Counter)
    refused_412: int = 0
    first_side_wins: int = 0
    failures: list[str] = field(default_factory=list)

    def next_plan(self) -> None:
        kind = "session" if self.rng.random() < 0.5 else "step"
        self.plan = Plan(
            kind=kind,
            markers=(marker(self.rng), marker(self.rng)),
            jitter=(self.rng.uniform(0, 0.002), self.rng.uniform(0, 0.002)),
        )
        self.results = [None, None]

    def judge(self) -> None:
        plan = self.plan
        assert plan is not None
        results = self.results
        statuses = sorted(r[0] if r is not None else -1 for r in results)
        if statuses not in ([200, 412], [201, 412]):
            self.failures.append(f"pair on {self.case_id} ({plan.kind}): {results}")
            return
        side = 0 if results[0] is not None and results[0][0] < 300 else 1
        winner, loser = results[side], results[1 - side]
        assert winner is not None and loser is not None
        if loser[1] is not None and loser[1] != winner[1]:
            self.failures.append(f"412 with ETag {loser[1]}, the winner wrote {winner[1]}")
        assert winner[1] is not None
        self.etag = winner[1]
        self.winners[plan.kind] += 1
        self.refused_412 += 1
        self.first_side_wins += side == 0
        if plan.kind == "session":
            self.won_sessions.append(winner[2])
        else:
            self.won_step = winner[2]


def write(client: httpx.Client, lane: Lane, plan: Plan, side: int) -> httpx.Response:
    value = plan.markers[side]
    headers = {"If-Match": lane.etag}
    if plan.kind == "session":
        return client.post(
            f"{CASES}/{lane.case_id}/sessions", json={**SESSION, "notes": value}, headers=headers
        )
    return client.put(
        f"{CASES}/{lane.case_id}/steps/{STEP}",
        json={"data": {"request": value}, "complete": False},
        headers=headers,
    )


def writer(
    lane: Lane,
    side: int,
    clients: list[httpx.Client],
    start: threading.Barrier,
    end: threading.Barrier,
) -> None:
    try:
        for number in range(lane.pairs):
            start.wait()  # action: the next plan
            plan = lane.plan
            assert plan is not None
            time.sleep(plan.jitter[side])
            answer = write(clients[number // PAIRS_PER_TOKEN], lane, plan, side)
            lane.results[side] = (
                answer.status_code,
                answer.headers.get("etag"),
                plan.markers[side],
            )
            end.wait()  # action: judge the pair
    except threading.BrokenBarrierError:
        return
    except BaseException as exc:
        lane.failures.append(f"side {side}: {exc!r}")
        start.abort()
        end.abort()


def open_lane_case(client: httpx.Client) -> tuple[str, str]:
    body = {
        "beneficiary": {"first_name": "Lou", "last_name": "Concurrence"},
        "situation": SITUATION,
    }
    created = client.post(CASES, json=body)
    assert created.status_code == 201, created.text
    case_id = created.json()["id"]
    started = client.post(
        f"{CASES}/{case_id}/actions/start-level-1",
        json={},
        headers={"If-Match": created.headers["etag"]},
    )
    assert started.status_code == 200, started.text
    return case_id, started.headers["etag"]


def check_lane(client: httpx.Client, lane: Lane) -> None:
    answer = client.get(f"{CASES}/{lane.case_id}")
    assert answer.status_code == 200, answer.text
    case: dict[str, Any] = answer.json()
    notes = [session["notes"] for session in case["sessions"]]
    assert notes == lane.won_sessions, f"{lane.case_id}: sessions lost or added by a loser"
    step = next(s for s in case["steps"] if s["id"] == STEP)
    assert (step["data"] or {}).get("request") == lane.won_step
    wins = sum(lane.winners.values())
    assert case["version"] == 2 + wins, (case["version"], wins)
    assert answer.headers["etag"] == lane.etag
    journal = client.get(f"{CASES}/{lane.case_id}/events").json()["events"]
    kinds = Counter(event["kind"] for event in journal)
    assert kinds["session_recorded"] == lane.winners["session"]
    assert kinds["step_draft_saved"] == lane.winners["step"]
    assert [event["seq"] for event in journal] == list(range(1, case["version"] + 1))


def test_concurrent_edit_pairs(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed = int(os.environ.get("CEP_EDIT_SEED") or random.randrange(2**32))
    rng = random.Random(seed)
    per_lane = [PAIRS // LANES + (1 if i < PAIRS % LANES else 0) for i in range(LANES)]
    rounds = max(1, math.ceil(max(per_lane) / PAIRS_PER_TOKEN))
    tokens = {
        f"pair-{lane}-{side}-{r}": make_token(f"pair-{lane}-{side}-{r}")
        for lane in range(LANES)
        for side in (0, 1)
        for r in range(rounds)
    }
    secret = make_token("secret")
    instances = 2 if is_postgresql(database_url) else 1
    servers = [
        AppServer(
            data_dir=tmp_path / f"data-{i}",
            database_url=database_url,
            secret_key=secret,
            api_tokens=tokens,
            name=f"instance-{i}",
        )
        for i in range(instances)
    ]
    began = time.monotonic()
    with running(servers):
        clients = {
            actor: api_client(servers[int(actor.split("-")[2]) % instances], token)
            for actor, token in tokens.items()
        }
        try:
            lanes = []
            for index in range(LANES):
                case_id, etag = open_lane_case(clients[f"pair-{index}-0-0"])
                lanes.append(
                    Lane(index, case_id, etag, random.Random(rng.getrandbits(64)), per_lane[index])
                )
            writing = time.monotonic()
            threads = []
            for lane in lanes:
                start = threading.Barrier(2, action=lane.next_plan)
                end = threading.Barrier(2, action=lane.judge)
                for side in (0, 1):
                    own = [clients[f"pair-{lane.index}-{side}-{r}"] for r in range(rounds)]
                    thread = threading.Thread(
                        target=writer, args=(lane, side, own, start, end), daemon=True
                    )
                    threads.append(thread)
                    thread.start()
            for thread in threads:
                thread.join(timeout=600)
                assert not thread.is_alive(), "a writer is stuck"
            wrote_for = time.monotonic() - writing
            failures = [failure for lane in lanes for failure in lane.failures]
            assert not failures, failures[:10]
            for lane in lanes:
                check_lane(clients["pair-0-0-0"], lane)
                if instances == 2:  # the other instance reads the same
                    check_lane(clients["pair-0-1-0"], lane)
        finally:
            for client in clients.values():
                client.close()
    locked = sum(server.count_in_log(LOCKED) for server in servers)
    pairs = sum(sum(lane.winners.values()) for lane in lanes)
    refused = sum(lane.refused_412 for lane in lanes)
    kinds = sum((lane.winners for lane in lanes), Counter())
    first = sum(lane.first_side_wins for lane in lanes)
    with capsys.disabled():
        print(
            f"\n[edits {make_url(database_url).get_backend_name()}] seed={seed} "
            f"instances={instances} lanes={LANES} pairs={pairs} winners={pairs} "
            f"({dict(kinds)}; first thread won {first}) 412={refused} lost updates=0; "
            f"'{LOCKED}'={locked}; writing {wrote_for:.1f} s, total "
            f"{time.monotonic() - began:.1f} s"
        )
    assert pairs == PAIRS and refused == PAIRS
    assert 0 < first < PAIRS, "one side always won: the writes were not concurrent"
    assert locked == 0

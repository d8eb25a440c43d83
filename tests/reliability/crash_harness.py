"""Crash harness (REL-07): writes through the API, SIGKILL at a random moment, restart, check.

Each cycle lets `WORKERS` threads write through the cases API of a running server for a
random moment, SIGKILLs the server in the middle of it, restarts it on the same database and
checks:

- every acknowledged write (a 2xx answer) is there, read back through the API: the case
  opened with its beneficiary (multi-row: person, case, journal line), each recorded
  session (case document + journal line + version), the level-1 start, the last saved step
  draft;
- a write left without an answer (in doubt when the server died) is either whole or absent,
  and nothing appears that nobody wrote;
- no transaction is half-applied, in the database itself: every case has its beneficiary and
  every beneficiary its case, every case's journal is numbered 1..version without a gap,
  the sessions in the case document are exactly the ``session_recorded`` journal lines, each
  acknowledged draft has its ``step_draft_saved`` line; on SQLite ``PRAGMA integrity_check``
  is ``ok`` after every restart and ``PRAGMA foreign_key_check`` is empty at the end.

Each worker writes its own cases only (concurrent edits of one case are another test), with
the ETag of its last acknowledged write; a case whose last write is in doubt is read again
after the restart. API tokens rotate between cycles so the 600 requests/minute limit per
client is never what stops a worker.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import text

from cep_core.storage.database import Database

from .servers import AppServer, api_client

CASES = "/api/v1/cases"
STEP = "level1.record"
WORKERS = 4
WARM_UP_TIMEOUT = 30.0  # seconds to wait for the first acknowledged writes of a cycle
TOKENS = 24  # rotated: each token serves one worker every TOKENS / WORKERS cycles
SITUATION = {"birth_date": "1980-05-17", "status": "employee", "cadre": True, "region": "53"}
SESSION = {
    "start": "2026-03-02T10:00:00+01:00",
    "channel": "visio",
    "duration_minutes": 45,
    "outside_working_time": True,
}
_LETTERS = "abcdefghijklmnop"


def marker(rng: random.Random) -> str:
    """A unique name-safe marker (letters only: it is also used as a last name)."""
    return "Crash" + "".join(rng.choice(_LETTERS) for _ in range(16))


@dataclass
class CaseTrack:
    """What one worker knows of one of its cases."""

    case_id: str
    name: str  # the beneficiary's last name (the create's marker)
    etag: str | None  # None: the last write is in doubt, read the case again
    level_1: bool = False  # start-level-1 acknowledged
    level_1_doubt: bool = False
    sessions: list[str] = field(default_factory=list)  # acknowledged session markers
    session_doubts: set[str] = field(default_factory=set)
    step_value: str | None = None  # last acknowledged draft marker
    step_acks: int = 0
    step_doubts: set[str] = field(default_factory=set)  # attempted after the last ack
    touched: bool = True  # written since the last check


@dataclass
class Ledger:
    """Every write the clients made, acknowledged or in doubt; shared by the workers."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    cases: dict[str, CaseTrack] = field(default_factory=dict)
    owned: dict[int, list[str]] = field(default_factory=dict)  # worker → its case ids
    create_doubts: int = 0
    acknowledged: Counter[str] = field(default_factory=Counter)
    refused: Counter[int] = field(default_factory=Counter)  # unexpected non-2xx answers
    rate_limited: int = 0
    in_doubt: int = 0

    def acked(self) -> int:
        return sum(self.acknowledged.values())


class Worker(threading.Thread):
    """Writes on its own cases until the server dies (first transport error) or `stop`."""

    def __init__(
        self, index: int, server: AppServer, token: str, ledger: Ledger, seed: int
    ) -> None:
        super().__init__(name=f"crash-worker-{index}", daemon=True)
        self.index = index
        self.server = server
        self.token = token
        self.ledger = ledger
        self.rng = random.Random(seed)
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with api_client(self.server, self.token) as client:
                self._loop(client)
        except BaseException as exc:  # reported by the test
            self.error = exc

    def _mine(self) -> list[CaseTrack]:
        with self.ledger.lock:
            ids = self.ledger.owned.setdefault(self.index, [])
            return [self.ledger.cases[case_id] for case_id in ids]

    def _loop(self, client: httpx.Client) -> None:
        while not self.stop.is_set():
            mine = self._mine()
            choice = self.rng.random()
            try:
                if not mine or choice < 0.2:
                    self._create(client)
                    continue
                track = self.rng.choice(mine)
                if track.etag is None:
                    self._refresh(client, track)
                elif choice < 0.6:
                    self._session(client, track)
                else:
                    self._step(client, track)
            except httpx.TransportError:
                return  # the server is gone: this cycle is over for this worker

    # -- the writes ------------------------------------------------------------------------

    def _answer(self, response: httpx.Response) -> bool:
        if response.is_success:
            return True
        with self.ledger.lock:
            if response.status_code == 429:
                self.ledger.rate_limited += 1
            else:
                self.ledger.refused[response.status_code] += 1
        return False

    def _create(self, client: httpx.Client) -> None:
        name = marker(self.rng)
        body = {"beneficiary": {"first_name": "Camille", "last_name": name}, "situation": SITUATION}
        try:
            response = client.post(CASES, json=body)
        except httpx.TransportError:
            with self.ledger.lock:
                self.ledger.create_doubts += 1
                self.ledger.in_doubt += 1
            raise
        if not self._answer(response):
            return
        case_id = response.json()["id"]
        with self.ledger.lock:
            self.ledger.cases[case_id] = CaseTrack(
                case_id=case_id, name=name, etag=response.headers["etag"]
            )
            self.ledger.owned.setdefault(self.index, []).append(case_id)
            self.ledger.acknowledged["create"] += 1

    def _refresh(self, client: httpx.Client, track: CaseTrack) -> None:
        response = client.get(f"{CASES}/{track.case_id}")
        if self._answer(response):
            track.etag = response.headers["etag"]

    def _session(self, client: httpx.Client, track: CaseTrack) -> None:
        note = marker(self.rng)
        etag = track.etag
        assert etag is not None
        track.touched = True
        track.etag = None  # until the answer says otherwise
        try:
            response = client.post(
                f"{CASES}/{track.case_id}/sessions",
                json={**SESSION, "notes": note},
                headers={"If-Match": etag},
            )
        except httpx.TransportError:
            track.session_doubts.add(note)
            with self.ledger.lock:
                self.ledger.in_doubt += 1
            raise
        if self._answer(response):
            track.etag = response.headers["etag"]
            track.sessions.append(note)
            with self.ledger.lock:
                self.ledger.acknowledged["session"] += 1
        elif response.status_code != 412:
            track.etag = etag  # refused before writing (429...): the version stands

    def _step(self, client: httpx.Client, track: CaseTrack) -> None:
        etag = track.etag
        assert etag is not None
        track.touched = True
        track.etag = None
        if not track.level_1:
            try:
                response = client.post(
                    f"{CASES}/{track.case_id}/actions/start-level-1",
                    json={},
                    headers={"If-Match": etag},
                )
            except httpx.TransportError:
                track.level_1_doubt = True
                with self.ledger.lock:
                    self.ledger.in_doubt += 1
                raise
            if self._answer(response):
                track.etag = response.headers["etag"]
                track.level_1 = True
                with self.ledger.lock:
                    self.ledger.acknowledged["start_level_1"] += 1
            elif response.status_code != 412:
                track.etag = etag
            return
        value = marker(self.rng)
        try:
            response = client.put(
                f"{CASES}/{track.case_id}/steps/{STEP}",
                json={"data": {"request": value}, "complete": False},
                headers={"If-Match": etag},
            )
        except httpx.TransportError:
            track.step_doubts.add(value)
            with self.ledger.lock:
                self.ledger.in_doubt += 1
            raise
        if self._answer(response):
            track.etag = response.headers["etag"]
            track.step_value, track.step_doubts = value, set()
            track.step_acks += 1
            with self.ledger.lock:
                self.ledger.acknowledged["step_draft"] += 1
        elif response.status_code != 412:
            track.etag = etag


# -- one cycle ---------------------------------------------------------------------------------


@dataclass
class CycleReport:
    acknowledged: int  # acknowledged writes of this cycle
    cases_checked: int
    ran_for: float


def run_cycle(
    server: AppServer,
    ledger: Ledger,
    tokens: list[str],
    cycle: int,
    rng: random.Random,
    max_run: float,
    reports: list[CycleReport],
    database: Database | None = None,
) -> None:
    """With `server` up: write, SIGKILL it at a random moment, restart it, read back.

    The server is left running: the next cycle writes on it (one start-up per cycle).
    """
    before = ledger.acked()
    workers = [
        Worker(i, server, tokens[(cycle * WORKERS + i) % len(tokens)], ledger, rng.getrandbits(64))
        for i in range(WORKERS)
    ]
    began = time.monotonic()
    for worker in workers:
        worker.start()
    # The kill lands at a random moment once the writes flow: after a random number of
    # acknowledged writes, plus a random fraction of `max_run` (a fresh process answers its
    # first requests slowly; a fixed timer would often kill it before any write).
    target = before + rng.randint(1, 3 * WORKERS)
    deadline = began + WARM_UP_TIMEOUT
    while ledger.acked() < target and time.monotonic() < deadline:
        if not any(worker.is_alive() for worker in workers):
            break
        time.sleep(0.005)
    time.sleep(rng.uniform(0.0, max_run))
    ran_for = time.monotonic() - began
    server.kill()
    for worker in workers:
        worker.stop.set()
    for worker in workers:
        worker.join(timeout=30)
        assert not worker.is_alive(), f"{worker.name} is stuck"
        if worker.error is not None:
            raise worker.error
    server.start()
    checked = check_through_api(server, ledger, tokens[cycle % len(tokens)])
    if database is not None and database.dialect == "sqlite":
        with database.read() as connection:  # after every crash, not only at the end
            integrity = connection.exec_driver_sql("PRAGMA integrity_check").scalar_one()
        assert integrity == "ok", f"cycle {cycle}: {integrity}"
    reports.append(
        CycleReport(acknowledged=ledger.acked() - before, cases_checked=checked, ran_for=ran_for)
    )


# -- reading back ------------------------------------------------------------------------------


def check_through_api(server: AppServer, ledger: Ledger, token: str) -> int:
    """Read back, through the restarted API, every case written since the last check."""
    with ledger.lock:
        tracks = [track for track in ledger.cases.values() if track.touched]
    with api_client(server, token) as client:
        for track in tracks:
            check_case(client, track)
            track.touched = False
    return len(tracks)


def check_case(client: httpx.Client, track: CaseTrack) -> None:
    answer = client.get(f"{CASES}/{track.case_id}")
    assert answer.status_code == 200, f"acknowledged case {track.case_id} lost: {answer.text}"
    case: dict[str, Any] = answer.json()
    assert case["beneficiary"]["last_name"] == track.name, case["beneficiary"]
    notes = [session["notes"] for session in case["sessions"]]
    missing = [note for note in track.sessions if note not in notes]
    assert not missing, f"acknowledged sessions lost on {track.case_id}: {missing}"
    unknown = set(notes) - set(track.sessions) - track.session_doubts
    assert not unknown, f"sessions nobody wrote on {track.case_id}: {unknown}"
    assert len(notes) == len(set(notes)), f"a session recorded twice on {track.case_id}"
    if track.level_1:
        assert case["status"] == "level_1", case["status"]
    elif not track.level_1_doubt:
        assert case["status"] == "opened", case["status"]
    else:
        assert case["status"] in ("opened", "level_1"), case["status"]
    if case["status"] == "level_1":
        track.level_1, track.level_1_doubt = True, False
    step = next((s for s in case["steps"] if s["id"] == STEP), None)
    value = None if step is None or step["data"] is None else step["data"]["request"]
    allowed = {track.step_value} | track.step_doubts
    assert value in allowed, f"step draft of {track.case_id} is {value!r}, expected {allowed}"
    # What was in doubt is now known: the case as read is the truth from here on.
    track.sessions = notes
    track.session_doubts = set()
    if value != track.step_value:
        track.step_value, track.step_acks = value, track.step_acks + 1
    track.step_doubts = set()
    track.etag = answer.headers["etag"]
    events = client.get(f"{CASES}/{track.case_id}/events")
    assert events.status_code == 200, events.text
    journal = events.json()["events"]
    assert [e["seq"] for e in journal] == list(range(1, case["version"] + 1)), (
        f"journal of {track.case_id} does not match its version {case['version']}: "
        f"{[e['seq'] for e in journal]}"
    )
    kinds = Counter(e["kind"] for e in journal)
    assert kinds["session_recorded"] == len(notes), (track.case_id, kinds, notes)


# -- the database itself -----------------------------------------------------------------------

HALF_APPLIED = {
    "case without its beneficiary": """
        SELECT c.id FROM cases c LEFT JOIN beneficiaries b ON b.id = c.beneficiary_id
        WHERE b.id IS NULL""",
    "beneficiary without a case": """
        SELECT b.id FROM beneficiaries b LEFT JOIN cases c ON c.beneficiary_id = b.id
        WHERE c.id IS NULL""",
    "case whose journal does not end at its version": """
        SELECT c.id FROM cases c LEFT JOIN (
            SELECT case_id, COUNT(*) AS n, MAX(seq) AS top, MIN(seq) AS bottom
            FROM case_events GROUP BY case_id
        ) e ON e.case_id = c.id
        WHERE e.n IS NULL OR e.n <> c.version OR e.top <> c.version OR e.bottom <> 1""",
}


@dataclass
class DatabaseReport:
    cases: int
    events: int
    sessions: int
    integrity: str


def check_database(database: Database, ledger: Ledger) -> DatabaseReport:
    """Invariants no committed transaction may break, checked in SQL and in the documents."""
    with database.read() as connection:
        for what, query in HALF_APPLIED.items():
            rows = connection.execute(text(query)).fetchall()
            assert not rows, f"{what}: {[row[0] for row in rows][:10]}"
        integrity = "n/a (PostgreSQL)"
        if database.dialect == "sqlite":
            integrity = str(connection.exec_driver_sql("PRAGMA integrity_check").scalar_one())
            assert integrity == "ok", integrity
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            assert not broken, broken
        counts: dict[str, Counter[str]] = {}
        for case_id, kind in connection.execute(text("SELECT case_id, kind FROM case_events")):
            counts.setdefault(str(case_id), Counter())[str(kind)] += 1
        documents = {
            str(case_id): json.loads(doc)
            for case_id, doc in connection.execute(text("SELECT id, doc FROM cases"))
        }
    sessions = 0
    for case_id, doc in documents.items():
        in_doc = len(doc.get("sessions") or [])
        sessions += in_doc
        assert counts[case_id]["session_recorded"] == in_doc, (case_id, counts[case_id], in_doc)
        if case_id in ledger.cases:
            track = ledger.cases[case_id]
            assert counts[case_id]["step_draft_saved"] >= track.step_acks, (case_id, counts)
    known = len(ledger.cases)
    assert known <= len(documents) <= known + ledger.create_doubts, (
        f"{len(documents)} cases in the database, {known} acknowledged, "
        f"{ledger.create_doubts} in doubt"
    )
    missing = set(ledger.cases) - set(documents)
    assert not missing, f"acknowledged cases lost: {sorted(missing)[:10]}"
    return DatabaseReport(
        cases=len(documents),
        events=sum(sum(c.values()) for c in counts.values()),
        sessions=sessions,
        integrity=integrity,
    )

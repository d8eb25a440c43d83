"""The counsellors of ``bench/load.py``: what one counsellor does with the API, over and over.

Run by ``bench/load.py`` (``locust --headless`` in a subprocess, so that gevent's monkey
patching stays in that process). Each simulated user is one counsellor with its own personal
access token and its own cases (``BENCH_LOAD_PLAN``, a JSON file written by load.py). The mix
is 80 % reads and 20 % writes:

- reads: list my cases (25), read a case (30), read its steps (25);
- writes: save a step draft with ``If-Match`` (15), record a session with ``If-Match`` (5).

Every answer's ``ETag`` is kept per case, so each write names the version it saw, as a
counsellor's browser would. Each request's time and outcome is recorded, and written as JSON
to ``BENCH_LOAD_OUT`` when locust stops.
"""

from __future__ import annotations

import itertools
import json
import os
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from locust import FastHttpUser, between, events, task

PLAN: dict[str, Any] = json.loads(open(os.environ["BENCH_LOAD_PLAN"]).read())  # noqa: SIM115
THINK = float(os.environ.get("BENCH_LOAD_THINK", "1.0"))
STEP_ID = PLAN["step_id"]
STEP_BODY = PLAN["step_body"]
_numbers = itertools.count()
RESULTS: dict[str, list[Any]] = {"read": [], "write": [], "failures": []}


@events.request.add_listener
def _record(
    request_type: str,
    name: str,
    response_time: float,
    exception: BaseException | None,
    **_: Any,
) -> None:
    kind = "write" if name.startswith("écriture") else "read"
    RESULTS[kind].append(response_time)
    if exception is not None:
        RESULTS["failures"].append(f"{request_type} {name}: {exception!r}"[:300])


@events.quitting.add_listener
def _write(**_: Any) -> None:
    with open(os.environ["BENCH_LOAD_OUT"], "w", encoding="utf-8") as out:
        json.dump(RESULTS, out)


class Counsellor(FastHttpUser):
    wait_time = between(THINK * 0.5, THINK * 1.5)

    def on_start(self) -> None:
        me = PLAN["counsellors"][next(_numbers) % len(PLAN["counsellors"])]
        self.user_id: str = me["user_id"]
        self.case_ids: list[str] = me["case_ids"]
        self.auth = {"Authorization": f"Bearer {me['token']}"}
        self.etags: dict[str, str] = {}
        self.rng = random.Random(self.user_id)

    def _case(self) -> str:
        return self.rng.choice(self.case_ids)

    def _keep(self, case_id: str, response: Any) -> None:
        tag = response.headers.get("etag")
        if tag:
            self.etags[case_id] = tag

    def _get(self, path: str, name: str, case_id: str | None = None) -> None:
        with self.client.get(path, headers=self.auth, name=name, catch_response=True) as answer:
            if answer.status_code != 200:
                answer.failure(f"{answer.status_code}: {answer.text[:200]}")
            elif case_id is not None:
                self._keep(case_id, answer)

    def _write(self, method: str, path: str, name: str, case_id: str, body: Any) -> None:
        if case_id not in self.etags:  # first write on this case: read it first, as a page does
            self._get(f"/api/v1/cases/{case_id}", "lecture : dossier", case_id)
        headers = {**self.auth, "If-Match": self.etags.get(case_id, '"0"')}
        with self.client.request(
            method, path, headers=headers, json=body, name=name, catch_response=True
        ) as answer:
            if answer.status_code not in (200, 201):
                self.etags.pop(case_id, None)
                answer.failure(f"{answer.status_code}: {answer.text[:200]}")
            else:
                self._keep(case_id, answer)

    @task(25)
    def list_my_cases(self) -> None:
        self._get(f"/api/v1/cases?counsellor_id={self.user_id}&limit=20", "lecture : mes dossiers")

    @task(30)
    def read_case(self) -> None:
        case_id = self._case()
        self._get(f"/api/v1/cases/{case_id}", "lecture : dossier", case_id)

    @task(25)
    def read_steps(self) -> None:
        case_id = self._case()
        self._get(f"/api/v1/cases/{case_id}/steps", "lecture : étapes", case_id)

    @task(15)
    def save_step(self) -> None:
        case_id = self._case()
        path = f"/api/v1/cases/{case_id}/steps/{STEP_ID}"
        self._write("PUT", path, "écriture : étape", case_id, STEP_BODY)

    @task(5)
    def record_session(self) -> None:
        case_id = self._case()
        start = datetime.now(UTC) - timedelta(hours=1)
        body = {
            "start": start.isoformat(timespec="seconds"),
            "channel": "presentiel",
            "duration_minutes": 45,
            "outside_working_time": False,
        }
        self._write(
            "POST", f"/api/v1/cases/{case_id}/sessions", "écriture : entretien", case_id, body
        )

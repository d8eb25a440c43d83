"""Fault injection in every hook on a write path (REL-12), and containment per operator (REL-13).

A saboteur plugin implements every hook of `cep_core.hookspecs` (generated from the specs, so
a new hook cannot be forgotten) and stays neutral, except for one chosen call of one chosen
hook, where it raises. Each write request of the API is first run once to count the hook
calls it makes for its operator; then it is replayed, on a fresh case each time, with the
fault at the first, the middle and the last call of each hook it calls. Every time: a
controlled error in the one problem format, in French, without the exception's text; every
table's rows exactly as before; no new file in the data folder.

Hooks that no write request calls are listed in `NOT_ON_A_WRITE_PATH` with the reason, and
the test checks that they are indeed never called. ``cep_case_event`` is different by
contract: it is heard after the commit, and a failing listener never undoes the write.
"""

from __future__ import annotations

import inspect
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from cases_http import ACTION_PLAN, PROJECT, RECORD, Alpha, Beta, CaseClient
from httpx import Response
from idempotency_world import BACKENDS, World, backend_world, build_world
from request_helpers import submission
from sqlalchemy import select

from cep_core import DatedLabel, PluginInfo, PluginKind, hookimpl, hookspecs
from cep_core.storage.tables import metadata

SECRET = "DÉTAIL-INTERNE-4F2"
CASES = "/api/v1/cases"
INTAKE = {"contract": "cdi", "employer_size": 250}
OPEN_BODY: dict[str, Any] = {
    "beneficiary": {"first_name": "Camille", "last_name": "Martin"},
    "situation": {"birth_date": "1988-04-12", "status": "employee", "region": "53"},
    "level": 1,
}
SESSION = {
    "start": "2026-03-02T10:00:00+01:00",
    "channel": "visio",
    "duration_minutes": 60,
    "outside_working_time": True,
}
FUNDING = {"training": {"service": 0, "cost_eur": 1000, "hours": 120}, "situation": {}}

# Hooks no write request of the API calls, and why; the test checks they are not called.
NOT_ON_A_WRITE_PATH: dict[str, str] = {
    "cep_plugin_info": "read at registration; a raising plugin is refused at start-up",
    "cep_register_routes": "called once when the app is built, which then refuses to start",
    "cep_register_commands": "called by the CLI only",
    "cep_startup": "called when the kit is built; start-up fails naming the plugin",
    "cep_retention_rules": "called by the purge job (``cep purge``), not by a request",
    "cep_indicators": "reporting reads only; no write depends on it",
    "cep_data_recipients": "no write request calls it (data-sharing pages and exports do)",
    "cep_permission_check": "no write request calls it; a raising check denies (deny wins)",
}
# Hooks heard after the commit: a failure is logged and never undoes the write.
AFTER_COMMIT: dict[str, str] = {
    "cep_case_event": "notified after commit; the hookspec says a failing listener is logged",
}
# Hooks asked about every operator without an operator argument: a failure for another
# operator leaves that one out and the request goes on (hookspec), so success is allowed.
MAY_SUCCEED: dict[str, str] = {
    "cep_assess_competence": "a failing operator is left out; the others still answer",
}
# Hooks whose answer the write depends on: a failure in them must refuse the request.
REFUSING_HOOKS = {
    "cep_choose_orientation",
    "cep_intake_form",
    "cep_validate_intake",
    "cep_validate_step",
    "cep_case_transition",
    "cep_build_funding_plan",
    "cep_check_funding_plan",
    "cep_synthesis_sections",
    "cep_synthesis_template",
    "cep_render_pdf",
}
# Rows that a refused request may legitimately add: request counters and the audit trail.
VOLATILE_TABLES = {
    "rate_limits": "counts requests (SEC-15), failed ones included",
    "audit_events": "records every attempt, failed ones included (SEC-12)",
}


def hook_names() -> list[str]:
    return sorted(
        name
        for name, value in vars(hookspecs).items()
        if name.startswith("cep_") and inspect.isfunction(value)
    )


class Saboteur:
    """A capability plugin with every hook: neutral (None), except the chosen call.

    Calls are counted only when they concern the target operator (``ctx.operator``), or
    have no operator at all (orientation, rendering).
    """

    def __init__(self, operator: str) -> None:
        self.operator = operator
        self.calls: Counter[str] = Counter()
        self.fail_at: tuple[str, int] | None = None

    def reset(self, fail_at: tuple[str, int] | None = None) -> None:
        self.calls.clear()
        self.fail_at = fail_at

    def _hit(self, hook: str, ctx: Any) -> None:
        if ctx is not None and getattr(ctx, "operator", None) != self.operator:
            return
        self.calls[hook] += 1
        if self.fail_at == (hook, self.calls[hook]):
            raise RuntimeError(f"{SECRET} dans {hook}")

    @hookimpl
    def cep_plugin_info(self) -> PluginInfo:
        return PluginInfo(
            id="test.saboteur",
            kind=PluginKind.CAPABILITY,
            labels=(DatedLabel(valid_from=date(2020, 1, 1), value="Sabotage", source="t"),),
            core_range=">=0",
        )


def _add_saboteur_hooks() -> None:
    """One method per hookspec, with the spec's argument names (pluggy matches by name)."""
    for name in hook_names():
        if name == "cep_plugin_info":
            continue
        params = list(inspect.signature(getattr(hookspecs, name)).parameters)
        ctx = "ctx" if "ctx" in params else "None"
        source = f"def {name}(self, {', '.join(params)}):\n    self._hit({name!r}, {ctx})\n"
        namespace: dict[str, Any] = {}
        exec(source, namespace)
        setattr(Saboteur, name, hookimpl(namespace[name]))


_add_saboteur_hooks()


# -- the world and its snapshots ---------------------------------------------------------------


@dataclass
class Faulty:
    world: World
    saboteur: Saboteur


@pytest.fixture(scope="module", params=BACKENDS)
def faulty(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Faulty]:
    saboteur = Saboteur("alpha")
    for world in backend_world(request, tmp_path_factory, extra=[saboteur]):
        yield Faulty(world, saboteur)


def dump(world: World) -> dict[str, list[str]]:
    """Every row of every table (but the volatile ones), in a stable order."""
    found: dict[str, list[str]] = {}
    with world.kit.database.read() as connection:
        for table in metadata.sorted_tables:
            if table.name in VOLATILE_TABLES:
                continue
            found[table.name] = sorted(
                repr(tuple(row)) for row in connection.execute(select(table))
            )
    return found


def files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")} if folder.exists() else set()


# -- the write requests ---------------------------------------------------------------------------


def open_case(world: World, **changes: Any) -> tuple[str, str]:
    answer = world.alpha.create({**OPEN_BODY, **changes})
    assert answer.status_code == 201, answer.text
    return answer.json()["id"], answer.headers["etag"]


def at_level_2(world: World) -> tuple[str, str]:
    case_id, etag = open_case(world, level=2)
    for step, data in (("level2.project", PROJECT), ("level2.action_plan", ACTION_PLAN)):
        answer = world.alpha.save_step(case_id, step, data, etag, complete=True)
        assert answer.status_code == 200, answer.text
        etag = answer.headers["etag"]
    return case_id, etag


def with_record(world: World) -> tuple[str, str]:
    case_id, etag = open_case(world)
    answer = world.alpha.save_step(case_id, "level1.record", RECORD, etag, complete=True)
    assert answer.status_code == 200, answer.text
    return case_id, answer.headers["etag"]


def synthesis(world: World, state: tuple[str, str], client: CaseClient | None = None) -> Response:
    client = client or world.alpha
    answer = client.request("POST", f"{CASES}/{state[0]}/syntheses/", json={"level": 1})
    for _ in range(200):  # a slow machine may answer 202 first: follow the status URL
        if answer.status_code != 202:
            break
        threading.Event().wait(0.05)
        answer = client.request("GET", answer.json()["status_url"])
    return answer


def accept_request(world: World) -> str:
    request = world.kit.requests.submit(
        world.kit.requests.parse_submission(submission(operator="alpha"))
    )
    return request.id


Prepare = Callable[[World], Any]
Run = Callable[[World, Any], Response]

SCENARIOS: dict[str, tuple[Prepare, Run]] = {
    "open a case (with intake)": (
        lambda w: None,
        lambda w, _: w.alpha.create({**OPEN_BODY, "intake": INTAKE}),
    ),
    "submit the intake": (
        open_case,
        lambda w, s: w.alpha.request(
            "PUT", f"{CASES}/{s[0]}/intake", etag=s[1], json={"answers": INTAKE}
        ),
    ),
    "complete a step": (
        open_case,
        lambda w, s: w.alpha.save_step(
            s[0], "alpha.positioning", {"score": 5}, s[1], complete=True
        ),
    ),
    "record a session": (
        open_case,
        lambda w, s: w.alpha.request("POST", f"{CASES}/{s[0]}/sessions", etag=s[1], json=SESSION),
    ),
    "pause the case": (
        open_case,
        lambda w, s: w.alpha.action(s[0], "pause", s[1]),
    ),
    "start level 2": (
        with_record,
        lambda w, s: w.alpha.action(s[0], "start-level-2", s[1]),
    ),
    "close the case": (
        open_case,
        lambda w, s: w.alpha.action(s[0], "close", s[1], {"reason": "abandoned"}),
    ),
    "refer the case": (
        open_case,
        lambda w, s: w.alpha.action(
            s[0], "refer", s[1], {"target_operator": "beta", "reason": "better_suited"}
        ),
    ),
    "attach a funding plan": (
        at_level_2,
        lambda w, s: w.alpha.request(
            "PUT", f"{CASES}/{s[0]}/funding-plan", etag=s[1], json=FUNDING
        ),
    ),
    "produce a synthesis": (with_record, synthesis),
    "accept an appointment request": (
        accept_request,
        lambda w, s: w.alpha.request("POST", f"/api/v1/requests/{s}/accept"),
    ),
}


def controlled(answer: Response, hook: str) -> None:
    """A problem document in French, 4xx or 5xx, that says nothing of the exception."""
    assert answer.status_code >= 400, (hook, answer.status_code, answer.text)
    assert answer.status_code != 500, (hook, answer.text)  # a plugin failure is not a bug
    assert answer.headers["content-type"] == "application/problem+json", (hook, answer.text)
    body = answer.json()
    assert SECRET not in answer.text
    assert body["title"] in {
        "Requête invalide",
        "Conflit",
        "Service momentanément indisponible",
        "Requête impossible à traiter",
    }, (hook, body)


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_a_fault_in_any_hook_leaves_nothing_behind(faulty: Faulty, scenario: str) -> None:
    """Either a controlled error and every row as before, or — the fault came after the
    commit, while the answer was built — the success the write is (never an error over a
    half-applied change)."""
    world, saboteur = faulty.world, faulty.saboteur
    prepare, run = SCENARIOS[scenario]
    state = prepare(world)
    saboteur.reset()
    ok = run(world, state)
    assert ok.status_code < 300, ok.text
    calls = dict(saboteur.calls)
    assert not set(calls) & set(NOT_ON_A_WRITE_PATH), calls
    refused: set[str] = set()
    for hook, count in sorted(calls.items()):
        for index in sorted({1, (count + 1) // 2, count}):
            state = prepare(world)
            before, on_disk = dump(world), files(world.data_dir)
            saboteur.reset(fail_at=(hook, index))
            try:
                answer = run(world, state)
            finally:
                saboteur.reset()
            assert SECRET not in answer.text
            if answer.status_code < 300:
                assert dump(world) != before, f"{scenario}: {hook} #{index}: success, no write"
                continue
            assert hook not in AFTER_COMMIT, (hook, answer.text)
            controlled(answer, f"{hook} #{index}/{count}")
            assert dump(world) == before, f"{scenario}: {hook} #{index}/{count} left rows"
            assert files(world.data_dir) == on_disk
            refused.add(hook)
    # The operator's rules are asked before anything is written: their failure refuses.
    assert set(calls) & REFUSING_HOOKS <= refused, set(calls) & REFUSING_HOOKS - refused


def test_every_hook_is_either_faulted_or_excused(faulty: Faulty) -> None:
    """Each hook of the specs is called by some write request, or excused with a reason."""
    world, saboteur = faulty.world, faulty.saboteur
    called: set[str] = set()
    for prepare, run in SCENARIOS.values():
        state = prepare(world)
        saboteur.reset()
        assert run(world, state).status_code < 300
        called |= set(saboteur.calls)
    every = set(hook_names())
    assert every == called | set(NOT_ON_A_WRITE_PATH), every - called - set(NOT_ON_A_WRITE_PATH)
    assert not called & set(NOT_ON_A_WRITE_PATH)
    assert set(AFTER_COMMIT) <= called


# -- one broken operator (REL-13) ----------------------------------------------------------------


class BrokenAlpha(Alpha):
    """Alpha, whose every hook raises once ``broken`` is set."""

    broken = False

    def _check(self) -> None:
        if self.broken:
            raise RuntimeError(SECRET)

    @hookimpl
    def cep_assess_competence(self, situation: Any) -> Any:
        self._check()
        return super().cep_assess_competence(situation)

    @hookimpl
    def cep_intake_form(self, ctx: Any, channel: Any) -> Any:
        self._check()
        return super().cep_intake_form(ctx, channel)

    @hookimpl
    def cep_session_steps(self, ctx: Any, level: Any, case: Any) -> Any:
        self._check()
        return super().cep_session_steps(ctx, level, case)

    @hookimpl
    def cep_case_transition(self, ctx: Any, case: Any, transition: Any) -> Any:
        self._check()
        return super().cep_case_transition(ctx, case, transition)

    @hookimpl
    def cep_synthesis_sections(self, ctx: Any, case: Any, level: Any) -> list[Any]:
        self._check()
        return []


def test_a_broken_operator_fails_alone(tmp_path: Path) -> None:
    alpha = BrokenAlpha()
    for world in build_world(tmp_path, None, operators={"alpha": alpha, "beta": Beta()}):
        alpha_case, alpha_etag = open_case(world)
        beta = world.beta
        opened = beta.create(OPEN_BODY)
        assert opened.status_code == 201, opened.text
        beta_case, beta_etag = opened.json()["id"], opened.headers["etag"]
        alpha.broken = True

        refused = world.alpha.create(OPEN_BODY)
        controlled(refused, "alpha")
        assert "alpha" in refused.json()["detail"] or refused.status_code == 400
        paused = world.alpha.action(alpha_case, "pause", alpha_etag)
        controlled(paused, "alpha")

        # Beta's counsellors keep working: open, record, step, pause, synthesis.
        assert beta.create(OPEN_BODY).status_code == 201
        recorded = beta.request(
            "POST", f"{CASES}/{beta_case}/sessions", etag=beta_etag, json=SESSION
        )
        assert recorded.status_code == 201, recorded.text
        etag = recorded.headers["etag"]
        saved = beta.save_step(beta_case, "level1.record", RECORD, etag, complete=True)
        assert saved.status_code == 200, saved.text
        produced = synthesis(world, (beta_case, ""), beta)
        assert produced.status_code in (200, 201), produced.text
        paused = beta.action(beta_case, "pause", saved.headers["etag"])
        assert paused.status_code == 200, paused.text
        # Orientation still answers, without the broken operator.
        oriented = world.http.post(
            "/api/v1/orientation", json={"birth_date": "1990-04-23", "status": "employee"}
        )
        assert oriented.status_code == 200, oriented.text
        assert "alpha" not in {o["id"] for o in oriented.json()["operators"]}

"""Load test: 50 counsellors at once, 80 % reads / 20 % writes, 60 s (issue #7 point 9, REL-05).

    uv run --group bench python bench/load.py             # SQLite then PostgreSQL, about 3 minutes
    uv run --group bench python bench/load.py --quick     # 20 s per database, about 1 minute
    uv run --group bench python bench/load.py --backend sqlite --users 10 --seconds 10 \\
        --no-docs --errors-only --json                    # the CI short form (tests/reliability)

``cep serve`` (as shipped) on a fresh database — SQLite, then a throw-away PostgreSQL 15
cluster with fsync on when PostgreSQL is installed — with one counsellor account per
simulated user, each with its personal access token, 4 cases of its own and the operator's
demo cases. Locust (headless, ``bench/locustfile.py``) plays the counsellors: list my cases,
read a case, read its steps, save a step draft with ``If-Match``, record a session with
``If-Match``, a think time of about a second between actions.

Thresholds (REL-05): zero errors (any transport error or answer other than 200/201), p95
under 300 ms for reads and under 800 ms for writes. The exit status is 1 when one is
breached (``--errors-only``: only errors count, for CI on a shared machine).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

READ_P95_MS = 300.0
WRITE_P95_MS = 800.0
CASES_EACH = 4


def run_backend(
    folder: Path, url: str, *, users: int, seconds: float, think: float
) -> dict[str, Any]:
    counsellors = common.seed(folder, url, counsellors=users, cases_each=CASES_EACH)
    plan = folder / "plan.json"
    plan.write_text(
        json.dumps(
            {
                "counsellors": [
                    {"user_id": c.user_id, "token": c.token, "case_ids": c.case_ids}
                    for c in counsellors
                ],
                "step_id": common.STEP_ID,
                "step_body": json.loads(common.STEP_BODY),
            }
        )
    )
    out = folder / "load-results.json"
    with common.cep_server(folder, url) as server:
        server.wait_ready(
            f"/api/v1/cases/{counsellors[0].case_ids[0]}",
            headers={"Authorization": f"Bearer {counsellors[0].token}"},
        )
        rss_before = common.rss_mib(server.pid)
        env = {
            **os.environ,
            "BENCH_LOAD_PLAN": str(plan),
            "BENCH_LOAD_OUT": str(out),
            "BENCH_LOAD_THINK": str(think),
        }
        locust = [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(common.ROOT / "bench" / "locustfile.py"),
            "--headless",
            "--host",
            server.base,
            "--users",
            str(users),
            "--spawn-rate",
            str(max(users, 1) * 2),
            "--run-time",
            f"{max(1, round(seconds))}s",
            "--stop-timeout",
            "10",
            "--only-summary",
            "--loglevel",
            "WARNING",
        ]
        done = subprocess.run(
            locust, env=env, capture_output=True, text=True, check=False, timeout=seconds + 120
        )
        rss_after = common.rss_mib(server.pid)
        server_log = server.log_tail(40)
    if not out.exists():
        raise RuntimeError(f"locust wrote no results ({done.returncode}):\n{done.stderr[-3000:]}")
    raw = json.loads(out.read_text())
    reads, writes = raw["read"], raw["write"]

    def stats(values: list[float]) -> dict[str, Any]:
        if not values:
            return {"requests": 0}
        return {
            "requests": len(values),
            "rps": round(len(values) / seconds, 1),
            "p50_ms": round(common.percentile(values, 50), 1),
            "p95_ms": round(common.percentile(values, 95), 1),
            "p99_ms": round(common.percentile(values, 99), 1),
            "max_ms": round(max(values), 1),
        }

    return {
        "users": users,
        "seconds": seconds,
        "think_s": think,
        "read": stats(reads),
        "write": stats(writes),
        "write_share": round(len(writes) / max(1, len(reads) + len(writes)), 3),
        "errors": len(raw["failures"]),
        "error_samples": sorted(set(raw["failures"]))[:10],
        "rss_mib_before": round(rss_before, 1),
        "rss_mib_after": round(rss_after, 1),
        "server_log_tail": server_log if raw["failures"] else "",
    }


def verdict(result: dict[str, Any], *, errors_only: bool) -> list[str]:
    """The thresholds this run breached (empty: all met)."""
    breaches = []
    if result["errors"]:
        breaches.append(f"{result['errors']} error(s): {result['error_samples'][:3]}")
    if not result["read"]["requests"] or not result["write"]["requests"]:
        breaches.append("no reads or no writes were made")
    if errors_only:
        return breaches
    if result["read"].get("p95_ms", 0) > READ_P95_MS:
        breaches.append(f"read p95 {result['read']['p95_ms']} ms > {READ_P95_MS:g} ms")
    if result["write"].get("p95_ms", 0) > WRITE_P95_MS:
        breaches.append(f"write p95 {result['write']['p95_ms']} ms > {WRITE_P95_MS:g} ms")
    return breaches


def section(results: dict[str, Any], command: str) -> str:
    info = results["machine"]
    rows = []
    for backend, result in results["backends"].items():
        for kind in ("read", "write"):
            values = result[kind]
            target = READ_P95_MS if kind == "read" else WRITE_P95_MS
            rows.append(
                [
                    "SQLite" if backend == "sqlite" else "PostgreSQL",
                    "reads" if kind == "read" else "writes",
                    values["requests"],
                    values.get("rps", 0),
                    values.get("p50_ms", "—"),
                    f"**{values.get('p95_ms', '—')}** (< {target:g})",
                    values.get("p99_ms", "—"),
                    result["errors"] if kind == "read" else "",
                ]
            )
    verdicts = [
        f"- {'SQLite' if b == 'sqlite' else 'PostgreSQL'}: "
        + (
            "all thresholds met."
            if not r["breaches"]
            else "**breached**: " + "; ".join(r["breaches"]) + "."
        )
        + f" Server RSS {r['rss_mib_before']} → {r['rss_mib_after']} MiB; writes "
        f"{100 * r['write_share']:.0f} % of requests."
        for b, r in results["backends"].items()
    ]
    any_result = next(iter(results["backends"].values()))
    return "\n".join(
        [
            "## Charge : 50 conseillers simultanés (`bench/load.py`)",
            "",
            "**Command** (from the repository root; about 3 minutes, `--quick` about 1):",
            "",
            "```",
            "uv run --group bench python bench/load.py",
            "uv run --group bench python bench/load.py --quick",
            "```",
            "",
            f"**Run:** {info['date']} (`{command}`). **Machine:** {common.machine_line(info)}",
            "",
            f"`cep serve` as shipped (one uvicorn process) on a fresh database; "
            f"{any_result['users']} simulated counsellors (locust, headless, same machine), "
            f"{any_result['seconds']:g} s, each with its own personal access token and "
            f"{CASES_EACH} cases of its own plus the demo cases, about "
            f"{any_result['think_s']:g} s of think time between actions. Mix: list my cases 25, "
            "read a case 30, read its steps 25, save a step draft with `If-Match` 15, record a "
            "session with `If-Match` 5. Errors: any transport error or answer other than "
            "200/201 (a 412 or a 429 would count). Thresholds (REL-05): zero errors, p95 under "
            f"{READ_P95_MS:g} ms for reads and {WRITE_P95_MS:g} ms for writes.",
            "",
            common.table(
                [
                    "database",
                    "kind",
                    "requests",
                    "req/s",
                    "p50 (ms)",
                    "p95 (ms)",
                    "p99 (ms)",
                    "errors",
                ],
                rows,
            ),
            "",
            *verdicts,
            "",
            *(
                [
                    f"The machine was busy (load average {info['load_average']} on "
                    f"{info['cpus']} cores at the start): the server, locust and PostgreSQL "
                    "each got a fraction of a core, so the timings are upper bounds; rerun on "
                    "a quiet machine before judging them. Errors do not depend on it.",
                    "",
                ]
                if info["load_average"] > info["cpus"]
                else []
            ),
            "The short form runs in the tests (`tests/reliability/test_load_short.py`: SQLite, "
            "10 counsellors, 10 s, zero errors asserted, timings not).",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = common.arguments(__doc__, quick="20 s per database")
    parser.add_argument("--backend", default="sqlite,postgresql", help="sqlite, postgresql")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--think", type=float, default=1.0, help="mean think time (s)")
    parser.add_argument("--errors-only", action="store_true", help="fail on errors only")
    args = parser.parse_args(argv)
    seconds = 20.0 if args.quick else args.seconds
    results: dict[str, Any] = {"machine": common.machine(), "backends": {}}
    failed = False
    with tempfile.TemporaryDirectory(prefix="cep-load-") as folder:
        for backend in [b.strip() for b in args.backend.split(",") if b.strip()]:
            place = Path(folder) / backend
            place.mkdir()
            if backend == "sqlite":
                result = run_backend(
                    place,
                    f"sqlite:///{place / 'load.sqlite3'}",
                    users=args.users,
                    seconds=seconds,
                    think=args.think,
                )
            elif backend == "postgresql":
                with common.postgres_cluster() as url:
                    result = run_backend(
                        place, url, users=args.users, seconds=seconds, think=args.think
                    )
            else:
                parser.error(f"unknown backend {backend!r}")
            result["breaches"] = verdict(result, errors_only=args.errors_only)
            failed = failed or bool(result["breaches"])
            results["backends"][backend] = result
    if not args.no_docs:
        common.write_section("load.py", section(results, common.command_line("load.py", argv)))
    if args.json:
        print(json.dumps(results, indent=2, ensure_ascii=False))
    else:
        for backend, result in results["backends"].items():
            print(
                f"{backend:10} reads {result['read']} writes {result['write']} "
                f"errors {result['errors']} -> "
                + ("OK" if not result["breaches"] else "BREACHED: " + "; ".join(result["breaches"]))
            )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

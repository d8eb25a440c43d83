"""Scale-out: one instance of ``cep serve`` against two, on one PostgreSQL (issue #8, point 4).

    uv run --group bench python bench/scaleout.py            # about 2 minutes
    uv run --group bench python bench/scaleout.py --quick    # about 1 minute

A throw-away PostgreSQL 15 cluster (fsync on), demo data and 100 counsellors with their
tokens; then, in interleaved rounds, a mixed read workload (a case, its steps, a list of
cases, with tokens in turn) from wrk: 16 connections on one instance, or 8 connections on
each of two instances (two wrk processes at once, requests per second added up). The
instances are the same ``cep serve`` processes, as two app servers behind a reverse proxy
would be. Written to ``docs/benchmarks.md``; see ``docs/deployment.md`` for what it means.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common
from common import Counsellor, Server, WrkResult, lua_list

CONNECTIONS = 16


def read_mix_lua(counsellors: list[Counsellor]) -> str:
    pairs = [(c.token, case) for c in counsellors for case in c.case_ids]
    return f"""
tokens = {lua_list([t for t, _ in pairs])}
cases = {lua_list([c for _, c in pairs])}
k = 0
request = function()
  k = k + 1
  local n = (k % #cases) + 1
  local auth = {{["Authorization"] = "Bearer " .. tokens[n]}}
  local slot = k % 4
  if slot == 0 then
    return wrk.format("GET", "/api/v1/cases/" .. cases[n] .. "/steps", auth)
  elseif slot == 1 then
    return wrk.format("GET", "/api/v1/cases?limit=20", auth)
  end
  return wrk.format("GET", "/api/v1/cases/" .. cases[n], auth)
end
"""


def load(servers: list[Server], lua: str, seconds: float) -> list[WrkResult]:
    each = CONNECTIONS // len(servers)
    with ThreadPoolExecutor(len(servers)) as pool:
        futures = [
            pool.submit(common.run_wrk, s.base + "/", connections=each, seconds=seconds, lua=lua)
            for s in servers
        ]
        return [f.result() for f in futures]


def run(rounds: int, seconds: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="cep-scaleout-") as folder:
        base = Path(folder)
        with common.postgres_cluster() as url:
            counsellors = common.seed(base, url, counsellors=100, cases_each=2)
            lua = read_mix_lua(counsellors)
            first = common.cep_server(base, url)
            second = common.cep_server(base, url)
            with first, second:
                token = {"Authorization": f"Bearer {counsellors[0].token}"}
                path = f"/api/v1/cases/{counsellors[0].case_ids[0]}"
                first.wait_ready(path, headers=token)
                second.wait_ready(path, headers=token)
                common.touch_tokens(first.base, counsellors)
                load([first], lua, 2)
                load([first, second], lua, 2)
                one: list[float] = []
                two: list[float] = []
                bad = 0
                latency: dict[str, list[float]] = {"one": [], "two": []}
                for number in range(rounds):
                    order = [("one", [first]), ("two", [first, second])]
                    if number % 2:
                        order.reverse()
                    for name, servers in order:
                        results = load(servers, lua, seconds)
                        total = sum(r.rps for r in results)
                        (one if name == "one" else two).append(total)
                        latency[name].append(max(r.p99_ms for r in results))
                        bad += sum(r.non_2xx + r.errors for r in results)
                rss = [round(common.rss_mib(s.pid), 1) for s in (first, second)]
    return {
        "rounds": rounds,
        "seconds": seconds,
        "one_rps": one,
        "two_rps": two,
        "one_median": round(statistics.median(one), 1),
        "two_median": round(statistics.median(two), 1),
        "gain": round(statistics.median(two) / statistics.median(one), 2),
        "one_p99_ms": round(statistics.median(latency["one"]), 1),
        "two_p99_ms": round(statistics.median(latency["two"]), 1),
        "bad": bad,
        "rss_mib": rss,
    }


def section(results: dict[str, Any], command: str) -> str:
    info = results["machine"]
    return "\n".join(
        [
            "## Plusieurs instances sur un PostgreSQL (`bench/scaleout.py`)",
            "",
            "**Command** (from the repository root; about 2 minutes, `--quick` about 1):",
            "",
            "```",
            "uv run --group bench python bench/scaleout.py",
            "```",
            "",
            f"**Run:** {info['date']} (`{command}`). **Machine:** {common.machine_line(info)}",
            "",
            "A throw-away PostgreSQL 15 cluster (fsync on) on the same machine; `cep serve` "
            "processes as shipped (one uvicorn worker each); a read mix (a case, its steps, a "
            "list of 20 cases; tokens of 100 counsellors in turn) from wrk with "
            f"{CONNECTIONS} connections in all, {results['seconds']:g} s per run, "
            f"{results['rounds']} interleaved rounds, medians.",
            "",
            common.table(
                ["instances", "req/s (sum)", "worst p99 (ms)", "rounds (req/s)"],
                [
                    [
                        1,
                        common.fmt(results["one_median"], 0),
                        results["one_p99_ms"],
                        ", ".join(f"{v:.0f}" for v in results["one_rps"]),
                    ],
                    [
                        2,
                        common.fmt(results["two_median"], 0),
                        results["two_p99_ms"],
                        ", ".join(f"{v:.0f}" for v in results["two_rps"]),
                    ],
                ],
            ),
            "",
            f"**Gain of the second instance: ×{results['gain']:.2f}**; "
            f"{results['bad']} answers ≥ 400 or socket errors; RSS of the instances "
            f"{results['rss_mib'][0]} and {results['rss_mib'][1]} MiB.",
            "",
            "On this 2-vCPU machine the two instances, PostgreSQL and wrk share the same two "
            "cores (and other engineers' work): a second instance only helps as far as one "
            "instance left a core idle — one uvicorn process is bound by one core (the GIL), "
            "so the gain comes from using the second core, not from more hardware. On separate "
            "hosts (or a machine with more cores), each instance adds about one core's worth "
            "of requests until PostgreSQL becomes the limit. See `docs/deployment.md`.",
            "",
        ]
    )


def main() -> int:
    args = common.arguments(__doc__, quick="one round of 4 s").parse_args()
    rounds, seconds = (1, 4.0) if args.quick else (3, 8.0)
    results: dict[str, Any] = {"machine": common.machine(), **run(rounds, seconds)}
    if not args.no_docs:
        common.write_section("scaleout.py", section(results, common.command_line("scaleout.py")))
    if args.json:
        print(json.dumps(results, indent=2, ensure_ascii=False))
    else:
        print(
            f"1 instance: {results['one_median']} req/s, 2 instances: {results['two_median']} "
            f"req/s, gain x{results['gain']}; errors {results['bad']}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

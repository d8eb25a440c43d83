"""Server memory under a long mixed load (issue #8, point 3).

    uv run --group bench python bench/memory.py            # 50,000 requests, about 4 minutes
    uv run --group bench python bench/memory.py --quick    # 10,000 requests, about 1 minute

``cep serve`` as shipped (SQLite) receives 50,000 requests from wrk (8 connections, one wrk
thread each), a mix of case reads, steps reads, case lists, orientations, the public home
page and step drafts written with ``If-Match`` (10 %), with personal access tokens of 100
counsellors in turn. The server's resident memory (``VmRSS`` of ``/proc/<pid>/status``) is
read before the load and after every 10,000 requests, and plotted in
``docs/img/memory-rss.png``. Goals: under 150 MB after 50,000 requests, and flat between
10,000 and 50,000.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common
from common import Counsellor, lua_list, lua_string

CONNECTIONS = 8
LIMIT_MB = 150.0
# "Flat": what the last 40,000 requests may add, at most.
FLAT_MIB = 5.0


def mixed_lua(counsellors: list[Counsellor]) -> str:
    """Ten requests in turn per connection: 3 case reads, 2 steps reads, a list, an
    orientation, the home page, a write (with the ETag of the connection's own case) and
    a read of the own case."""
    pairs = [(c.token, case) for c in counsellors for case in c.case_ids]
    own = [c.case_ids[0] for c in counsellors[:CONNECTIONS]]
    return f"""
tokens = {lua_list([t for t, _ in pairs])}
cases = {lua_list([c for _, c in pairs])}
own = {lua_list(own)}
orientation = {lua_string(common.ORIENTATION_BODY)}
draft = {lua_string(common.STEP_BODY)}
local counter = 0
setup = function(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
k = 0
etag = nil
last = ""
request = function()
  k = k + 1
  local n = ((tid * 31 + k) % #cases) + 1
  local auth = {{["Authorization"] = "Bearer " .. tokens[n]}}
  local slot = k % 10
  last = ""
  if slot <= 2 then
    return wrk.format("GET", "/api/v1/cases/" .. cases[n], auth)
  elseif slot <= 4 then
    return wrk.format("GET", "/api/v1/cases/" .. cases[n] .. "/steps", auth)
  elseif slot == 5 then
    return wrk.format("GET", "/api/v1/cases?limit=20", auth)
  elseif slot == 6 then
    local json = {{["Content-Type"] = "application/json"}}
    return wrk.format("POST", "/api/v1/orientation", json, orientation)
  elseif slot == 7 then
    return wrk.format("GET", "/", {{["Accept"] = "text/html"}})
  elseif slot == 8 and etag ~= nil then
    last = "own"
    auth["Content-Type"] = "application/json"
    auth["If-Match"] = etag
    local path = "/api/v1/cases/" .. own[tid + 1] .. "/steps/{common.STEP_ID}"
    return wrk.format("PUT", path, auth, draft)
  end
  last = "own"
  return wrk.format("GET", "/api/v1/cases/" .. own[tid + 1], auth)
end
response = function(status, headers, body)
  if status >= 400 then
    io.write("BAD " .. status .. "\\n")
  end
  if last == "own" then
    if status == 200 then
      etag = headers["etag"] or headers["ETag"]
    else
      etag = nil
    end
  end
end
"""


def run(total: int, step: int, seconds_per_chunk: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="cep-memory-") as folder:
        base = Path(folder)
        url = f"sqlite:///{base / 'memory.sqlite3'}"
        counsellors = common.seed(base, url, counsellors=100, cases_each=2)
        lua = mixed_lua(counsellors)
        with common.cep_server(base, url) as server:
            server.wait_ready(
                f"/api/v1/cases/{counsellors[0].case_ids[0]}",
                headers={"Authorization": f"Bearer {counsellors[0].token}"},
            )
            common.touch_tokens(server.base, counsellors)
            points = [{"requests": 0, "rss_mib": round(common.rss_mib(server.pid), 1)}]
            done = non_2xx = errors = 0
            statuses: dict[str, int] = {}
            rps = []
            target = step
            while done < total:
                result = common.run_wrk(
                    server.base + "/",
                    connections=CONNECTIONS,
                    threads=CONNECTIONS,
                    seconds=seconds_per_chunk,
                    lua=lua,
                )
                done += result.requests
                non_2xx += result.non_2xx
                for code, count in result.bad_statuses.items():
                    statuses[code] = statuses.get(code, 0) + count
                errors += result.errors
                rps.append(result.rps)
                while done >= target and target <= total:
                    points.append(
                        {"requests": done, "rss_mib": round(common.rss_mib(server.pid), 1)}
                    )
                    target += step
            peak = common.rss_mib(server.pid)
    return {
        "requests": done,
        "points": points,
        "non_2xx": non_2xx,
        "statuses": statuses,
        "errors": errors,
        "rps_median": sorted(rps)[len(rps) // 2],
        "final_rss_mib": round(peak, 1),
    }


def plot(points: list[dict[str, Any]]) -> str:
    figure = common.new_figure()
    axes = figure.add_subplot(1, 1, 1)
    axes.plot([p["requests"] for p in points], [p["rss_mib"] for p in points], "o-")
    axes.axhline(LIMIT_MB * 1e6 / 2**20, color="tab:red", linestyle="--", label="150 Mo (143 Mio)")
    axes.set_xlabel("requêtes servies")
    axes.set_ylabel("mémoire résidente (Mio)")
    axes.set_ylim(0, max(160, max(p["rss_mib"] for p in points) + 10))
    axes.set_title("Mémoire du serveur (VmRSS) sous une charge mixte")
    axes.grid(True, alpha=0.3)
    axes.legend()
    return common.save_plot(figure, "memory-rss")


def section(results: dict[str, Any], command: str) -> str:
    info = results["machine"]
    points = results["points"]
    after_first = (
        [p for p in points if p["requests"] >= points[1]["requests"]] if len(points) > 1 else points
    )
    growth = after_first[-1]["rss_mib"] - after_first[0]["rss_mib"]
    limit_mib = LIMIT_MB * 1e6 / 2**20
    return "\n".join(
        [
            "## Mémoire sous charge (`bench/memory.py`)",
            "",
            "**Command** (from the repository root; about 4 minutes, `--quick` about 1):",
            "",
            "```",
            "uv run --group bench python bench/memory.py",
            "```",
            "",
            f"**Run:** {info['date']} (`{command}`). **Machine:** {common.machine_line(info)}",
            "",
            f"`cep serve` (SQLite), {common.fmt(results['requests'], 0)} requests from wrk "
            f"({CONNECTIONS} connections): per ten requests, 3 case reads, 2 steps reads, a "
            "case list, an orientation, the public home page, a step draft written with "
            f"`If-Match` and a read; {results['rps_median']:.0f} requests per second (median "
            "of the chunks); "
            f"{results['non_2xx']} answers ≥ 400 (by status: {results['statuses'] or 'none'}), "
            f"{results['errors']} socket errors.",
            "",
            common.table(
                ["requests served", "VmRSS (MiB)"],
                [[common.fmt(p["requests"], 0), p["rss_mib"]] for p in points],
            ),
            "",
            f"![Mémoire du serveur]({results['plot']})",
            "",
            f"- Under 150 MB ({limit_mib:.0f} MiB) after the run: "
            f"{'met' if results['final_rss_mib'] < limit_mib else '**missed**'} "
            f"({results['final_rss_mib']} MiB).",
            f"- Flat from the first checkpoint on: {growth:+.1f} MiB over the last "
            f"{common.fmt(after_first[-1]['requests'] - after_first[0]['requests'], 0)} requests "
            f"(goal: within {FLAT_MIB:g} MiB) — {'met' if growth <= FLAT_MIB else '**missed**'}.",
            "",
            "Most of the memory is code and caches that fill on first use (the imported "
            "modules, SQLAlchemy's statement cache, Jinja2's compiled templates, the "
            "route table); after that, requests allocate and free.",
            "",
        ]
    )


def main() -> int:
    parser = common.arguments(
        __doc__, quick="10,000 requests", no_docs="do not update the docs (section and plot)"
    )
    parser.add_argument("--requests", type=int, default=50_000)
    args = parser.parse_args()
    total, step = (10_000, 2_000) if args.quick else (args.requests, max(1, args.requests // 5))
    results: dict[str, Any] = {"machine": common.machine(), **run(total, step, 3.0)}
    if not args.no_docs:  # a short run must not replace the published plot either
        results["plot"] = plot(results["points"])
        common.write_section("memory.py", section(results, common.command_line("memory.py")))
    if args.json:
        print(json.dumps(results, indent=2, ensure_ascii=False))
    else:
        for point in results["points"]:
            print(f"{point['requests']:>7} requests: {point['rss_mib']} MiB")
        print(f"non-2xx {results['non_2xx']}, socket errors {results['errors']}")
    limit_mib = LIMIT_MB * 1e6 / 2**20
    return 0 if results["final_rss_mib"] < limit_mib else 1


if __name__ == "__main__":
    sys.exit(main())

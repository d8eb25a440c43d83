"""Start-up: ``cep --help`` and the time until ``cep serve`` answers (issue #8, point 2).

    uv run --group bench python bench/startup.py            # about 1 minute
    uv run --group bench python bench/startup.py --quick    # about 20 s

1. ``cep --help``: wall time of the whole process (interpreter, imports, argparse), median
   of N runs. Goal: under 0.5 s. The CLI imports its commands' modules lazily.
2. ``cep serve``: from the process start to the first 200 answer on a cheap route (``GET /``,
   the public home page), polling every 10 ms; the first start of a new database (which
   applies the migrations) and restarts on an up-to-date database, median of N. Goal: under
   2 s.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

HELP_GOAL_S = 0.5
READY_GOAL_S = 2.0


def time_help(runs: int) -> list[float]:
    cep = common.cep_executable()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([cep, "--help"], capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return times


def time_floor(runs: int, code: str) -> list[float]:
    """The same process with only `code` to run: what no lazy import can take away."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return times


FLOORS = {
    "interpreter alone (`python -c pass`)": "pass",
    "`import msgspec, pluggy` (what `cep_core` needs)": "import msgspec, pluggy",
    "`import litestar, sqlalchemy, alembic, uvicorn` (what the server needs)": (
        "import litestar, sqlalchemy, alembic, uvicorn"
    ),
}


def time_ready(folder: Path, runs: int) -> tuple[float, list[float]]:
    url = f"sqlite:///{folder / 'startup.sqlite3'}"
    first = None
    times = []
    for number in range(runs + 1):
        server = common.cep_server(folder, url)
        with server:
            elapsed = server.wait_ready("/")
        if number == 0:
            first = elapsed
        else:
            times.append(elapsed)
    assert first is not None
    return first, times


def section(results: dict[str, Any], command: str) -> str:
    info = results["machine"]
    help_median = results["help_median_s"]
    ready_median = results["ready_median_s"]
    return "\n".join(
        [
            "## Démarrage (`bench/startup.py`)",
            "",
            "**Command** (from the repository root; about 1 minute, `--quick` about 20 s):",
            "",
            "```",
            "uv run --group bench python bench/startup.py",
            "```",
            "",
            f"**Run:** {info['date']} (`{command}`). **Machine:** {common.machine_line(info)}",
            "",
            common.table(
                ["measure", "median", "min", "max", "runs", "goal"],
                [
                    [
                        "`cep --help` (whole process)",
                        f"**{help_median:.3f} s**",
                        f"{min(results['help_s']):.3f} s",
                        f"{max(results['help_s']):.3f} s",
                        len(results["help_s"]),
                        f"< {HELP_GOAL_S} s — "
                        f"{'met' if help_median < HELP_GOAL_S else '**missed**'}",
                    ],
                    [
                        "`cep serve` → first 200 on `GET /` (up-to-date database)",
                        f"**{ready_median:.2f} s**",
                        f"{min(results['ready_s']):.2f} s",
                        f"{max(results['ready_s']):.2f} s",
                        len(results["ready_s"]),
                        f"< {READY_GOAL_S} s — "
                        f"{'met' if ready_median < READY_GOAL_S else '**missed**'}",
                    ],
                    [
                        "`cep serve` on a new database (migrations applied first)",
                        f"{results['ready_first_s']:.2f} s",
                        "",
                        "",
                        1,
                        "",
                    ],
                ],
            ),
            "",
            "For scale, on the same machine in the same run (median):",
            "",
            *[f"- {label}: {value:.3f} s" for label, value in results["floors_s"].items()],
            "",
            *(
                [
                    f"The machine was busy (load average {info['load_average']} on "
                    f"{info['cpus']} cores at the start): every process waited for a core, "
                    "imports most of all (they read and compile hundreds of files). Compare "
                    "each figure with the floors above, measured in the same run, and rerun "
                    "on a quiet machine before judging the goals.",
                    "",
                ]
                if info["load_average"] > info["cpus"]
                else []
            ),
            "What the server does before it answers: imports (Litestar, SQLAlchemy, Jinja2, "
            "the plugins), loading and checking the plugins, the migration check (Alembic), the "
            "durability check, building the app (routes, OpenAPI schema on first request only), "
            "then uvicorn binds the port. WeasyPrint is imported by the render worker process, "
            "not by the server. On this shared machine each figure moves by ±20 % between runs.",
            "",
        ]
    )


def main() -> int:
    args = common.arguments(__doc__, quick="fewer runs").parse_args()
    help_runs, ready_runs = (5, 2) if args.quick else (15, 6)
    results: dict[str, Any] = {"machine": common.machine()}
    time_help(1)  # warm the file cache
    results["help_s"] = [round(t, 3) for t in time_help(help_runs)]
    results["floors_s"] = {
        label: round(statistics.median(time_floor(help_runs, code)), 3)
        for label, code in FLOORS.items()
    }
    with tempfile.TemporaryDirectory(prefix="cep-startup-") as folder:
        first, ready = time_ready(Path(folder), ready_runs)
    results["ready_first_s"] = round(first, 3)
    results["ready_s"] = [round(t, 3) for t in ready]
    results["help_median_s"] = round(statistics.median(results["help_s"]), 3)
    results["ready_median_s"] = round(statistics.median(ready), 3)
    if not args.no_docs:
        common.write_section("startup.py", section(results, common.command_line("startup.py")))
    if args.json:
        print(json.dumps(results, indent=2, ensure_ascii=False))
    else:
        print(
            f"cep --help: median {results['help_median_s']} s (goal < {HELP_GOAL_S} s); "
            f"cep serve ready: median {results['ready_median_s']} s (goal < {READY_GOAL_S} s), "
            f"first start with migrations {results['ready_first_s']} s"
        )
    ok = results["help_median_s"] < HELP_GOAL_S and results["ready_median_s"] < READY_GOAL_S
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

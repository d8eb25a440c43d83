"""Where the time of one API request goes, in the server as shipped (issue #8: profile what
misses its target, and write down what bounds it).

    uv run --group bench python bench/profile.py              # about 1 minute
    uv run --group bench python bench/profile.py --seconds 20 --no-docs

``cep serve`` (uvicorn, one worker, SQLite, demo data and the counsellors of
``bench/throughput.py``) is loaded by wrk with the requests of ``bench/throughput.py``
(orientation, case read, step write; its 16 connections) while py-spy samples the thread that
holds the GIL — the Python work of the one process, which is what caps its requests per
second (waits for the disk or a lock release the GIL and overlap). Each sample's innermost
frame is put in one layer — the database driver (the C call
seen from the SQLAlchemy frame that makes it), SQLAlchemy, the kit's services/domain/storage
and plugins, the kit's web layer, pluggy, Litestar, msgspec, uvicorn and asyncio, the thread
pool — and samples of threads waiting for work are left out. The shares per layer are a
table and a stacked bar chart (``docs/img/profile-layers.png``); the busiest frames follow.
"""

from __future__ import annotations

import argparse
import collections
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common
import throughput

CONNECTIONS = throughput.CONNECTIONS
COUNSELLORS = 100

# (layer, test on "function (file:line)") in order: the first that matches wins.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "base de données (pilote)",
        (
            "do_execute (",
            "do_executemany (",
            "do_commit (",
            "do_rollback (",
            "fetchone (",
            "fetchall (",
            "_sqlite_on_begin (",
            "_sqlite_on_connect (",
            "psycopg/",
        ),
    ),
    ("SQLAlchemy", ("sqlalchemy/",)),
    ("pluggy", ("pluggy/",)),
    ("kit : services, domaine, stockage, greffons", ("cep_core/", "plugins/", "cep_")),
    ("Litestar", ("litestar/",)),
    ("msgspec", ("msgspec/",)),
    ("uvicorn, asyncio, réseau", ("uvicorn/", "asyncio/", "httptools", "selectors.py", "socket")),
    ("fils d'exécution (relais)", ("anyio/", "concurrent/futures", "threading.py", "queue.py")),
)
WEB_LAYER = "kit : couche web (authentification, audit, en-têtes, réponses)"
OTHER = "autre"
# Innermost frames of a thread waiting for work (not busy): left out of the shares.
IDLE = (
    "_worker (concurrent/futures/thread.py:81)",
    "wait (threading.py",
    "select (selectors.py",
    "_run_once (asyncio/base_events.py",
    "WorkerThread.run (anyio",
    "_wait_for_tstate_lock",
    "Runner.run (asyncio/runners.py",
)


def layer_of(frame: str) -> str:
    if "cep_core/web/" in frame:
        return WEB_LAYER
    for name, markers in LAYERS:
        if any(marker in frame for marker in markers):
            return name
    return OTHER


def analyse(raw: Path) -> dict[str, Any]:
    """Shares of busy samples per layer, and the busiest innermost frames."""
    layers: collections.Counter[str] = collections.Counter()
    frames: collections.Counter[str] = collections.Counter()
    busy = idle = 0
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        leaf = stack.split(";")[-1]
        if any(marker in leaf for marker in IDLE) or not leaf.strip():
            idle += int(count)
            continue
        busy += int(count)
        layers[layer_of(leaf)] += int(count)
        frames[leaf] += int(count)
    return {
        "busy_samples": busy,
        "idle_samples": idle,
        "layers": {name: round(100 * n / busy, 1) for name, n in layers.most_common()},
        "top": [(frame, round(100 * n / busy, 1)) for frame, n in frames.most_common(8)],
    }


def py_spy() -> str:
    found = Path(sys.executable).parent / "py-spy"
    return str(found) if found.exists() else "py-spy"


def profile(
    server: common.Server, scenario: str, counsellors: list[common.Counsellor], seconds: float
) -> dict[str, Any]:
    raw = server.log_path.parent / f"profile-{scenario}.txt"
    recorder = subprocess.Popen(
        [
            py_spy(),
            "record",
            "--pid",
            str(server.pid),
            "--duration",
            str(int(seconds) + 2),
            "--rate",
            "400",
            "--format",
            "raw",
            "--gil",
            "--output",
            str(raw),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        result = throughput.run_scenario(scenario, "ours", server, counsellors, seconds)
    finally:
        _, errors = recorder.communicate(timeout=seconds + 60)
    if recorder.returncode != 0 or not raw.exists():
        raise RuntimeError(f"py-spy failed: {errors.decode(errors='replace')[-500:]}")
    found = analyse(raw)
    found["rps"] = result.rps
    found["non_2xx"] = result.non_2xx + result.errors
    return found


def plot(results: dict[str, Any]) -> str:
    figure = common.new_figure(8.0, 4.2)
    axes = figure.add_subplot(1, 1, 1)
    names = list(results)
    labels = [CHART_LABELS[name] for name in names]
    order = [name for name, _ in LAYERS] + [WEB_LAYER, OTHER]
    left = [0.0] * len(names)
    colours = [
        "tab:red",
        "tab:orange",
        "tab:olive",
        "tab:blue",
        "tab:purple",
        "tab:brown",
        "tab:gray",
        "tab:pink",
        "tab:cyan",
        "black",
    ]
    for layer, colour in zip(order, colours, strict=True):
        shares = [results[name]["layers"].get(layer, 0.0) for name in names]
        if not any(shares):
            continue
        axes.barh(labels, shares, left=left, color=colour, label=layer)
        left = [a + b for a, b in zip(left, shares, strict=True)]
    axes.set_xlim(0, 100)
    axes.set_xlabel("part des échantillons (fil qui tient le GIL), %")
    axes.set_title("Où passe le temps d'une requête (py-spy, cep serve, SQLite)")
    axes.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2)
    return common.save_plot(figure, "profile-layers")


CHART_LABELS = {
    "orientation": "orientation",
    "read": "lecture d'un dossier",
    "write": "écriture d'une étape",
}
LABELS = {
    "orientation": "`POST /api/v1/orientation`",
    "read": "`GET /api/v1/cases/{id}`",
    "write": f"`PUT …/steps/{common.STEP_ID}`",
}


def section(results: dict[str, Any], info: dict[str, Any], image: str, command: str) -> str:
    order = [name for name, _ in LAYERS] + [WEB_LAYER, OTHER]
    used = [layer for layer in order if any(r["layers"].get(layer) for r in results.values())]
    rows = [
        [LABELS[name], common.fmt(r["rps"], 0)] + [f"{r['layers'].get(x, 0.0):.1f}" for x in used]
        for name, r in results.items()
    ]
    lines = [
        "## Où passe le temps d'une requête (`bench/profile.py`)",
        "",
        "**Command** (from the repository root; about 1 minute):",
        "",
        "```",
        "uv run --group bench python bench/profile.py",
        "```",
        "",
        f"**Run:** {info['date']} (`{command}`). **Machine:** {common.machine_line(info)}",
        "",
        "`cep serve` as shipped (uvicorn, one worker, SQLite) under wrk "
        f"({CONNECTIONS} connections, the requests of `bench/throughput.py`), sampled by "
        "py-spy (400 Hz, `--gil`: the thread holding the GIL, i.e. the Python work that caps "
        "one process; waits for the disk or a lock release the GIL and are not counted). "
        "Each sample goes to the layer of its innermost frame "
        "(a call into SQLite or psycopg counts as the driver, seen from the SQLAlchemy frame "
        "that makes it). Shares of the samples, "
        "in %:",
        "",
        common.table(["request", "req/s while sampled", *used], rows),
        "",
        f"![Où passe le temps d'une requête]({image})",
        "",
        "Busiest innermost frames (share of busy samples):",
        "",
    ]
    for name, r in results.items():
        top = "; ".join(f"`{frame}` {share} %" for frame, share in r["top"][:5])
        lines.append(f"- {LABELS[name]}: {top}")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="durée de chaque profil")
    parser.add_argument("--json", action="store_true", help="les résultats en JSON seulement")
    parser.add_argument("--no-docs", action="store_true", help="ne pas écrire benchmarks.md")
    args = parser.parse_args()
    if args.seconds < 2:
        parser.error("--seconds : au moins 2 secondes")
    info = common.machine()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="cep-profile-") as folder:
        base = Path(folder)
        url = f"sqlite:///{base / 'bench.sqlite3'}"
        counsellors = common.seed(base, url, counsellors=COUNSELLORS, cases_each=2)
        with common.cep_server(base, url) as server:
            token = {"Authorization": f"Bearer {counsellors[0].token}"}
            server.wait_ready(f"/api/v1/cases/{counsellors[0].case_ids[0]}", headers=token)
            common.touch_tokens(server.base, counsellors)
            for scenario in ("orientation", "read", "write"):
                throughput.run_scenario(scenario, "ours", server, counsellors, 1)  # warm up
                print(f"profil : {scenario}…", file=sys.stderr)
                results[scenario] = profile(server, scenario, counsellors, args.seconds)
    if args.json:
        print(json.dumps(results, indent=2, ensure_ascii=False))
    else:
        for name, r in results.items():
            shares = ", ".join(f"{layer} {share} %" for layer, share in r["layers"].items())
            print(f"{name:12} {r['rps']:8.1f} req/s  {shares}")
    if not args.no_docs:
        image = plot(results)
        command = common.command_line("profile.py")
        common.write_section("profile.py", section(results, info, image, command))
    return 0


if __name__ == "__main__":
    sys.exit(main())

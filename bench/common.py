"""Helpers shared by the benchmark scripts (``bench/*.py``): servers, wrk, data, docs, plots.

Every script runs from a fresh clone with ``uv run --group bench python bench/<x>.py``; the
helpers keep them short and make them measure the same way: a server in its own process
group on a free loopback port, wrk bounded in time with its figures read back as JSON, the
machine described once, and each script's section of ``docs/benchmarks.md`` rewritten in
place (other sections untouched).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "benchmarks.md"
IMAGES = ROOT / "docs" / "img"
OPERATOR = "apec"

# -- measuring helpers -------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty sequence: the smallest value
    with at least p % of the values at or below it. (``round(x + 0.5)`` is not a ceiling:
    Python rounds halves to even, so p99 of 100 values was the maximum.)"""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(p * len(ordered) / 100) - 1))
    return ordered[rank]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rss_mib(pid: int) -> float:
    """Resident memory of a process (VmRSS), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def host() -> dict[str, Any]:
    """The machine itself (date, cores, CPU, memory, kernel, Python): the part every
    script reports, ``bench/synthesis.py`` included."""
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def machine() -> dict[str, Any]:
    """What the figures were measured on (and how busy it was)."""
    versions: dict[str, str] = {}
    for name in ("litestar", "uvicorn", "sqlalchemy", "psycopg"):
        with contextlib.suppress(Exception):
            from importlib.metadata import version

            versions[name] = version(name)
    wrk = shutil.which("wrk")
    wrk_version = "absent"
    if wrk:
        out = subprocess.run([wrk, "-v"], capture_output=True, text=True, check=False)
        wrk_version = (out.stdout + out.stderr).split()[1] if (out.stdout + out.stderr) else "?"
    return {
        **host(),
        "sqlite": sqlite3.sqlite_version,
        "wrk": wrk_version,
        "load_average": round(os.getloadavg()[0], 2),
        **versions,
    }


def machine_line(info: Mapping[str, Any]) -> str:
    """One Markdown sentence for a section's **Machine:** line."""
    libs = ", ".join(
        f"{name} {info[name]}"
        for name in ("litestar", "uvicorn", "sqlalchemy", "psycopg")
        if name in info
    )
    return (
        f"{info['cpus']} vCPU ({info['cpu']}), {info['memory_gib']} GiB RAM, Linux "
        f"{info['kernel']}, Python {info['python']}, SQLite {info['sqlite']}, wrk "
        f"{info['wrk']}; {libs}. Load average {info['load_average']} at the start "
        "(the machine is shared)."
    )


# -- servers -----------------------------------------------------------------------------------


@dataclass
class Server:
    """A server process in its own process group, on a loopback port, logging to a file."""

    command: list[str]
    port: int
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        """The process that serves (the uvicorn process itself, not a wrapper)."""
        assert self.process is not None
        return self.process.pid

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.started_at = time.perf_counter()
        self.process = subprocess.Popen(
            self.command,
            env=self.env,
            stdout=log,
            stderr=log,
            start_new_session=True,
            cwd=ROOT,
        )
        log.close()

    def wait_ready(
        self, path: str = "/", *, headers: Mapping[str, str] | None = None, timeout: float = 60
    ) -> float:
        """Poll `path` until it answers 200; seconds since the process was started."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"the server stopped: {self.log_tail()}")
            request = urllib.request.Request(self.base + path, headers=dict(headers or {}))
            try:
                with urllib.request.urlopen(request, timeout=5) as answer:
                    if answer.status == 200:
                        return time.perf_counter() - self.started_at
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.01)
        raise RuntimeError(f"the server did not answer within {timeout} s: {self.log_tail()}")

    def log_tail(self, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def cep_env(data_dir: Path, database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a benchmarked ``cep serve``: its own data folder and database."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("CEP_")}
    env.update(
        {
            "CEP_DATA_DIR": str(data_dir),
            "CEP_DATABASE_URL": database_url,
            "CEP_PLUGINS": OPERATOR,
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


def cep_executable() -> str:
    """The ``cep`` script of this environment (``uv run`` puts it next to the interpreter)."""
    beside = Path(sys.executable).parent / "cep"
    return str(beside) if beside.exists() else (shutil.which("cep") or "cep")


def cep_server(
    data_dir: Path, database_url: str, *, port: int | None = None, **extra: str
) -> Server:
    """``cep serve`` exactly as shipped (uvicorn, one worker, no access log)."""
    port = port or free_port()
    return Server(
        command=[cep_executable(), "serve", "--port", str(port)],
        port=port,
        env=cep_env(data_dir, database_url, **extra),
        log_path=data_dir / f"cep-serve-{port}.log",
    )


def bare_server(folder: Path, *, port: int | None = None, database: str | None = None) -> Server:
    """The baseline: ``bench/bare_app.py``, a bare Litestar echo app run by uvicorn with the
    very settings ``cep serve`` uses; with `database` (``sqlite:///path`` or a PostgreSQL
    URL), its ``/db`` routes read and write ``bare_items`` there."""
    port = port or free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("CEP_")}
    command = [sys.executable, str(ROOT / "bench" / "bare_app.py"), "--port", str(port)]
    return Server(
        command=[*command, "--database", database] if database else command,
        port=port,
        env=env,
        log_path=folder / f"bare-{port}.log",
    )


# -- wrk ---------------------------------------------------------------------------------------

# Appended to every wrk script: the figures as one JSON line, read back by `run_wrk`.
_WRK_DONE = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\nWRK_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "connect": %d, "read": %d, '
    .. '"write": %d, "status": %d, "timeout": %d, "p50_us": %d, "p75_us": %d, "p90_us": %d, '
    .. '"p95_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(75), latency:percentile(90),
    latency:percentile(95), latency:percentile(99), latency.max, latency.mean))
end
"""


@dataclass
class WrkResult:
    """One wrk run. `errors` counts socket errors and timeouts; `non_2xx` answers >= 400."""

    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p75_ms: float
    p90_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    non_2xx: int
    errors: int
    raw: dict[str, Any] = field(default_factory=dict)
    # Status codes >= 400 that a script's ``response`` reported with ``io.write("BAD ", status)``.
    bad_statuses: dict[str, int] = field(default_factory=dict)


def run_wrk(
    url: str,
    *,
    connections: int,
    seconds: float,
    threads: int | None = None,
    lua: str = "",
    timeout: str = "10s",
    workdir: Path | None = None,
) -> WrkResult:
    """Run wrk against `url`; `lua` is a wrk script (request/response/setup functions) to
    which the JSON reporter is appended. One thread by default (the server under test gets
    the other core)."""
    threads = threads or 1
    folder = workdir or Path(tempfile.gettempdir())
    with tempfile.NamedTemporaryFile(
        "w", suffix=".lua", dir=folder, delete=False, encoding="utf-8"
    ) as script:
        script.write(lua + "\n" + _WRK_DONE)
    try:
        out = subprocess.run(
            [
                "wrk",
                f"-t{threads}",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                f"--timeout={timeout}",
                "-s",
                script.name,
                url,
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=seconds + 120,
        )
    finally:
        os.unlink(script.name)
    match = re.search(r"^WRK_JSON (.*)$", out.stdout, re.MULTILINE)
    if out.returncode != 0 or match is None:
        raise RuntimeError(f"wrk failed ({out.returncode}): {out.stdout}\n{out.stderr}")
    raw = json.loads(match.group(1))
    bad: dict[str, int] = {}
    for code in re.findall(r"^BAD (\d+)$", out.stdout, re.MULTILINE):
        bad[code] = bad.get(code, 0) + 1
    duration = raw["duration_us"] / 1e6
    return WrkResult(
        requests=raw["requests"],
        seconds=round(duration, 2),
        rps=round(raw["requests"] / duration, 1),
        p50_ms=raw["p50_us"] / 1000,
        p75_ms=raw["p75_us"] / 1000,
        p90_ms=raw["p90_us"] / 1000,
        p95_ms=raw["p95_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        max_ms=raw["max_us"] / 1000,
        mean_ms=round(raw["mean_us"] / 1000, 3),
        non_2xx=raw["status"],
        errors=raw["connect"] + raw["read"] + raw["write"] + raw["timeout"],
        raw=raw,
        bad_statuses=bad,
    )


def lua_string(value: str) -> str:
    """A Lua string literal (JSON escaping is valid Lua for what we send)."""
    return json.dumps(value, ensure_ascii=False)


def lua_list(values: Sequence[str]) -> str:
    return "{" + ", ".join(lua_string(v) for v in values) + "}"


# -- data --------------------------------------------------------------------------------------


@dataclass
class Counsellor:
    """A counsellor account of the benchmark, its API token and the cases assigned to it."""

    user_id: str
    token: str
    case_ids: list[str]


def seed(
    data_dir: Path,
    database_url: str,
    *,
    counsellors: int,
    cases_each: int,
    demo_cases: int = 12,
) -> list[Counsellor]:
    """Migrate the database and create `counsellors` counsellor accounts of one operator,
    each with a personal access token (as a counsellor's client would use) and
    `cases_each` cases of its own at level 1, plus the operator's demo cases (spread over
    the same counsellors: realistic documents with steps, sessions and plans).

    Each counsellor has its own token because the API allows 600 requests a minute per
    client (SEC-15): a benchmark that sends thousands of requests a second spreads them
    over many clients, as real traffic does.
    """
    from cep_core.domain.case import Level
    from cep_core.domain.context import Role
    from cep_core.domain.situation import Situation, Status
    from cep_core.kit import Kit
    from cep_core.services.cases import NewBeneficiary
    from cep_core.services.demo import seed_demo
    from cep_core.settings import Settings

    kit = Kit(
        settings=Settings(data_dir=data_dir, database_url=database_url, plugins=(OPERATOR,)),
        load_entrypoints=True,
    )
    try:
        kit.check()
        kit.database.upgrade()
        made: list[Counsellor] = []
        for number in range(counsellors):
            user = kit.accounts.create_user(
                email=f"conseiller.{number}@bench.cep-kit.invalid",
                display_name=f"Conseiller {number}",
                role=Role.COUNSELLOR,
                operator=OPERATOR,
            )
            secret, _ = kit.accounts.create_token(user, name="bench", valid_days=366)
            made.append(Counsellor(user_id=user.id, token=secret, case_ids=[]))
        today = kit.today()
        for number in range(counsellors * cases_each):
            owner = made[number % counsellors]
            case = kit.cases.open_case(
                OPERATOR,
                NewBeneficiary(
                    first_name="Camille",
                    last_name=f"Banc-{number}",
                    email=f"camille.banc.{number}@bench.cep-kit.invalid",
                ),
                Situation(
                    birth_date=date(1985, 5, 17),
                    as_of=today,
                    status=Status.EMPLOYEE,
                    cadre=True,
                    working=True,
                    region="84",
                ),
                level=Level.ONE,
                counsellor_id=owner.user_id,
                actor=owner.user_id,
                force=True,
            )
            owner.case_ids.append(case.id)
        if demo_cases:
            seed_demo(
                kit, per_operator=demo_cases, counsellors={OPERATOR: [c.user_id for c in made]}
            )
        return made
    finally:
        kit.close()


def touch_tokens(base: str, counsellors: Sequence[Counsellor]) -> None:
    """Read one case with each token, sequentially, before measuring: a token's first use
    writes its "last used" time (then at most once a minute), which would otherwise put
    hundreds of one-off durable writes into the first measured run."""
    for counsellor in counsellors:
        request = urllib.request.Request(
            f"{base}/api/v1/cases/{counsellor.case_ids[0]}",
            headers={"Authorization": f"Bearer {counsellor.token}"},
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            if answer.status != 200:
                raise RuntimeError(f"warm-up read answered {answer.status}")


# A draft of the first level-1 step: what a counsellor's autosave sends.
STEP_ID = "level1.record"
STEP_BODY = json.dumps(
    {
        "data": {
            "request": "Je souhaite changer de métier et travailler dans le soin.",
            "clarified_need": "Valider un projet de reconversion vers le métier d'aide-soignante.",
        },
        "complete": False,
    },
    ensure_ascii=False,
)
ORIENTATION_BODY = json.dumps(
    {"birth_date": "1990-04-23", "status": "employee", "cadre": True, "region": "53"}
)


# -- PostgreSQL --------------------------------------------------------------------------------


@contextlib.contextmanager
def postgres_cluster(folder: Path | None = None) -> Iterator[str]:
    """A throw-away PostgreSQL 15 cluster (``initdb -A trust``; as the postgres user when
    we are root, since PostgreSQL refuses to run as root) in a folder of its own, under
    `folder` when the postgres user can reach it, else in the temporary folder; yields a
    SQLAlchemy URL, then stops the cluster and removes its folder.

    Always a cluster of its own with ``fsync`` on: ``cep serve`` refuses a server without it
    (``pg_virtualenv`` turns it off), and durable commits are part of what is measured.
    """
    bindir = _pg_bindir()
    cluster = Path(tempfile.mkdtemp(prefix="cep-bench-pg-", dir=_reachable(folder)))
    os.chmod(cluster, 0o755)  # the postgres user must reach it
    port = free_port()
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if os.geteuid() == 0:
        shutil.chown(cluster, "postgres", "postgres")
    data = cluster / "data"
    initdb = [f"{bindir}/initdb", "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8"]
    pg_ctl = [f"{bindir}/pg_ctl", "-D", str(data)]
    options = f"-p {port} -k {cluster} -c listen_addresses=127.0.0.1 -c max_connections=200"
    try:
        _run([*as_postgres, *initdb, "--locale=C.UTF-8"])
        _run(
            [*as_postgres, *pg_ctl, "-l", str(cluster / "server.log"), "-w", "-o", options, "start"]
        )
        try:
            createdb = [f"{bindir}/createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres"]
            _run([*as_postgres, *createdb, "cep"])
            yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/cep"
        finally:
            subprocess.run(
                [*as_postgres, *pg_ctl, "-m", "fast", "stop"], check=False, capture_output=True
            )
    finally:
        shutil.rmtree(cluster, ignore_errors=True)


def _reachable(folder: Path | None) -> Path | None:
    """`folder` if every parent lets others through (a private TemporaryDirectory does
    not: initdb would fail there as the postgres user); else None, the temporary folder."""
    if folder is None:
        return None
    for place in [folder, *folder.parents]:
        if not place.stat().st_mode & 0o001:
            return None
    return folder


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{command[-1]}: {done.stdout}{done.stderr}"[:2000])


def _pg_bindir() -> str:
    for candidate in ("/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin"):
        if Path(candidate, "initdb").exists():
            return candidate
    found = shutil.which("initdb")
    if found:
        return str(Path(found).parent)
    raise RuntimeError("PostgreSQL (initdb) is not installed: apt-get install postgresql-15")


# -- command line ------------------------------------------------------------------------------


def arguments(
    doc: str | None, *, quick: str, no_docs: str = "do not update the docs"
) -> argparse.ArgumentParser:
    """A parser described by the first paragraph of the script's docstring, with the options
    every benchmark script shares (``--quick``, ``--no-docs``, ``--json``); a script adds
    its own after these."""
    parser = argparse.ArgumentParser(description=(doc or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=quick)
    parser.add_argument("--no-docs", action="store_true", help=no_docs)
    parser.add_argument("--json", action="store_true", help="print the results as JSON only")
    return parser


def command_line(script: str, argv: Sequence[str] | None = None) -> str:
    """How `script` was run (``bench/<script> <arguments>``), as its docs section quotes it."""
    return " ".join([f"bench/{script}", *(sys.argv[1:] if argv is None else argv)])


# -- docs/benchmarks.md and plots -------------------------------------------------------------


def write_section(script: str, markdown: str) -> None:
    """Replace (or append) the section of `docs/benchmarks.md` whose heading names
    ``bench/<script>``; `markdown` starts with that ``## `` heading. Locked, so two scripts
    finishing together do not lose each other's section."""
    marker = f"(`bench/{script}`)"
    if not markdown.startswith("## ") or marker not in markdown.splitlines()[0]:
        raise ValueError(f"the section must start with a '## ' heading naming {marker}")
    with (Path(tempfile.gettempdir()) / "cep-kit-benchmarks.md.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        text = DOCS.read_text(encoding="utf-8")
        lines = text.splitlines()
        start = next(
            (i for i, line in enumerate(lines) if line.startswith("## ") and marker in line), None
        )
        block = markdown.rstrip("\n").splitlines()
        if start is None:
            new = [*lines, "", *block] if lines and lines[-1] else [*lines, *block]
        else:
            end = next(
                (i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")),
                len(lines),
            )
            tail = ["", *lines[end:]] if end < len(lines) else []
            new = [*lines[:start], *block, *tail]
        DOCS.write_text("\n".join(new) + "\n", encoding="utf-8")


def new_figure(width: float = 7.0, height: float = 4.0) -> Any:
    """A matplotlib figure drawn with the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.figure(figsize=(width, height), dpi=110)


def save_plot(figure: Any, name: str) -> str:
    """Save `figure` as ``docs/img/<name>.png``; the path to link from benchmarks.md."""
    import matplotlib.pyplot as plt

    IMAGES.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(IMAGES / f"{name}.png")
    plt.close(figure)
    return f"img/{name}.png"


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def fmt(value: float, digits: int = 1) -> str:
    """A figure with a thin thousands separator, as the rest of the document writes them."""
    text = f"{value:,.{digits}f}"
    return text.replace(",", "\u202f") if abs(value) >= 10_000 else text.replace(",", "")

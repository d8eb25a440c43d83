"""Real app servers for the reliability tests: ``cep serve`` subprocesses that can be killed.

`AppServer` starts ``python -m cep_core.cli serve`` on a free 127.0.0.1 port with its own
environment (no inherited ``CEP_*``): data folder, database URL, a secret key shared by the
instances of one test (sessions and CSRF tokens must hold across them), fast password hashing,
API tokens, file mail. It waits until the app answers, can be SIGKILLed (a crash: no shutdown
code runs) and restarted on the same port and database. Its output goes to one log file per
server, appended across restarts, so a test can count "database is locked" (REL-09).

The throw-away PostgreSQL of the tests runs with ``fsync=off`` (tests/conftest.py,
``pg_virtualenv``): the app refuses such a server (REL-08) unless told otherwise, so servers
on PostgreSQL get the test-only ``CEP_ALLOW_NON_DURABLE_DATABASE=1``. What these tests kill
is the app, never PostgreSQL: the server's own fsync plays no part in what they prove.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import httpx

START_TIMEOUT = 60.0  # seconds: imports and migrations on a busy 2-core machine
LOCKED = "database is locked"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def make_token(label: str) -> str:
    """An API token (32 characters at least) that names what it is for."""
    return f"{label}-{secrets.token_hex(16)}"


def is_postgresql(database_url: str) -> bool:
    return database_url.startswith(("postgresql", "postgres:"))


class AppServer:
    """One ``cep serve`` process on `database_url`; `start()`, `kill()`, `start()` again."""

    def __init__(
        self,
        *,
        data_dir: Path,
        database_url: str,
        secret_key: str,
        api_tokens: Mapping[str, str] | None = None,
        operator: str = "apec",
        name: str = "app",
        extra_env: Mapping[str, str] | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.database_url = database_url
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.name = name
        self.log_path = data_dir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.startup_seconds: list[float] = []
        tokens = ",".join(
            f"{operator}:{actor}:{secret}" for actor, secret in (api_tokens or {}).items()
        )
        env = {key: value for key, value in os.environ.items() if not key.startswith("CEP_")}
        env.update(
            {
                "CEP_DATA_DIR": str(data_dir),
                "CEP_DATABASE_URL": database_url,
                "CEP_SECRET_KEY": secret_key,
                "CEP_PASSWORD_HASHING": "fast",
                "CEP_PUBLIC_URL": self.base_url,
                "CEP_MAIL_BACKEND": "file",
                "CEP_API_TOKENS": tokens,
                "PYTHONUNBUFFERED": "1",
            }
        )
        if is_postgresql(database_url):
            env["CEP_ALLOW_NON_DURABLE_DATABASE"] = "1"
        env.update(extra_env or {})
        self.env = env

    # -- life cycle ------------------------------------------------------------------------

    def spawn(self) -> subprocess.Popen[bytes]:
        """Start the process (without waiting for it to answer)."""
        assert self.process is None or self.process.poll() is not None, "already running"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as output:
            output.write(f"\n--- start {self.starts + 1} ---\n".encode())
            output.flush()
            self.process = subprocess.Popen(
                [sys.executable, "-m", "cep_core.cli", "serve", "--host", "127.0.0.1",
                 "--port", str(self.port)],
                cwd=self.data_dir,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        self.starts += 1
        return self.process

    def start(self) -> None:
        """Start the process and wait until it answers."""
        began = time.monotonic()
        self.spawn()
        self.wait_until_up()
        self.startup_seconds.append(time.monotonic() - began)

    def wait_until_up(self) -> None:
        process = self.process
        assert process is not None
        deadline = time.monotonic() + START_TIMEOUT
        with httpx.Client(base_url=self.base_url, timeout=2.0) as probe:
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    raise AssertionError(
                        f"{self.name} exited with code {process.returncode} before answering:"
                        f"\n{self.log_tail()}"
                    )
                with contextlib.suppress(httpx.HTTPError):
                    if probe.get("/connexion").status_code == 200:
                        return
                time.sleep(0.05)
        raise AssertionError(
            f"{self.name} did not answer in {START_TIMEOUT:.0f} s:\n{self.log_tail()}"
        )

    def kill(self) -> None:
        """SIGKILL: the crash of the application process, nothing gets to clean up."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        """SIGINT (a clean shutdown); killed if it takes more than 10 s."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()

    def run_to_exit(self, timeout: float = START_TIMEOUT) -> tuple[int, str]:
        """Start and wait for the process to end by itself: its exit code and output."""
        process = self.spawn()
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"{self.name} did not exit:\n{self.log_tail()}") from None
        return code, self.log_text()

    # -- its log ---------------------------------------------------------------------------

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def log_tail(self, size: int = 4000) -> str:
        return self.log_text()[-size:] or "(journal vide)"

    def count_in_log(self, text: str) -> int:
        return self.log_text().count(text)


@contextlib.contextmanager
def running(servers: Sequence[AppServer]) -> Iterator[Sequence[AppServer]]:
    """Start `servers` together (they boot in parallel) and stop them all at the end."""
    try:
        for server in servers:
            server.spawn()
        for server in servers:
            began = time.monotonic()
            server.wait_until_up()
            server.startup_seconds.append(time.monotonic() - began)
        yield servers
    finally:
        for server in servers:
            server.stop()


def api_client(server: AppServer, token: str, timeout: float = 15.0) -> httpx.Client:
    """An HTTP client of the cases API with `token`; one per thread."""
    return httpx.Client(
        base_url=server.base_url,
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        timeout=timeout,
    )


# -- a PostgreSQL cluster of our own, whose durability settings a test may change ---------------


class ClusterUnavailable(Exception):
    """No PostgreSQL cluster could be started here; the message says why."""


class DurabilityCluster:
    """A throw-away PostgreSQL cluster started with the DURABLE defaults (fsync, full pages).

    The tests' shared server runs with ``fsync=off`` given on its command line, which no
    ``ALTER SYSTEM`` can override: the start-up checks (REL-08) need a server of their own.
    `configure()` changes settings with ``ALTER SYSTEM`` and a reload (no restart).
    """

    def __init__(self) -> None:
        self.bindir = _postgres_bindir()
        self.prefix: list[str] = []
        self.root = Path(tempfile.mkdtemp(prefix="cep-durability-pg-"))
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            runuser = shutil.which("runuser")
            try:
                account = pwd.getpwnam("postgres")
            except KeyError as exc:
                raise ClusterUnavailable("running as root without a 'postgres' user") from exc
            if runuser is None:
                raise ClusterUnavailable("running as root without 'runuser'")
            self.prefix = [runuser, "-u", "postgres", "--"]
            os.chown(self.root, account.pw_uid, account.pw_gid)
        self.root.chmod(0o700)
        self.port = free_port()
        self.started = False

    def _run(self, *args: str) -> None:
        result = subprocess.run(
            [*self.prefix, *args], capture_output=True, text=True, timeout=120, check=False
        )
        if result.returncode != 0:
            raise ClusterUnavailable(f"{args[0]}: {(result.stderr or result.stdout)[-500:]}")

    def start(self) -> str:
        data = str(self.root / "data")
        self._run(str(self.bindir / "initdb"), "-D", data, "-U", "postgres", "-A", "trust",
                  "-E", "UTF8", "--no-locale", "--no-sync")  # fmt: skip
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        self._run(str(self.bindir / "pg_ctl"), "-D", data, "-l", str(self.root / "log"),
                  "-w", "-t", "60", "-o", options, "start")  # fmt: skip
        self.started = True
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        return self.url

    def configure(self, **settings: str) -> dict[str, str]:
        """``ALTER SYSTEM`` each setting (``"default"`` resets it), reload, wait until seen."""
        from sqlalchemy import create_engine, text

        engine = create_engine(
            self.url.replace("postgresql://", "postgresql+psycopg://"),
            isolation_level="AUTOCOMMIT",
        )
        try:
            with engine.connect() as connection:
                for name, value in settings.items():
                    assert name.replace("_", "").isalpha() and value.isalpha(), (name, value)
                    if value == "default":
                        connection.execute(text(f"ALTER SYSTEM RESET {name}"))
                    else:
                        connection.execute(text(f"ALTER SYSTEM SET {name} = {value}"))
                connection.execute(text("SELECT pg_reload_conf()"))
            names = list(settings)
            deadline = time.monotonic() + 30
            while True:  # the postmaster reloads asynchronously: poll with new connections
                with engine.connect() as connection:
                    rows = connection.execute(
                        text("SELECT name, setting FROM pg_settings WHERE name = ANY(:names)"),
                        {"names": names},
                    )
                    seen = {str(name): str(value) for name, value in rows}
                wanted = {n: v for n, v in settings.items() if v != "default"}
                if all(seen.get(n) == v for n, v in wanted.items()):
                    return seen
                if time.monotonic() > deadline:
                    raise AssertionError(f"settings not applied: {seen}, wanted {wanted}")
                time.sleep(0.05)
        finally:
            engine.dispose()

    def stop(self) -> None:
        if self.started:
            with contextlib.suppress(ClusterUnavailable, subprocess.SubprocessError):
                self._run(str(self.bindir / "pg_ctl"), "-D", str(self.root / "data"),
                          "-m", "immediate", "stop")  # fmt: skip
        shutil.rmtree(self.root, ignore_errors=True)


def _postgres_bindir() -> Path:
    candidates: list[Path] = []
    if pg_config := shutil.which("pg_config"):
        found = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        if found.returncode == 0:
            candidates.append(Path(found.stdout.strip()))
    candidates += sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    for candidate in candidates:
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    raise ClusterUnavailable("initdb/pg_ctl not found (pg_config --bindir, /usr/lib/postgresql)")

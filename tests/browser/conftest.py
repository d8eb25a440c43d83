"""Browser tests: the real app in its own process, driven by Debian's Chromium (Playwright).

What the fixtures set up, once for this package (one server, one browser). Package scope,
not session: Playwright's sync API keeps an asyncio loop marked as running in this thread
while it is open, which would break later tests that call ``asyncio.run``.

- ``smtp`` — a real SMTP server (aiosmtpd) on 127.0.0.1 that keeps every message;
- ``app_process`` / ``server`` — ``python -m cep_core.cli serve`` on a free 127.0.0.1 port,
  with a temporary data folder (SQLite, migrated by the server itself), fast password
  hashing, ``CEP_PUBLIC_URL`` = its own address and ``CEP_MAIL_BACKEND=smtp`` pointing at
  ``smtp`` (the app sends its e-mails itself, after each response); once it answers, staff
  accounts are created through a `Kit` on the same database. It boots while Chromium starts;
  it is stopped with SIGINT (killed if it does not stop within 10 s);
- ``chromium`` — one headless Chromium, Debian's (``executable_path``). No Chromium is a
  FAILURE with the way to install it, never a skip: CI installs it (``.ci/run``).

Per test, ``browse()`` opens a fresh browser context (one person, no cookies; ``web`` is the
first one). Every page shown must go through `Web.check`: French (``lang``), one ``<h1>``, an
axe-core audit that fails on any serious or critical violation (lesser ones are written to
``axe-minor.txt``), and a full-page screenshot in ``test-artifacts/screenshots/<test>/``. At
the end the test fails if a page was left unchecked, if the browser asked for anything from
another host (UX-06: such requests are blocked and recorded), or if a page broke the
Content-Security-Policy or raised a script error.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller
from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, Route, sync_playwright

from cep_core.domain.accounts import StaffUser
from cep_core.domain.context import Role
from cep_core.kit import Kit
from cep_core.settings import Settings

PASSWORD = "une phrase de passe solide"
BLOCKING_IMPACTS = ("serious", "critical")
START_TIMEOUT = 40.0  # seconds for the server to answer (imports + migrations on a slow VM)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--lang=fr-FR",
]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- e-mail ------------------------------------------------------------------------------------


class Mailbox:
    """aiosmtpd handler keeping every message it accepts, parsed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = BytesParser(policy=policy.default).parsebytes(envelope.original_content)
        assert isinstance(parsed, EmailMessage)
        with self.lock:
            self.messages.append(parsed)
            self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        """The messages received for `address`, oldest first."""
        with self.lock:
            return [
                message
                for message, rcpt in zip(self.messages, self.recipients, strict=True)
                if address.lower() in (r.lower() for r in rcpt)
            ]

    def wait_for(self, address: str, count: int, timeout: float = 15.0) -> list[EmailMessage]:
        """The first `count` messages for `address`, waiting for the app to send them."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.to(address)
            if len(found) >= count or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        subjects = [str(message["Subject"]) for message in found]
        assert len(found) >= count, (
            f"{len(found)} message(s) for {address} after {timeout:.0f} s, {count} expected: "
            f"{subjects}"
        )
        return found[:count]


class SmtpServer:
    def __init__(self, mailbox: Mailbox, port: int) -> None:
        self.mailbox = mailbox
        self.port = port


@pytest.fixture(scope="package")
def smtp() -> Iterator[SmtpServer]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer(mailbox, port)
    finally:
        controller.stop()


def text_of(message: EmailMessage) -> str:
    """The plain-text body of `message` (what every notification carries)."""
    part = message.get_body(preferencelist=("plain",))
    assert part is not None, f"no text/plain part in « {message['Subject']} »"
    content = part.get_content()
    assert isinstance(content, str)
    return content


def attachments_of(message: EmailMessage) -> list[tuple[str, str, bytes]]:
    """(file name, content type, bytes) of each attachment."""
    found: list[tuple[str, str, bytes]] = []
    for part in message.iter_attachments():
        assert isinstance(part, EmailMessage)
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        found.append((part.get_filename() or "", part.get_content_type(), payload))
    return found


# -- the app in its own process ----------------------------------------------------------------


class Server:
    """The running app: its address, a kit on its database, its staff, its log."""

    def __init__(
        self, *, base_url: str, kit: Kit, mailbox: Mailbox, log: Path, process: Any
    ) -> None:
        self.base_url = base_url
        self.kit = kit
        self.mailbox = mailbox
        self.log = log
        self.process = process
        self.staff: dict[str, StaffUser] = {}
        self.password = PASSWORD

    def add_staff(
        self, key: str, *, operator: str, name: str, role: Role = Role.COUNSELLOR
    ) -> None:
        self.staff[key] = self.kit.accounts.create_user(
            email=f"{key}@{operator.replace('_', '-')}.example.fr",
            display_name=name,
            role=role,
            operator=operator,
            password=PASSWORD,
        )

    def log_text(self) -> str:
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")[-4000:]
        except OSError:
            return "(pas de journal)"

    def assert_alive(self) -> None:
        assert self.process.poll() is None, (
            f"the server stopped (code {self.process.returncode}):\n{self.log_text()}"
        )


def _environment(data_dir: Path, port: int, smtp_port: int) -> dict[str, str]:
    """The process environment, without any inherited ``CEP_*`` setting, plus ours."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("CEP_")}
    env.update(
        {
            "CEP_DATA_DIR": str(data_dir),
            "CEP_PASSWORD_HASHING": "fast",
            "CEP_SECRET_KEY": secrets.token_urlsafe(32),
            "CEP_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "CEP_MAIL_BACKEND": "smtp",
            "CEP_SMTP_HOST": "127.0.0.1",
            "CEP_SMTP_PORT": str(smtp_port),
            "CEP_MAIL_FROM": "CEP <ne-pas-repondre@cep.example.fr>",
            "CEP_MAIL_QUEUE_FALLBACK": "file-attente@cep.example.fr",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def _wait_until_up(base_url: str, process: Any, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"the server exited with code {process.returncode} before answering:\n"
                + log.read_text(encoding="utf-8", errors="replace")[-4000:]
            )
        try:
            with urllib.request.urlopen(f"{base_url}/connexion", timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    raise AssertionError(
        f"the server did not answer within {START_TIMEOUT:.0f} s:\n"
        + log.read_text(encoding="utf-8", errors="replace")[-4000:]
    )


def _stop(process: Any) -> None:
    """SIGINT lets uvicorn shut down cleanly; kill if it does not within 10 s."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


class AppProcess:
    """``cep serve`` started, not yet known to answer: Chromium starts meanwhile."""

    def __init__(self, *, env: dict[str, str], base_url: str, log: Path, process: Any) -> None:
        self.env = env
        self.base_url = base_url
        self.log = log
        self.process = process


@pytest.fixture(scope="package")
def app_process(tmp_path_factory: pytest.TempPathFactory, smtp: SmtpServer) -> Iterator[AppProcess]:
    """The app in its own process; it migrates its database itself, as in production."""
    data_dir = tmp_path_factory.mktemp("cep-data")
    port = free_port()
    env = _environment(data_dir, port, smtp.port)
    log = data_dir / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "cep_core.cli", "serve", "--host", "127.0.0.1",
             "--port", str(port)],
            cwd=data_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        yield AppProcess(env=env, base_url=f"http://127.0.0.1:{port}", log=log, process=process)
    finally:
        _stop(process)


@pytest.fixture(scope="package")
def server(app_process: AppProcess, smtp: SmtpServer) -> Iterator[Server]:
    """The app once it answers, with its staff accounts (created through a kit on its base)."""
    _wait_until_up(app_process.base_url, app_process.process, app_process.log)
    kit = Kit(settings=Settings.from_env(app_process.env))
    try:
        running = Server(
            base_url=app_process.base_url,
            kit=kit,
            mailbox=smtp.mailbox,
            log=app_process.log,
            process=app_process.process,
        )
        running.add_staff("claire.martin", operator="apec", name="Claire Martin")
        running.add_staff("karim.benali", operator="mission_locale", name="Karim Benali")
        yield running
    finally:
        kit.close()


# -- the browser -------------------------------------------------------------------------------


@pytest.fixture(scope="package")
def playwright_driver() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def chromium(playwright_driver: Playwright) -> Iterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail(
            "Chromium is missing: the browser tests drive Debian's build. Install it with "
            "`apt-get install chromium` (.ci/run does); do not run `playwright install`.",
            pytrace=False,
        )
    # Date and time fields follow the browser's own language, which Linux Chromium takes from
    # LANGUAGE/LANG (not from the context's locale): French, as for the people served. The
    # French resources come with Debian's chromium-l10n.
    browser = playwright_driver.chromium.launch(
        executable_path=executable,
        headless=True,
        args=CHROMIUM_ARGS,
        env={**os.environ, "LANG": "fr_FR.UTF-8", "LANGUAGE": "fr"},
    )
    try:
        yield browser
    finally:
        browser.close()


# -- one test's browsing -----------------------------------------------------------------------


class AxeViolations(AssertionError):
    pass


def describe_violations(violations: list[dict[str, Any]]) -> str:
    lines: list[str] = []
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation['impact']}): {violation['help']} "
            f"[{violation['helpUrl']}]"
        )
        for node in violation["nodes"][:8]:
            target = ", ".join(str(t) for t in node["target"])
            snippet = re.sub(r"\s+", " ", node.get("html", ""))[:200]
            lines.append(f"    at {target}: {snippet}")
            summary = (node.get("failureSummary") or "").strip().replace("\n", " / ")
            if summary:
                lines.append(f"      {summary}")
    return "\n".join(lines)


class Artifacts:
    """One test's screenshot folder, numbered in the order pages were shown."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0
        self.notes: list[str] = []
        if folder.exists():
            shutil.rmtree(folder)

    def next_path(self, name: str) -> Path:
        self.count += 1
        self.folder.mkdir(parents=True, exist_ok=True)
        return self.folder / f"{self.count:02d}-{name}.png"


class Web:
    """One person's browser context and page; `check` every page they are shown."""

    def __init__(self, context: BrowserContext, server: Server, artifacts: Artifacts) -> None:
        self.context = context
        self.server = server
        self.artifacts = artifacts
        self.page: Page = context.new_page()
        self.navigations: list[str] = []
        self.checked: set[int] = set()
        self.foreign: list[str] = []
        self.console_problems: list[str] = []
        self.axe = Axe()
        self.page.on("framenavigated", self._navigated)
        self.page.on("pageerror", lambda error: self.console_problems.append(f"{error}"))
        self.page.on("console", self._console)

    # -- events

    def _navigated(self, frame: Any) -> None:
        if frame == self.page.main_frame:
            self.navigations.append(frame.url)

    def _console(self, message: Any) -> None:
        text = message.text
        if "Content Security Policy" in text or "Refused to" in text:
            self.console_problems.append(text)

    # -- navigation

    def url(self, path: str) -> str:
        return f"{self.server.base_url}{path}"

    def goto(self, path: str, name: str, *, status: int = 200) -> Page:
        """Open `path` (or a full URL), expect `status`, then `check` the page as `name`."""
        answer = self.page.goto(path if "://" in path else self.url(path))
        assert answer is not None
        assert answer.status == status, (
            f"GET {path}: {answer.status}, expected {status}\n{self.server.log_text()}"
        )
        self.check(name)
        return self.page

    def path(self) -> str:
        parts = urlsplit(self.page.url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    # -- the per-page checks

    def check(self, name: str) -> None:
        """The page now shown: French, one h1, no serious axe violation, a screenshot kept."""
        self.page.wait_for_load_state("load")
        self.server.assert_alive()
        assert self.page.locator("html").get_attribute("lang") == "fr", self.page.url
        assert self.page.locator("h1").count() == 1, f"{self.page.url}: one <h1> expected"
        self.shot(name)
        results = self.axe.run(self.page)
        violations: list[dict[str, Any]] = results.response["violations"]
        minor = [v for v in violations if v["impact"] not in BLOCKING_IMPACTS]
        if minor:
            self.artifacts.notes.append(
                f"{self.artifacts.count:02d}-{name} ({self.path()}):\n" + describe_violations(minor)
            )
        blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
        if blocking:
            raise AxeViolations(
                f"axe-core: {len(blocking)} serious/critical violation(s) on {self.path()} "
                f"({name}):\n{describe_violations(blocking)}"
            )
        if self.navigations:
            self.checked.add(len(self.navigations) - 1)

    def shot(self, name: str) -> Path:
        target = self.artifacts.next_path(name)
        self.page.screenshot(path=target, full_page=True)
        return target

    def problems(self, *, test_passed: bool) -> list[str]:
        """What went wrong outside the assertions of the test itself."""
        found: list[str] = []
        unchecked = [url for index, url in enumerate(self.navigations) if index not in self.checked]
        if unchecked and test_passed:  # after a failure, the pages left unchecked are noise
            found.append(
                "pages shown but never checked (axe + screenshot): " + ", ".join(unchecked)
            )
        if self.foreign:
            found.append("requests to another host (UX-06): " + ", ".join(self.foreign))
        if self.console_problems:
            found.append("CSP or script errors: " + " | ".join(self.console_problems))
        return found

    # -- staff

    def sign_in(self, key: str) -> StaffUser:
        """Sign in as staff `key` through the sign-in page (checked); lands where it leads."""
        user = self.server.staff[key]
        self.goto("/connexion", "connexion")
        self.page.get_by_label("Adresse électronique professionnelle").fill(user.email)
        self.page.get_by_label("Mot de passe").fill(self.server.password)
        self.page.get_by_role("button", name="Se connecter").click()
        self.page.wait_for_load_state("load")
        return user

    def sign_out(self) -> None:
        self.page.get_by_role("button", name="Se déconnecter").click()
        self.page.wait_for_url("**/connexion?motif=deconnexion")


Browse = Callable[[], Web]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keep the test's own outcome on its node: `browse` checks more only when it passed."""
    report = yield
    if report.when == "call":
        item.cep_call_report = report  # type: ignore[attr-defined]
    return report


@pytest.fixture
def browse(
    app_process: AppProcess,  # first: the server boots while Chromium starts
    chromium: Browser,
    server: Server,
    request: pytest.FixtureRequest,
) -> Iterator[Browse]:
    """Opens a fresh browser context (one person, no cookies) each time it is called.

    Every page must be checked; no request may leave for another host (they are blocked).
    """
    test_name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")
    artifacts = Artifacts(ARTIFACTS / "screenshots" / test_name)
    own = urlsplit(server.base_url).netloc
    sessions: list[Web] = []

    def open_session() -> Web:
        context = chromium.new_context(
            locale="fr-FR",
            timezone_id="Europe/Paris",
            viewport={"width": 1280, "height": 900},
            accept_downloads=True,
        )
        context.set_default_timeout(5_000)
        session = Web(context, server, artifacts)

        def guard(route: Route) -> None:
            target = urlsplit(route.request.url)
            if target.scheme in ("http", "https") and target.netloc != own:
                session.foreign.append(route.request.url)
                route.abort("blockedbyclient")
            else:
                route.continue_()

        context.route("**/*", guard)
        sessions.append(session)
        return session

    try:
        yield open_session
        report = getattr(request.node, "cep_call_report", None)
        passed = report is not None and report.passed
        problems = [problem for s in sessions for problem in s.problems(test_passed=passed)]
        if artifacts.notes:
            (artifacts.folder / "axe-minor.txt").write_text(
                "\n\n".join(artifacts.notes) + "\n", "utf-8"
            )
        assert not problems, "\n".join(problems)
    finally:
        for session in sessions:
            with contextlib.suppress(Exception):
                session.context.close()


@pytest.fixture
def web(browse: Browse) -> Web:
    """One browser context (see `browse`)."""
    return browse()

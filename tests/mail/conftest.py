"""Fixtures for the e-mail tests: a real local SMTP server (aiosmtpd), a settable clock, kits
on a migrated database (SQLite and PostgreSQL through ``database_url``), stored syntheses.
"""

from __future__ import annotations

import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from cep_core.domain.case import Beneficiary, Case, CaseStatus, Level
from cep_core.domain.situation import Situation, Status
from cep_core.kit import Kit
from cep_core.settings import MailBackend, MailSettings, Settings
from cep_core.storage.ids import new_id
from cep_core.storage.repositories import BeneficiaryRepository, CaseRepository
from cep_core.storage.syntheses import SynthesisRepository


class FakeClock:
    """A clock that stands still until told to move."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 2, 9, 30, tzinfo=UTC))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Mailbox:
    """aiosmtpd handler: keeps what it accepts; can refuse recipients or delay or fail DATA."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse_recipients = False
        self.fail_data = False
        self.lock = threading.Lock()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self.refuse_recipients:
            return "550 5.1.1 Boîte inconnue"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.fail_data:
            return "451 4.3.0 Réessayez plus tard"
        parsed = BytesParser(policy=policy.default).parsebytes(envelope.original_content)
        assert isinstance(parsed, EmailMessage)
        with self.lock:
            self.messages.append(parsed)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self, controller: Controller, mailbox: Mailbox, port: int) -> None:
        self.controller = controller
        self.mailbox = mailbox
        self.port = port

    def settings(self, **changes: Any) -> MailSettings:
        values: dict[str, Any] = {
            "backend": MailBackend.SMTP,
            "smtp_host": "127.0.0.1",
            "smtp_port": self.port,
            "smtp_timeout": 5.0,
        }
        values.update(changes)
        return MailSettings(**values)


def start_server(mailbox: Mailbox, **kwargs: Any) -> SmtpServer:
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    return SmtpServer(controller, mailbox, port)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server on 127.0.0.1 (a free port), stopped after the test."""
    server = start_server(Mailbox())
    yield server
    server.controller.stop()


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 / localhost (openssl), and its key."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    return cert, key


KitBuilder = Callable[..., Kit]


@pytest.fixture
def make_kit(database_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[KitBuilder]:
    """Kits on one migrated database (SQLite or PostgreSQL), closed at teardown."""
    built: list[Kit] = []

    def build(mail: MailSettings | None = None, **settings: Any) -> Kit:
        kit = Kit(
            settings=Settings(
                data_dir=tmp_path,
                database_url=database_url,
                mail=mail or MailSettings(),
                public_url="https://cep.exemple.fr",
                **settings,
            ),
            load_entrypoints=False,
            clock=clock,
        )
        if not built:
            kit.database.upgrade()
        built.append(kit)
        return kit

    yield build
    for kit in built:
        kit.close()


def store_synthesis(kit: Kit, operator: str) -> tuple[str, str]:
    """A person, their case and one synthesis of `operator`: (case id, synthesis id)."""
    now = kit.clock()
    person = Beneficiary(
        id=new_id(), operator=operator, first_name="Camille", last_name="Martin", created_at=now
    )
    case = Case(
        id=new_id(),
        operator=operator,
        beneficiary_id=person.id,
        status=CaseStatus.LEVEL_ONE,
        level=Level.ONE,
        situation=Situation(
            birth_date=date(1988, 4, 12), as_of=date(2026, 3, 2), status=Status.EMPLOYEE
        ),
        created_at=now,
        updated_at=now,
    )
    with kit.database.write() as connection:
        BeneficiaryRepository(connection, operator).add(person)
        CaseRepository(connection, operator).add(case)
        synthesis = SynthesisRepository(connection, operator).add(
            case_id=case.id,
            level=Level.ONE,
            content_hash="0" * 64,
            created_at=now,
            author=None,
            pdf=b"%PDF-1.7 test",
        )
    return case.id, synthesis.id

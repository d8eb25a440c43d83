"""Helpers for the appointment-request tests (``tests/requests``): a clock that stands still
until told to move, a kit with the real operator plugins on a migrated database, a valid
public request, and the mail outbox as parsed messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from sqlalchemy import select

from cep_core.domain.requests import AppointmentRequest
from cep_core.kit import Kit
from cep_core.mail.message import decode
from cep_core.settings import Settings
from cep_core.storage.tables import mail_outbox

PUBLIC_URL = "https://cep.exemple.fr"
# Monday 2 March 2026, 10:30 in Paris.
START = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


class FakeClock:
    """A clock that stands still until told to move."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def build_kit(
    tmp_path: Path, clock: FakeClock, database_url: str | None = None, **settings: Any
) -> Kit:
    """A kit with the installed plugins, a migrated database and cheap password hashing."""
    values: dict[str, Any] = {
        "data_dir": tmp_path,
        "database_url": database_url,
        "hash_profile": "fast",
        "public_url": PUBLIC_URL,
    }
    values.update(settings)
    kit = Kit(settings=Settings(**values), clock=clock)
    kit.database.upgrade()
    return kit


def submission(**changes: Any) -> dict[str, Any]:
    """A valid public request to Apec, as the form's plain values; `changes` override."""
    data: dict[str, Any] = {
        "operator": "apec",
        "situation": {"status": "employee", "age": 41, "cadre": True, "region": "53"},
        "first_name": "Maëlle",
        "last_name": "Roussel",
        "email": "maelle.roussel@exemple.fr",
        "phone": "06 12 34 56 78",
        "preferred_channel": "visio",
        "preferred_days": ["monday", "thursday"],
        "preferred_half_days": ["morning"],
        "message": "Je souhaite évoluer vers un poste de responsable.",
        "consent": True,
    }
    data.update(changes)
    return data


def submit(kit: Kit, **changes: Any) -> AppointmentRequest:
    return kit.requests.submit(kit.requests.parse_submission(submission(**changes)))


def outbox(kit: Kit) -> list[tuple[str, str, EmailMessage]]:
    """Every queued message: (kind, operator, parsed message), oldest first."""
    with kit.database.read() as connection:
        rows = connection.execute(
            select(mail_outbox.c.kind, mail_outbox.c.operator, mail_outbox.c.message).order_by(
                mail_outbox.c.created_at, mail_outbox.c.id
            )
        ).all()
    return [(row.kind, row.operator, decode(row.message)) for row in rows]


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    content = body.get_content()
    assert isinstance(content, str)
    return content

"""Single-use, expiring links to download a document de synthèse.

The person receives a link, never the PDF (an attachment would sit in mailboxes forever).
`create` draws a 256-bit secret and stores only its SHA-256, in the caller's transaction;
`consume` spends it atomically — ``UPDATE … SET used_at = now WHERE digest = ? AND used_at IS
NULL AND expires_at > now`` — so of two clicks only one wins, and a spent, expired or unknown
secret all give None. `peek` tells the web page which of "download", "expired" or "already
used" to show, without spending the link: mail scanners fetch GET links ahead of the person,
so only the page's POST button consumes.

Consuming is by secret only; the grant names the operator, case and synthesis, and the web
layer serves the PDF through that operator's repository.
"""

from __future__ import annotations

import enum
import hashlib
import re
import secrets
from datetime import UTC, datetime, timedelta

import msgspec
from sqlalchemy import Connection, select, update

from cep_core.clock import Clock
from cep_core.services.syntheses import SynthesisNotFound
from cep_core.storage.database import Database
from cep_core.storage.ids import is_id, new_id
from cep_core.storage.tables import download_links, syntheses

SECRET_BYTES = 32  # 256 bits
MAX_TTL = timedelta(days=30)
# token_urlsafe(32) gives 43 characters; anything else is not one of ours.
_SECRET = re.compile(r"[A-Za-z0-9_-]{43}")


class LinkState(enum.StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    USED = "used"


class DownloadGrant(msgspec.Struct, frozen=True, kw_only=True):
    """A consumed link: which operator's synthesis of which case may now be served, once."""

    link_id: str
    operator: str
    case_id: str
    synthesis_id: str
    expires_at: datetime
    used_at: datetime


class LinkStatus(msgspec.Struct, frozen=True, kw_only=True):
    """What a link is, seen without spending it."""

    state: LinkState
    operator: str
    case_id: str
    synthesis_id: str
    expires_at: datetime
    used_at: datetime | None = None


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def _well_formed(secret: str) -> bool:
    return isinstance(secret, str) and _SECRET.fullmatch(secret) is not None


class DownloadLinkService:
    def __init__(self, database: Database, *, clock: Clock) -> None:
        self._database = database
        self._clock = clock

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the clock must return timezone-aware datetimes")
        return now.astimezone(UTC)

    def create(
        self,
        conn: Connection,
        *,
        operator: str,
        case_id: str,
        synthesis_id: str,
        ttl: timedelta,
    ) -> str:
        """A new link's secret (put it in the URL; it is shown once and never stored).

        Written in the caller's transaction. Raises `SynthesisNotFound` unless the synthesis
        belongs to that case of that operator (another operator's is "not found", SEC-01), and
        `ValueError` for a lifetime outside (0, 30 days].
        """
        if not timedelta(0) < ttl <= MAX_TTL:
            raise ValueError(
                "La durée de validité d'un lien doit être comprise entre 0 et 30 jours."
            )
        if not (operator and is_id(case_id) and is_id(synthesis_id)):
            raise SynthesisNotFound(synthesis_id)
        found = conn.execute(
            select(syntheses.c.id).where(
                syntheses.c.id == synthesis_id,
                syntheses.c.case_id == case_id,
                syntheses.c.operator == operator,
            )
        ).first()
        if found is None:
            raise SynthesisNotFound(synthesis_id)
        now = self._now()
        secret = secrets.token_urlsafe(SECRET_BYTES)
        conn.execute(
            download_links.insert().values(
                id=new_id(),
                digest=secret_digest(secret),
                operator=operator,
                case_id=case_id,
                synthesis_id=synthesis_id,
                created_at=now,
                expires_at=now + ttl,
                used_at=None,
            )
        )
        return secret

    def consume(self, secret: str) -> DownloadGrant | None:
        """Spend the link: its grant the first time, None ever after (or if expired/unknown)."""
        if not _well_formed(secret):
            return None
        digest = secret_digest(secret)
        now = self._now()
        with self._database.write() as connection:
            spent = connection.execute(
                update(download_links)
                .where(
                    download_links.c.digest == digest,
                    download_links.c.used_at.is_(None),
                    download_links.c.expires_at > now,
                )
                .values(used_at=now)
            )
            if spent.rowcount != 1:
                return None
            row = connection.execute(
                select(download_links).where(download_links.c.digest == digest)
            ).one()
        return DownloadGrant(
            link_id=row.id,
            operator=row.operator,
            case_id=row.case_id,
            synthesis_id=row.synthesis_id,
            expires_at=row.expires_at,
            used_at=row.used_at,
        )

    def peek(self, secret: str) -> LinkStatus | None:
        """The link's state without spending it; None for a secret that is not one of ours."""
        if not _well_formed(secret):
            return None
        with self._database.read() as connection:
            row = connection.execute(
                select(download_links).where(download_links.c.digest == secret_digest(secret))
            ).first()
        if row is None:
            return None
        if row.used_at is not None:
            state = LinkState.USED
        elif row.expires_at <= self._now():
            state = LinkState.EXPIRED
        else:
            state = LinkState.VALID
        return LinkStatus(
            state=state,
            operator=row.operator,
            case_id=row.case_id,
            synthesis_id=row.synthesis_id,
            expires_at=row.expires_at,
            used_at=row.used_at,
        )

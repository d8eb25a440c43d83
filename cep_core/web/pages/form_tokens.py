"""Single-use tokens for page forms that create something (REL-10, for browsers).

A double click, or a reload of the page that answers a POST, must not file the same
appointment request twice. The form carries a random hidden token; its first submission
claims it in the idempotency table (shared by every instance), the same storage as the
API's ``Idempotency-Key``. A second submission of the same token waits a moment for the first
one and then lands on the same confirmation; a submission refused for its content releases
the token, so the corrected form (which keeps it) can be sent.
"""

from __future__ import annotations

import re
import secrets
from typing import Final

import anyio

from cep_core.kit import Kit
from cep_core.services.idempotency import (
    ClaimResult,
    InProgress,
    StoredAnswer,
    caller_scope,
)
from cep_core.web.pages.common import FormData, blocking

FIELD: Final = "jeton_envoi"
# The operator column of the idempotency table, for keys that are not an API caller's.
FORMS_OPERATOR: Final = "formulaires"
_TOKEN_RE: Final = re.compile(r"[A-Za-z0-9_-]{32,64}")
WAIT_SECONDS: Final = 5.0
POLL_SECONDS: Final = 0.2


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_of(form: FormData) -> str | None:
    """The form's token, or None (a form from before this change, or a forged value)."""
    value = form.get(FIELD) or ""
    return value if _TOKEN_RE.fullmatch(value) else None


def _scope(form_name: str) -> str:
    return caller_scope(FORMS_OPERATOR, form_name)


async def claim(kit: Kit, form_name: str, token: str) -> ClaimResult:
    """Claim the token; while an earlier submission of it runs, wait for it (a few seconds)."""
    with anyio.move_on_after(WAIT_SECONDS):
        while True:
            found = await blocking(
                kit.idempotency.claim, _scope(form_name), token, FORMS_OPERATOR, form_name
            )
            if not isinstance(found, InProgress):
                return found
            await anyio.sleep(POLL_SECONDS)
    return InProgress(retry_after=1)


async def complete(kit: Kit, form_name: str, token: str, lease: str, result: str) -> None:
    """Remember what the submission created (`result`, e.g. ``operator.request_id``)."""
    answer = StoredAnswer(status=303, headers=[], body=result.encode())
    await blocking(kit.idempotency.complete, _scope(form_name), token, lease, answer)


async def release(kit: Kit, form_name: str, token: str, lease: str) -> None:
    with anyio.CancelScope(shield=True):
        await blocking(kit.idempotency.release, _scope(form_name), token, lease)

"""Security response headers (SEC-10): Litestar ships no middleware for them.

They are added in a ``before_send`` hook rather than with ``response_headers`` because
``before_send`` also sees the responses Litestar builds outside any route — 404 for unknown
paths, 405, errors raised before routing — so no response leaves without them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from litestar.types import BeforeMessageSendHookHandler, Message, Scope

# The API serves JSON only; pages to come (server-rendered, no CDN, no inline script) fit
# the same policy. Nothing may frame the app, and plugins/embedding cannot add <base>.
CONTENT_SECURITY_POLICY: Final = (
    "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)

SECURITY_HEADERS: Final[tuple[tuple[str, str], ...]] = (
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-content-type-options", "nosniff"),
    # Not "no-referrer": with it Chromium sends `Origin: null` on same-site form posts, which
    # the CSRF origin check (SEC-09) must refuse. "same-origin" still tells other sites nothing.
    ("referrer-policy", "same-origin"),
    ("x-frame-options", "DENY"),
    # Ignored by browsers over plain HTTP; effective as soon as TLS terminates in front.
    ("strict-transport-security", "max-age=31536000; includeSubDomains"),
    # Answers describe a person's situation: never keep them in a shared cache.
    ("cache-control", "no-store"),
)


_ENCODED: Final = tuple((n.encode("latin-1"), v.encode("latin-1")) for n, v in SECURITY_HEADERS)
_HANDLER_MAY_SET: Final = frozenset({b"cache-control", b"content-security-policy"})
_REPLACED: Final = frozenset(name for name, _ in _ENCODED) - _HANDLER_MAY_SET


def security_headers_hook(prefixes: Sequence[str] | None = None) -> BeforeMessageSendHookHandler:
    """A ``before_send`` hook setting `SECURITY_HEADERS` on every HTTP response.

    With `prefixes`, only responses to paths under one of them are touched: a host app that
    mounts `CepPlugin` keeps its own policy for its own pages.
    """
    scoped = tuple(prefixes) if prefixes is not None else None

    async def add_security_headers(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        if scoped is not None and not scope["path"].startswith(scoped):
            return
        # One pass over the raw list (every answer goes through here): ours replace the same
        # names, except a caching or content policy the handler chose itself.
        headers = message.get("headers") or []
        present = {bytes(name).lower() for name, _ in headers}
        kept = [(n, v) for n, v in headers if bytes(n).lower() not in _REPLACED]
        message["headers"] = kept + [
            pair for pair in _ENCODED if not (pair[0] in _HANDLER_MAY_SET and pair[0] in present)
        ]

    return add_security_headers

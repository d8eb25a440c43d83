"""Browser sessions for staff, CSRF tokens for every form, and the client's real address.

Pages authenticate with a session cookie only, the API with bearer tokens only: a cookie
never authorises an API call, so the API needs no CSRF defence and pages need no token
handling in JavaScript. Every unsafe page request must carry a token bound to the session
(or, for public forms, to an anonymous cookie) and, when the browser sends one, an ``Origin``
of this very site (SEC-09).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from typing import Any, Final

import anyio.to_thread
from litestar import Request
from litestar.datastructures import Cookie
from litestar.exceptions import HTTPException, PermissionDeniedException

from cep_core.domain.accounts import StaffUser
from cep_core.domain.context import Role
from cep_core.kit import Kit
from cep_core.services.accounts import SignedIn

# The __Host- prefix makes browsers refuse the cookie unless Secure, path=/ and no Domain:
# a sibling sub-domain cannot plant or read it (SEC-08).
SESSION_COOKIE: Final = "__Host-cep-session"
ANON_COOKIE: Final = "__Host-cep-anon"
CSRF_FIELD: Final = "_csrf"
CSRF_HEADER: Final = "x-csrf-token"
UNSAFE_METHODS: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})
STATE_KEY: Final = "cep_signed_in"
ANON_STATE_KEY: Final = "cep_anon"


class SignInRequired(HTTPException):
    """Raised by page guards: the handler answers with a redirect to the sign-in page."""

    status_code = 401
    detail = "Connexion requise"


def session_cookie(value: str, *, max_age: int) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE,
        value=value,
        path="/",
        secure=True,
        httponly=True,
        samesite="lax",
        max_age=max_age,
    )


def expired_session_cookie() -> Cookie:
    return Cookie(
        key=SESSION_COOKIE,
        value="",
        path="/",
        secure=True,
        httponly=True,
        samesite="lax",
        max_age=0,
    )


def anon_cookie(value: str) -> Cookie:
    return Cookie(
        key=ANON_COOKIE, value=value, path="/", secure=True, httponly=True, samesite="lax"
    )


async def signed_in(request: Request[Any, Any, Any], kit: Kit) -> SignedIn | None:
    """The staff member behind the session cookie (resolved once per request)."""
    if STATE_KEY in request.scope.get("state", {}):
        cached: SignedIn | None = request.scope["state"][STATE_KEY]
        return cached
    secret = request.cookies.get(SESSION_COOKIE, "")
    found = await anyio.to_thread.run_sync(kit.accounts.resolve_session, secret) if secret else None
    request.scope.setdefault("state", {})[STATE_KEY] = found
    return found


def require_staff(found: SignedIn | None, *roles: Role) -> StaffUser:
    """The signed-in user, or a redirect to sign in; 403 when their role is not among `roles`."""
    if found is None:
        raise SignInRequired()
    if roles and found.user.role not in roles:
        raise PermissionDeniedException("Votre rôle ne donne pas accès à cette page.")
    return found.user


def anonymous_secret(request: Request[Any, Any, Any]) -> tuple[str, bool]:
    """The anonymous CSRF cookie's value, and whether it must be set on the response."""
    state = request.scope.setdefault("state", {})
    if ANON_STATE_KEY in state:
        return state[ANON_STATE_KEY], False
    value = request.cookies.get(ANON_COOKIE, "")
    fresh = not (20 <= len(value) <= 100)
    if fresh:
        value = secrets.token_urlsafe(32)
    state[ANON_STATE_KEY] = value
    return value, fresh


def csrf_token(kit: Kit, found: SignedIn | None, anon: str | None) -> str:
    """The token forms carry: bound to the session, else to the anonymous cookie."""
    if found is not None:
        material = b"session:" + found.session.csrf_secret.encode()
    else:
        material = b"anon:" + (anon or "").encode()
    return hmac.new(kit.secret_key, material, hashlib.sha256).hexdigest()


def same_origin(request: Request[Any, Any, Any], kit: Kit) -> bool:
    """False when the browser says the form came from another site (SEC-09)."""
    origin = request.headers.get("origin")
    if origin is None:
        referer = request.headers.get("referer")
        if not referer:
            return True  # old clients and privacy settings send neither; the token decides
        origin = "/".join(referer.split("/", 3)[:3])
    if origin == "null":
        return False
    own = {str(request.base_url).rstrip("/"), kit.settings.public_url.rstrip("/")}
    return origin.rstrip("/") in own


async def check_csrf(request: Request[Any, Any, Any], kit: Kit) -> None:
    """Refuse (403) an unsafe page request without a valid token or from another origin."""
    if request.method not in UNSAFE_METHODS:
        return
    if not same_origin(request, kit):
        raise PermissionDeniedException(
            "Formulaire refusé : il ne provient pas de ce site (protection CSRF)."
        )
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    found = await signed_in(request, kit)
    anon = request.cookies.get(ANON_COOKIE)
    expected = csrf_token(kit, found, anon)
    if not sent or not hmac.compare_digest(sent, expected):
        raise PermissionDeniedException(
            "Formulaire expiré ou invalide (protection CSRF) : rechargez la page et recommencez."
        )


def client_address(request: Request[Any, Any, Any], kit: Kit) -> str:
    """The client's address: the peer, or what a trusted proxy says it forwarded (SEC-15).

    ``X-Forwarded-For`` is read from the right, skipping trusted proxies; the first address
    that is not one of ours is the client. Without trusted proxies the header is ignored, so a
    client cannot pick its own address to dodge rate limits.
    """
    peer = request.client.host if request.client else "0.0.0.0"  # noqa: S104 - unknown peer
    networks = kit.settings.trusted_networks()
    if not networks or not _within(peer, networks):
        return peer
    forwarded = request.headers.get("x-forwarded-for", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _within(hop, networks):
            return hop
    return hops[0] if hops else peer


def _within(address: str, networks: Any) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)

"""Staff accounts, server-side sessions and personal access tokens.

Sessions and tokens are random secrets handed to the browser or the API client once; the
database keeps only their SHA-256, so reading the tables opens nothing. Sessions live in the
database so that every app instance sees them and signing out ends them everywhere (SEC-07).
Sign-in is throttled per account and per address with counters shared by instances (SEC-15).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

import msgspec
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import CHEAPEST, RFC_9106_LOW_MEMORY
from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from cep_core.clock import Clock, system_clock
from cep_core.domain.accounts import (
    PASSWORD_MAX_LENGTH,
    STAFF_ROLES,
    AccessToken,
    StaffUser,
    normalise_email,
    password_problems,
)
from cep_core.domain.context import Role
from cep_core.services.ratelimit import RateDecision, RateLimiter
from cep_core.services.write_behind import WriteBehind
from cep_core.settings import Settings
from cep_core.storage.database import Database
from cep_core.storage.ids import is_id, new_id
from cep_core.storage.tables import access_tokens, staff_sessions, staff_users

SIGN_IN_LIMIT = 10  # attempts per minute, per account and per address (SEC-15)
SIGN_IN_WINDOW = 60
TOUCH_EVERY = timedelta(seconds=60)  # last-seen / last-used writes at most once a minute
TOKEN_PREFIX = "cep_"  # noqa: S105 - a visible prefix, lets secret scanners spot leaks
# Resolved tokens are kept this long in each process: a revocation, a disabled account or a
# new role made in this process applies at once, one made elsewhere (another instance, the
# CLI) within this delay. SEC-07 allows 60 s for a disabled account's sessions.
TOKEN_CACHE_SECONDS = 10
TOKEN_CACHE_SIZE = 10_000


class AccountError(ValueError):
    """A request about accounts that cannot be honoured; the message is French."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class SignInRefused(Exception):
    """Sign-in failed; `throttle` is set when too many attempts were made.

    `user_id`, `operator` and `outcome` are for the audit journal only (the person is told
    the same thing whatever happened): the account the e-mail names, if any, and why.
    """

    def __init__(
        self,
        message: str,
        *,
        throttle: RateDecision | None = None,
        user_id: str | None = None,
        operator: str | None = None,
        outcome: str = "failure",
    ) -> None:
        super().__init__(message)
        self.throttle = throttle
        self.user_id = user_id
        self.operator = operator
        self.outcome = "rate_limited" if throttle is not None else outcome


class StaffSession(msgspec.Struct, frozen=True, kw_only=True):
    id: str  # SHA-256 of the cookie's secret
    user_id: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    csrf_secret: str


class SignedIn(msgspec.Struct, frozen=True, kw_only=True):
    user: StaffUser
    session: StaffSession


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def build_hasher(settings: Settings) -> PasswordHasher:
    profile = CHEAPEST if settings.hash_profile == "fast" else RFC_9106_LOW_MEMORY
    return PasswordHasher.from_parameters(profile)


class AccountService:
    def __init__(
        self,
        database: Database,
        settings: Settings,
        *,
        limiter: RateLimiter,
        clock: Clock = system_clock,
    ) -> None:
        self.database = database
        self.settings = settings
        self.limiter = limiter
        self.clock = clock
        self.hasher = build_hasher(settings)
        # digest -> (resolved at, account, token): a token's every request would otherwise
        # read the database before the request's own work (`resolve_token`).
        self._resolved: dict[str, tuple[datetime, StaffUser, AccessToken]] = {}
        self._resolved_lock = threading.Lock()
        # "Last used" times, written a second later with the others (never in the request).
        self._uses: WriteBehind[str, datetime] = WriteBehind(
            self._write_uses, name="token-use", merge=max
        )

    def close(self) -> None:
        """Write the waiting "last used" times (the kit's `close()` calls it)."""
        self._uses.close()

    @cached_property
    def _dummy_hash(self) -> str:
        """Verified when the e-mail is unknown, so timing does not tell which accounts exist.

        Made on first need, not when the service is built: a hash costs ~180 ms here, and
        the first authenticated request of every process would otherwise pay for it.
        """
        return self.hasher.hash(secrets.token_urlsafe(16))

    # -- users ---------------------------------------------------------------------------

    def create_user(
        self,
        *,
        email: str,
        display_name: str,
        role: Role,
        operator: str | None,
        password: str | None = None,
    ) -> StaffUser:
        role = Role(role)
        if role not in STAFF_ROLES:
            raise AccountError(f"Rôle inconnu : « {role} ».", field="role")
        if role is not Role.ADMIN and not operator:
            raise AccountError(
                "Un conseiller ou un responsable appartient à un opérateur.", field="operator"
            )
        if role is Role.ADMIN:
            operator = None
        email = normalise_email(email)
        if "@" not in email or len(email) > 254:
            raise AccountError("Adresse électronique invalide.", field="email")
        name = display_name.strip()
        if not name or len(name) > 120:
            raise AccountError("Le nom doit compter de 1 à 120 caractères.", field="display_name")
        password_hash = None
        if password is not None:
            self._check_password(password, email=email, display_name=name)
            password_hash = self.hasher.hash(password)
        now = self.clock()
        user = StaffUser(
            id=new_id(),
            operator=operator,
            email=email,
            display_name=name,
            role=role,
            active=True,
            created_at=now,
            updated_at=now,
        )
        try:
            with self.database.write() as conn:
                conn.execute(
                    staff_users.insert().values(**_user_row(user), password_hash=password_hash)
                )
        except IntegrityError:
            raise AccountError(
                f"Un compte existe déjà avec l'adresse « {email} ».", field="email"
            ) from None
        return user

    def get_user(self, user_id: str, *, operator: str | None = None) -> StaffUser | None:
        """The user, or None — also when `operator` is given and the user is not one of its."""
        if not is_id(user_id):
            return None
        query = select(staff_users).where(staff_users.c.id == user_id)
        if operator is not None:
            query = query.where(staff_users.c.operator == operator)
        with self.database.read() as conn:
            row = conn.execute(query).mappings().first()
        return _user(row) if row else None

    def find_user(self, email: str) -> StaffUser | None:
        with self.database.read() as conn:
            row = (
                conn.execute(
                    select(staff_users).where(staff_users.c.email == normalise_email(email))
                )
                .mappings()
                .first()
            )
        return _user(row) if row else None

    def list_users(self, operator: str | None) -> list[StaffUser]:
        """An operator's staff (None: every account — for platform admins)."""
        query = select(staff_users).order_by(
            staff_users.c.operator, func.lower(staff_users.c.display_name), staff_users.c.id
        )
        if operator is not None:
            query = query.where(staff_users.c.operator == operator)
        with self.database.read() as conn:
            return [_user(row) for row in conn.execute(query).mappings()]

    def set_password(self, user_id: str, password: str) -> None:
        user = self._require(user_id)
        self._check_password(password, email=user.email, display_name=user.display_name)
        with self.database.write() as conn:
            conn.execute(
                update(staff_users)
                .where(staff_users.c.id == user_id)
                .values(password_hash=self.hasher.hash(password), updated_at=self.clock())
            )
            # A new password ends every open session (it may have been set after a theft).
            conn.execute(delete(staff_sessions).where(staff_sessions.c.user_id == user_id))

    def set_active(self, user_id: str, active: bool, *, operator: str | None = None) -> StaffUser:
        """Disable (or re-enable) an account; disabling ends its sessions at once (SEC-07)."""
        self._require(user_id, operator=operator)
        with self.database.write() as conn:
            conn.execute(
                update(staff_users)
                .where(staff_users.c.id == user_id)
                .values(active=int(active), updated_at=self.clock())
            )
            if not active:
                conn.execute(delete(staff_sessions).where(staff_sessions.c.user_id == user_id))
        self._forget_tokens()
        return self._require(user_id)

    def set_role(self, user_id: str, role: Role, *, operator: str | None = None) -> StaffUser:
        user = self._require(user_id, operator=operator)
        role = Role(role)
        if role not in (Role.COUNSELLOR, Role.MANAGER) or user.role is Role.ADMIN:
            raise AccountError("Ce changement de rôle n'est pas possible ici.", field="role")
        with self.database.write() as conn:
            conn.execute(
                update(staff_users)
                .where(staff_users.c.id == user_id)
                .values(role=role.value, updated_at=self.clock())
            )
        self._forget_tokens()
        return self._require(user_id)

    def _require(self, user_id: str, *, operator: str | None = None) -> StaffUser:
        user = self.get_user(user_id, operator=operator)
        if user is None:
            raise AccountError("Compte introuvable.")
        return user

    def _check_password(self, password: str, *, email: str, display_name: str) -> None:
        problems = password_problems(password, email=email, display_name=display_name)
        if problems:
            raise AccountError(" ".join(problems), field="password")

    # -- sign-in and sessions ------------------------------------------------------------

    def authenticate(self, email: str, password: str, *, client_ip: str) -> StaffUser:
        """The active user with these credentials, or `SignInRefused` (same text either way)."""
        email = normalise_email(email)[:254]
        for key in (f"signin:ip:{client_ip}", f"signin:account:{digest(email)}"):
            decision = self.limiter.hit(key, limit=SIGN_IN_LIMIT, window=SIGN_IN_WINDOW)
            if not decision.allowed:
                raise SignInRefused(
                    "Trop de tentatives de connexion. Réessayez dans "
                    f"{decision.reset_after} secondes.",
                    throttle=decision,
                )
        with self.database.read() as conn:
            row = (
                conn.execute(select(staff_users).where(staff_users.c.email == email))
                .mappings()
                .first()
            )
        stored = row["password_hash"] if row is not None else None
        ok = _verify(self.hasher, stored or self._dummy_hash, password[:PASSWORD_MAX_LENGTH])
        if row is None or stored is None or not ok or not row["active"]:
            raise SignInRefused(
                "Adresse électronique ou mot de passe incorrect.",
                user_id=None if row is None else row["id"],
                operator=None if row is None else row["operator"],
                outcome="locked" if row is not None and ok and not row["active"] else "failure",
            )
        if self.hasher.check_needs_rehash(stored):
            with self.database.write() as conn:
                conn.execute(
                    update(staff_users)
                    .where(staff_users.c.id == row["id"])
                    .values(password_hash=self.hasher.hash(password))
                )
        return _user(row)

    def open_session(self, user: StaffUser) -> tuple[str, StaffSession]:
        """A new session (a new id at every sign-in: no fixation); returns the cookie secret."""
        secret = secrets.token_urlsafe(32)
        now = self.clock()
        session = StaffSession(
            id=digest(secret),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(hours=self.settings.session_max_hours),
            csrf_secret=secrets.token_urlsafe(32),
        )
        with self.database.write() as conn:
            conn.execute(staff_sessions.insert().values(**msgspec.structs.asdict(session)))
        return secret, session

    def resolve_session(self, secret: str) -> SignedIn | None:
        """The signed-in user behind a cookie, or None when ended, idle, expired or disabled."""
        if not secret or len(secret) > 100:
            return None
        now = self.clock()
        session_id = digest(secret)
        query = (
            select(staff_sessions, staff_users)
            .join(staff_users, staff_users.c.id == staff_sessions.c.user_id)
            .where(staff_sessions.c.id == session_id)
        )
        with self.database.read() as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            return None
        session = _session(row)
        idle_limit = session.last_seen_at + timedelta(minutes=self.settings.session_idle_minutes)
        if not row["active"] or now >= session.expires_at or now >= idle_limit:
            self.end_session(secret)
            return None
        if now - session.last_seen_at >= TOUCH_EVERY:
            with self.database.write() as conn:
                conn.execute(
                    update(staff_sessions)
                    .where(staff_sessions.c.id == session_id)
                    .values(last_seen_at=now)
                )
            session = msgspec.structs.replace(session, last_seen_at=now)
        user_row = {key: row[key] for key in _USER_COLUMNS}
        user_row["id"] = row["user_id"]
        return SignedIn(user=_user(user_row), session=session)

    def end_session(self, secret: str) -> None:
        with self.database.write() as conn:
            conn.execute(delete(staff_sessions).where(staff_sessions.c.id == digest(secret)))

    def end_sessions_of(self, user_id: str) -> int:
        with self.database.write() as conn:
            result = conn.execute(delete(staff_sessions).where(staff_sessions.c.user_id == user_id))
        return int(result.rowcount or 0)

    def purge_sessions(self, now: datetime | None = None) -> int:
        """Delete expired sessions (idle ones are deleted when next seen, or here)."""
        with self.database.write() as conn:
            result = conn.execute(delete(staff_sessions).where(self.expired_sessions(now)))
        return int(result.rowcount or 0)

    def expired_sessions(self, now: datetime | None = None) -> ColumnElement[bool]:
        """The sessions past their lifetime or idle too long at `now` (default: the clock);
        what `purge_sessions` deletes and ``cep purge --dry-run`` counts."""
        now = now or self.clock()
        idle = now - timedelta(minutes=self.settings.session_idle_minutes)
        return (staff_sessions.c.expires_at <= now) | (staff_sessions.c.last_seen_at <= idle)

    # -- personal access tokens ----------------------------------------------------------

    def create_token(
        self, user: StaffUser, *, name: str, valid_days: int | None = 90
    ) -> tuple[str, AccessToken]:
        """A new token for `user`; the secret is returned once and never stored."""
        name = name.strip()
        if not name or len(name) > 80:
            raise AccountError("Le nom du jeton doit compter de 1 à 80 caractères.", field="name")
        if valid_days is not None and not 1 <= valid_days <= 366:
            raise AccountError("La durée de validité va de 1 à 366 jours.", field="valid_days")
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = self.clock()
        token = AccessToken(
            id=new_id(),
            user_id=user.id,
            operator=user.operator,
            name=name,
            hint=secret[-4:],
            created_at=now,
            expires_at=now + timedelta(days=valid_days) if valid_days else None,
            last_used_at=None,
            revoked_at=None,
        )
        with self.database.write() as conn:
            conn.execute(
                access_tokens.insert().values(
                    **msgspec.structs.asdict(token), digest=digest(secret)
                )
            )
        return secret, token

    def list_tokens(self, *, operator: str | None, user_id: str | None = None) -> list[AccessToken]:
        """Tokens of an operator (or of one of its users); `operator=None` only for admins."""
        query = select(access_tokens).order_by(access_tokens.c.created_at.desc())
        if operator is not None:
            query = query.where(access_tokens.c.operator == operator)
        if user_id is not None:
            query = query.where(access_tokens.c.user_id == user_id)
        with self.database.read() as conn:
            return [_token(row) for row in conn.execute(query).mappings()]

    def get_token(self, token_id: str, *, operator: str | None) -> AccessToken | None:
        if not is_id(token_id):
            return None
        query = select(access_tokens).where(access_tokens.c.id == token_id)
        if operator is not None:
            query = query.where(access_tokens.c.operator == operator)
        with self.database.read() as conn:
            row = conn.execute(query).mappings().first()
        return _token(row) if row else None

    def revoke_token(
        self, token_id: str, *, operator: str | None, user_id: str | None = None
    ) -> AccessToken | None:
        """Revoke; None when the token is not visible to the caller (another operator's)."""
        token = self.get_token(token_id, operator=operator)
        if token is None or (user_id is not None and token.user_id != user_id):
            return None
        if token.revoked_at is None:
            with self.database.write() as conn:
                conn.execute(
                    update(access_tokens)
                    .where(access_tokens.c.id == token_id, access_tokens.c.revoked_at.is_(None))
                    .values(revoked_at=self.clock())
                )
            self._forget_tokens()
        return self.get_token(token_id, operator=operator)

    def resolve_token(self, secret: str) -> tuple[StaffUser, AccessToken] | None:
        """The account and token behind `secret`, or None (unknown, revoked, expired, or the
        account disabled). Kept `TOKEN_CACHE_SECONDS` once found; expiry is checked each time."""
        return self._resolve(secret, ask_database=True)

    def known_token(self, secret: str) -> tuple[StaffUser, AccessToken] | None:
        """`resolve_token` from memory only, without any I/O (the event loop may call it);
        None when the database must be asked."""
        return self._resolve(secret, ask_database=False)

    def _resolve(self, secret: str, *, ask_database: bool) -> tuple[StaffUser, AccessToken] | None:
        if not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
            return None
        key = digest(secret)
        now = self.clock()
        found = self._cached(key, now)
        if found is None and ask_database:
            found = self._load_token(key)
            if found is not None:
                self._remember(key, now, found)
        if found is None or not found[1].usable(now):
            return None
        user, token = found
        return user, self._used(key, token, now)

    def _load_token(self, key: str) -> tuple[StaffUser, AccessToken] | None:
        """The token with digest `key` and its account, if the account is active."""
        query = (
            select(access_tokens, staff_users)
            .join(staff_users, staff_users.c.id == access_tokens.c.user_id)
            .where(access_tokens.c.digest == key)
        )
        with self.database.read() as conn:
            row = conn.execute(query).mappings().first()
        if row is None or not hmac.compare_digest(row["digest"], key) or not row["active"]:
            return None
        user_row = {name: row[name] for name in _USER_COLUMNS}
        user_row["id"] = row["user_id"]
        return _user(user_row), _token(row)

    def _cached(self, key: str, now: datetime) -> tuple[StaffUser, AccessToken] | None:
        with self._resolved_lock:
            entry = self._resolved.get(key)
        if entry is None or not timedelta(0) <= now - entry[0] < _TOKEN_CACHE_TTL:
            return None
        return entry[1], entry[2]

    def _remember(self, key: str, now: datetime, found: tuple[StaffUser, AccessToken]) -> None:
        with self._resolved_lock:
            if len(self._resolved) >= TOKEN_CACHE_SIZE and key not in self._resolved:
                del self._resolved[next(iter(self._resolved))]  # the oldest goes
            self._resolved[key] = (now, *found)

    def _used(self, key: str, token: AccessToken, now: datetime) -> AccessToken:
        """Note the use (at most once a minute per token); the time is written later."""
        if token.last_used_at is not None and now - token.last_used_at < TOUCH_EVERY:
            return token
        token = msgspec.structs.replace(token, last_used_at=now)
        with self._resolved_lock:
            entry = self._resolved.get(key)
            if entry is not None:
                self._resolved[key] = (entry[0], entry[1], token)
        self._uses.add(token.id, now)
        return token

    def _forget_tokens(self) -> None:
        with self._resolved_lock:
            self._resolved.clear()

    def _write_uses(self, uses: dict[str, datetime]) -> None:
        with self.database.write() as conn:
            for token_id, at in uses.items():
                conn.execute(
                    update(access_tokens)
                    .where(access_tokens.c.id == token_id)
                    .values(last_used_at=at)
                )


_TOKEN_CACHE_TTL = timedelta(seconds=TOKEN_CACHE_SECONDS)
_USER_COLUMNS = ("operator", "email", "display_name", "role", "active", "created_at", "updated_at")


def _verify(hasher: PasswordHasher, stored: str, password: str) -> bool:
    try:
        return hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def _user_row(user: StaffUser) -> dict[str, Any]:
    row = msgspec.structs.asdict(user)
    row["role"] = user.role.value
    row["active"] = int(user.active)
    return row


def _user(row: Any) -> StaffUser:
    return StaffUser(
        id=row["id"],
        operator=row["operator"],
        email=row["email"],
        display_name=row["display_name"],
        role=Role(row["role"]),
        active=bool(row["active"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _session(row: Any) -> StaffSession:
    return StaffSession(
        id=row["id"],
        user_id=row["user_id"],
        created_at=row["created_at"],
        last_seen_at=row["last_seen_at"],
        expires_at=row["expires_at"],
        csrf_secret=row["csrf_secret"],
    )


def _token(row: Any) -> AccessToken:
    return AccessToken(
        id=row["id"],
        user_id=row["user_id"],
        operator=row["operator"],
        name=row["name"],
        hint=row["hint"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        last_used_at=row["last_used_at"],
        revoked_at=row["revoked_at"],
    )

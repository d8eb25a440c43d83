"""Settings, read from the environment (``CEP_*``) once, then passed explicitly."""

from __future__ import annotations

import enum
import hashlib
import ipaddress
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TypeVar

import msgspec

_E = TypeVar("_E", bound=enum.StrEnum)

# SEC-24: a secret shorter than this is refused (32 random characters ≈ 190 bits).
MIN_TOKEN_LENGTH = 32


class SettingsError(ValueError):
    """A setting is invalid; the message says which variable and why, in French."""


class ApiToken(msgspec.Struct, frozen=True, kw_only=True):
    """An API client: its operator (tenant), the actor it acts as, and its token's SHA-256."""

    operator: str
    actor: str
    digest: str


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def parse_api_tokens(text: str, origin: str) -> tuple[ApiToken, ...]:
    """Entries ``operator:actor:token`` separated by commas or new lines (# starts a comment)."""
    found: list[ApiToken] = []
    entries = (raw.split("#", 1)[0].strip() for raw in text.replace(",", "\n").splitlines())
    for number, entry in enumerate((e for e in entries if e), start=1):
        parts = entry.split(":", 2)
        if len(parts) != 3 or not all(p.strip() for p in parts):
            # Never echo the entry: it may be a secret pasted without its prefix.
            raise SettingsError(
                f"{origin} : entrée n° {number} invalide (format attendu opérateur:acteur:jeton)"
            )
        operator, actor, token = (p.strip() for p in parts)
        if len(token) < MIN_TOKEN_LENGTH:
            raise SettingsError(
                f"{origin} : le jeton de « {operator}:{actor} » est trop court "
                f"({MIN_TOKEN_LENGTH} caractères au moins ; exemple : "
                "python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
        found.append(ApiToken(operator=operator, actor=actor, digest=token_digest(token)))
    return tuple(found)


class Profile(enum.StrEnum):
    """`development` forgives (generated secret, file mail, API docs); `production` does not."""

    DEVELOPMENT = "development"
    PRODUCTION = "production"


DEFAULT_SENDER = "cep-kit <ne-pas-repondre@cep-kit.invalid>"


class MailBackend(enum.StrEnum):
    CONSOLE = "console"  # prints each message (development)
    FILE = "file"  # writes .eml files under the data folder (development default)
    SMTP = "smtp"  # a real server (production)


class MailSettings(msgspec.Struct, frozen=True, kw_only=True):
    """``CEP_MAIL_*``: where e-mails go, and as whom."""

    backend: MailBackend = MailBackend.FILE
    sender: str = DEFAULT_SENDER
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    smtp_timeout: float = 10.0
    # Where the operator's queue notices go when the operator set no address of its own.
    fallback_queue_address: str | None = None


def _list(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(item.strip() for item in value.split(",") if item.strip())


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "oui", "on"}


def default_data_dir(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "cep-kit"


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Everything a deployment can set.

    - ``CEP_DATABASE_URL``: SQLAlchemy URL; default a SQLite file in the data folder;
    - ``CEP_DATA_DIR``: the data folder (default ``$XDG_DATA_HOME/cep-kit``);
    - ``CEP_PLUGINS``: allow-list of entry-point names (unset: every installed plugin);
    - ``CEP_DISABLED_PLUGINS``: block-list of plugin names;
    - ``CEP_TRACE_HOOKS``: ``1`` logs every hook call;
    - ``CEP_API_TOKENS`` / ``CEP_API_TOKENS_FILE``: API clients, ``opérateur:acteur:jeton``
      entries (the file form keeps secrets out of the environment);
    - ``CEP_PROFILE``: ``development`` (default) or ``production``;
    - ``CEP_DEBUG``: tracebacks in answers — refused in production (SEC-13);
    - ``CEP_SECRET_KEY`` / ``CEP_SECRET_KEY_FILE``: key for CSRF tokens and keyed hashes, 32
      characters at least; in development a random one is kept in the data folder (SEC-24);
    - ``CEP_PUBLIC_URL``: the address people use, for links in e-mails;
    - ``CEP_TRUSTED_PROXIES``: addresses/networks whose ``X-Forwarded-For`` is believed;
    - ``CEP_SESSION_IDLE_MINUTES`` (30) / ``CEP_SESSION_MAX_HOURS`` (10): staff sessions (SEC-07);
    - ``CEP_OPENAPI``: ``on`` / ``off`` / ``staff`` (default ``on`` in development, ``off`` in
      production — SEC-14);
    - ``CEP_MAIL_BACKEND`` (``console``, ``file``, ``smtp``), ``CEP_MAIL_FROM``,
      ``CEP_SMTP_HOST``, ``CEP_SMTP_PORT``, ``CEP_SMTP_USERNAME``, ``CEP_SMTP_PASSWORD``,
      ``CEP_SMTP_STARTTLS``, ``CEP_SMTP_SSL``, ``CEP_MAIL_QUEUE_FALLBACK``;
    - ``CEP_ALLOW_NON_DURABLE_DATABASE=1``: tests only — serve even though the database may
      lose acknowledged writes (the throw-away PostgreSQL clusters run with ``fsync=off``);
      the problems are still logged; refused in production (REL-08);
    - ``CEP_AUDIT_RETENTION_MONTHS`` (12): how long the audit journal is kept; outside 6–12
      months only with ``CEP_AUDIT_RETENTION_OVERRIDE`` set to the written justification.
    """

    data_dir: Path
    database_url: str | None = None
    plugins: tuple[str, ...] | None = None
    disabled_plugins: tuple[str, ...] = ()
    trace_hooks: bool = False
    load_entrypoints: bool = True
    api_tokens: tuple[ApiToken, ...] = ()
    profile: Profile = Profile.DEVELOPMENT
    debug: bool = False
    secret_key: str | None = None
    # Key of the keyed hashes in statistical exports (SEC-20); kept apart from the exports.
    pseudonymisation_key: str | None = None
    public_url: str = "http://127.0.0.1:8000"
    trusted_proxies: tuple[str, ...] = ()
    session_idle_minutes: int = 30
    session_max_hours: int = 10
    openapi: str | None = None
    mail: MailSettings = msgspec.field(default_factory=MailSettings)
    # "standard" (RFC 9106 low-memory argon2id) or "fast" (tests only; refused in production).
    hash_profile: str = "standard"
    # Serve on a database that may lose acknowledged writes (PostgreSQL fsync=off...): only for
    # the throw-away test clusters (pg_virtualenv, tests/conftest.py); refused in production.
    allow_non_durable_database: bool = False
    # Audit journal retention (SEC-12): CNIL range 6–12 months, else a written justification.
    audit_retention_months: int = 12
    audit_retention_override: str | None = None

    @property
    def production(self) -> bool:
        return self.profile is Profile.PRODUCTION

    @property
    def openapi_mode(self) -> str:
        """``on``, ``off`` or ``staff``: explicit setting, else by profile (SEC-14)."""
        if self.openapi:
            return self.openapi
        return "off" if self.production else "on"

    def trusted_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return tuple(ipaddress.ip_network(item, strict=False) for item in self.trusted_proxies)

    def startup_problems(self) -> list[str]:
        """Why this configuration must not serve, in French (empty: it may)."""
        problems: list[str] = []
        if self.production:
            if self.debug:
                problems.append("CEP_DEBUG est interdit avec CEP_PROFILE=production")
            if not self.secret_key:
                problems.append(
                    "CEP_SECRET_KEY (ou CEP_SECRET_KEY_FILE) est obligatoire en production"
                )
            if not self.public_url.startswith("https://"):
                problems.append("CEP_PUBLIC_URL doit commencer par https:// en production")
            if self.hash_profile != "standard":
                problems.append("CEP_PASSWORD_HASHING=fast est interdit en production")
            if self.mail.backend is not MailBackend.SMTP:
                problems.append("CEP_MAIL_BACKEND doit valoir « smtp » en production")
            if self.allow_non_durable_database:
                problems.append(
                    "CEP_ALLOW_NON_DURABLE_DATABASE est interdit avec CEP_PROFILE=production "
                    "(réservé aux grappes PostgreSQL jetables des tests)"
                )
        from cep_core.services.audit import retention_problem

        audit_problem = retention_problem(
            self.audit_retention_months, self.audit_retention_override
        )
        if audit_problem:
            problems.append(audit_problem)
        if self.secret_key is not None and _weak_secret(self.secret_key):
            problems.append(
                f"CEP_SECRET_KEY est trop faible ({MIN_TOKEN_LENGTH} caractères au moins, "
                "tirés au hasard ; exemple : python3 -c 'import secrets; "
                "print(secrets.token_urlsafe(32))')"
            )
        return problems

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        data_dir = Path(env["CEP_DATA_DIR"]) if env.get("CEP_DATA_DIR") else default_data_dir(env)
        tokens = parse_api_tokens(env.get("CEP_API_TOKENS", ""), "CEP_API_TOKENS")
        if env.get("CEP_API_TOKENS_FILE"):
            path = Path(env["CEP_API_TOKENS_FILE"])
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise SettingsError(
                    f"CEP_API_TOKENS_FILE : lecture impossible de « {path} » ({exc.strerror})"
                ) from None
            tokens += parse_api_tokens(text, f"CEP_API_TOKENS_FILE ({path})")
        return cls(
            profile=_choice(env, "CEP_PROFILE", Profile, Profile.DEVELOPMENT),
            debug=_flag(env.get("CEP_DEBUG")),
            secret_key=_secret(env),
            pseudonymisation_key=_secret(env, "CEP_PSEUDONYMISATION_KEY"),
            public_url=(env.get("CEP_PUBLIC_URL") or "http://127.0.0.1:8000").rstrip("/"),
            trusted_proxies=_networks(env.get("CEP_TRUSTED_PROXIES")),
            session_idle_minutes=_int(env, "CEP_SESSION_IDLE_MINUTES", 30, 1, 24 * 60),
            session_max_hours=_int(env, "CEP_SESSION_MAX_HOURS", 10, 1, 24 * 7),
            openapi=_openapi(env.get("CEP_OPENAPI")),
            mail=_mail(env),
            hash_profile=_hashing(env.get("CEP_PASSWORD_HASHING")),
            allow_non_durable_database=_flag(env.get("CEP_ALLOW_NON_DURABLE_DATABASE")),
            audit_retention_months=_audit_retention(env),
            audit_retention_override=(env.get("CEP_AUDIT_RETENTION_OVERRIDE") or "").strip()
            or None,
            api_tokens=tokens,
            data_dir=data_dir,
            database_url=env.get("CEP_DATABASE_URL") or None,
            plugins=_list(env.get("CEP_PLUGINS")),
            disabled_plugins=_list(env.get("CEP_DISABLED_PLUGINS")) or (),
            trace_hooks=_flag(env.get("CEP_TRACE_HOOKS")),
        )

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'cep.sqlite3'}"


def _weak_secret(secret: str) -> bool:
    return len(secret) < MIN_TOKEN_LENGTH or len(set(secret)) < 10


def _secret(env: Mapping[str, str], name: str = "CEP_SECRET_KEY") -> str | None:
    if env.get(f"{name}_FILE"):
        path = Path(env[f"{name}_FILE"])
        try:
            return path.read_text(encoding="utf-8").strip() or None
        except OSError as exc:
            raise SettingsError(
                f"{name}_FILE : lecture impossible de « {path} » ({exc.strerror})"
            ) from None
    return env.get(name) or None


def _choice(env: Mapping[str, str], name: str, kind: type[_E], default: _E) -> _E:
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    try:
        return kind(raw)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise SettingsError(f"{name} : « {raw} » inconnu (valeurs possibles : {allowed})") from None


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} : « {raw} » n'est pas un nombre entier") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} : {value} hors de l'intervalle {low}–{high}")
    return value


def _audit_retention(env: Mapping[str, str]) -> int:
    """Months of audit journal: refused outside the CNIL's 6–12 without a justification."""
    from cep_core.services.audit import retention_problem

    months = _int(env, "CEP_AUDIT_RETENTION_MONTHS", 12, 1, 120)
    problem = retention_problem(months, env.get("CEP_AUDIT_RETENTION_OVERRIDE"))
    if problem:
        raise SettingsError(problem)
    return months


def _networks(value: str | None) -> tuple[str, ...]:
    items = _list(value) or ()
    for item in items:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise SettingsError(
                f"CEP_TRUSTED_PROXIES : « {item} » n'est ni une adresse IP ni un réseau"
            ) from None
    return items


def _openapi(value: str | None) -> str | None:
    raw = (value or "").strip().lower()
    if not raw:
        return None
    if raw not in {"on", "off", "staff"}:
        raise SettingsError(f"CEP_OPENAPI : « {raw} » inconnu (valeurs possibles : on, off, staff)")
    return raw


def _mail(env: Mapping[str, str]) -> MailSettings:
    port_default = 465 if _flag(env.get("CEP_SMTP_SSL")) else 25
    return MailSettings(
        backend=_choice(env, "CEP_MAIL_BACKEND", MailBackend, MailBackend.FILE),
        sender=env.get("CEP_MAIL_FROM") or DEFAULT_SENDER,
        smtp_host=env.get("CEP_SMTP_HOST") or "localhost",
        smtp_port=_int(env, "CEP_SMTP_PORT", port_default, 1, 65535),
        smtp_username=env.get("CEP_SMTP_USERNAME") or None,
        smtp_password=env.get("CEP_SMTP_PASSWORD") or None,
        smtp_starttls=_flag(env.get("CEP_SMTP_STARTTLS")),
        smtp_ssl=_flag(env.get("CEP_SMTP_SSL")),
        fallback_queue_address=env.get("CEP_MAIL_QUEUE_FALLBACK") or None,
    )


def _hashing(value: str | None) -> str:
    raw = (value or "standard").strip().lower()
    if raw not in {"standard", "fast"}:
        raise SettingsError(
            f"CEP_PASSWORD_HASHING : « {raw} » inconnu (valeurs possibles : standard, fast)"
        )
    return raw

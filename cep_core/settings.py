"""Settings, read from the environment (``CEP_*``) once, then passed explicitly."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path

import msgspec

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
      entries (the file form keeps secrets out of the environment).
    """

    data_dir: Path
    database_url: str | None = None
    plugins: tuple[str, ...] | None = None
    disabled_plugins: tuple[str, ...] = ()
    trace_hooks: bool = False
    load_entrypoints: bool = True
    api_tokens: tuple[ApiToken, ...] = ()

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

"""Settings, read from the environment (``CEP_*``) once, then passed explicitly."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import msgspec


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
    - ``CEP_TRACE_HOOKS``: ``1`` logs every hook call.
    """

    data_dir: Path
    database_url: str | None = None
    plugins: tuple[str, ...] | None = None
    disabled_plugins: tuple[str, ...] = ()
    trace_hooks: bool = False
    load_entrypoints: bool = True

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        data_dir = Path(env["CEP_DATA_DIR"]) if env.get("CEP_DATA_DIR") else default_data_dir(env)
        return cls(
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

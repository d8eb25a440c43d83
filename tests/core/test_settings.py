"""Settings from the environment: lists, flags, API tokens (refused when short or malformed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cep_core.settings import Settings, SettingsError, token_digest

TOKEN = "t" * 40


def test_defaults_and_lists(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "CEP_DATA_DIR": str(tmp_path),
            "CEP_PLUGINS": "apec, regional,,",
            "CEP_DISABLED_PLUGINS": "cap_emploi",
            "CEP_TRACE_HOOKS": "oui",
        }
    )
    assert settings.plugins == ("apec", "regional")
    assert settings.disabled_plugins == ("cap_emploi",)
    assert settings.trace_hooks is True
    assert settings.effective_database_url == f"sqlite:///{tmp_path / 'cep.sqlite3'}"
    assert Settings.from_env({"HOME": str(tmp_path)}).plugins is None


def test_api_tokens_from_env_and_file(tmp_path: Path) -> None:
    file = tmp_path / "tokens"
    file.write_text(f"# clients\nregional:portail:{'u' * 40}\n", encoding="utf-8")
    settings = Settings.from_env(
        {
            "CEP_DATA_DIR": str(tmp_path),
            "CEP_API_TOKENS": f"apec:conseil-1:{TOKEN}",
            "CEP_API_TOKENS_FILE": str(file),
        }
    )
    assert [(t.operator, t.actor) for t in settings.api_tokens] == [
        ("apec", "conseil-1"),
        ("regional", "portail"),
    ]
    assert settings.api_tokens[0].digest == token_digest(TOKEN)
    assert TOKEN not in repr(settings)  # only digests are kept


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("apec:conseil:court", "trop court"),
        ("apec-sans-jeton", "format attendu opérateur:acteur:jeton"),
        (f"apec::{TOKEN}", "format attendu"),
    ],
)
def test_bad_tokens_are_refused(tmp_path: Path, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env({"CEP_DATA_DIR": str(tmp_path), "CEP_API_TOKENS": value})


def test_unreadable_token_file(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="lecture impossible"):
        Settings.from_env(
            {"CEP_DATA_DIR": str(tmp_path), "CEP_API_TOKENS_FILE": str(tmp_path / "absent")}
        )


def test_a_malformed_entry_is_not_echoed(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"CEP_DATA_DIR": str(tmp_path), "CEP_API_TOKENS": TOKEN})
    assert TOKEN not in str(caught.value)
    assert "entrée n° 1" in str(caught.value)

"""Bearer tokens from the settings: 401 in French without or with a wrong token; the client
acts for the operator its token is bound to; a token for an uninstalled operator stops start-up."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from litestar import get
from litestar.di import NamedDependency
from litestar.testing import TestClient

from cep_core.kit import Kit
from cep_core.settings import Settings, SettingsError, parse_api_tokens
from cep_core.web import create_app
from cep_core.web.auth import ApiClient

TOKEN = "x" * 43


@get("/plugins/test/whoami", sync_to_thread=False)
def whoami(client: NamedDependency[ApiClient]) -> dict[str, str]:
    return {"operator": client.operator, "actor": client.actor, "role": str(client.role)}


@pytest.fixture
def make(fakes: SimpleNamespace):  # type: ignore[no-untyped-def]
    kits: list[Kit] = []

    def build(tmp_path: Path, tokens: str) -> Kit:
        settings = Settings(data_dir=tmp_path, api_tokens=parse_api_tokens(tokens, "test"))
        kit = Kit(
            [fakes.operator("alpha"), fakes.routes([whoami])],
            settings=settings,
            load_entrypoints=False,
        )
        kit.database.upgrade()  # the API counts each client's requests in the database
        kits.append(kit)
        return kit

    yield build
    for kit in kits:
        kit.close()


def test_valid_token_identifies_the_client(tmp_path: Path, make: Any) -> None:
    app = create_app(make(tmp_path, f"alpha:conseil-7:{TOKEN}"))
    with TestClient(app) as http:
        answer = http.get("/plugins/test/whoami", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200
    assert answer.json() == {"operator": "alpha", "actor": "conseil-7", "role": "counsellor"}


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        (None, "Authentification requise"),
        ("Basic abc", "Authentification requise"),
        ("Bearer ", "Authentification requise"),
        (f"Bearer {'y' * 43}", "Jeton inconnu"),
    ],
)
def test_missing_or_wrong_token_is_401_in_french(
    tmp_path: Path, make: Any, header: str | None, detail: str
) -> None:
    app = create_app(make(tmp_path, f"alpha:conseil-7:{TOKEN}"))
    headers = {"Authorization": header} if header is not None else {}
    with TestClient(app) as http:
        answer = http.get("/plugins/test/whoami", headers=headers)
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"].startswith("Bearer")
    body = answer.json()
    assert body["title"] == "Authentification requise"
    assert body["detail"].startswith(detail)


def test_token_for_an_uninstalled_operator_stops_start_up(tmp_path: Path, make: Any) -> None:
    with pytest.raises(SettingsError, match="« ghost »"):
        create_app(make(tmp_path, f"ghost:robot:{TOKEN}"))

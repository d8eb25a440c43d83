"""`create_app`: start-up checks, kit ownership, security headers, no global state."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

import cep_core
from cep_core.errors import PluginLoadError
from cep_core.kit import Kit
from cep_core.settings import Settings
from cep_core.web import CepPlugin, create_app
from cep_core.web.security import SECURITY_HEADERS

URL = "/api/v1/orientation"
VALID = {"birth_date": "1980-05-01", "status": "employee"}


def test_refuses_to_build_when_a_plugin_was_refused(make_kit: Any, fakes: SimpleNamespace) -> None:
    kit = make_kit(fakes.operator("apec"), fakes.operator("future", core_range=">=9"))

    with pytest.raises(PluginLoadError) as caught:
        create_app(kit)
    assert "fake_future" in str(caught.value)
    assert ">=9" in str(caught.value)
    with pytest.raises(PluginLoadError):
        CepPlugin(kit)


def test_builds_its_own_kit_from_settings_and_closes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed: list[Kit] = []
    monkeypatch.setattr(Kit, "close", lambda self: closed.append(self))
    app = create_app(settings=Settings(data_dir=tmp_path, load_entrypoints=False))

    kit = app.state.kit
    assert isinstance(kit, Kit)
    assert kit.settings.data_dir == tmp_path
    with TestClient(app) as client:
        assert client.post(URL, json=VALID).status_code == 200
        assert closed == []
    assert closed == [kit]


def test_a_kit_passed_in_stays_open(make_kit: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    kit = make_kit()
    closed: list[Kit] = []
    monkeypatch.setattr(Kit, "close", lambda self: closed.append(self))
    app = create_app(kit)

    assert app.state.kit is kit
    with TestClient(app):
        pass
    assert closed == []


def test_kit_and_settings_together_is_a_mistake(make_kit: Any, tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        create_app(make_kit(), settings=Settings(data_dir=tmp_path))


def test_two_apps_keep_their_own_kits(make_kit: Any, fakes: SimpleNamespace) -> None:
    first = create_app(make_kit(fakes.operator("apec")))
    second = create_app(make_kit(fakes.operator("regional")))

    with TestClient(first) as one, TestClient(second) as two:
        assert [o["id"] for o in one.post(URL, json=VALID).json()["operators"]] == ["apec"]
        assert [o["id"] for o in two.post(URL, json=VALID).json()["operators"]] == ["regional"]


def test_lazy_create_app_from_the_package(make_kit: Any) -> None:
    assert cep_core.create_app is create_app


def test_building_and_serving_emits_no_warning(make_kit: Any, fakes: SimpleNamespace) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        app = create_app(make_kit(*fakes.defaults()))
        with TestClient(app) as client:
            assert client.post(URL, json=VALID).status_code == 200
            assert client.get("/schema/openapi.json").status_code == 200


def test_importing_cep_core_does_not_import_litestar() -> None:
    code = "import sys, cep_core; assert 'litestar' not in sys.modules, 'litestar imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("POST", URL, {"json": VALID}, 200),
        ("POST", URL, {"json": {"status": "employee"}}, 400),
        ("POST", URL, {"content": b"x" * (1024 * 1024 + 1)}, 413),
        ("GET", URL, {}, 405),
        ("GET", "/nowhere", {}, 404),
        ("GET", "/schema/openapi.json", {}, 200),
    ],
)
def test_security_headers_on_every_response(
    client: TestClient[Litestar], method: str, path: str, kwargs: dict[str, Any], status: int
) -> None:
    response = client.request(method, path, **kwargs)

    assert response.status_code == status
    for name, value in SECURITY_HEADERS:
        assert response.headers[name] == value
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]

"""Embedding (b): `CepPlugin` in a host Litestar app, under a prefix, with the host's users."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from litestar.testing import TestClient

from cep_core import Kit
from cep_core.settings import Settings
from cep_core.web.plugin import CepPlugin

HOST = Path(__file__).resolve().parents[2] / "examples" / "host_litestar" / "host.py"


def load_host():  # type: ignore[no-untyped-def]
    import importlib.util

    spec = importlib.util.spec_from_file_location("host_litestar_example", HOST)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # Litestar resolves handler annotations in the module
    spec.loader.exec_module(module)
    return module


build_app = load_host().build_app


@pytest.fixture
def kit(tmp_path: Path) -> Kit:
    return Kit(settings=Settings(data_dir=tmp_path, hash_profile="fast"), load_entrypoints=True)


def test_host_routes_and_kit_routes_live_side_by_side(kit: Kit) -> None:
    with TestClient(build_app(kit)) as client:
        assert client.get("/").json() == {
            "portail": "Portail emploi-formation",
            "utilisateur": "anonyme",
        }
        answer = client.post(
            "/cep/api/v1/orientation",
            json={"birth_date": "1990-04-23", "status": "employee", "cadre": True, "region": "53"},
        )
        assert answer.status_code == 200, answer.text
        assert "apec" in {item["id"] for item in answer.json()["operators"]}
        # The kit's routes are under the prefix only, with the kit's headers; the host's keep theirs.
        assert client.get("/api/v1/cases").status_code == 404
        assert "content-security-policy" not in client.get("/").headers
        assert "nosniff" in client.get("/cep/api/v1/cases").headers["x-content-type-options"]
    kit.close()


def test_the_host_authentication_decides_who_calls_the_kit(kit: Kit) -> None:
    with TestClient(build_app(kit)) as client:
        assert client.get("/cep/api/v1/cases").status_code == 401
        claire = {"x-portal-user": "claire"}
        marc = {"x-portal-user": "marc"}
        created = client.post(
            "/cep/api/v1/cases",
            headers=claire,
            json={
                "beneficiary": {"first_name": "Inès", "last_name": "Roux"},
                "situation": {
                    "birth_date": "1985-06-01",
                    "status": "employee",
                    "cadre": True,
                    "region": "11",
                },
            },
        )
        assert created.status_code == 201, created.text
        case_id = created.json()["id"]
        assert client.get(f"/cep/api/v1/cases/{case_id}", headers=claire).status_code == 200
        # Marc works for another operator: the case does not exist for him.
        assert client.get(f"/cep/api/v1/cases/{case_id}", headers=marc).status_code == 404
        assert client.get("/cep/api/v1/cases", headers=marc).json()["items"] == []
        # Tokens still work for callers the host does not know.
        user = kit.accounts.create_user(
            email="c@apec.example",
            display_name="C",
            role="counsellor",
            operator="apec",  # type: ignore[arg-type]
            password="une phrase de passe solide",
        )
        secret, _ = kit.accounts.create_token(user, name="t")
        response = client.get(
            f"/cep/api/v1/cases/{case_id}", headers={"authorization": f"Bearer {secret}"}
        )
        assert response.status_code == 200
    kit.close()


def test_pages_need_the_root_path(kit: Kit) -> None:
    with pytest.raises(ValueError, match="root path"):
        CepPlugin(kit, prefix="/cep")
    with pytest.raises(ValueError, match="must start"):
        CepPlugin(kit, prefix="cep", pages=False)
    kit.close()

"""Embedding: the core from plain synchronous Python, and the ASGI app under another app's path."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest
from litestar.testing import TestClient

from cep_core import Kit

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

# Runs the example as its own script would run, then says which web modules it loaded.
RUN_SCRIPT = """
import runpy, sys
sys.argv = [{script!r}, {folder!r}]
runpy.run_path({script!r}, run_name="__main__")
print("modules web :", sorted(m for m in ("litestar", "uvicorn") if m in sys.modules))
"""


def test_the_core_from_plain_synchronous_python(tmp_path: Path) -> None:
    script = str(EXAMPLES / "embed_sync.py")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CEP_")}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            textwrap.dedent(RUN_SCRIPT.format(script=script, folder=str(tmp_path))),
        ],
        capture_output=True,
        text=True,
        env={**env, "PYTHONDONTWRITEBYTECODE": "1"},
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Opérateurs compétents : Apec, ")
    assert "niveau 1 complété à 100 %" in lines[1]
    assert any(line.startswith("  Compte personnel de formation (CPF) : ") for line in lines)
    assert any(line.startswith("Reste à charge : ") for line in lines)
    assert lines[-1] == "modules web : []"  # no web framework, no server
    pdf = tmp_path / "synthese-niveau-1.pdf"
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert (tmp_path / "cep.sqlite3").exists()


@pytest.fixture
def host() -> ModuleType:
    """examples/mount_asgi/host.py, under a name of its own (other examples have a host.py)."""
    spec = importlib.util.spec_from_file_location(
        "cep_example_mount_asgi", EXAMPLES / "mount_asgi" / "host.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_app_mounted_under_a_path_of_another_asgi_app(host: ModuleType, cep_kit: Kit) -> None:
    with TestClient(host.build_portal(cep_kit)) as client:
        home = client.get("/")
        assert home.status_code == 200 and "Portail emploi et formation" in home.text
        answer = client.post(
            "/cep/api/v1/orientation",
            json={"birth_date": "1990-04-23", "status": "public_agent", "as_of": "2026-03-02"},
        )
        assert answer.status_code == 200
        assert "mobilité carrière" in answer.json()["redirect"]["name"]  # the kit answers
        assert answer.headers["x-content-type-options"] == "nosniff"
        missing = client.get("/cep/api/v1/nothing-here")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"  # the kit's 404
        # Outside the prefix, the host answers: the kit's routes are not at the root.
        assert client.get("/api/v1/orientation").text == "Page introuvable."
        assert client.get("/cepage").status_code == 404

"""Smoke test of the contract with the five operator plugins installed in the workspace."""

from __future__ import annotations

from pathlib import Path

import pytest
from litestar.testing import TestClient

from cep_core.kit import Kit
from cep_core.settings import Settings
from cep_core.web import create_app

KNOWN_IDS = {"apec", "pole_emploi", "mission_locale", "cap_emploi", "regional"}
SITUATIONS = [
    {"birth_date": "1985-06-15", "status": "employee", "cadre": True, "region": "53"},
    {"birth_date": "2003-01-01", "status": "jobseeker", "disability_recognition": True},
    {"birth_date": "1990-01-01", "status": "public_agent"},
    {"birth_date": "1950-01-01", "status": "retired"},
    {"birth_date": "1999-12-31", "status": "self_employed", "region": "04"},
]


@pytest.mark.parametrize("body", SITUATIONS)
def test_contract_with_the_real_operators(tmp_path: Path, body: dict[str, object]) -> None:
    kit = Kit(load_entrypoints=True, settings=Settings(data_dir=tmp_path))
    if kit.registry.refused:
        pytest.skip(f"operator plugins refused: {[r.name for r in kit.registry.refused]}")
    with TestClient(create_app(kit)) as client:
        response = client.post("/api/v1/orientation", json=body)
    kit.close()

    assert response.status_code == 200, response.text
    answer = response.json()
    assert set(answer) == {"eligible", "reasons", "operators", "redirect"}
    assert {o["id"] for o in answer["operators"]} <= KNOWN_IDS
    for operator in answer["operators"]:
        assert {"id", "name", "reason"} <= set(operator) <= {"id", "name", "reason", "contact"}
    assert answer["redirect"] is None or {"name", "reason"} <= set(answer["redirect"])

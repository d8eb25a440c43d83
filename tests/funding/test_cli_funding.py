"""``cep funding simulate``: the simulator's JSON in, the same JSON answer out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cep_core.cli import main

REQUEST = {
    "purchase_date": "2024-06-01",
    "training": {
        "cost_eur": 1000,
        "hours": 100,
        "kind": "certification",
        "certification_code": "RNCP34828",
        "qualiopi": True,
        "start_date": "2024-09-02",
    },
    "situation": {"status": "employee", "cpf_balance_eur": 500, "contract": "cdi"},
}


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CEP_DATABASE_URL", "CEP_PLUGINS", "CEP_DISABLED_PLUGINS", "CEP_TRACE_HOOKS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CEP_DATA_DIR", str(tmp_path / "data"))


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cep_core.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=60,
        check=False,
    )


def test_simulate_from_stdin() -> None:
    result = run_cli("funding", "simulate", "-", stdin=json.dumps(REQUEST))
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    cpf = next(line for line in answer["lines"] if line["funder"] == "cpf")
    # Domain.md addendum: price 1000, balance 500 -> CPF 500, holder 500 (no extra 100).
    assert cpf["amount_eur"] == 500
    assert answer["participation_eur"] == 100
    assert answer["remaining_eur"] == 500
    assert answer["ptp"]["eligible"] is False  # 0 months of seniority given


def test_simulate_from_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "demande.json"
    path.write_text(json.dumps(REQUEST), encoding="utf-8")
    assert main(["funding", "simulate", str(path)]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["total_eur"] == 1000


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        pytest.param({**REQUEST, "purchase_date": "2018-01-01"}, "purchase_date", id="date"),
        pytest.param(
            {**REQUEST, "training": {**REQUEST["training"], "cost_eur": -5}},  # type: ignore[dict-item]
            "training.cost_eur",
            id="négatif",
        ),
        pytest.param({"training": {}}, "obligatoire", id="champ manquant"),
    ],
)
def test_invalid_requests_exit_2_with_french_messages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], payload: object, message: str
) -> None:
    path = tmp_path / "demande.json"
    path.write_text(json.dumps(payload), encoding="utf-8")
    assert main(["funding", "simulate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "cep funding simulate : demande invalide" in err
    assert message in err


def test_unreadable_file_and_empty_input_exit_2() -> None:
    result = run_cli("funding", "simulate", "/nonexistent/demande.json")
    assert result.returncode == 2
    assert "Lecture impossible" in result.stderr
    result = run_cli("funding", "simulate", "-", stdin="")
    assert result.returncode == 2
    assert "Demande vide" in result.stderr
    result = run_cli("funding", "simulate", "-", stdin="{not json")
    assert result.returncode == 2
    assert "JSON" in result.stderr


def test_help_is_french(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["funding", "simulate", "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "afficher cette aide et quitter" in out
    assert "plan de financement" in out
    with pytest.raises(SystemExit) as exited:
        main(["funding"])
    assert exited.value.code == 2

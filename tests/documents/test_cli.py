"""``cep synthesis render CASE_ID --level 1|2 -o FILE.pdf``."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from cep_core.cli import main
from cep_core.storage.database import Database
from cep_core.storage.repositories import BeneficiaryRepository, CaseRepository
from cep_core.storage.tables import audit_events


@pytest.fixture
def stored_case(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, samples: SimpleNamespace) -> str:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    for variable in ("CEP_PLUGINS", "CEP_DISABLED_PLUGINS", "CEP_API_TOKENS"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("CEP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CEP_DATABASE_URL", url)
    database = Database(url)
    try:
        database.upgrade()
        case = samples.full_case(operator="mission_locale")
        with database.write() as connection:
            BeneficiaryRepository(connection, "mission_locale").add(
                samples.beneficiary(operator="mission_locale")
            )
            CaseRepository(connection, "mission_locale").add(case)
    finally:
        database.dispose()
    return str(case.id)


def test_render_writes_the_pdf_and_says_so_in_french(
    stored_case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], pdf_tools: SimpleNamespace
) -> None:
    output = tmp_path / "synthese.pdf"
    assert main(["synthesis", "render", stored_case, "--level", "2", "-o", str(output)]) == 0
    assert "niveau 2, version 1 (nouvelle version)" in capsys.readouterr().out
    assert "Calendrier prévisionnel" in pdf_tools.text(output.read_bytes())
    # Unchanged case: the stored version is written again, not a new one.
    args = ["synthesis", "render", stored_case, "--level", "2", "-o", str(output)]
    assert main([*args, "--operator", "mission_locale"]) == 0
    assert "version 1 (inchangée" in capsys.readouterr().out
    # Each PDF written is journaled (SEC-12), by the command line, with the case id only.
    database = Database(f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    try:
        with database.read() as connection:
            rows = connection.execute(select(audit_events)).mappings().all()
    finally:
        database.dispose()
    assert [(r["action"], r["actor"], r["operator"], r["record_id"]) for r in rows] == [
        ("synthesis.generate", "cli", "mission_locale", stored_case)
    ] * 2


def test_unknown_cases_and_operators_are_usage_errors(
    stored_case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "x.pdf"
    missing = "f" * 32
    assert main(["synthesis", "render", missing, "--level", "1", "-o", str(output)]) == 2
    assert "dossier introuvable" in capsys.readouterr().err
    args = ["synthesis", "render", stored_case, "--level", "1", "-o", str(output)]
    assert main([*args, "--operator", "apec"]) == 2  # not that operator's case
    assert main([*args, "--operator", "inconnu"]) == 2
    assert "Opérateur inconnu" in capsys.readouterr().err
    assert not output.exists()


def test_the_command_has_french_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["synthesis", "render", "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "document de synthèse" in out
    assert "--level" in out and "niveau" in out

"""The ``cep`` command line as a user meets it: French help and errors, exit codes, real work."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cep_core.cli import main

PLUGIN_IDS = ["apec", "cap_emploi", "mission_locale", "pole_emploi", "regional"]


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("CEP_DATABASE_URL", "CEP_PLUGINS", "CEP_DISABLED_PLUGINS", "CEP_TRACE_HOOKS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CEP_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def run_cli(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cep_core.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=60,
        check=False,
    )


def test_help_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "usage : cep" in out and "orient" in out and "codes de sortie" in out
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith("cep-kit 0.1.0")


@pytest.mark.parametrize("command", ["serve", "db", "plugins", "orient", "demo"])
def test_every_command_has_french_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    assert exited.value.code == 0
    assert "afficher cette aide et quitter" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["frobnicate"], "choix invalide : 'frobnicate'"),
        (["serve", "--port", "99999"], "port hors limites"),
        (["serve", "--port", "abc"], "port invalide"),
        (["orient", "--status", "astronaut"], "choix invalide : 'astronaut'"),
        (["plugins", "--nope"], "arguments non reconnus : --nope"),
        (["db"], "arguments obligatoires manquants"),
        (["demo", "--per-operator", "0"], "doit être entre 1 et 100000"),
    ],
)
def test_usage_errors_exit_2_in_french(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "erreur :" in err and message in err


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage : cep" in capsys.readouterr().out


def test_orient_from_options(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "orient",
            "--birth-date",
            "1990-04-23",
            "--as-of",
            "2026-03-01",
            "--status",
            "employee",
            "--cadre",
            "--region",
            "53",
        ]
    )
    assert code == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["eligible"] is True
    assert [o["id"] for o in answer["operators"]] == ["apec", "regional"]
    assert answer["redirect"] is None


def test_orient_from_stdin_and_file(tmp_path: Path) -> None:
    situation = {"birth_date": "1975-01-30", "as_of": "2026-03-01", "status": "public_agent"}
    piped = run_cli("orient", "-", stdin=json.dumps(situation))
    assert piped.returncode == 0, piped.stderr
    answer = json.loads(piped.stdout)
    assert answer["operators"] == [] and answer["redirect"]["name"]
    path = tmp_path / "situation.json"
    path.write_text(json.dumps(situation), encoding="utf-8")
    from_file = run_cli("orient", str(path))
    assert from_file.returncode == 0 and json.loads(from_file.stdout) == answer


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        (
            '{"birth_date": "2030-01-01", "as_of": "2026-01-01", "status": "employee"}',
            "birth_date : La date de naissance ne peut pas être postérieure",
        ),
        ('{"birth_date": "1890-01-01", "status": "retired", "working": true}', "plus de 120 ans"),
        ('{"birth_date": "1990-02-30", "status": "employee"}', "birth_date : Date invalide"),
        (
            '{"birth_date": "1990-01-01", "status": "employee", "region": "99"}',
            "région INSEE inconnu",
        ),
        (
            '{"birth_date": "1990-01-01", "status": "employee", "colour": "blue"}',
            "colour : Champ inconnu « colour »",
        ),
        ('{"status": "employee"}', "Le champ « birth_date » est obligatoire"),
        ("not json", "n'est pas un JSON valide"),
    ],
)
def test_orient_bad_input_exits_2_with_a_french_message(stdin: str, message: str) -> None:
    result = run_cli("orient", "-", stdin=stdin)
    assert result.returncode == 2
    assert "situation invalide" in result.stderr and message in result.stderr
    assert "Traceback" not in result.stderr


def test_orient_missing_file_and_mixed_sources_exit_2(tmp_path: Path) -> None:
    missing = run_cli("orient", str(tmp_path / "absent.json"))
    assert missing.returncode == 2 and "Lecture impossible" in missing.stderr
    mixed = run_cli("orient", "-", "--status", "employee", stdin="{}")
    assert mixed.returncode == 2 and "pas les deux" in mixed.stderr


def test_plugins_lists_the_five_operators(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugins", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    operators = [p for p in listing["loaded"] if p["kind"] == "operator"]
    assert [p["id"] for p in operators] == PLUGIN_IDS
    assert all(p["version"] == "0.1.0" and "cep_assess_competence" in p["hooks"] for p in operators)
    assert listing["refused"] == []
    assert main(["plugins"]) == 0
    text = capsys.readouterr().out
    assert "Plugins chargés" in text and "France Travail" in text


def write_distribution(site: Path, name: str, entry_points: str, modules: dict[str, str]) -> None:
    info = site / f"{name}-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text(entry_points)
    for module, source in modules.items():
        (site / f"{module}.py").write_text(textwrap.dedent(source))


def test_refused_and_disabled_plugins_are_explained(tmp_path: Path) -> None:
    site = tmp_path / "site"
    write_distribution(
        site,
        "cep-broken",
        "[cep]\nbroken = cep_broken\nancient = cep_ancient\ntypo = cep_typo\n",
        {
            "cep_broken": "raise ImportError('dépendance absente')\n",
            "cep_ancient": """
                from datetime import date
                from cep_core import DatedLabel, PluginInfo, PluginKind, hookimpl

                @hookimpl
                def cep_plugin_info():
                    return PluginInfo(id="ancient", kind=PluginKind.OPERATOR, core_range="<0.1",
                        labels=(DatedLabel(valid_from=date(2020, 1, 1), value="A", source="t"),))
            """,
            "cep_typo": """
                from datetime import date
                from cep_core import DatedLabel, PluginInfo, PluginKind, hookimpl

                @hookimpl
                def cep_plugin_info():
                    return PluginInfo(id="typo", kind=PluginKind.CAPABILITY, core_range=">=0.1",
                        labels=(DatedLabel(valid_from=date(2020, 1, 1), value="T", source="t"),))

                @hookimpl
                def cep_asses_competence(situation):
                    return None
            """,
        },
    )
    env = {"PYTHONPATH": str(site), "CEP_DISABLED_PLUGINS": "regional"}
    listing = run_cli("plugins", "--json", env=env)
    assert listing.returncode == 1  # something was refused
    payload = json.loads(listing.stdout)
    refused = {r["name"]: r["reason"] for r in payload["refused"]}
    assert refused["broken"] == "échec de l'import (ImportError : dépendance absente)"
    assert refused["ancient"].startswith("demande le noyau <0.1")
    assert refused["typo"] == "implémente des hooks inconnus : cep_asses_competence"
    assert [d["name"] for d in payload["disabled"]] == ["regional"]
    loaded = {p["id"] for p in payload["loaded"]}
    assert "regional" not in loaded and {"apec", "pole_emploi"} <= loaded

    text = run_cli("plugins", env=env)
    assert "Plugins refusés (3)" in text.stdout and "Plugins désactivés (1)" in text.stdout

    serve = run_cli("serve", "--port", "8765", env=env)
    assert serve.returncode == 1
    assert "« broken »" in serve.stderr and "CEP_DISABLED_PLUGINS" in serve.stderr

    # Orientation still answers with the healthy plugins, and warns about the others.
    orient = run_cli("orient", "--birth-date", "1990-01-01", "--status", "employee", env=env)
    assert orient.returncode == 0
    assert "refusé" in orient.stderr
    assert [o["id"] for o in json.loads(orient.stdout)["operators"]] == []  # regional disabled


def test_db_upgrade_and_demo_are_idempotent(isolated_env: Path) -> None:
    first = run_cli("db", "upgrade")
    assert first.returncode == 0, first.stderr
    assert "Base à jour" in first.stdout
    assert (isolated_env / "data" / "cep.sqlite3").exists()
    assert run_cli("db", "upgrade").returncode == 0
    seeded = run_cli("demo", "--per-operator", "3")
    assert seeded.returncode == 0, seeded.stderr
    assert "15 dossier(s)" in seeded.stdout
    assert "Données de démonstration" in seeded.stderr  # progress on stderr
    again = run_cli("demo", "--per-operator", "3")
    assert again.returncode == 0 and "0 dossier(s)" in again.stdout


def test_unreachable_database_fails_with_exit_1() -> None:
    result = run_cli(
        "db", "upgrade", env={"CEP_DATABASE_URL": "postgresql://nobody:secret@127.0.0.1:1/none"}
    )
    assert result.returncode == 1
    assert "impossible de préparer la base" in result.stderr
    assert "secret" not in result.stderr

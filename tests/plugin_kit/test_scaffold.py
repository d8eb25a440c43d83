"""``cep plugin new``: the generated distribution installs and passes its own tests as generated."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cep_core.cli import main
from cep_core.scaffold import FILES, ScaffoldError, check_name, core_range, render_files

Run = Callable[..., Any]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    parent = tmp_path_factory.mktemp("plugins")
    assert main(["plugin", "new", "atelier", "--dir", str(parent)]) == 0
    return parent / "cep-atelier"


def test_the_command_writes_a_complete_distribution(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["plugin", "new", "mon_operateur", "--dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    folder = tmp_path / "cep-mon-operateur"
    assert f"Plugin « mon_operateur » créé dans {folder} (10 fichiers)" in out
    assert "pip install -e ." in out and "pytest" in out
    written = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    assert written == sorted(
        [
            "README.md",
            "pyproject.toml",
            "cep_mon_operateur/__init__.py",
            "cep_mon_operateur/py.typed",
            "cep_mon_operateur/hooks.py",
            "cep_mon_operateur/flow.py",
            "cep_mon_operateur/synthesis.py",
            "cep_mon_operateur/data/parameters.toml",
            "cep_mon_operateur/templates/cep_mon_operateur/synthesis.html",
            "tests/test_mon_operateur.py",
        ]
    )
    pyproject = (folder / "pyproject.toml").read_text(encoding="utf-8")
    assert '[project.entry-points.cep]\nmon_operateur = "cep_mon_operateur.hooks"' in pyproject
    assert f'dependencies = ["cep-core{core_range()}"]' in pyproject
    assert 'build-backend = "uv_build"' in pyproject
    hooks = (folder / "cep_mon_operateur" / "hooks.py").read_text(encoding="utf-8")
    assert f'core_range="{core_range()}"' in hooks


def test_french_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["plugin", "new", "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "usage : cep plugin new [-h] [--dir DOSSIER] NOM" in out
    assert "afficher cette aide et quitter" in out
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "outils pour les auteurs de plugins" in capsys.readouterr().out


def test_every_placeholder_is_filled() -> None:
    files = render_files("atelier")
    assert len(files) == len(FILES)
    for path, content in files.items():
        assert "${" not in content and "$name" not in content, path


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["plugin", "new", "Mon-Operateur"], 2, "nom de plugin invalide"),
        (["plugin", "new", "cep_apec"], 2, "nom de plugin réservé"),
        (["plugin", "new", "class"], 2, "nom de plugin réservé"),
        (["plugin"], 2, "arguments obligatoires manquants"),
    ],
)
def test_usage_errors_in_french(
    argv: list[str], code: int, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == code
    assert message in capsys.readouterr().err


def test_an_existing_folder_is_never_overwritten(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = tmp_path / "cep-atelier" / "notes.txt"
    mine.parent.mkdir()
    mine.write_text("à garder", encoding="utf-8")
    assert main(["plugin", "new", "atelier", "--dir", str(tmp_path)]) == 1
    assert "existe déjà et n'est pas vide" in capsys.readouterr().err
    assert mine.read_text(encoding="utf-8") == "à garder"
    assert sorted(p.name for p in mine.parent.iterdir()) == ["notes.txt"]


@pytest.mark.parametrize("name", ["ab", "mon_operateur", "transitions_ouest"])
def test_valid_names(name: str) -> None:
    assert check_name(name) == name


@pytest.mark.parametrize("name", ["a", "x" * 31, "double__underscore", "trailing_", "9lives"])
def test_invalid_names(name: str) -> None:
    with pytest.raises(ScaffoldError):
        check_name(name)


def test_it_installs_and_passes_its_own_tests(
    generated: Path, install: Run, run_pytest: Run, tmp_path: Path
) -> None:
    site = install(generated, tmp_path / "site")
    result = run_pytest(generated / "tests", site)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "9 passed" in result.stdout


def test_installed_it_is_an_operator_the_kit_serves(
    generated: Path, install: Run, run_cep: Run, tmp_path: Path
) -> None:
    """Its own tests check its entry point and the app; here the command line orients to it."""
    site = install(generated, tmp_path / "site")
    oriented = run_cep(
        site, "orient", "--birth-date", "1990-04-23", "--status", "employee", "--region", "53"
    )
    assert oriented.returncode == 0, oriented.stderr
    assert "atelier" in [operator["id"] for operator in json.loads(oriented.stdout)["operators"]]

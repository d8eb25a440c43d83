"""``cep gdpr`` and ``cep purge``: files written, French messages, exit codes, operator scoping,
confirmation, audit events (SQLite; the services are tested on both databases)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from cep_core.cli import main
from cep_core.kit import Kit
from cep_core.settings import Settings
from cep_core.storage import tables

from .conftest import Seeded, seed_person
from .test_export_erase import count


@pytest.fixture
def env_kit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Kit]:
    """The environment the CLI reads, and a kit (installed plugins) on the same database."""
    for name in ("CEP_DATABASE_URL", "CEP_PLUGINS", "CEP_DISABLED_PLUGINS", "CEP_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CEP_DATA_DIR", str(tmp_path / "data"))
    kit = Kit(settings=Settings.from_env())
    kit.database.upgrade()
    yield kit
    kit.close()


@pytest.fixture
def person(env_kit: Kit) -> Seeded:
    return seed_person(env_kit, "apec")


def cep(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *argv: str, stdin: str = ""
) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def audit_actions(kit: Kit) -> list[tuple[str, str, str | None]]:
    events = tables.metadata.tables["audit_events"]
    with kit.database.read() as conn:
        rows = conn.execute(
            select(events.c.action, events.c.outcome, events.c.actor).where(
                events.c.action.like("gdpr.%")
            )
        ).all()
    return [tuple(row) for row in rows]


def test_export_writes_json_and_pdf_and_prints_their_paths(
    env_kit: Kit,
    person: Seeded,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The PDF render itself is tested in test_export_erase (it takes seconds); here the files.
    monkeypatch.setattr(
        "cep_core.documents.gdpr.render_export", lambda document, **_: b"%PDF-1.7 stub"
    )
    out_dir = tmp_path / "export"
    out_dir.mkdir()
    code, out, err = cep(
        monkeypatch, capsys, "gdpr", "export", person.beneficiary_id,
        "--operator", "apec", "--output", str(out_dir),
    )  # fmt: skip
    assert code == 0, err
    paths = [Path(line) for line in out.splitlines()]
    assert [p.suffix for p in paths] == [".json", ".pdf"]
    document = json.loads(paths[0].read_text(encoding="utf-8"))
    assert document["beneficiary_id"] == person.beneficiary_id
    assert paths[1].read_bytes().startswith(b"%PDF")
    assert oct(paths[0].stat().st_mode & 0o777) == "0o600"
    assert "Export écrit" in err
    assert audit_actions(env_kit) == [("gdpr.export", "success", "cli")]


def test_bad_usage_and_unknown_or_foreign_people_exit_2_in_french(
    env_kit: Kit,
    person: Seeded,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = cep(
        monkeypatch, capsys, "gdpr", "export", person.beneficiary_id, "--operator", "nope"
    )
    assert code == 2 and "opérateur inconnu" in err
    code, _, err = cep(
        monkeypatch,
        capsys,
        "gdpr",
        "erase",
        person.beneficiary_id,
        "--operator",
        "regional",
        "--yes",
    )
    assert code == 2 and "Aucune personne" in err
    code, _, err = cep(monkeypatch, capsys, "gdpr", "export", "inconnu", "--operator", "apec")
    assert code == 2 and "Aucune personne" in err
    with pytest.raises(SystemExit) as exit_info:
        main(["gdpr", "export", person.beneficiary_id])  # --operator is required
    assert exit_info.value.code == 2
    assert count(env_kit, "syntheses", operator="apec") == 4  # nothing erased
    assert ("gdpr.erase", "not_found", "cli") in audit_actions(env_kit)


def test_erase_asks_for_confirmation_then_says_what_went(
    env_kit: Kit,
    person: Seeded,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ("gdpr", "erase", person.beneficiary_id, "--operator", "apec")
    code, _, err = cep(monkeypatch, capsys, *args)  # not a terminal, no --yes
    assert code == 2 and "--yes" in err
    monkeypatch.setattr("sys.stdin.isatty", lambda: True, raising=False)
    monkeypatch.setattr("builtins.input", lambda _prompt: "non")
    code = main(list(args))
    assert code == 2 and "rien n'a été effacé" in capsys.readouterr().err
    assert count(env_kit, "syntheses", operator="apec") == 4
    code, out, err = cep(monkeypatch, capsys, *args, "--yes")
    assert code == 0, err
    assert "Documents de synthèse : 4 supprimé(s)" in out
    assert "Journal des dossiers" in out and "conservé(s)" in out
    assert count(env_kit, "syntheses", operator="apec") == 0
    assert ("gdpr.erase", "success", "cli") in audit_actions(env_kit)


def test_rectify_from_the_shell(
    env_kit: Kit,
    person: Seeded,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = cep(
        monkeypatch, capsys, "gdpr", "rectify", person.beneficiary_id, "--operator", "apec",
        "--email", "nouvelle@exemple.fr", "--reason", "Nouvelle adresse communiquée",
    )  # fmt: skip
    assert code == 0, err
    assert "email" in out
    assert env_kit.gdpr.rectifications("apec", person.beneficiary_id)[-1]["fields"] == "email"
    code, _, err = cep(
        monkeypatch, capsys, "gdpr", "rectify", person.beneficiary_id, "--operator", "apec",
        "--last-name", "", "--reason", "x",
    )  # fmt: skip
    assert code == 2 and "last_name" in err


def test_purge_dry_run_then_for_real(
    env_kit: Kit,
    person: Seeded,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = cep(monkeypatch, capsys, "purge", "--dry-run")
    assert code == 0, err
    assert "[simulation]" in out and "Dossiers arrivés au terme" in out
    assert "Liens de téléchargement expirés" in out and "à traiter" in out
    code, out, err = cep(monkeypatch, capsys, "purge")
    assert code == 0, err
    assert "traité(s)" in out and "[simulation]" not in out
    assert count(env_kit, "syntheses", operator="apec") == 4  # nothing was due yet

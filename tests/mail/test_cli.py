"""``cep mail send``: French summary, exit 1 when messages failed for good, --retry-failed."""

from __future__ import annotations

from pathlib import Path

import pytest

from cep_core.cli import EXIT_FAILURE, EXIT_OK, main
from cep_core.kit import Kit
from cep_core.settings import Settings

from .conftest import SmtpServer


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("CEP_DATABASE_URL", "CEP_PLUGINS", "CEP_DISABLED_PLUGINS", "CEP_TRACE_HOOKS"):
        monkeypatch.delenv(name, raising=False)
    for name in ("CEP_MAIL_BACKEND", "CEP_SMTP_HOST", "CEP_SMTP_PORT", "CEP_SMTP_USERNAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CEP_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def queue(count: int) -> None:
    kit = Kit(settings=Settings.from_env(), load_entrypoints=False)
    try:
        kit.database.upgrade()
        with kit.database.write() as conn:
            for n in range(count):
                kit.notifications.request_received(
                    conn,
                    operator="apec",
                    to=f"personne{n}@exemple.fr",
                    reference=f"R-{n}",
                    operator_label="Apec",
                    contact_text=None,
                )
    finally:
        kit.close()


def test_help_is_french(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["mail", "send", "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "afficher cette aide et quitter" in out and "--retry-failed" in out


def test_send_with_the_default_file_backend(
    isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["mail", "send"]) == EXIT_OK
    assert "Messages envoyés : 0 ; à réessayer plus tard : 0 ; en échec définitif : 0." in (
        capsys.readouterr().out
    )
    queue(2)
    assert main(["mail", "send"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "Messages envoyés : 2 ;" in out
    assert "File d'attente : 0 en attente, 0 en échec." in out
    assert len(list((isolated_env / "mail").glob("*.eml"))) == 2


def test_failures_for_good_exit_1_then_retry_failed(
    smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CEP_MAIL_BACKEND", "smtp")
    monkeypatch.setenv("CEP_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("CEP_SMTP_PORT", str(smtp_server.port))
    queue(1)
    smtp_server.mailbox.refuse_recipients = True
    assert main(["mail", "send"]) == EXIT_FAILURE
    captured = capsys.readouterr()
    assert "en échec définitif : 1." in captured.out
    assert "1 message(s) en échec définitif" in captured.err
    assert "(request_received, apec) : serveur SMTP 127.0.0.1:" in captured.err
    assert "destinataire refusé (code 550)" in captured.err
    assert "personne0" not in captured.err
    assert "--retry-failed" in captured.err

    smtp_server.mailbox.refuse_recipients = False
    assert main(["mail", "send", "--retry-failed"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "Messages remis en file : 1." in out
    assert "Messages envoyés : 1 ;" in out
    assert len(smtp_server.mailbox.messages) == 1

"""``cep users`` and ``cep tokens``: accounts and tokens from a shell, French errors, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cep_core.cli import main

PASSWORD = "une phrase de passe solide\n"


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("CEP_DATABASE_URL", "CEP_PLUGINS", "CEP_DISABLED_PLUGINS", "CEP_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CEP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CEP_PASSWORD_HASHING", "fast")
    return tmp_path


def cep(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *argv: str, stdin: str = ""
) -> tuple[int, str, str]:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_users_and_tokens_round_trip(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    create = ("users", "create", "--email", "Claire@Apec.example", "--name", "Claire Martin")
    code, out, _ = cep(
        monkeypatch,
        capsys,
        *create,
        "--role",
        "counsellor",
        "--operator",
        "apec",
        "--password-stdin",
        stdin=PASSWORD,
    )
    assert code == 0 and "claire@apec.example" in out
    code, out, _ = cep(monkeypatch, capsys, "users", "list", "--json")
    [user] = json.loads(out)
    assert user["email"] == "claire@apec.example" and user["operator"] == "apec"

    code, out, err = cep(
        monkeypatch, capsys, "tokens", "create", "claire@apec.example", "--name", "Script"
    )
    secret = out.strip()
    assert code == 0 and secret.startswith("cep_") and "il ne sera plus affiché" in err
    code, out, _ = cep(monkeypatch, capsys, "tokens", "list", "--json")
    [token] = json.loads(out)
    assert token["state"] == "actif" and secret not in out and token["hint"] == secret[-4:]
    code, out, err = cep(monkeypatch, capsys, "tokens", "revoke", token["id"])
    assert code == 0
    assert "refusent au plus tard dans 10 secondes" in err  # the running servers' token cache
    code, out, _ = cep(monkeypatch, capsys, "tokens", "list", "--json")
    assert json.loads(out)[0]["state"] == "révoqué"

    code, out, _ = cep(monkeypatch, capsys, "users", "disable", "claire@apec.example")
    assert code == 0 and "désactivé" in out
    code, _, err = cep(
        monkeypatch, capsys, "tokens", "create", "claire@apec.example", "--name", "x"
    )
    assert code == 1 and "aucun compte actif" in err


@pytest.mark.parametrize(
    ("argv", "stdin", "code", "message"),
    [
        (
            (
                "users",
                "create",
                "--email",
                "a@b.fr",
                "--name",
                "A",
                "--role",
                "counsellor",
                "--password-stdin",
            ),
            PASSWORD,
            2,
            "--operator est obligatoire",
        ),
        (
            (
                "users",
                "create",
                "--email",
                "a@b.fr",
                "--name",
                "A",
                "--role",
                "counsellor",
                "--operator",
                "atlantide",
                "--password-stdin",
            ),
            PASSWORD,
            2,
            "opérateur inconnu",
        ),
        (
            (
                "users",
                "create",
                "--email",
                "a@b.fr",
                "--name",
                "A",
                "--role",
                "manager",
                "--operator",
                "apec",
                "--password-stdin",
            ),
            "azertyuiop123\n",
            2,
            "plus courants",
        ),
        (
            (
                "users",
                "create",
                "--email",
                "a@b.fr",
                "--name",
                "A",
                "--role",
                "manager",
                "--operator",
                "apec",
            ),
            "",
            2,
            "mot de passe attendu",
        ),
        (
            ("users", "password", "personne@nulle.part", "--password-stdin"),
            PASSWORD,
            1,
            "aucun compte",
        ),
        (("tokens", "revoke", "0123"), "", 1, "aucun jeton"),
    ],
)
def test_bad_input_gets_a_french_error_and_exit_code(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: tuple[str, ...],
    stdin: str,
    code: int,
    message: str,
) -> None:
    got, _, err = cep(monkeypatch, capsys, *argv, stdin=stdin)
    assert got == code and message in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("users",), "arguments obligatoires manquants"),
        (("users", "create", "--email", "x"), "arguments obligatoires manquants"),
        (("tokens", "create", "a@b.fr", "--name", "x", "--days", "0"), "entre 1 et 366 jours"),
        (("users", "create", "--email", "a", "--name", "A", "--role", "chef"), "choix invalide"),
    ],
)
def test_usage_errors_exit_2(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(list(argv))
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_serve_refuses_unsafe_production_settings(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CEP_PROFILE", "production")
    code, _, err = cep(monkeypatch, capsys, "serve", "--demo")
    assert code == 1
    assert "CEP_SECRET_KEY" in err and "--demo est interdit" in err

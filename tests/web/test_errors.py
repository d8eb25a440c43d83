"""Every way a request can be wrong gets a French 400 (or 404/405/413) naming the field."""

from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import Any

import pytest
from litestar import Litestar, get
from litestar.exceptions import ValidationException
from litestar.params import FromQuery
from litestar.testing import TestClient

from cep_core.validation import issue_from_msgspec
from cep_core.web import create_app
from cep_core.web.errors import issues_from_litestar

URL = "/api/v1/orientation"
VALID: dict[str, Any] = {"birth_date": "1980-05-01", "status": "employee"}
ENGLISH_MARKERS = ("Expected", "Object", "Invalid", "got", "field", "malformed", "truncated")


def problem_of(response: Any, status: int = 400) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert set(problem) == {"status", "title", "detail", "errors"}
    assert problem["status"] == status
    assert isinstance(problem["detail"], str)
    assert problem["detail"]
    return problem


def single_error(response: Any) -> dict[str, Any]:
    problem = problem_of(response)
    assert problem["title"] == "Requête invalide"
    assert len(problem["errors"]) == 1, problem
    error: dict[str, Any] = problem["errors"][0]
    assert set(error) == {"path", "message", "code"}
    assert not any(marker in error["message"] for marker in ENGLISH_MARKERS), error
    return error


@pytest.mark.parametrize(
    ("change", "path", "code", "words"),
    [
        ({"nickname": "x"}, "nickname", "unknown_field", "Champ inconnu « nickname »"),
        ({"birth_date": 19800501}, "birth_date", "invalid_type", "une date (AAAA-MM-JJ)"),
        ({"birth_date": None}, "birth_date", "invalid_type", "pas null"),
        ({"as_of": True}, "as_of", "invalid_type", "une date (AAAA-MM-JJ) ou null"),
        ({"status": 3}, "status", "invalid_type", "un texte est attendu, pas un nombre entier"),
        ({"cadre": "true"}, "cadre", "invalid_type", "un booléen (true ou false)"),
        ({"cadre": 1}, "cadre", "invalid_type", "pas un nombre entier"),
        ({"working": None}, "working", "invalid_type", "booléen"),
        ({"seeking_job": []}, "seeking_job", "invalid_type", "pas un tableau JSON"),
        ({"registered_jobseeker": {}}, "registered_jobseeker", "invalid_type", "un objet JSON"),
        ({"disability_recognition": "non"}, "disability_recognition", "invalid_type", "booléen"),
        ({"region": 53}, "region", "invalid_type", "un texte ou null"),
        ({"region": "1234"}, "region", "invalid_length", "au plus 3 caractères"),
        ({"status": "chomeur"}, "status", "invalid_choice", "'chomeur'"),
        ({"birth_date": "2024-02-30"}, "birth_date", "invalid_date", "AAAA-MM-JJ"),
        ({"birth_date": "01/05/1980"}, "birth_date", "invalid_date", "AAAA-MM-JJ"),
        ({"as_of": "2025-13-01"}, "as_of", "invalid_date", "AAAA-MM-JJ"),
        ({"birth_date": "1980-05-01T10:00:00"}, "birth_date", "invalid_date", "AAAA-MM-JJ"),
    ],
)
def test_wrong_field_is_a_400_with_its_path(
    client: TestClient[Litestar], change: dict[str, Any], path: str, code: str, words: str
) -> None:
    error = single_error(client.post(URL, json={**VALID, **change}))

    assert error["path"] == path
    assert error["code"] == code
    assert words in error["message"]


def test_bad_enum_lists_the_allowed_values(client: TestClient[Litestar]) -> None:
    error = single_error(client.post(URL, json={**VALID, "status": "chomeur"}))
    assert "Valeurs possibles : apprentice, employee, inactive, jobseeker" in error["message"]


@pytest.mark.parametrize("missing", ["birth_date", "status"])
def test_missing_required_field(client: TestClient[Litestar], missing: str) -> None:
    body = {k: v for k, v in VALID.items() if k != missing}
    error = single_error(client.post(URL, json=body))

    assert error == {
        "path": missing,
        "code": "missing_field",
        "message": f"Le champ « {missing} » est obligatoire.",
    }


def test_born_after_the_reference_date(client: TestClient[Litestar]) -> None:
    error = single_error(client.post(URL, json={**VALID, "birth_date": "2025-03-11"}))

    assert error["path"] == "birth_date"
    assert error["code"] == "after_reference_date"
    assert "postérieure à la date de référence (2025-03-10)" in error["message"]


def test_born_after_an_explicit_as_of(client: TestClient[Litestar]) -> None:
    body = {**VALID, "birth_date": "2020-01-02", "as_of": "2020-01-01"}
    error = single_error(client.post(URL, json=body))
    assert (error["path"], error["code"]) == ("birth_date", "after_reference_date")


def test_age_over_120(client: TestClient[Litestar]) -> None:
    error = single_error(client.post(URL, json={**VALID, "birth_date": "1904-03-10"}))

    assert (error["path"], error["code"]) == ("birth_date", "too_old")
    assert "120 ans" in error["message"]
    # 120 exactly is still possible.
    assert client.post(URL, json={**VALID, "birth_date": "1904-03-11"}).status_code == 200


@pytest.mark.parametrize("code", ["99", "abc", "00", "5"])
def test_unknown_region(client: TestClient[Litestar], code: str) -> None:
    error = single_error(client.post(URL, json={**VALID, "region": code}))

    assert error["path"] == "region"
    assert f"« {code} »" in error["message"]


def test_several_impossible_facts_are_reported_together(client: TestClient[Litestar]) -> None:
    body = {**VALID, "birth_date": "2030-01-01", "region": "99"}
    problem = problem_of(client.post(URL, json=body))
    assert {e["path"] for e in problem["errors"]} == {"birth_date", "region"}


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"not json", "n'est pas un JSON valide"),
        (b'{"birth_date": "1980-05-01",', "n'est pas un JSON valide"),
        (b"\xff\xfe", "n'est pas un JSON valide"),
        (b"", "est vide"),
        (b"   ", "est vide"),
        (b"[]", "un objet JSON est attendu, pas un tableau JSON"),
        (b"null", "un objet JSON est attendu, pas null"),
        (b'"1980-05-01"', "un objet JSON est attendu, pas un texte"),
        (b"42", "un objet JSON est attendu"),
    ],
)
def test_a_body_that_is_not_a_json_object(
    client: TestClient[Litestar], content: bytes, fragment: str
) -> None:
    response = client.post(URL, content=content, headers={"content-type": "application/json"})
    error = single_error(response)

    assert error["path"] == ""
    assert fragment in error["message"]


def test_a_body_over_one_megabyte_is_a_413(client: TestClient[Litestar]) -> None:
    padding = " " * (1024 * 1024)
    content = ('{"birth_date": "1980-05-01", "status": "employee"}' + padding).encode()
    problem = problem_of(client.post(URL, content=content), status=413)

    assert problem["title"] == "Requête trop volumineuse"
    assert problem["errors"] == []


def test_a_body_just_under_the_limit_is_read(client: TestClient[Litestar]) -> None:
    body = b'{"birth_date": "1980-05-01", "status": "employee"}'
    content = body + b" " * (1024 * 1024 - len(body))
    assert client.post(URL, content=content).status_code == 200


def test_unknown_path_is_a_french_404(client: TestClient[Litestar]) -> None:
    problem = problem_of(client.get("/api/v1/nothing-here"), status=404)
    assert problem["title"] == "Ressource introuvable"
    assert problem["detail"] == "Aucune ressource ne correspond à cette adresse."


def test_wrong_method_is_a_405_with_allow(client: TestClient[Litestar]) -> None:
    response = client.get(URL)
    problem = problem_of(response, status=405)

    assert problem["title"] == "Méthode non autorisée"
    assert "POST" in response.headers["allow"]


def test_a_bug_is_a_generic_500_without_details(
    make_kit: Any, fakes: SimpleNamespace, caplog: pytest.LogCaptureFixture
) -> None:
    @get("/plugins/test/boom", sync_to_thread=False)
    def boom() -> None:
        raise RuntimeError("password=hunter2 in /srv/secret.py")

    app = create_app(make_kit(fakes.routes([boom])))
    with caplog.at_level(logging.ERROR, logger="cep_core.web"), TestClient(app) as client:
        response = client.get("/plugins/test/boom")

    problem = problem_of(response, status=500)
    assert problem["title"] == "Erreur interne"
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text
    assert "RuntimeError" not in response.text
    assert "hunter2" in caplog.text  # the detail goes to the log, not to the client


def test_litestar_debug_in_the_environment_is_ignored(
    make_kit: Any, fakes: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    @get("/plugins/test/boom", sync_to_thread=False)
    def boom() -> None:
        raise RuntimeError("internal detail")

    monkeypatch.setenv("LITESTAR_DEBUG", "1")
    monkeypatch.setenv("LITESTAR_PDB", "1")
    app = create_app(make_kit(fakes.routes([boom])))
    assert app.debug is False
    with TestClient(app) as client:
        response = client.get("/plugins/test/boom")

    assert response.status_code == 500
    assert "internal detail" not in response.text
    assert "Traceback" not in response.text


def test_explicit_debug_shows_the_exception(make_kit: Any, fakes: SimpleNamespace) -> None:
    @get("/plugins/test/boom", sync_to_thread=False)
    def boom() -> None:
        raise RuntimeError("internal detail")

    app = create_app(make_kit(fakes.routes([boom])), debug=True)
    with TestClient(app) as client:
        response = client.get("/plugins/test/boom")

    assert response.status_code == 500
    assert response.json()["debug"]["exception"] == "RuntimeError: internal detail"


# -- the translation itself --------------------------------------------------------------


@pytest.mark.parametrize(
    ("english", "path", "french"),
    [
        (
            "Expected `int` >= 0 - at `$.qty`",
            "qty",
            "Valeur hors limites : un nombre supérieur ou égal à 0 est attendu.",
        ),
        (
            "Expected `array` of length <= 5 - at `$.tags`",
            "tags",
            "Longueur invalide : au plus 5 éléments attendus.",
        ),
        (
            "Expected `str` of length >= 2 - at `$.code`",
            "code",
            "Longueur invalide : au moins 2 caractères attendus.",
        ),
        (
            "Expected `str` matching regex '^[0-9]{2,3}$' - at `$.region`",
            "region",
            "Format invalide : la valeur doit correspondre au motif '^[0-9]{2,3}$'.",
        ),
        (
            "Expected `int`, got `str` - at `$.items[0].qty`",
            "items[0].qty",
            "Type invalide : un nombre entier est attendu, pas un texte.",
        ),
        (
            "Object contains unknown field `x` - at `$.contact`",
            "contact.x",
            "Champ inconnu « x » : retirez-le de la requête.",
        ),
        (
            "Object missing required field `name` - at `$.items[1]`",
            "items[1].name",
            "Le champ « name » est obligatoire.",
        ),
        ("Something new from msgspec", "", "Valeur invalide (Something new from msgspec)."),
    ],
)
def test_msgspec_messages_in_french(english: str, path: str, french: str) -> None:
    issue = issue_from_msgspec(english)
    assert (issue.path, issue.message) == (path, french)


def test_litestar_validation_errors_are_translated() -> None:
    exc = ValidationException(
        detail="Validation failed for POST /x",
        extra=[
            {"message": "Expected `str`, got `int`", "key": "status", "source": "body"},
            {"message": "Object contains unknown field `zz`", "key": "data", "source": "body"},
        ],
    )
    issues = issues_from_litestar(exc)
    assert [(i.path, i.code) for i in issues] == [
        ("status", "invalid_type"),
        ("zz", "unknown_field"),
    ]


def test_litestar_missing_parameter_is_translated() -> None:
    exc = ValidationException(detail="Missing required query parameter 'page' for path /x")
    (issue,) = issues_from_litestar(exc)
    assert (issue.path, issue.code) == ("page", "missing_field")
    assert issue.message == "Le paramètre « page » est obligatoire."


def test_plugin_route_parameters_get_the_same_errors(make_kit: Any, fakes: SimpleNamespace) -> None:
    @get("/plugins/test/page", sync_to_thread=False)
    def page(number: FromQuery[int]) -> int:
        return number

    app = create_app(make_kit(fakes.routes([page])))
    with TestClient(app) as client:
        assert client.get("/plugins/test/page", params={"number": 3}).json() == 3
        wrong = single_error(client.get("/plugins/test/page", params={"number": "trois"}))
        missing = single_error(client.get("/plugins/test/page"))

    assert (wrong["path"], wrong["code"]) == ("number", "invalid_type")
    assert (missing["path"], missing["code"]) == ("number", "missing_field")

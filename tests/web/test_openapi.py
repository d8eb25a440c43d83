"""The OpenAPI document: served as JSON only, complete for the orientation operation."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Litestar
from litestar.testing import TestClient

import cep_core
from cep_core.services.orientation import OrientationQuery
from cep_core.web.openapi import StrictStructSchemaPlugin


def document(client: TestClient[Litestar]) -> dict[str, Any]:
    response = client.get("/schema/openapi.json")
    assert response.status_code == 200
    doc: dict[str, Any] = response.json()
    return doc


def resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Follow a ``$ref`` (possibly wrapped in ``allOf``) to the component schema."""
    if "allOf" in schema and len(schema["allOf"]) == 1:
        schema = schema["allOf"][0]
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        resolved: dict[str, Any] = doc["components"]["schemas"][name]
        return resolved
    return schema


def test_document_identity(client: TestClient[Litestar]) -> None:
    doc = document(client)
    assert doc["info"]["title"] == "cep-kit API"
    assert doc["info"]["version"] == cep_core.__version__
    assert doc["openapi"].startswith("3.1")


def test_orientation_operation_is_documented_in_french(client: TestClient[Litestar]) -> None:
    operation = document(client)["paths"]["/api/v1/orientation"]["post"]

    assert operation["summary"] == "Orienter une personne vers les opérateurs du CEP"
    assert "opérateurs compétents" in operation["description"]
    assert operation["requestBody"]["required"] is True
    assert {"200", "400", "503"} <= set(operation["responses"])
    for status in ("400", "413", "500", "503"):
        content = operation["responses"][status]["content"]
        assert list(content) == ["application/problem+json"]
        assert content["application/problem+json"]["schema"]["$ref"].endswith("/Problem")


def test_request_schema_forbids_additional_properties(client: TestClient[Litestar]) -> None:
    doc = document(client)
    body = doc["paths"]["/api/v1/orientation"]["post"]["requestBody"]
    schema = resolve(doc, body["content"]["application/json"]["schema"])

    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {"birth_date", "status"}
    assert set(schema["properties"]) == {
        "birth_date",
        "as_of",
        "status",
        "cadre",
        "registered_jobseeker",
        "disability_recognition",
        "working",
        "seeking_job",
        "region",
    }
    status = resolve(doc, schema["properties"]["status"])
    assert set(status["enum"]) == {
        "employee",
        "public_agent",
        "self_employed",
        "jobseeker",
        "apprentice",
        "student",
        "retired",
        "inactive",
    }
    # The request examples are themselves valid requests.
    for example in schema["examples"]:
        msgspec.convert(example, OrientationQuery)


def test_response_schema_has_redirect_required_and_nullable(client: TestClient[Litestar]) -> None:
    doc = document(client)
    response = doc["paths"]["/api/v1/orientation"]["post"]["responses"]["200"]
    schema = resolve(doc, response["content"]["application/json"]["schema"])

    assert set(schema["required"]) == {"eligible", "reasons", "operators", "redirect"}
    assert {"type": "null"} in schema["properties"]["redirect"]["oneOf"]


def test_only_the_json_document_is_served(client: TestClient[Litestar]) -> None:
    # No HTML UI: those pages load scripts from CDNs that the CSP forbids.
    root = client.get("/schema")
    assert root.status_code == 200
    assert root.headers["content-type"].startswith("application/vnd.oai.openapi+json")
    for ui in ("/schema/swagger", "/schema/redoc", "/schema/elements", "/schema/rapidoc"):
        assert client.get(ui).status_code == 404


def test_strict_plugin_replaces_litestars_struct_plugin(app: Litestar) -> None:
    """Guards the private Litestar import in cep_core.web.openapi across upgrades."""
    from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin

    schema_plugins = [p for p in app.plugins.openapi if isinstance(p, StructSchemaPlugin)]
    assert len(schema_plugins) == 1
    assert isinstance(schema_plugins[0], StrictStructSchemaPlugin)

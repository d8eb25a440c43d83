"""`CepPlugin` mounted into a host Litestar app (a portal embedding the kit)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from litestar import Litestar, get
from litestar.di import NamedDependency
from litestar.testing import TestClient

from cep_core.kit import Kit
from cep_core.web import CepPlugin

URL = "/api/v1/orientation"
VALID = {"birth_date": "1980-05-01", "status": "employee"}


@get("/portal", sync_to_thread=False)
def portal_home() -> dict[str, str]:
    return {"page": "accueil du portail"}


def host_app(kit: Any) -> Litestar:
    return Litestar(route_handlers=[portal_home], plugins=[CepPlugin(kit)], logging_config=None)


def test_host_app_answers_orientation(make_kit: Any, fakes: SimpleNamespace) -> None:
    with TestClient(host_app(make_kit(*fakes.defaults()))) as client:
        response = client.post(URL, json={**VALID, "cadre": True})

        assert response.status_code == 200
        assert [o["id"] for o in response.json()["operators"]] == ["apec", "regional"]
        assert response.headers["x-content-type-options"] == "nosniff"
        assert client.get("/portal").json() == {"page": "accueil du portail"}


def test_host_app_gets_the_kits_errors_and_limits(make_kit: Any, fakes: SimpleNamespace) -> None:
    with TestClient(host_app(make_kit(*fakes.defaults()))) as client:
        bad = client.post(URL, json={**VALID, "cadre": "true"})
        assert bad.status_code == 400
        assert bad.headers["content-type"] == "application/problem+json"
        assert bad.json()["errors"][0]["path"] == "cadre"

        # The host's default limit is 10 MB; the kit's routes keep their 1 MB.
        big = client.post(URL, content=b" " * (1024 * 1024 + 1))
        assert big.status_code == 413
        assert big.json()["title"] == "Requête trop volumineuse"


def test_host_keeps_its_own_pages_and_headers(make_kit: Any, fakes: SimpleNamespace) -> None:
    with TestClient(host_app(make_kit(*fakes.defaults()))) as client:
        page = client.get("/portal")
        assert "content-security-policy" not in page.headers
        missing = client.get("/portal/nothing")
        assert missing.status_code == 404
        assert missing.headers["content-type"] != "application/problem+json"


def test_host_openapi_documents_the_kit(make_kit: Any, fakes: SimpleNamespace) -> None:
    with TestClient(host_app(make_kit(*fakes.defaults()))) as client:
        doc = client.get("/schema/openapi.json").json()

    assert "post" in doc["paths"]["/api/v1/orientation"]
    assert "/portal" in doc["paths"]
    assert doc["components"]["schemas"]["OrientationQuery"]["additionalProperties"] is False


def test_plugin_routes_are_mounted_with_the_kit(make_kit: Any, fakes: SimpleNamespace) -> None:
    @get("/plugins/test/operators", sync_to_thread=False)
    def operators(kit: NamedDependency[Kit]) -> list[str]:
        return [info.id for info in kit.hooks.operators()]

    kit = make_kit(fakes.operator("apec"), fakes.routes([operators]))
    with TestClient(host_app(kit)) as client:
        response = client.get("/plugins/test/operators")

    assert response.status_code == 200
    assert response.json() == ["apec"]
    assert response.headers["cache-control"] == "no-store"

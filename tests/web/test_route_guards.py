"""Walks the route table: every route is public on an explicit allow-list, or refuses an
anonymous caller (SEC-02); every unsafe page route refuses a request without a valid CSRF
token or from another origin (SEC-09); every response carries the security headers (SEC-10).

Routes are read from the app itself, so a route added later is checked without editing this
file; only the allow-list of public routes is written by hand.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from pages import csrf_from, make_staff, page_client, page_kit, sign_in

from cep_core.kit import Kit
from cep_core.web.app import create_app

# Public by design: the public pages, sign-in, assets, the public orientation and funding
# simulators, the OpenAPI document (development profile), the single-use download links.
PUBLIC = {
    "/",
    "/trouver-mon-conseiller",
    "/demander-un-rendez-vous",
    "/demande-envoyee/{request_id:str}",
    "/accessibilite",
    "/donnees-personnelles",
    "/connexion",
    "/deconnexion",
    "/telechargement/{secret:str}",
    "/questionnaire/{secret:str}",
    "/static",
    "/static/{file_path:path}",
    "/theme/{operator:str}/style.css",
    "/theme/{operator:str}/logo",
    "/api/v1/orientation",
    "/api/v1/funding/simulate",
    "/api/v1/funding/options",
    "/schema",
    "/schema/openapi.json",
}
PLACEHOLDER = re.compile(r"\{([a-z_]+)(?::[a-z]+)?\}")
SAMPLE_ID = "0190f0c0a0b07c0d8e0f101112131415"


@pytest.fixture
def kit(tmp_path: Path) -> Iterator[Kit]:
    kit = page_kit(tmp_path)
    yield kit
    kit.close()


@pytest.fixture
def app(kit: Kit) -> Litestar:
    return create_app(kit)


def concrete(path: str) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "level":
            return "1"
        if name == "operator":
            return "apec"
        if name == "file_path":
            return "cep.css"
        if name == "action":
            return "pause"
        return SAMPLE_ID

    return PLACEHOLDER.sub(value, path)


def routes(app: Litestar) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            for method in sorted(getattr(handler, "http_methods", ())):
                if method in {"HEAD", "OPTIONS"}:
                    continue
                found.append((method, route.path))
    return sorted(set(found))


def test_the_route_table_is_known(app: Litestar) -> None:
    paths = {path for _, path in routes(app)}
    assert "/connexion" in paths and "/api/v1/cases" in paths
    stale = {path for path in PUBLIC if path not in paths and not path.startswith("/static")}
    # A public route that no longer exists must leave the allow-list too.
    assert not stale - {
        "/",
        "/trouver-mon-conseiller",
        "/demander-un-rendez-vous",
        "/demande-envoyee/{request_id:str}",
        "/accessibilite",
        "/donnees-personnelles",
        "/telechargement/{secret:str}",
        "/api/v1/funding/options",
    }, stale


def test_every_route_is_public_or_refuses_anonymous_callers(app: Litestar) -> None:
    unguarded: list[str] = []
    with TestClient(app, base_url="https://testserver.local") as client:
        for method, path in routes(app):
            if path in PUBLIC or path.startswith("/schema"):
                continue
            url = concrete(path)
            if path.startswith("/api/"):
                response = client.request(method, url, json={})
                if response.status_code != 401:
                    unguarded.append(f"{method} {path} -> {response.status_code}")
                continue
            headers = {"accept": "text/html"}
            if method == "GET":
                response = client.get(url, headers=headers, follow_redirects=False)
                location = response.headers.get("location", "")
                if response.status_code != 303 or not location.startswith("/connexion"):
                    unguarded.append(f"{method} {path} -> {response.status_code} {location}")
            else:
                # A page POST from an anonymous visitor with a valid anonymous token: it must
                # still be sent to the sign-in page, never acted upon.
                page = client.get("/connexion", headers=headers)
                response = client.post(
                    url,
                    data={"_csrf": csrf_from(page.text)},
                    headers=headers,
                    follow_redirects=False,
                )
                location = response.headers.get("location", "")
                if response.status_code != 303 or not location.startswith("/connexion"):
                    unguarded.append(f"{method} {path} -> {response.status_code} {location}")
    assert not unguarded, "\n".join(unguarded)


def test_every_unsafe_page_route_checks_csrf_token_and_origin(kit: Kit, app: Litestar) -> None:
    user = make_staff(kit, operator="apec", role="manager")
    unsafe = [
        (method, path)
        for method, path in routes(app)
        if method in {"POST", "PUT", "PATCH", "DELETE"} and not path.startswith("/api/")
    ]
    assert ("POST", "/connexion") in unsafe and len(unsafe) >= 5
    failures: list[str] = []
    with page_client(app) as other:
        sign_in(other, make_staff(kit, operator="apec", email="autre@apec.example"))
        foreign_token = csrf_from(other.get("/espace/jetons").text)
    with page_client(app) as client:
        sign_in(client, user)
        own_token = csrf_from(client.get("/espace/jetons").text)
        assert own_token != foreign_token
        for method, path in unsafe:
            url = concrete(path)
            cases = {
                "sans jeton": ({}, {}),
                "jeton d'une autre session": ({"_csrf": foreign_token}, {}),
                "origine falsifiée": ({"_csrf": own_token}, {"origin": "https://evil.example"}),
                "origine nulle": ({"_csrf": own_token}, {"origin": "null"}),
                "référent étranger": ({"_csrf": own_token}, {"referer": "https://evil.example/x"}),
            }
            for label, (data, headers) in cases.items():
                response = client.request(
                    method, url, data=data, headers=headers, follow_redirects=False
                )
                if response.status_code != 403:
                    failures.append(f"{method} {path} ({label}) -> {response.status_code}")
        # The same session's token from the same origin passes the check (whatever follows).
        response = client.post(
            "/espace/jetons",
            data={"_csrf": own_token, "name": "Essai", "valid_days": "30"},
            headers={"origin": "https://testserver.local"},
        )
        assert response.status_code == 200 and "Jeton créé" in response.text
    assert not failures, "\n".join(failures)


SECURITY_HEADERS = {
    "content-security-policy": "frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "strict-transport-security": "max-age=31536000; includeSubDomains",
}


def test_every_response_carries_the_security_headers(kit: Kit, app: Litestar) -> None:
    user = make_staff(kit, operator="apec", role="manager")
    missing: list[str] = []
    with page_client(app) as client:
        for signed in (False, True):
            if signed:
                sign_in(client, user)
            for method, path in routes(app):
                if method != "GET":
                    continue
                response = client.get(concrete(path), follow_redirects=False)
                for name, expected in SECURITY_HEADERS.items():
                    if expected not in response.headers.get(name, ""):
                        missing.append(f"{path} ({'connecté' if signed else 'anonyme'}): {name}")
                csp = response.headers.get("content-security-policy", "")
                for directive in ("script-src 'self'", "object-src 'none'", "base-uri 'none'"):
                    if directive not in csp:
                        missing.append(f"{path}: CSP sans {directive}")
                cache = response.headers.get("cache-control", "")
                public_asset = path.startswith(("/static", "/theme"))
                if not public_asset and "no-store" not in cache:
                    missing.append(f"{path}: Cache-Control {cache!r}")
        response = client.get("/chemin/inconnu")
        assert response.status_code == 404 and "Page introuvable" in response.text
        assert "nosniff" in response.headers["x-content-type-options"]
    assert not missing, "\n".join(missing)

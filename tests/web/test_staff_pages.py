"""Staff sign-in, sessions and cookies, personal access tokens, team and platform pages
(SEC-06 to SEC-08, SEC-13 to SEC-15, SEC-24)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from pages import PASSWORD, csrf_from, make_staff, page_client, page_kit, sign_in, submit

from cep_core.kit import Kit
from cep_core.services.accounts import SIGN_IN_LIMIT
from cep_core.settings import MailBackend, MailSettings, Profile, Settings, SettingsError
from cep_core.web.app import create_app
from cep_core.web.sessions import ANON_COOKIE, SESSION_COOKIE

STRONG_SECRET = "kJ8s2-Lq9vX0pZ7mN4bR6tY1wE3uI5oA8dF2gH"


@pytest.fixture
def kit(tmp_path: Path) -> Iterator[Kit]:
    kit = page_kit(tmp_path)
    yield kit
    kit.close()


@pytest.fixture
def app(kit: Kit) -> Litestar:
    return create_app(kit)


def set_cookie_headers(response: object) -> list[str]:
    return [value for key, value in response.headers.multi_items() if key == "set-cookie"]  # type: ignore[attr-defined]


def test_sign_in_sets_a_host_only_secure_cookie_with_a_fresh_id(kit: Kit, app: Litestar) -> None:
    user = make_staff(kit)
    with page_client(app) as client:
        page = client.get("/connexion")
        assert page.status_code == 200
        assert "<title>Connexion à l&#39;espace professionnel" in page.text
        anon = next(c for c in set_cookie_headers(page) if c.startswith(ANON_COOKIE))
        assert all(flag in anon for flag in ("Secure", "HttpOnly", "SameSite=lax", "Path=/"))
        client.cookies.set(SESSION_COOKIE, "planted-by-an-attacker", domain="testserver.local")
        response = client.post(
            "/connexion",
            data={"_csrf": csrf_from(page.text), "email": user.email, "password": PASSWORD},
            follow_redirects=False,
        )
        assert response.status_code == 303 and response.headers["location"] == "/espace"
        cookie = next(c for c in set_cookie_headers(response) if c.startswith(SESSION_COOKIE))
        for flag in ("Secure", "HttpOnly", "SameSite=lax", "Path=/", "Max-Age=36000"):
            assert flag in cookie
        assert "Domain" not in cookie and len(cookie) < 4096
        value = cookie.split(";")[0].split("=", 1)[1]
        assert value != "planted-by-an-attacker" and len(value) >= 43


def test_wrong_credentials_give_a_french_error_summary_and_keep_the_email(
    kit: Kit, app: Litestar
) -> None:
    user = make_staff(kit)
    with page_client(app) as client:
        response = submit(client, "/connexion", data={"email": user.email, "password": "faux"})
        assert response.status_code == 401
        assert "<title>Erreur — Connexion" in response.text
        assert 'class="error-summary"' in response.text and 'href="#email"' in response.text
        assert "Adresse électronique ou mot de passe incorrect." in response.text
        assert f'value="{user.email}"' in response.text
        empty = submit(client, "/connexion", data={"email": "", "password": ""})
        assert empty.status_code == 400
        assert 'href="#password"' in empty.text


def test_sign_in_is_throttled_with_retry_after(kit: Kit, app: Litestar) -> None:
    user = make_staff(kit)
    with page_client(app) as client:
        for _ in range(SIGN_IN_LIMIT):
            assert (
                submit(
                    client, "/connexion", data={"email": user.email, "password": "x"}
                ).status_code
                == 401
            )
        blocked = submit(client, "/connexion", data={"email": user.email, "password": PASSWORD})
        assert blocked.status_code == 429
        assert int(blocked.headers["retry-after"]) >= 1
        assert "Trop de tentatives" in blocked.text


def test_the_client_address_comes_from_trusted_proxies_only(tmp_path: Path) -> None:
    """X-Forwarded-For is believed only from a trusted proxy, read from the right."""
    from litestar import Request

    from cep_core.web.sessions import client_address

    def request(peer: str, forwarded: str | None) -> Request:  # type: ignore[type-arg]
        headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
        scope = {
            "type": "http",
            "method": "GET",
            "path": "/",
            "headers": headers,
            "client": (peer, 1234),
            "query_string": b"",
            "app": None,
        }
        return Request(scope)  # type: ignore[arg-type]

    plain = page_kit(tmp_path / "plain")
    proxied = page_kit(tmp_path / "proxied", trusted_proxies=("10.0.0.0/8",))
    spoofed = request("203.0.113.9", "198.51.100.1")
    assert client_address(spoofed, plain) == "203.0.113.9"
    assert client_address(spoofed, proxied) == "203.0.113.9"  # peer is not our proxy
    via_proxy = request("10.0.0.2", "198.51.100.1, 192.0.2.44, 10.0.0.3")
    assert client_address(via_proxy, plain) == "10.0.0.2"
    # The client chose "198.51.100.1"; the first hop our proxies saw is 192.0.2.44.
    assert client_address(via_proxy, proxied) == "192.0.2.44"
    assert client_address(request("10.0.0.2", None), proxied) == "10.0.0.2"
    plain.close()
    proxied.close()


def test_forwarded_addresses_do_not_spread_attempts_without_a_trusted_proxy(
    kit: Kit, app: Litestar
) -> None:
    with page_client(app) as client:
        for number in range(SIGN_IN_LIMIT):
            response = submit(
                client,
                "/connexion",
                data={"email": f"u{number}@x.fr", "password": "x"},
                headers={"x-forwarded-for": f"198.51.100.{number}"},
            )
            assert response.status_code == 401
        response = submit(
            client,
            "/connexion",
            data={"email": "last@x.fr", "password": "x"},
            headers={"x-forwarded-for": "198.51.100.200"},
        )
        assert response.status_code == 429


def test_sign_out_ends_the_session_and_the_cookie_cannot_be_replayed(
    kit: Kit, app: Litestar
) -> None:
    user = make_staff(kit)
    with page_client(app) as client:
        sign_in(client, user)
        stolen = client.cookies.get(SESSION_COOKIE)
        assert client.get("/espace/jetons").status_code == 200
        response = submit(client, "/espace/jetons", "/deconnexion", follow_redirects=False)
        assert response.status_code == 303
        assert "Max-Age=0" in next(
            c for c in set_cookie_headers(response) if c.startswith(SESSION_COOKIE)
        )
    with page_client(app) as replay:
        replay.cookies.set(SESSION_COOKIE, stolen or "", domain="testserver.local")
        again = replay.get("/espace/jetons", follow_redirects=False)
        assert again.status_code == 303 and again.headers["location"].startswith("/connexion")


def test_disabling_an_account_ends_its_sessions_at_once(kit: Kit, app: Litestar) -> None:
    manager = make_staff(kit, role="manager", email="chef@apec.example")
    member = make_staff(kit, email="membre@apec.example")
    with page_client(app) as member_client, page_client(app) as manager_client:
        sign_in(member_client, member)
        sign_in(manager_client, manager)
        assert member_client.get("/espace/jetons").status_code == 200
        team = manager_client.get("/espace/equipe")
        assert "membre@apec.example" in team.text
        response = manager_client.post(
            f"/espace/equipe/{member.id}/statut",
            data={"_csrf": csrf_from(team.text), "active": "0"},
            follow_redirects=False,
        )
        assert response.status_code == 303
        gone = member_client.get("/espace/jetons", follow_redirects=False)
        assert gone.status_code == 303


def test_managers_manage_their_own_operator_only(kit: Kit, app: Litestar) -> None:
    manager = make_staff(kit, role="manager", email="chef@apec.example")
    stranger = make_staff(kit, operator="mission_locale", email="marc@ml.example")
    secret, token = kit.accounts.create_token(stranger, name="Jeton ML")
    counsellor = make_staff(kit, email="conseil@apec.example")
    with page_client(app) as client:
        sign_in(client, manager)
        team = client.get("/espace/equipe")
        assert "marc@ml.example" not in team.text
        token_csrf = csrf_from(team.text)
        for path in (f"/espace/equipe/{stranger.id}/statut", f"/espace/jetons/{token.id}/revoquer"):
            response = client.post(path, data={"_csrf": token_csrf, "active": "0"})
            assert response.status_code == 404, path
            assert "Page introuvable" in response.text
        assert kit.accounts.get_user(stranger.id) is not None
        assert kit.accounts.get_user(stranger.id).active  # type: ignore[union-attr]
        assert kit.accounts.resolve_token(secret) is not None
        created = client.post(
            "/espace/equipe",
            data={
                "_csrf": token_csrf,
                "display_name": "Nina Leroy",
                "email": "nina@apec.example",
                "role": "counsellor",
                "password": "court",
            },
        )
        assert created.status_code == 400 and 'href="#password"' in created.text
        assert 'value="nina@apec.example"' in created.text  # typed values are kept
    with page_client(app) as client:
        sign_in(client, counsellor)
        assert client.get("/espace/equipe").status_code == 403
        assert client.get("/admin").status_code == 403


def test_personal_access_tokens_from_the_workspace_drive_the_api(kit: Kit, app: Litestar) -> None:
    user = make_staff(kit)
    with page_client(app) as client:
        sign_in(client, user)
        created = submit(client, "/espace/jetons", data={"name": "Mon script", "valid_days": "30"})
        assert created.status_code == 200
        secret = re.search(r'value="(cep_[A-Za-z0-9_-]+)"', created.text)
        assert secret, created.text
        token = secret.group(1)
        listing = client.get("/espace/jetons")
        assert token not in listing.text and f"…{token[-4:]}" in listing.text
        # The session cookie alone never authorises the API.
        assert client.get("/api/v1/cases").status_code == 401
    with TestClient(app, base_url="https://testserver.local") as api:
        auth = {"authorization": f"Bearer {token}"}
        assert api.get("/api/v1/cases", headers=auth).status_code == 200
        [stored] = kit.accounts.list_tokens(operator="apec", user_id=user.id)
        kit.accounts.revoke_token(stored.id, operator="apec")
        assert api.get("/api/v1/cases", headers=auth).status_code == 401


def test_platform_admin_sees_plugins_and_creates_managers_but_no_case(
    kit: Kit, app: Litestar
) -> None:
    admin = make_staff(kit, operator=None, role="admin", email="admin@plateforme.example")
    with page_client(app) as client:
        sign_in(client, admin)
        platform = client.get("/admin")
        assert platform.status_code == 200
        for operator in ("apec", "pole_emploi", "mission_locale", "cap_emploi", "regional"):
            assert f"<code>{operator}</code>" in platform.text
        response = submit(
            client,
            "/admin/comptes",
            data={
                "display_name": "Responsable Cap emploi",
                "email": "resp@capemploi.example",
                "role": "manager",
                "operator": "cap_emploi",
                "password": "une phrase de passe solide",
            },
            follow_redirects=False,
        )
        assert response.status_code == 303
        assert kit.accounts.find_user("resp@capemploi.example").operator == "cap_emploi"  # type: ignore[union-attr]
        assert client.get("/espace/dossiers", follow_redirects=False).status_code in (403, 404)
    secret, _ = kit.accounts.create_token(admin, name="admin")
    with TestClient(app, base_url="https://testserver.local") as api:
        response = api.get("/api/v1/cases", headers={"authorization": f"Bearer {secret}"})
        assert response.status_code == 403


def test_changing_the_password_ends_the_session(kit: Kit, app: Litestar) -> None:
    user = make_staff(kit)
    with page_client(app) as client:
        sign_in(client, user)
        wrong = submit(
            client,
            "/espace/mot-de-passe",
            data={"current": "faux", "new": "nouvelle phrase solide", "confirm": "autre"},
        )
        assert wrong.status_code == 400
        assert 'href="#current"' in wrong.text and 'href="#confirm"' in wrong.text
        done = submit(
            client,
            "/espace/mot-de-passe",
            data={
                "current": PASSWORD,
                "new": "nouvelle phrase solide",
                "confirm": "nouvelle phrase solide",
            },
            follow_redirects=False,
        )
        assert done.status_code == 303
        assert client.get("/espace/jetons", follow_redirects=False).status_code == 303
        sign_in(client, user, "nouvelle phrase solide")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"debug": True}, "CEP_DEBUG"),
        ({"secret_key": None}, "CEP_SECRET_KEY"),
        ({"secret_key": "court"}, "trop faible"),
        ({"secret_key": "a" * 40}, "trop faible"),
        ({"public_url": "http://cep.example"}, "https://"),
        ({"mail": MailSettings()}, "smtp"),
        ({"hash_profile": "fast"}, "CEP_PASSWORD_HASHING"),
    ],
)
def test_production_refuses_unsafe_settings(
    tmp_path: Path, changes: dict[str, object], message: str
) -> None:
    good: dict[str, object] = {
        "data_dir": tmp_path,
        "profile": Profile.PRODUCTION,
        "secret_key": STRONG_SECRET,
        "public_url": "https://cep.example",
        "mail": MailSettings(backend=MailBackend.SMTP),
    }
    assert Settings(**good).startup_problems() == []  # type: ignore[arg-type]
    settings = Settings(**{**good, **changes})  # type: ignore[arg-type]
    with pytest.raises(SettingsError, match=message):
        create_app(settings=settings)


def test_openapi_document_follows_the_profile(tmp_path: Path) -> None:
    production = {
        "profile": Profile.PRODUCTION,
        "secret_key": STRONG_SECRET,
        "public_url": "https://cep.example",
        "mail": MailSettings(backend=MailBackend.SMTP),
        "hash_profile": "standard",
    }
    for mode, anonymous in ((None, 404), ("on", 200), ("staff", 401)):
        kit = page_kit(tmp_path / str(mode), openapi=mode, **production)
        app = create_app(kit)
        with TestClient(app, base_url="https://testserver.local") as client:
            assert client.get("/schema/openapi.json").status_code == anonymous, mode
            if mode == "staff":
                user = make_staff(kit)
                secret, _ = kit.accounts.create_token(user, name="doc")
                response = client.get(
                    "/schema/openapi.json", headers={"authorization": f"Bearer {secret}"}
                )
                assert response.status_code == 200
        kit.close()
    with TestClient(
        create_app(page_kit(tmp_path / "dev")), base_url="https://testserver.local"
    ) as dev:
        assert dev.get("/schema/openapi.json").status_code == 200


def test_the_api_is_rate_limited_per_client_with_ratelimit_headers(
    kit: Kit, app: Litestar, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("cep_core.web.auth.API_LIMIT", 25)
    user = make_staff(kit)
    secret, _ = kit.accounts.create_token(user, name="robot")
    other, _ = kit.accounts.create_token(make_staff(kit, email="b@apec.example"), name="b")
    with TestClient(app, base_url="https://testserver.local") as api:
        statuses = [
            api.get("/api/v1/cases", headers={"authorization": f"Bearer {secret}"}).status_code
            for _ in range(30)
        ]
        assert statuses == [200] * 25 + [429] * 5
        limited = api.get("/api/v1/cases", headers={"authorization": f"Bearer {secret}"})
        assert limited.headers["content-type"].startswith("application/problem+json")
        assert "Trop de requêtes" in limited.json()["detail"]
        assert int(limited.headers["retry-after"]) >= 1
        assert limited.headers["ratelimit-remaining"] == "0"
        # Another client has its own budget.
        response = api.get("/api/v1/cases", headers={"authorization": f"Bearer {other}"})
        assert response.status_code == 200


def test_batched_limits_are_shared_between_instances(kit: Kit, tmp_path: Path) -> None:
    """Two limiters on one database (two app instances): each counts its own hits at once and
    the other's once they are written (within a second in service; here every 20 hits)."""
    from sqlalchemy import select

    from cep_core.services.ratelimit import RateLimiter
    from cep_core.storage.tables import rate_limits

    first = RateLimiter(kit.database, clock=kit.clock, max_delay=3600)
    second = RateLimiter(kit.database, clock=kit.clock, max_delay=3600)
    allowed = 0
    for number in range(200):
        limiter = first if number % 2 else second
        allowed += limiter.hit_batched("shared", limit=100, window=3600).allowed
        if number % 20 == 19:
            first.flush()
            second.flush()
    assert 100 <= allowed < 100 + 20  # the overshoot: what the other had not written yet
    with kit.database.read() as conn:
        assert conn.execute(select(rate_limits.c.hits)).scalar_one() == 200


def test_batched_hits_are_written_off_the_callers_thread(kit: Kit) -> None:
    """The caller never waits for a commit: the hits go in one write within `max_delay`."""
    import time

    from sqlalchemy import func, select

    from cep_core.services.ratelimit import RateLimiter
    from cep_core.storage.tables import rate_limits

    def stored() -> int:
        with kit.database.read() as conn:
            return int(
                conn.execute(select(func.coalesce(func.sum(rate_limits.c.hits), 0))).scalar_one()
            )

    limiter = RateLimiter(kit.database, clock=kit.clock, max_delay=1.0)
    decisions = [limiter.hit_batched(f"client-{n % 3}", limit=5, window=60) for n in range(18)]
    assert stored() == 0  # nothing written by the calls themselves
    assert [d.allowed for d in decisions] == [True] * 15 + [False] * 3
    deadline = time.monotonic() + 5
    while stored() < 18 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert stored() == 18
    limiter.close()


def test_an_operator_logo_is_served_from_its_plugin_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    package = tmp_path / "src" / "cep_logo_demo"
    (package / "static").mkdir(parents=True)
    (package / "static" / "logo.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'
    )
    (package / "__init__.py").write_text(
        "from datetime import date\n"
        "from cep_core import DatedLabel, PluginInfo, PluginKind, Theme, hookimpl\n"
        "@hookimpl\n"
        "def cep_plugin_info():\n"
        "    return PluginInfo(id='logo_demo', kind=PluginKind.OPERATOR, core_range='>=0.1',\n"
        "        labels=(DatedLabel(valid_from=date(2020, 1, 1), value='Logo démo', source='t'),),\n"
        "        theme=Theme(primary_color='#ffd700', logo='static/logo.svg'))\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    module = importlib.import_module("cep_logo_demo")
    kit = Kit(
        [module],
        settings=Settings(data_dir=tmp_path / "data", hash_profile="fast"),
        load_entrypoints=False,
    )
    kit.database.upgrade()
    user = make_staff(kit, operator="logo_demo")
    with page_client(create_app(kit)) as client:
        logo = client.get("/theme/logo_demo/logo")
        assert logo.status_code == 200 and logo.headers["content-type"].startswith("image/svg+xml")
        assert "sandbox" in logo.headers["content-security-policy"]
        assert client.get("/theme/apec/logo").status_code == 404
        # A light brand colour gets dark text (contrast), and the signed-in header shows the logo.
        assert "--brand-contrast: #000000" in client.get("/theme/logo_demo/style.css").text
        sign_in(client, user)
        page = client.get("/espace/jetons")
        assert 'src="/theme/logo_demo/logo"' in page.text and "Logo démo" in page.text
    kit.close()


def test_form_fields_keep_their_attributes_apart(kit: Kit, app: Litestar) -> None:
    """Template whitespace control must not glue attributes (`"required` is one unknown
    attribute to a browser: the field would lose `required` and `aria-describedby`)."""
    glued = re.compile(r'(?<!=)"(required|aria-|autocomplete|maxlength|checked|selected)')
    user = make_staff(kit, role="manager")
    with page_client(app) as client:
        pages = [submit(client, "/connexion", data={"email": "x@y.fr", "password": ""}).text]
        sign_in(client, user)
        pages.append(submit(client, "/espace/equipe", data={"email": "z"}).text)
        pages.append(submit(client, "/espace/mot-de-passe", data={"new": "a"}).text)
    for html in pages:
        assert not glued.search(html), glued.search(html)
        assert 'aria-describedby="' in html and 'aria-invalid="true"' in html
        assert re.search(r"\srequired[\s>]", html)

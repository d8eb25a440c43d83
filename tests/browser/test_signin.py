"""The staff sign-in in a real browser: keyboard, errors, cookies, sign-out, the 404 page."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .conftest import Web

SESSION_COOKIE = "__Host-cep-session"
ANON_COOKIE = "__Host-cep-anon"


def focused_id(web: Web) -> str:
    """What has the keyboard focus: the element's id, else its tag and text."""
    found = web.page.evaluate(
        "() => { const e = document.activeElement;"
        " return e ? (e.id || (e.tagName + ':' + (e.textContent || '').trim())) : ''; }"
    )
    assert isinstance(found, str)
    return found


def focus_is_visible(web: Web) -> bool:
    """The focused element draws an outline or a box-shadow (WCAG 2.4.7)."""
    visible = web.page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0)"
        " || (s.boxShadow && s.boxShadow !== 'none'); }"
    )
    return bool(visible)


def test_sign_in_page_by_keyboard(web: Web) -> None:
    page = web.goto("/connexion", "connexion")
    assert page.title().startswith("Connexion à l'espace professionnel")
    assert page.get_by_role("heading", level=1).inner_text() == "Connexion à l'espace professionnel"

    # Tab from the top of the page: skip link first, then on to the form, in order.
    page.keyboard.press("Tab")
    assert focused_id(web) == "A:Aller au contenu"
    assert focus_is_visible(web)
    for _ in range(20):
        if focused_id(web) == "email":
            break
        page.keyboard.press("Tab")
    assert focused_id(web) == "email", "Tab never reached the e-mail field"
    assert focus_is_visible(web)
    web.shot("connexion-focus-adresse")
    page.keyboard.press("Tab")
    assert focused_id(web) == "password"
    assert focus_is_visible(web)
    page.keyboard.press("Tab")
    assert focused_id(web) == "BUTTON:Se connecter"
    assert focus_is_visible(web)
    web.shot("connexion-focus-bouton")

    # The anonymous CSRF cookie is accepted over http://127.0.0.1 (a secure context).
    cookies = {cookie["name"]: cookie for cookie in web.context.cookies()}
    assert ANON_COOKIE in cookies, "Chromium refused the __Host- cookie on http://127.0.0.1"
    anon = cookies[ANON_COOKIE]
    assert anon["secure"] and anon["httpOnly"] and anon["sameSite"] == "Lax"
    assert anon["path"] == "/"


def test_wrong_password_shows_the_error_summary(web: Web) -> None:
    user = web.server.staff["claire.martin"]
    page = web.goto("/connexion", "connexion")
    page.get_by_label("Adresse électronique professionnelle").fill(user.email)
    page.get_by_label("Mot de passe").fill("ce n'est pas le bon mot de passe")
    page.get_by_role("button", name="Se connecter").click()
    web.check("connexion-erreur")

    assert page.title().startswith("Erreur — Connexion")
    summary = page.get_by_role("alert")
    assert summary.get_by_role("heading", level=2).inner_text() == "1 erreur à corriger"
    link = summary.get_by_role("link")
    assert link.get_attribute("href") == "#email"
    assert "mot de passe" in link.inner_text().lower()
    # The typed address is kept; the password is not sent back.
    assert page.get_by_label("Adresse électronique professionnelle").input_value() == user.email
    assert page.get_by_label("Mot de passe").input_value() == ""
    assert (
        page.get_by_label("Adresse électronique professionnelle").get_attribute("aria-invalid")
        == "true"
    )
    assert SESSION_COOKIE not in {c["name"] for c in web.context.cookies()}

    # An empty form names both fields.
    page.get_by_label("Adresse électronique professionnelle").fill("")
    page.get_by_role("button", name="Se connecter").click()
    web.check("connexion-vide")
    hrefs = (
        page.get_by_role("alert")
        .get_by_role("link")
        .evaluate_all("links => links.map(a => a.getAttribute('href'))")
    )
    assert hrefs == ["#email", "#password"]


def test_sign_in_then_sign_out(web: Web) -> None:
    user = web.sign_in("claire.martin")
    page = web.page
    web.check("espace-apres-connexion")
    assert urlsplit_path(web) == "/espace"
    assert page.get_by_role("banner").get_by_text(user.display_name).is_visible()

    session = {c["name"]: c for c in web.context.cookies()}.get(SESSION_COOKIE)
    assert session is not None, "Chromium refused the __Host- session cookie on http://127.0.0.1"
    assert session["secure"] and session["httpOnly"] and session["sameSite"] == "Lax"
    assert session["path"] == "/" and session["domain"] == "127.0.0.1"

    web.sign_out()
    web.check("deconnexion")
    assert page.get_by_role("status").inner_text() == "Vous êtes déconnecté·e."
    assert SESSION_COOKIE not in {c["name"] for c in web.context.cookies()}

    # Signed out, the workspace sends back to the sign-in page, and comes back after it.
    page.goto(web.url("/espace"))
    web.check("espace-sans-session")
    assert web.path() == "/connexion?suite=/espace"
    page.get_by_label("Adresse électronique professionnelle").fill(user.email)
    page.get_by_label("Mot de passe").fill(web.server.password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/espace")
    web.check("espace-retour")


def test_unknown_page_is_a_french_404(web: Web) -> None:
    page = web.goto("/cette-page-n-existe-pas", "page-introuvable", status=404)
    assert page.get_by_role("heading", level=1).inner_text() == "Page introuvable"
    assert page.title().startswith("Page introuvable")
    assert page.get_by_role("link", name="Revenir à l'accueil").is_visible()


def urlsplit_path(web: Web) -> str:
    return web.path().split("?", 1)[0]

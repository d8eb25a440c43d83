"""The staff's own pages in a real browser: access tokens, password, the team, the
operator's settings and the access journal for a manager, the platform pages for an admin — each checked by axe and
kept as a screenshot, driven by labels and buttons as a person would."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from cep_core.domain.context import Role

if TYPE_CHECKING:
    from .conftest import Server, Web


def test_a_manager_runs_the_team_tokens_and_settings(web: Web, server: Server) -> None:
    server.add_staff(
        "sophie.manager", operator="cap_emploi", name="Sophie Lenoir", role=Role.MANAGER
    )
    web.sign_in("sophie.manager")
    web.check("tableau-de-bord-responsable")

    page = web.goto("/espace/jetons", "jetons")
    page.get_by_label("Nom du jeton").fill("Export mensuel")
    page.get_by_role("button", name="Créer le jeton").click()
    web.check("jeton-cree")
    secret = page.get_by_label("Votre nouveau jeton").input_value()
    assert re.fullmatch(r"cep_[A-Za-z0-9_-]{40,}", secret)
    assert page.get_by_text("il ne sera plus jamais affiché").is_visible()

    page = web.goto("/espace/equipe", "equipe")
    page.get_by_label("Nom et prénom").fill("Hugo Marchand")
    page.get_by_label("Adresse électronique professionnelle").fill("hugo@cap-emploi.example.fr")
    page.get_by_label("Mot de passe initial").fill("azertyuiop123")
    page.get_by_role("button", name="Créer le compte").click()
    web.check("equipe-erreur")
    assert page.title().startswith("Erreur — ")
    summary = page.locator(".error-summary")
    assert "plus courants" in summary.inner_text()
    assert page.get_by_label("Adresse électronique professionnelle").input_value() == (
        "hugo@cap-emploi.example.fr"
    )
    page.get_by_label("Mot de passe initial").fill("une phrase pour hugo")
    page.get_by_role("button", name="Créer le compte").click()
    web.check("equipe-compte-cree")
    assert page.get_by_role("cell", name="hugo@cap-emploi.example.fr").is_visible()
    assert "Export mensuel" in page.locator("table").nth(1).inner_text()

    web.goto("/espace/parametres", "parametres")
    web.goto("/espace/mot-de-passe", "mot-de-passe")
    web.goto("/admin", "admin-refuse", status=403)

    # The access journal shows her own sign-in, under her name (she manages these accounts).
    page = web.goto("/espace/journal", "journal-des-acces")
    journal = page.get_by_role("table").inner_text()
    assert "Connexion" in journal and "Sophie Lenoir" in journal


def test_an_admin_sees_the_platform_and_creates_a_manager(web: Web, server: Server) -> None:
    admin = server.kit.accounts.create_user(
        email="admin@plateforme.example.fr",
        display_name="Alex Admin",
        role=Role.ADMIN,
        operator=None,
        password=server.password,
    )
    server.staff["alex.admin"] = admin
    web.sign_in("alex.admin")
    web.check("plateforme")
    page = web.page
    assert web.path() == "/admin"
    assert page.get_by_role("cell", name="apec", exact=True).first.is_visible()
    assert "Aucune extension refusée." in page.inner_text("main")

    page = web.goto("/admin/comptes", "comptes")
    page.get_by_label("Nom et prénom").fill("Inès Garnier")
    page.get_by_label("Adresse électronique").fill("ines@regional.example.fr")
    page.get_by_label("Opérateur (pour un responsable)").select_option("regional")
    page.get_by_label("Mot de passe initial").fill("une phrase pour ines")
    page.get_by_role("button", name="Créer le compte").click()
    web.check("comptes-responsable-cree")
    assert page.get_by_role("cell", name="ines@regional.example.fr").is_visible()
    web.goto("/espace/dossiers", "dossiers-refuses-admin", status=403)

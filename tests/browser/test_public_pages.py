"""The public pages the journey does not cross, reached as a person would: from the footer."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .conftest import Web


def test_footer_pages(web: Web) -> None:
    page = web.goto("/", "accueil")
    footer = page.get_by_role("contentinfo")

    footer.get_by_role("link", name="Accessibilité : partiellement conforme").click()
    web.check("accessibilite")
    assert page.get_by_role("heading", level=1).inner_text() == "Déclaration d'accessibilité"
    assert "partiellement conforme" in page.get_by_role("main").inner_text()

    footer.get_by_role("link", name="Données personnelles").click()
    web.check("donnees-personnelles")
    assert page.get_by_role("heading", level=1).inner_text() == "Données personnelles"
    assert "CNIL" in page.get_by_role("main").inner_text()

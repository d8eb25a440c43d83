"""The dashboard, the list of cases and its name search, opening a case, the case page."""

from __future__ import annotations

import re

from pages import make_staff, page_client
from workspace_pages import World, error_links, post, text_of, title_of

from cep_core.domain.case import CaseStatus, Level
from cep_core.domain.situation import Status


def test_dashboard_shows_my_cases_and_the_pending_requests(world: World) -> None:
    mine = world.case(first="Maëlle", last="Roussel")
    world.case(first="Yanis", last="Colin", counsellor=world.colleague)
    client = world.client(world.counsellor)
    page = client.get("/espace")
    assert page.status_code == 200
    assert title_of(page.text).startswith("Tableau de bord — Apec")
    assert '<html lang="fr">' in page.text
    text = text_of(page.text)
    assert "Mes dossiers récents" in text and "Demandes en attente" in text
    assert "Aucune demande de rendez-vous n'attend de réponse." in text
    assert 'href="/espace/demandes"' in page.text
    assert f'href="/espace/dossiers/{mine.id}"' in page.text
    assert "Yanis Colin" not in text  # the colleague's case is not mine


def test_the_list_filters_by_status_level_and_counsellor(world: World) -> None:
    first = world.case(first="Maëlle", last="Roussel", level=Level.ONE)
    world.case(first="Yanis", last="Colin", level=Level.TWO, counsellor=world.colleague)
    world.kit.cases.pause("apec", first.id, expected_version=1, actor=world.counsellor.id)
    client = world.client(world.counsellor)
    page = client.get("/espace/dossiers")
    assert page.status_code == 200 and title_of(page.text).startswith("Dossiers —")
    assert "Maëlle Roussel" in text_of(page.text) and "Yanis Colin" not in text_of(page.text)
    everyone = text_of(client.get("/espace/dossiers?vue=tous").text)
    assert "Maëlle Roussel" in everyone and "Yanis Colin" in everyone
    paused = text_of(client.get(f"/espace/dossiers?vue=tous&statut={CaseStatus.PAUSED}").text)
    assert "Maëlle Roussel" in paused and "Yanis Colin" not in paused
    level_two = text_of(client.get("/espace/dossiers?vue=tous&niveau=2").text)
    assert "Yanis Colin" in level_two and "Maëlle Roussel" not in level_two
    assert client.get("/espace/dossiers?statut=inconnu").status_code == 400


def test_keyset_pages_with_opaque_cursors_have_no_gaps_nor_duplicates(world: World) -> None:
    opened = {world.case(first=f"Personne{i:02d}", last="Test").id for i in range(27)}
    client = world.client(world.counsellor)
    seen: list[str] = []
    url: str | None = "/espace/dossiers"
    while url:
        page = client.get(url)
        assert page.status_code == 200
        seen += re.findall(r'<th scope="row"><a href="/espace/dossiers/([0-9a-f]{32})"', page.text)
        found = re.search(
            r'<a href="(/espace/dossiers\?[^"]*curseur=[^"]+)">Page suivante', page.text
        )
        url = found.group(1).replace("&amp;", "&") if found else None
        if url:
            cursor = re.search(r"curseur=([^&]+)", url)
            assert cursor and "Personne" not in cursor.group(1)
    assert len(seen) == len(set(seen)) == 27 and set(seen) == opened


def test_name_search_is_posted_never_in_the_url(world: World) -> None:
    world.case(first="Élodie", last="Lefèvre-Martin")
    world.case(first="Yanis", last="Colin")
    client = world.client(world.counsellor)
    found = post(
        client,
        "/espace/dossiers",
        to="/espace/dossiers/recherche",
        nom="elodie lefevre",
        vue="tous",
    )
    assert found.status_code == 200
    text = text_of(found.text)
    assert "Élodie Lefèvre-Martin" in text and "Yanis Colin" not in text
    assert title_of(found.text).startswith("Recherche de dossiers")
    assert "elodie" not in found.url.query.decode() if found.url.query else True
    # Every link of the answer is free of the searched name.
    assert not [
        link for link in re.findall(r'href="([^"]+)"', found.text) if "elodie" in link.lower()
    ]
    empty = post(client, "/espace/dossiers", to="/espace/dossiers/recherche", nom="!!!", vue="tous")
    assert empty.status_code == 400
    assert title_of(empty.text).startswith("Erreur — Recherche de dossiers")
    assert list(error_links(empty.text)) == ["nom"]
    assert 'id="nom"' in empty.text and 'value="!!!"' in empty.text


def test_a_counsellor_opens_a_case_for_a_person_met_directly(world: World) -> None:
    client = world.client(world.counsellor)
    page = client.get("/espace/dossiers/nouveau")
    assert page.status_code == 200 and title_of(page.text).startswith("Ouvrir un dossier")
    assert "Accueil — poste de cadre" in page.text  # the operator's own intake form
    answer = post(
        client,
        "/espace/dossiers/nouveau",
        first_name="Maëlle",
        last_name="Roussel",
        email="maelle@example.fr",
        birth_date="1986-07-14",
        status=Status.EMPLOYEE.value,
        cadre="oui",
        region="53",
        level="1",
        **{
            "f-intake.cadre_basis": "cadre_contract",
            "f-intake.position_title": "Cheffe de projet",
            "f-intake.position_current": "oui",
            "f-intake.request": "change_employer",
        },
    )
    assert answer.status_code == 303, text_of(answer.text)
    case_id = answer.headers["location"].split("/")[-1].split("?")[0]
    case = world.kit.cases.get_case("apec", case_id)
    assert case.status is CaseStatus.LEVEL_ONE and case.counsellor_id == world.counsellor.id
    assert case.intake is not None and case.intake.answers["position_title"] == "Cheffe de projet"
    shown = client.get(answer.headers["location"])
    assert "Le dossier est ouvert." in text_of(shown.text)


def test_opening_a_case_shows_every_error_and_keeps_what_was_typed(world: World) -> None:
    client = world.client(world.counsellor)
    answer = post(
        client,
        "/espace/dossiers/nouveau",
        first_name="Maëlle",
        birth_date="2090-01-01",
        status="",
        email="pas-une-adresse",
    )
    assert answer.status_code == 400
    assert title_of(answer.text).startswith("Erreur — Ouvrir un dossier")
    links = error_links(answer.text)
    assert {"last_name", "status"} <= set(links)
    assert 'value="Maëlle"' in answer.text and 'value="pas-une-adresse"' in answer.text


def test_an_operator_the_orientation_leaves_out_needs_force(world: World) -> None:
    client = world.client(world.counsellor)
    person = {
        "first_name": "Lou",
        "last_name": "Garnier",
        "birth_date": "2005-03-02",
        "status": Status.JOBSEEKER.value,
        "region": "53",
    }
    refused = post(client, "/espace/dossiers/nouveau", **person)
    assert refused.status_code == 400
    links = error_links(refused.text)
    assert "force" in links and "L'orientation n'a pas retenu « Apec »" in links["force"]
    assert 'id="force"' in refused.text
    forced = post(client, "/espace/dossiers/nouveau", **person, force="oui")
    assert forced.status_code == 303
    case_id = forced.headers["location"].split("/")[-1].split("?")[0]
    [opened] = world.kit.cases.case_events("apec", case_id)
    assert opened.reason == "forced"


def test_only_counsellors_open_cases(world: World) -> None:
    client = world.client(world.manager)
    assert client.get("/espace/dossiers/nouveau").status_code == 403
    assert "Ouvrir un dossier" not in text_of(client.get("/espace/dossiers").text)


def test_the_case_page_shows_everything_of_the_case(world: World) -> None:
    case = world.level_two_with_action_plan()
    client = world.client(world.counsellor)
    page = client.get(f"/espace/dossiers/{case.id}")
    assert page.status_code == 200
    assert title_of(page.text).startswith("Dossier de Maëlle Roussel — Apec")
    text = text_of(page.text)
    for expected in (
        "Niveau 2 en cours",
        "La personne",
        "maelle.roussel@example.fr",
        "Sa situation",
        "salarié(e) du secteur privé",
        "Bretagne",
        "Étapes",
        "Projet professionnel — Terminée",
        "Plan d'action — Terminée",
        "Entretiens",
        "Plan d'action terminé.",
        "Titre professionnel de développeur web",
        "Plan de financement",
        "Documents de synthèse",
        "Journal du dossier",
        "Ouverture du dossier",
        "Étape terminée",
    ):
        assert expected in text, expected
    assert f'action="/espace/dossiers/{case.id}/actions/pause"' in page.text
    assert f'href="/espace/dossiers/{case.id}/cloture"' in page.text
    assert f'name="version" value="{case.version}"' in page.text


def test_an_unknown_case_is_a_french_404(world: World) -> None:
    client = world.client(world.counsellor)
    for case_id in ("0" * 32, "pas-un-identifiant"):
        page = client.get(f"/espace/dossiers/{case_id}")
        assert page.status_code == 404 and "Page introuvable" in page.text


def test_the_workspace_is_for_operator_staff_only(world: World) -> None:
    case = world.case()
    admin = world.client(make_staff(world.kit, operator=None, role="admin", name="Alex Admin"))
    for url in ("/espace/dossiers", f"/espace/dossiers/{case.id}", "/espace/dossiers/nouveau"):
        assert admin.get(url).status_code == 403, url
    manager = world.client(world.manager)
    page = manager.get(f"/espace/dossiers/{case.id}")
    assert page.status_code == 200 and "Dossier de Maëlle Roussel" in text_of(page.text)
    with page_client(world.app) as client:
        answer = client.get(f"/espace/dossiers/{case.id}", follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/connexion?suite=/espace/dossiers/")

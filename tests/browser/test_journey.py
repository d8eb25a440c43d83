"""The whole service in a real browser, only through its pages, as people use it.

A person finds their operator and asks for an appointment; a counsellor of that operator
proposes one and accepts the request, records the first session, completes level 1, starts
level 2, fills the action plan and the funding plan, produces the synthesis, downloads it and
sends the person a single-use link; the person downloads it once. Every e-mail arrives at the
test SMTP server. A counsellor of another operator then finds none of it. Every page shown is
checked by axe-core and kept as a screenshot (see conftest.py).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from playwright.sync_api import Locator, Page

from .conftest import attachments_of, text_of

if TYPE_CHECKING:
    from .conftest import Browse, Server, Web

PERSON_EMAIL = "camille.durand@example.org"
QUEUE_EMAIL = "file-attente@cep.example.fr"  # CEP_MAIL_QUEUE_FALLBACK of the test server
PARIS = ZoneInfo("Europe/Paris")
REFERENCE = re.compile(r"^CEP-[0-9A-Z]{4}-[0-9A-Z]{4}$")


def label(text: str) -> re.Pattern[str]:
    """A field label that starts with `text` (labels end with « (obligatoire) » and hints)."""
    return re.compile("^" + re.escape(text))


def group(page: Page, legend: str) -> Locator:
    """The fieldset whose legend starts with `legend` (radio groups repeat « Oui »/« Non »)."""
    return page.get_by_role("group", name=label(legend))


def validate_step(web: Web, name: str) -> None:
    web.page.get_by_role("button", name="Valider l'étape").click()
    web.check(name)
    assert web.page.locator(".error-summary").count() == 0, web.page.locator("main").inner_text()
    assert web.page.get_by_role("status").filter(has_text="Étape terminée").is_visible()


def working_day(after_days: int) -> date:
    day = date.today() + timedelta(days=after_days)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


# -- the person ------------------------------------------------------------------------------


def find_operator_and_ask(person: Web) -> str:
    """Home → « Trouver mon conseiller » → answer → request form → reference."""
    page = person.goto("/", "accueil")
    page.get_by_role("main").get_by_role("link", name="Trouver mon conseiller").first.click()
    person.check("orientation")
    assert "Étape 1 sur 3" in page.title()

    page.get_by_label("Salarié ou salariée du secteur privé").check()
    page.get_by_label("Date de naissance").fill("1979-05-04")
    page.get_by_label("Votre région").select_option(label="Île-de-France")
    page.get_by_label("Je suis cadre, ou je cherche un emploi de cadre").check()
    page.get_by_role("button", name="Voir les conseillers pour moi").click()
    person.check("orientation-reponse")
    assert "Étape 2 sur 3" in page.title()
    assert page.get_by_role("heading", name="Apec", exact=True).is_visible()

    page.get_by_role("button", name="Demander un rendez-vous à Apec").click()
    person.check("demande")
    assert "Étape 3 sur 3" in page.title()
    assert "Elle sera adressée à Apec." in page.get_by_role("main").inner_text()

    page.get_by_label(label("Prénom")).fill("Camille")
    page.get_by_label(label("Nom")).fill("Durand")
    page.get_by_label(label("Adresse électronique")).fill(PERSON_EMAIL)
    page.get_by_label("Par téléphone").check()
    page.get_by_label("Mardi").check()
    page.get_by_label("Le matin").check()
    page.get_by_label("Votre demande en quelques mots").fill(
        "Je souhaite évoluer vers la direction d'un site de production."
    )
    # Without consent the request is refused, the error is linked and nothing typed is lost.
    page.get_by_role("button", name="Envoyer ma demande").click()
    person.check("demande-sans-consentement")
    assert page.title().startswith("Erreur — ")
    summary = page.locator(".error-summary")
    assert summary.get_by_role("link").get_attribute("href") == "#consent"
    assert page.get_by_label(label("Prénom")).input_value() == "Camille"
    assert page.get_by_label(label("Adresse électronique")).input_value() == PERSON_EMAIL
    assert page.get_by_label("Par téléphone").is_checked()

    page.get_by_label("J'accepte que mes données soient traitées").check()
    page.get_by_role("button", name="Envoyer ma demande").click()
    person.check("demande-envoyee")
    assert page.get_by_role("heading", level=1).inner_text() == "Votre demande est envoyée"
    reference = page.locator(".reference").inner_text().strip()
    assert REFERENCE.match(reference), reference
    shown = page.get_by_role("main").inner_text()
    assert "Durand" not in shown and PERSON_EMAIL not in shown  # the reference page names no one
    return reference


def check_request_mails(server: Server, reference: str) -> str:
    """The acknowledgement and the queue's notice; returns the queue link it carries."""
    (ack,) = server.mailbox.wait_for(PERSON_EMAIL, 1)
    assert reference in str(ack["Subject"])
    assert reference in text_of(ack)
    (notice,) = server.mailbox.wait_for(QUEUE_EMAIL, 1)
    assert reference in str(notice["Subject"])
    body = text_of(notice)
    assert "Durand" not in body  # the notice carries the reference and a link only
    found = re.search(re.escape(server.base_url) + r"/espace/demandes/[0-9a-f]+", body)
    assert found, body
    return found.group(0)


# -- the counsellor --------------------------------------------------------------------------


def propose_and_accept(counsellor: Web, reference: str, queue_link: str, when: datetime) -> str:
    """Dashboard → queue → the request: propose an appointment, then accept; the case URL."""
    page = counsellor.page
    counsellor.check("tableau-de-bord")
    assert counsellor.path() == "/espace"
    assert "Une demande de rendez-vous attend une réponse." in page.get_by_role("main").inner_text()
    page.get_by_role("link", name="Voir les demandes").click()
    counsellor.check("demandes")
    page.get_by_role("link", name=reference).click()
    counsellor.check("demande-detail")
    assert counsellor.url(counsellor.path()) == queue_link  # the e-mail's link leads here

    page.get_by_label(label("Date")).fill(when.date().isoformat())
    page.get_by_label(label("Heure (heure de Paris)")).fill(when.strftime("%H:%M"))
    page.get_by_label(label("Durée, en minutes")).fill("60")
    page.get_by_role("radio", name="Sur place").check()
    page.get_by_label("Lieu ou lien de connexion").fill("Apec, 51 boulevard Brune, 75014 Paris")
    page.get_by_role("button", name="Proposer ce rendez-vous").click()
    counsellor.check("rendez-vous-propose")
    assert page.get_by_role("heading", name="Rendez-vous proposé").is_visible()

    page.get_by_role("button", name="Accepter et ouvrir le dossier").click()
    counsellor.check("dossier-ouvert")
    assert page.get_by_role("heading", level=1).inner_text() == "Dossier de Camille Durand"
    found = re.fullmatch(
        r"(/espace/dossiers/[0-9a-f]+)\?message=demande-acceptee", counsellor.path()
    )
    assert found, counsellor.path()
    assert "La demande est acceptée" in page.get_by_role("status").first.inner_text()
    proposed = page.locator("#rendez-vous").inner_text()
    assert "Sur place — Apec, 51 boulevard Brune" in proposed, proposed
    return found.group(1)


def check_appointment_mail(server: Server, when: datetime) -> None:
    mails = server.mailbox.wait_for(PERSON_EMAIL, 2)
    appointment = mails[1]
    body = text_of(appointment)
    assert "Apec, 51 boulevard Brune" in body
    files = attachments_of(appointment)
    assert [(name.endswith(".ics"), kind) for name, kind, _ in files] == [(True, "text/calendar")]
    ics = files[0][2].decode()
    assert "BEGIN:VCALENDAR" in ics and "METHOD:" in ics
    start = when.astimezone(ZoneInfo("UTC")).strftime("%Y%m%dT%H%M%SZ")
    assert f"DTSTART:{start}" in ics, ics


def record_session(counsellor: Web) -> None:
    page = counsellor.page
    page.get_by_role("link", name="Enregistrer un entretien").click()
    counsellor.check("entretien")
    page.get_by_label(label("Date de l'entretien")).fill(date.today().isoformat())
    page.get_by_label(label("Heure de début")).fill("09:00")
    group(page, "Modalité").get_by_label("Sur place").check()
    page.get_by_label(label("Durée (en minutes)")).fill("45")
    group(page, "L'entretien a-t-il eu lieu en dehors du temps de travail").get_by_label(
        "Oui", exact=True
    ).check()
    page.get_by_role("button", name="Enregistrer l'entretien").click()
    counsellor.check("dossier-entretien")
    sessions = page.get_by_role("table", name=label("Entretiens du dossier"))
    assert sessions.get_by_role("cell", name="45 min").count() == 1


def complete_level_1(counsellor: Web) -> None:
    page = counsellor.page
    page.get_by_role("button", name="Démarrer le niveau 1").click()
    counsellor.check("niveau-1")
    page.get_by_role("link", name="Point sur la situation de cadre").click()
    counsellor.check("n1-situation")
    assert page.title().startswith("Étape 1 sur 2 — Point sur la situation de cadre")
    page.get_by_label("Dans les six mois").check()
    page.get_by_label("Aucun risque identifié").check()
    page.get_by_label("Dans ma région").check()
    validate_step(counsellor, "n1-situation-terminee")

    page.get_by_role("link", name=label("Étape suivante")).click()
    counsellor.check("n1-compte-rendu")
    assert page.title().startswith("Étape 2 sur 2 — Compte rendu du niveau 1")
    # Validating too early: the errors are summarised, linked, and the typed text stays.
    page.get_by_label(label("Demande exprimée")).fill("Faire le point sur mon parcours de cadre.")
    page.get_by_role("button", name="Valider l'étape").click()
    counsellor.check("n1-compte-rendu-erreurs")
    assert page.title().startswith("Erreur — ")
    links = page.locator(".error-summary a")
    assert links.count() >= 3
    for href in links.evaluate_all("links => links.map(a => a.getAttribute('href'))"):
        assert page.locator(href).count() == 1, f"the summary links to a missing field: {href}"
    assert page.get_by_label(label("Demande exprimée")).input_value().startswith("Faire le point")

    page.get_by_label(label("Besoin clarifié")).fill("Construire un projet d'évolution réaliste.")
    page.get_by_label("Finalités et fonctionnement du conseil en évolution professionnelle").check()
    page.get_by_label("Aides et financements mobilisables").check()
    page.get_by_label(label("État des lieux partagé")).fill(
        "Camille souhaite être accompagnée pour formaliser son projet."
    )
    group(page, "Décision de poursuivre").get_by_label("Oui", exact=True).check()
    validate_step(counsellor, "n1-compte-rendu-termine")
    page.get_by_role("link", name=label("Retour au dossier")).click()
    counsellor.check("dossier-niveau-1-termine")
    assert "2 étapes obligatoires terminées sur 2" in page.get_by_role("main").inner_text()


def level_2_and_action_plan(counsellor: Web) -> None:
    page = counsellor.page
    page.get_by_role("button", name="Démarrer le niveau 2").click()
    counsellor.check("niveau-2")
    page.get_by_role("link", name="Positionnement sur le marché de l'emploi cadre").click()
    counsellor.check("n2-positionnement")
    page.get_by_label(label("Compétences clés")).fill("Management d'équipe\nAmélioration continue")
    page.get_by_label(label("Fonctions visées")).fill("Directrice de site")
    page.get_by_label(label("Codes ROME visés")).fill("H2502")
    page.get_by_label("Marché équilibré").check()
    # Amounts are typed in euros, the French way, and stored in cents.
    page.get_by_label(label("Rémunération brute annuelle visée, minimum")).fill("55 000")
    page.get_by_label(label("Rémunération brute annuelle visée, maximum")).fill("65000,50")
    validate_step(counsellor, "n2-positionnement-termine")
    pay = page.get_by_label(label("Rémunération brute annuelle visée, minimum")).input_value()
    assert pay.replace("\u202f", " ") == "55 000", pay

    page.get_by_role("link", name=label("Étape suivante")).click()
    counsellor.check("n2-projet")
    page.get_by_label(label("Objectif du projet")).select_option(label="Évolution professionnelle")
    page.get_by_label(label("Description du projet professionnel")).fill(
        "Évoluer vers la direction d'un site de production agroalimentaire."
    )
    page.get_by_label(label("Stratégies envisagées")).fill(
        "Formation courte certifiante\nMobilité interne"
    )
    page.get_by_label(label("Code ROME")).fill("H2502")
    validate_step(counsellor, "n2-projet-termine")

    page.get_by_role("link", name=label("Étape suivante")).click()
    counsellor.check("n2-plan-d-action")
    service = group(page, "Dispositifs et prestations mobilisés — n° 1")
    service.get_by_label("Formation", exact=True).check()
    service.get_by_label(label("Intitulé")).fill("Titre professionnel de coordination d'équipe")
    service.get_by_label("Prestataire", exact=True).fill("Organisme régional de formation")
    group(page, "Prestataire certifié Qualiopi").get_by_label("Oui", exact=True).check()
    service.get_by_label("Code de certification").fill("RNCP34828")
    start, end = date.today() + timedelta(days=100), date.today() + timedelta(days=250)
    service.get_by_label("Début prévu").fill(start.isoformat())
    service.get_by_label("Fin prévue").fill(end.isoformat())
    group(page, "Démarches personnelles — n° 1").get_by_label(label("Démarche")).fill(
        "Rencontrer deux directeurs de site en poste"
    )
    milestone = group(page, "Calendrier prévisionnel — n° 1")
    milestone.get_by_label(label("Date")).fill(start.isoformat())
    milestone.get_by_label(label("Étape")).fill("Entrée en formation")
    validate_step(counsellor, "n2-plan-d-action-termine")
    page.get_by_role("link", name=label("Retour au dossier")).click()
    counsellor.check("dossier-plan-d-action")
    assert "Plan d'action terminé." in page.get_by_role("main").inner_text()


def funding_plan(counsellor: Web) -> None:
    page = counsellor.page
    page.get_by_role("link", name="Plan de financement").first.click()
    counsellor.check("financement")
    page.get_by_label("Titre professionnel de coordination d'équipe (Formation)").check()
    page.get_by_label(label("Prix de l'action (frais pédagogiques, TTC)")).fill("2400")
    page.get_by_label("Nature de l'action").select_option(
        label="Formation certifiante (RNCP ou RS)"
    )
    page.get_by_label("Durée en heures").fill("210")
    page.get_by_label(label("Solde du compte personnel de formation")).fill("1 500")
    page.get_by_role("button", name="Établir le plan de financement").click()
    counsellor.check("dossier-financement")
    assert page.locator(".error-summary").count() == 0, page.get_by_role("main").inner_text()
    plan = page.get_by_role("region", name="Plan de financement")
    facts = plan.locator("#financement").inner_text()
    assert "Coût total" in facts and "2\u202f400,00\xa0€" in facts, facts


def synthesis(counsellor: Web, tmp_path: Path) -> str:
    """Produce the level-2 synthesis, download it, send the link to the person; its path."""
    page = counsellor.page
    page.get_by_label("Document de synthèse à produire").select_option(
        label="Niveau 2 — accompagnement personnalisé"
    )
    page.get_by_role("button", name="Produire le document de synthèse").click()
    counsellor.check("synthese-produite")
    versions = page.get_by_role("table", name="Versions enregistrées")
    assert versions.get_by_role("rowheader", name="Niveau 2, version 1").is_visible()

    pdf_link = versions.get_by_role("link", name=label("Télécharger le PDF")).first
    pdf_path = pdf_link.get_attribute("href")
    assert pdf_path is not None
    with page.expect_download() as download:
        pdf_link.click()
    saved = tmp_path / "synthese-conseiller.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")

    versions.get_by_role("button", name=label("Envoyer le lien à la personne")).first.click()
    counsellor.check("synthese-lien-envoye")
    assert page.get_by_role("status").filter(has_text="Le lien de téléchargement").is_visible()
    return pdf_path


def download_from_link(person: Web, server: Server, tmp_path: Path) -> None:
    mails = server.mailbox.wait_for(PERSON_EMAIL, 3)
    body = text_of(mails[2])
    found = re.search(re.escape(server.base_url) + r"/telechargement/[A-Za-z0-9_-]+", body)
    assert found, body
    assert not attachments_of(mails[2])  # a link, never the PDF itself
    link = found.group(0)

    page = person.goto(link, "telechargement")
    with page.expect_download() as download:
        page.get_by_role("button", name="Télécharger le document de synthèse").click()
    saved = tmp_path / "synthese-personne.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")

    person.goto(link, "telechargement-deja-utilise", status=410)  # single use


# -- another operator ------------------------------------------------------------------------


def other_operator_sees_nothing(
    other: Web, case_path: str, request_link: str, pdf_path: str
) -> None:
    """A Mission locale counsellor: 404 on the case, its pages, its PDF and the request; no
    trace in the lists, the search or the queue."""
    other.sign_in("karim.benali")
    other.check("autre-tableau-de-bord")
    page = other.page
    assert "Durand" not in page.get_by_role("main").inner_text()

    page_404 = "Page introuvable"
    for path, name in (
        (case_path, "autre-dossier-404"),
        (f"{case_path}/niveau/1/level1.record", "autre-etape-404"),
        (f"{case_path}/financement", "autre-financement-404"),
        (pdf_path, "autre-synthese-404"),
        (request_link.removeprefix(other.server.base_url), "autre-demande-404"),
    ):
        other.goto(path, name, status=404)
        assert page.get_by_role("heading", level=1).inner_text() == page_404

    other.goto("/espace/dossiers?vue=tous", "autre-dossiers")
    assert "Durand" not in page.get_by_role("main").inner_text()
    page.get_by_label(label("Nom ou prénom de la personne")).fill("Durand")
    page.get_by_role("button", name="Rechercher").click()
    other.check("autre-recherche")
    assert "Aucun dossier ne correspond à cette recherche." in page.get_by_role("main").inner_text()

    other.goto("/espace/demandes?statut=toutes", "autre-demandes")
    assert "Durand" not in page.get_by_role("main").inner_text()


def test_the_whole_service(browse: Browse, server: Server, tmp_path: Path) -> None:
    person = browse()
    reference = find_operator_and_ask(person)
    queue_link = check_request_mails(server, reference)

    counsellor = browse()
    counsellor.sign_in("claire.martin")
    when = datetime.combine(working_day(14), datetime.min.time(), PARIS).replace(hour=10, minute=30)
    case_path = propose_and_accept(counsellor, reference, queue_link, when)
    check_appointment_mail(server, when)

    record_session(counsellor)
    complete_level_1(counsellor)
    level_2_and_action_plan(counsellor)
    funding_plan(counsellor)
    pdf_path = synthesis(counsellor, tmp_path)
    download_from_link(person, server, tmp_path)

    other_operator_sees_nothing(browse(), case_path, queue_link, pdf_path)

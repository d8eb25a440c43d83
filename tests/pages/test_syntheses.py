"""Documents de synthèse from the workspace, and the person's single-use download link."""

from __future__ import annotations

import re
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest
from pages import csrf_from, page_client
from sqlalchemy import update
from workspace_pages import World, post, text_of, title_of

from cep_core.domain.case import Level
from cep_core.storage.tables import download_links

LINK = re.compile(r"https?://[^\s\"<>]+/telechargement/([A-Za-z0-9_-]{43})")


def generate(world: World, client: object, case_id: str, level: Level = Level.ONE) -> str:
    """Produce a synthesis from the case page; the id of the stored version."""
    page = f"/espace/dossiers/{case_id}"
    answer = post(client, page, to=f"{page}/syntheses", niveau=str(int(level)))  # type: ignore[arg-type]
    assert answer.status_code == 303, text_of(answer.text)[:500]
    assert answer.headers["location"].startswith(f"{page}?message=synthese-produite")
    [synthesis] = [
        s for s in world.kit.syntheses.list_for_case("apec", case_id) if s.level is level
    ]
    return synthesis.id


def mails(folder: Path) -> list[EmailMessage]:
    found = []
    for path in sorted(folder.glob("**/*.eml")):
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        assert isinstance(message, EmailMessage)
        found.append(message)
    return found


def test_a_synthesis_is_produced_listed_and_downloaded(world: World) -> None:
    case = world.case()
    client = world.client(world.counsellor)
    synthesis_id = generate(world, client, case.id)
    page = client.get(f"/espace/dossiers/{case.id}?message=synthese-produite")
    text = text_of(page.text)
    assert "Le document de synthèse est produit." in text
    assert "Niveau 1, version 1" in text
    url = f"/espace/dossiers/{case.id}/syntheses/{synthesis_id}/pdf"
    assert f'href="{url}"' in page.text
    pdf = client.get(url)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"] == 'attachment; filename="synthese-niveau-1-v1.pdf"'
    assert pdf.headers["cache-control"] == "no-store"
    # Unchanged case: the stored version is kept.
    again = post(
        client,
        f"/espace/dossiers/{case.id}",
        to=f"/espace/dossiers/{case.id}/syntheses",
        niveau="1",
    )
    assert again.headers["location"].startswith(
        f"/espace/dossiers/{case.id}?message=synthese-inchangee"
    )
    kinds = [event.kind for event in world.kit.cases.case_events("apec", case.id)]
    assert kinds.count("synthesis_generated") == 1 and "synthesis_downloaded" in kinds


def test_a_level_the_case_has_not_reached_is_refused_in_french(world: World) -> None:
    case = world.case()
    client = world.client(world.counsellor)
    page = f"/espace/dossiers/{case.id}"
    refused = post(client, page, to=f"{page}/syntheses", niveau="2")
    assert refused.status_code == 409
    assert "n'a pas atteint le niveau 2" in text_of(refused.text)
    assert post(client, page, to=f"{page}/syntheses", niveau="9").status_code == 400


def test_the_single_use_link_works_once(world: World) -> None:
    case = world.case(email="maelle.roussel@example.fr")
    client = world.client(world.counsellor)
    synthesis_id = generate(world, client, case.id)
    page = f"/espace/dossiers/{case.id}"
    sent = post(client, page, to=f"{page}/syntheses/{synthesis_id}/envoi")
    assert sent.status_code == 303
    assert "Le lien de téléchargement est envoyé à la personne" in text_of(
        client.get(sent.headers["location"]).text
    )
    # Delivered after the answer: one message to the person, a link and no attachment.
    [message] = mails(world.tmp_path / "mail")
    assert message["To"] == "maelle.roussel@example.fr"
    assert not list(message.iter_attachments())
    body = message.get_body(preferencelist=("plain",))
    assert isinstance(body, EmailMessage)
    found = LINK.search(body.get_content())
    assert found, body.get_content()
    link = f"/telechargement/{found.group(1)}"

    with page_client(world.app) as person:  # no account
        shown = person.get(link)
        assert shown.status_code == 200
        assert title_of(shown.text).startswith("Télécharger votre document de synthèse")
        assert "Télécharger le document de synthèse" in shown.text
        assert person.get(link).status_code == 200  # a GET (a mail scanner) spends nothing
        token = csrf_from(shown.text)
        pdf = person.post(link, data={"_csrf": token})
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        assert pdf.headers["content-disposition"].startswith("attachment;")
        assert pdf.headers["cache-control"] == "no-store"
        spent = person.post(link, data={"_csrf": token})
        assert spent.status_code == 410 and "Ce lien a déjà servi" in spent.text
        assert person.get(link).status_code == 410
        unknown = person.get("/telechargement/" + "A" * 43)
        assert unknown.status_code == 404 and "Lien inconnu" in unknown.text


def test_an_expired_link_is_gone(world: World) -> None:
    case = world.case(email="maelle.roussel@example.fr")
    client = world.client(world.counsellor)
    synthesis_id = generate(world, client, case.id)
    page = f"/espace/dossiers/{case.id}"
    post(client, page, to=f"{page}/syntheses/{synthesis_id}/envoi")
    [message] = mails(world.tmp_path / "mail")
    body = message.get_body(preferencelist=("plain",))
    assert isinstance(body, EmailMessage)
    found = LINK.search(body.get_content())
    assert found
    with world.kit.database.write() as conn:
        past = case.created_at - timedelta(days=30)
        conn.execute(
            update(download_links).values(created_at=past, expires_at=past + timedelta(days=7))
        )
    with page_client(world.app) as person:
        shown = person.get(f"/telechargement/{found.group(1)}")
        assert shown.status_code == 410 and "Ce lien a expiré" in shown.text
        token = csrf_from(person.get("/connexion").text)
        refused = person.post(f"/telechargement/{found.group(1)}", data={"_csrf": token})
        assert refused.status_code == 410


@pytest.mark.parametrize("email", [None])
def test_no_link_without_an_address(world: World, email: str | None) -> None:
    case = world.case(email=email)
    client = world.client(world.counsellor)
    synthesis_id = generate(world, client, case.id)
    page = client.get(f"/espace/dossiers/{case.id}")
    assert "/envoi" not in page.text and "n'a pas d'adresse électronique" in text_of(page.text)
    refused = post(
        client,
        f"/espace/dossiers/{case.id}",
        to=f"/espace/dossiers/{case.id}/syntheses/{synthesis_id}/envoi",
    )
    assert refused.status_code == 409
    assert not mails(world.tmp_path / "mail")

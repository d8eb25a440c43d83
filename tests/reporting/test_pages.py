"""The activity dashboard (managers only) and the person's questionnaire link."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from pages import csrf_from, make_staff, page_client, sign_in, submit
from sqlalchemy import select

from cep_core.storage.tables import audit_events, report_exports, survey_answers
from cep_core.web.app import create_app
from cep_core.web.charts import format_number

PERIOD = "?du=2026-03-01&au=2026-04-30"
MANAGER_EMAIL = "responsable@apec.example.fr"


def manager(world):
    return make_staff(world.kit, role="manager", email=MANAGER_EMAIL, name="Inès Garnier")


def test_a_manager_sees_charts_with_their_tables(world) -> None:
    world.answer_surveys()
    boss = manager(world)
    with page_client(create_app(world.kit)) as client:
        sign_in(client, boss)
        page = client.get("/espace/activite" + PERIOD)
        assert page.status_code == 200
        html = page.text
        assert "Tableau de bord d'activité" in html
        charts = re.findall(r'<svg [^>]*role="img"[^>]*aria-labelledby="([^"]+)"', html)
        assert len(charts) >= 8
        for labelled in charts:
            title, desc = labelled.split()
            assert f'<title id="{title}">' in html and f'<desc id="{desc}">' in html
        assert html.count("<caption>") >= len(charts)
        assert "mars 2026 : 4 ; avr. 2026 : 1." in html  # the line chart's description
        assert ">4\u00a0sur 5<" in html  # mean of 5, 4 and 3, French style
        assert "75\u00a0%" in html
        # No export yet: the five-month warning.
        assert "Aucun export statistique depuis plus de 5 mois" in html
        # Filter by agency (index into the sorted agencies: Nantes, Rennes).
        nantes = client.get("/espace/activite" + PERIOD + "&agence=0").text
        assert "mars 2026 : 2 ; avr. 2026 : 0." in nantes
        assert ">3\u00a0sur 5<" in nantes  # B's answer only
        # Thousands get a narrow no-break space, decimals a comma.
        assert format_number(1234.5) == "1\u202f234,5"


def test_a_counsellor_gets_403(world) -> None:
    with page_client(create_app(world.kit)) as client:
        sign_in(client, world.counsellors["c1"])
        assert client.get("/espace/activite").status_code == 403
        assert client.get("/espace/activite/agences").status_code == 403


def test_the_dashboard_export_is_recorded_and_audited(world) -> None:
    boss = manager(world)
    with page_client(create_app(world.kit)) as client:
        sign_in(client, boss)
        response = submit(
            client,
            "/espace/activite" + PERIOD,
            "/espace/activite/export",
            data={"du": "2026-03-01", "au": "2026-04-30", "type": "paths", "format": "csv"},
        )
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert len(rows) == 5
        page = client.get("/espace/activite" + PERIOD).text
        assert "Aucun export statistique" not in page
    with world.kit.database.read() as conn:
        assert conn.execute(select(report_exports.c.actor)).scalars().all() == [boss.id]
        actions = conn.execute(select(audit_events.c.action)).scalars().all()
    assert "report.export" in actions


def test_the_manager_sets_agencies(world) -> None:
    boss = manager(world)
    c2 = world.counsellors["c2"]
    with page_client(create_app(world.kit)) as client:
        sign_in(client, boss)
        page = client.get("/espace/activite/agences")
        assert 'value="Nantes"' in page.text
        done = client.post(
            "/espace/activite/agences",
            data={"_csrf": csrf_from(page.text), f"agence-{c2.id}": "Saint-Nazaire"},
            follow_redirects=False,
        )
        assert done.status_code == 303
    assert world.kit.indicators.agencies("apec")[c2.id] == "Saint-Nazaire"


def test_the_questionnaire_link(world) -> None:
    secret = world.link_for("c.roussel")  # C's level-1 survey, sent on 03-23
    world.move("2026-03-24")
    url = f"/questionnaire/{secret}"
    with page_client(create_app(world.kit)) as client:
        # A mail scanner's GET (twice) spends nothing.
        for _ in range(2):
            page = client.get(url)
            assert page.status_code == 200
            assert "<legend>" in page.text and "<fieldset" in page.text
        # CSRF like the other public forms.
        assert client.post(url, data={"overall": "4"}).status_code == 403
        token = csrf_from(page.text)
        incomplete = client.post(url, data={"_csrf": token, "overall": "4"})
        assert incomplete.status_code == 400
        assert "Question 2 : choisissez une réponse de 1 à 5." in incomplete.text
        answers = {
            "_csrf": token,
            "overall": "4",
            "listening": "5",
            "clarity": "3",
            "next_steps": "4",
            "recommend": "oui",
            "comment": "Très utile.",
        }
        assert client.post(url, data=answers).status_code == 200
        assert client.post(url, data=answers).status_code == 410  # single use
        assert client.get(url).status_code == 410
        assert client.get("/questionnaire/" + "x" * 43).status_code == 404
    with world.kit.database.read() as conn:
        stored = conn.execute(select(survey_answers.c.satisfaction)).scalars().all()
    assert stored == [4]


def test_an_expired_questionnaire(world) -> None:
    secret = world.link_for("c.roussel")
    link = world.kit.surveys.peek(secret)
    world.now[0] = link.expires_at + timedelta(seconds=1)
    with page_client(create_app(world.kit)) as client:
        page = client.get(f"/questionnaire/{secret}")
        assert page.status_code == 410
        assert "Ce questionnaire a expiré" in page.text

"""« Journal des accès » (page and API) and the sign-in events (SEC-12, UX-10).

Managers read their own operator's journal, filtered and paged, with their staff's names;
counsellors are refused (403), and the refusal is journaled like every reading of it.
Sign-in attempts are journaled by account id, never by e-mail.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from pages import BASE_URL, PASSWORD, make_staff, page_client, page_kit, sign_in, submit
from sqlalchemy import select
from workspace_pages import World, text_of

from cep_core.kit import Kit
from cep_core.storage.tables import audit_events
from cep_core.web.app import create_app


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    kit = page_kit(tmp_path)
    world = World(
        kit=kit,
        app=create_app(kit),
        tmp_path=tmp_path,
        counsellor=make_staff(kit, operator="apec", name="Claire Martin"),
        colleague=make_staff(kit, operator="apec", name="Hugo Bernard"),
        manager=make_staff(kit, operator="apec", role="manager", name="Inès Petit"),
        stranger=make_staff(kit, operator="regional", name="Paul Girard"),
    )
    yield world
    kit.close()


def events(kit: Kit, **where: Any) -> list[dict[str, Any]]:
    kit.audit.flush()
    query = select(audit_events).order_by(audit_events.c.at, audit_events.c.id)
    for name, value in where.items():
        query = query.where(audit_events.c[name] == value)
    with kit.database.read() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def rows_of(html: str) -> list[str]:
    body = re.search(r"<tbody>(.*?)</tbody>", html, re.S)
    return (
        [] if body is None else [text_of(row) for row in re.findall(r"<tr>.*?</tr>", body[1], re.S)]
    )


def test_managers_read_their_operators_journal_with_names(world: World) -> None:
    mine = world.case("apec")
    theirs = world.case("regional")
    counsellor = world.client(world.counsellor)
    assert counsellor.get(f"/espace/dossiers/{mine.id}").status_code == 200
    stranger = world.client(world.stranger)
    assert stranger.get(f"/espace/dossiers/{theirs.id}").status_code == 200
    manager = world.client(world.manager)
    home = manager.get("/espace")
    assert 'href="/espace/journal"' in home.text
    assert 'href="/espace/journal"' not in counsellor.get("/espace").text
    page = manager.get("/espace/journal")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Journal des accès" in text and "conservés 12 mois" in text
    rows = rows_of(page.text)
    assert any(
        "Consultation d'un dossier" in r and "Claire Martin" in r and mine.id in r for r in rows
    )
    assert any("Connexion" in r and "Claire Martin" in r and "Réussi" in r for r in rows)
    assert theirs.id not in page.text and "Paul Girard" not in page.text
    assert world.stranger.id not in page.text
    # Reading the journal is journaled, with the manager's account id.
    [read] = events(world.kit, action="audit.read")
    assert (read["actor"], read["operator"], read["outcome"]) == (
        world.manager.id,
        "apec",
        "success",
    )


def test_the_journal_filters_by_action_record_actor_and_period(world: World) -> None:
    one, two = world.case("apec"), world.case("apec", first="Anne", last="Dupont")
    counsellor = world.client(world.counsellor)
    colleague = world.client(world.colleague)
    counsellor.get(f"/espace/dossiers/{one.id}")
    colleague.get(f"/espace/dossiers/{two.id}")
    manager = world.client(world.manager)
    by_record = rows_of(manager.get(f"/espace/journal?dossier={two.id}").text)
    assert by_record and all(two.id in row and "Hugo Bernard" in row for row in by_record)
    by_action = rows_of(manager.get("/espace/journal?action=auth.sign_in").text)
    assert len(by_action) == 3 and all("Connexion" in row for row in by_action)
    by_actor = rows_of(manager.get(f"/espace/journal?acteur={world.colleague.id}").text)
    assert by_actor and all("Hugo Bernard" in row for row in by_actor)
    today = world.kit.today()
    assert rows_of(manager.get(f"/espace/journal?du={today}&au={today}").text)
    assert not rows_of(manager.get("/espace/journal?au=2020-01-01").text)
    bad = manager.get("/espace/journal?du=hier")
    assert bad.status_code == 400


def test_the_journal_is_paged_newest_first(world: World) -> None:
    case = world.case("apec")
    for _ in range(55):
        world.kit.audit.defer(
            action="case.read",
            operator="apec",
            actor=world.counsellor.id,
            record_type="case",
            record_id=case.id,
        )
    manager = world.client(world.manager)
    first = manager.get(f"/espace/journal?dossier={case.id}")
    assert len(rows_of(first.text)) == 50
    found = re.search(r'href="(/espace/journal\?[^"]*suite=[^"]+)"', first.text)
    assert found, "no next page link"
    second = manager.get(found[1].replace("&amp;", "&"))
    assert len(rows_of(second.text)) == 5 and "Première page" in second.text
    stale = manager.get(f"/espace/journal?dossier={case.id}&suite=abimé")
    assert stale.status_code == 200 and len(rows_of(stale.text)) == 50


def test_counsellors_are_refused_and_the_refusal_is_journaled(world: World) -> None:
    counsellor = world.client(world.counsellor)
    answer = counsellor.get("/espace/journal")
    assert answer.status_code == 403
    [refused] = events(world.kit, action="audit.read")
    assert (refused["actor"], refused["outcome"]) == (world.counsellor.id, "denied")


def test_the_api_serves_managers_their_operator_only(world: World) -> None:
    mine, theirs = world.case("apec"), world.case("regional")
    manager_token, _ = world.kit.accounts.create_token(world.manager, name="essai")
    counsellor_token, _ = world.kit.accounts.create_token(world.counsellor, name="essai")
    stranger_token, _ = world.kit.accounts.create_token(world.stranger, name="essai")
    api = TestClient(world.app, base_url=BASE_URL)

    def call(token: str, url: str) -> Any:
        return api.get(url, headers={"authorization": f"Bearer {token}"})

    assert call(counsellor_token, f"/api/v1/cases/{mine.id}").status_code == 200
    assert call(stranger_token, f"/api/v1/cases/{theirs.id}").status_code == 200
    assert call(stranger_token, f"/api/v1/cases/{mine.id}").status_code == 404
    refused = call(counsellor_token, "/api/v1/audit")
    assert refused.status_code == 403
    assert "responsables" in refused.json()["detail"]
    answer = call(manager_token, f"/api/v1/audit?record_id={mine.id}")
    assert answer.status_code == 200
    items = answer.json()["items"]
    assert [item["action"] for item in items] == ["case.read"]
    assert items[0]["actor"] == world.counsellor.id and "operator" not in items[0]
    everything = call(manager_token, "/api/v1/audit?limit=200").json()["items"]
    assert theirs.id not in str(everything) and world.stranger.id not in str(everything)
    # The stranger's 404 on our case is journaled under their own operator, not ours.
    [probe] = events(world.kit, actor=world.stranger.id, record_id=mine.id)
    assert (probe["operator"], probe["outcome"]) == ("regional", "not_found")
    naive = call(manager_token, "/api/v1/audit?since=2026-01-01T00:00:00")
    assert naive.status_code == 400
    paged = call(manager_token, "/api/v1/audit?limit=1").json()
    assert len(paged["items"]) == 1 and paged["next_cursor"]
    # A mistyped filter would return the whole journal: refused, naming the accepted ones.
    mistyped = call(manager_token, f"/api/v1/audit?dossier={mine.id}")
    assert mistyped.status_code == 400
    [issue] = mistyped.json()["errors"]
    assert issue["path"] == "dossier" and "record_id" in issue["message"]


def test_sign_in_events_name_accounts_never_emails(world: World) -> None:
    kit = world.kit
    user = world.counsellor
    client = page_client(world.app)
    wrong = submit(client, "/connexion", data={"email": user.email, "password": "pas le bon"})
    assert wrong.status_code == 401
    unknown = submit(client, "/connexion", data={"email": "x@y.fr", "password": "pas le bon"})
    assert unknown.status_code == 401
    kit.accounts.set_active(world.colleague.id, False)
    locked = submit(
        client, "/connexion", data={"email": world.colleague.email, "password": PASSWORD}
    )
    assert locked.status_code == 401
    sign_in(client, user)
    signed_out = submit(client, "/espace/jetons", "/deconnexion", follow_redirects=False)
    assert signed_out.status_code == 303
    journal = [
        (e["action"], e["actor"], e["operator"], e["outcome"])
        for e in events(kit, record_type="account")
    ]
    assert journal == [
        ("auth.sign_in", user.id, "apec", "failure"),
        ("auth.sign_in", "anonymous", None, "failure"),
        ("auth.sign_in", world.colleague.id, "apec", "locked"),
        ("auth.sign_in", user.id, "apec", "success"),
        ("auth.sign_out", user.id, "apec", "success"),
    ]
    for _ in range(12):
        last = submit(client, "/connexion", data={"email": "z@y.fr", "password": "non"})
    assert last.status_code == 429
    assert events(kit, outcome="rate_limited")
    stored = repr(events(kit))
    assert "@" not in stored and "Claire" not in stored

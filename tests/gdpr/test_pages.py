"""The managers' page for a person's data: who may see it, export, confirmed erasure, audit."""

from __future__ import annotations

import json
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import pytest
from pages import csrf_from, make_staff, page_client, sign_in
from request_helpers import FakeClock, build_kit
from sqlalchemy import select

from cep_core.kit import Kit
from cep_core.storage import tables
from cep_core.web.app import create_app

from .conftest import seed_person
from .test_export_erase import count


@pytest.fixture
def kit(tmp_path: Path) -> Iterator[Kit]:
    kit = build_kit(tmp_path, FakeClock())
    yield kit
    kit.close()


def test_managers_export_and_erase_a_person_of_their_operator_only(kit: Kit) -> None:
    person = seed_person(kit, "apec")
    url = f"/espace/personnes/{person.beneficiary_id}/donnees"
    app = create_app(kit)
    with page_client(app) as counsellor:
        sign_in(counsellor, make_staff(kit, operator="apec"))
        assert counsellor.get(url).status_code == 403
        case_page = counsellor.get(f"/espace/dossiers/{person.case_ids[0]}")
        assert url not in case_page.text  # the link is for managers
    with page_client(app) as stranger:
        sign_in(stranger, make_staff(kit, operator="regional", role="manager", email="r@x.fr"))
        assert stranger.get(url).status_code == 404
        assert stranger.get(f"{url}/export.json").status_code == 404
    with page_client(app) as manager:
        sign_in(manager, make_staff(kit, operator="apec", role="manager", email="m@x.fr"))
        assert url in manager.get(f"/espace/dossiers/{person.case_ids[0]}").text
        page = manager.get(url)
        assert page.status_code == 200
        text = unescape(page.text)
        assert "Documents de synthèse" in text and "supprimé(s)" in text
        exported = manager.get(f"{url}/export.json")
        assert exported.status_code == 200
        assert "attachment" in exported.headers["content-disposition"]
        assert exported.headers["cache-control"] == "no-store"
        document = json.loads(exported.content)
        assert document["beneficiary_id"] == person.beneficiary_id
        assert len(document["tables"]["syntheses"]["rows"]) == 4
        token = csrf_from(page.text)
        refused = manager.post(f"{url}/effacer", data={"_csrf": token})
        assert refused.status_code == 400
        assert "confirmer l'effacement" in unescape(refused.text)
        assert count(kit, "syntheses", operator="apec") == 4
        erased = manager.post(
            f"{url}/effacer",
            data={"_csrf": token, "confirmation": "oui"},
            follow_redirects=False,
        )
        assert erased.status_code == 303
        after = unescape(manager.get(erased.headers["location"]).text)
        assert "Les données de la personne sont effacées" in after
        assert "Effacer les données" not in after
    assert count(kit, "syntheses", operator="apec") == 0
    kit.audit.flush()
    events = tables.metadata.tables["audit_events"]
    with kit.database.read() as conn:
        actions = conn.execute(
            select(events.c.action, events.c.outcome).where(
                events.c.record_id == person.beneficiary_id
            )
        ).all()
    assert ("gdpr.erase", "success") in actions and ("gdpr.export", "success") in actions
    assert ("gdpr.view", "not_found") in actions  # the other operator's manager
    assert ("gdpr.erase", "invalid") in actions  # not confirmed


def test_another_operators_manager_gets_404_on_every_action_and_it_is_journaled(
    kit: Kit,
) -> None:
    """The PDF export and the erasure answer an unknown person as the page does: 404,
    journaled ``not_found``, nothing erased."""
    person = seed_person(kit, "apec")
    url = f"/espace/personnes/{person.beneficiary_id}/donnees"
    with page_client(create_app(kit)) as stranger:
        sign_in(stranger, make_staff(kit, operator="regional", role="manager", email="r@x.fr"))
        token = csrf_from(stranger.get("/espace").text)
        assert stranger.get(f"{url}/export.pdf").status_code == 404
        erased = stranger.post(
            f"{url}/effacer",
            data={"_csrf": token, "confirmation": "oui"},
            follow_redirects=False,
        )
        assert erased.status_code == 404
        assert "introuvable" in unescape(erased.text).casefold()
    assert count(kit, "syntheses", operator="apec") == 4
    kit.audit.flush()
    events = tables.metadata.tables["audit_events"]
    with kit.database.read() as conn:
        actions = conn.execute(
            select(events.c.action, events.c.outcome, events.c.operator).where(
                events.c.record_id == person.beneficiary_id
            )
        ).all()
    assert ("gdpr.export", "not_found", "regional") in actions
    assert ("gdpr.erase", "not_found", "regional") in actions

"""Sessions, status changes, closing, referring and the funding plan from the workspace, with
the conflict flow of each: the version in the form, the French explanation, nothing lost."""

from __future__ import annotations

from workspace_pages import World, error_links, field_value, post, text_of, title_of

from cep_core.domain.case import CaseStatus, Level


def test_recording_a_session(world: World) -> None:
    case = world.case()
    client = world.client(world.counsellor)
    url = f"/espace/dossiers/{case.id}/entretiens/nouveau"
    page = client.get(url)
    assert page.status_code == 200 and title_of(page.text).startswith("Enregistrer un entretien")
    assert 'id="notes"' in page.text
    typed = {"date": "2026-03-02", "time": "10:30", "channel": "visio", "duration": "90"}
    refused = post(client, url, version="1", notes="Très motivée", **typed)
    # An employee's session says whether it was outside working time.
    assert refused.status_code == 400
    assert list(error_links(refused.text)) == ["outside_working_time"]
    assert field_value(refused.text, "notes") == "Très motivée"
    assert field_value(refused.text, "time") == "10:30"
    done = post(client, url, version="1", notes="Très motivée", outside_working_time="oui", **typed)
    assert done.status_code == 303
    shown = client.get(done.headers["location"])
    text = text_of(shown.text)
    assert "L'entretien est enregistré." in text
    assert "2 mars 2026 à 10:30" in text and "En visioconférence" in text and "1 h 30" in text
    assert "Très motivée" in text
    [session] = world.kit.cases.get_case("apec", case.id, confidential_notes=True).sessions
    assert session.counsellor_id == world.counsellor.id and session.notes == "Très motivée"
    assert session.start.isoformat() == "2026-03-02T09:30:00+00:00"


def test_session_form_errors_are_linked(world: World) -> None:
    case = world.case()
    client = world.client(world.counsellor)
    url = f"/espace/dossiers/{case.id}/entretiens/nouveau"
    refused = post(client, url, version="1", date="2026-02-30", time="", channel="", duration="0")
    assert refused.status_code == 400
    assert set(error_links(refused.text)) == {"date", "time", "channel", "duration"}
    assert title_of(refused.text).startswith("Erreur — Enregistrer un entretien")


def test_buttons_change_the_status_and_refusals_come_back_in_french(world: World) -> None:
    case = world.case()
    client = world.client(world.counsellor)
    page = f"/espace/dossiers/{case.id}"
    refused = post(client, page, to=f"{page}/actions/demarrer-niveau-2", version="1")
    assert refused.status_code == 409
    assert title_of(refused.text).startswith("Erreur — Dossier de Maëlle Roussel")
    assert "compte rendu du niveau 1" in text_of(refused.text).lower()
    paused = post(client, page, to=f"{page}/actions/pause", version="1")
    assert paused.status_code == 303
    assert world.kit.cases.get_case("apec", case.id).status is CaseStatus.PAUSED
    assert "Le statut du dossier est modifié." in text_of(
        client.get(paused.headers["location"]).text
    )
    resumed = post(client, page, to=f"{page}/actions/reprise", version="2")
    assert resumed.status_code == 303
    assert world.kit.cases.get_case("apec", case.id).status is CaseStatus.LEVEL_ONE
    assert post(client, page, to=f"{page}/actions/inconnue", version="3").status_code == 404


def test_a_stale_button_shows_the_conflict_and_re_applies(world: World) -> None:
    case = world.case()
    client = world.client(world.counsellor)
    page = f"/espace/dossiers/{case.id}"
    client.get(page)
    world.kit.cases.pause("apec", case.id, expected_version=1, actor=world.colleague.id)
    world.kit.cases.resume("apec", case.id, expected_version=2, actor=world.colleague.id)
    conflict = post(client, page, to=f"{page}/actions/pause", version="1")
    assert conflict.status_code == 409
    text = text_of(conflict.text)
    assert "Ce dossier a été modifié par Hugo Bernard entre-temps" in text
    assert "État actuel du dossier : Niveau 1 en cours" in text
    assert "Réappliquer : mettre le dossier en pause" in text
    assert 'name="version" value="3"' in conflict.text
    again = post(client, page, to=f"{page}/actions/pause", version="3")
    assert again.status_code == 303
    assert world.kit.cases.get_case("apec", case.id).status is CaseStatus.PAUSED


def test_closing_with_a_reason(world: World) -> None:
    case = world.case()
    client = world.client(world.counsellor)
    url = f"/espace/dossiers/{case.id}/cloture"
    assert title_of(client.get(url).text).startswith("Clôturer le dossier")
    missing = post(client, url, version="1", note="Ne répond plus")
    assert missing.status_code == 400 and list(error_links(missing.text)) == ["reason"]
    assert field_value(missing.text, "note") == "Ne répond plus"
    refused = post(client, url, version="1", reason="completed")
    assert refused.status_code == 409
    assert "Compte rendu du niveau 1" in text_of(refused.text)
    stale = post(client, url, version="0", reason="unreachable", note="Trois relances")
    assert stale.status_code == 409 and "entre-temps" in text_of(stale.text)
    assert field_value(stale.text, "note") == "Trois relances"
    assert 'value="unreachable" checked' in stale.text
    closed = post(client, url, version="1", reason="unreachable", note="Trois relances")
    assert closed.status_code == 303
    case = world.kit.cases.get_case("apec", case.id)
    assert case.status is CaseStatus.CLOSED and case.closure is not None
    assert case.closure.note == "Trois relances"
    page = client.get(closed.headers["location"]).text
    assert "Personne injoignable (Trois relances)" in text_of(page)
    # A closed case offers no more changes.
    assert f'href="{url}"' not in page and "/actions/" not in page


def test_referring_to_another_operator(world: World) -> None:
    case = world.case()
    client = world.client(world.counsellor)
    url = f"/espace/dossiers/{case.id}/orientation"
    form = client.get(url)
    assert "Opérateur régional du CEP" in form.text and '<option value="apec"' not in form.text
    refused = post(client, url, version="1", target_operator="", reason="")
    assert set(error_links(refused.text)) == {"target_operator", "reason"}
    done = post(client, url, version="1", target_operator="regional", reason="person_request")
    assert done.status_code == 303
    case = world.kit.cases.get_case("apec", case.id)
    assert case.status is CaseStatus.REFERRED and case.referral is not None
    assert "level1.record" in case.steps  # recorded in the level-1 record


def test_the_funding_plan_form(world: World) -> None:
    case = world.level_two_with_action_plan()
    client = world.client(world.counsellor)
    url = f"/espace/dossiers/{case.id}/financement"
    page = client.get(url)
    assert page.status_code == 200 and title_of(page.text).startswith("Plan de financement")
    assert "Titre professionnel de développeur web (Formation)" in page.text
    assert "Solde du compte personnel de formation" in page.text
    refused = post(client, url, version=str(case.version), **{"f-training.service": "0"})
    assert refused.status_code == 400
    links = error_links(refused.text)
    assert "f-training.cost_eur" in links
    done = post(
        client,
        url,
        version=str(case.version),
        **{
            "f-training.service": "0",
            "f-training.cost_eur": "1 500,00",
            "f-training.hours": "400",
            "f-situation.cpf_balance_eur": "1000",
            "f-participation_payer": "holder",
        },
    )
    assert done.status_code == 303, (
        error_links(done.text) if done.status_code == 400 else done.text[:500]
    )
    stored = world.kit.cases.get_case("apec", case.id)
    assert stored.funding_plan is not None
    shown = text_of(client.get(done.headers["location"]).text)
    assert "Le plan de financement est enregistré." in shown
    assert "Coût total" in shown and "1 500,00 €" in shown.replace("\u202f", " ").replace(
        "\u00a0", " "
    )


def test_the_funding_plan_waits_for_a_completed_action_plan(world: World) -> None:
    case = world.case(level=Level.TWO)
    client = world.client(world.counsellor)
    page = client.get(f"/espace/dossiers/{case.id}/financement")
    assert page.status_code == 200
    assert "s'établit à partir d'un plan d'action terminé" in text_of(page.text)
    assert 'name="f-training.cost_eur"' not in page.text

"""Step pages: generated from each operator's step definitions, « Étape x sur y », drafts that
come back, errors summarised and linked to their fields, the conflict flow that loses nothing."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from pages import make_staff
from workspace_pages import World, error_links, field_value, post, text_of, title_of

from cep_core.domain.case import Level
from cep_core.domain.forms import SessionChannel
from cep_core.domain.situation import Status
from cep_core.services.cases import NewSession

RECORD_URL = "/espace/dossiers/{}/niveau/1/level1.record"


def test_a_step_page_says_which_step_of_how_many(world: World) -> None:
    case = world.case()
    client = world.client(world.counsellor)
    page = client.get(RECORD_URL.format(case.id))
    assert page.status_code == 200
    assert title_of(page.text).startswith("Étape 2 sur 2 — Compte rendu du niveau 1 — Apec")
    assert "<h1>Étape 2 sur 2 — Compte rendu du niveau 1</h1>" in page.text
    # The previous step is the Apec's own, generated from its definition too.
    previous = re.search(r'<a href="([^"]+)" rel="prev">', page.text)
    assert previous and previous.group(1).endswith("/niveau/1/apec.situation_review")
    first = client.get(previous.group(1))
    assert title_of(first.text).startswith("Étape 1 sur 2 — Point sur la situation de cadre")
    assert 'rel="next"' in first.text
    for label in ("Échéance de la démarche", "Risque sur l'emploi actuel", "Dans ma région"):
        assert label in text_of(first.text)
    # Fields from the core's definition: labels, help, choices, bounds.
    for fragment in (
        '<label for="f-request">Demande exprimée',
        'maxlength="4000"',
        'name="f-information_given" value="cep_service"',
        "Formations et certifications",
        'id="f-continues"',
        'name="version" value="1"',
        'value="brouillon"',
        'value="valider"',
    ):
        assert fragment in page.text, fragment


def test_a_draft_is_saved_as_typed_and_comes_back(world: World) -> None:
    case = world.case()
    client = world.client(world.counsellor)
    url = RECORD_URL.format(case.id)
    saved = post(
        client,
        url,
        version="1",
        action="brouillon",
        **{"f-request": "Changer de métier", "f-information_given": ["training", "funding"]},
    )
    assert saved.status_code == 303 and saved.headers["location"] == f"{url}?etat=brouillon"
    page = client.get(saved.headers["location"])
    assert "Brouillon enregistré. Vous pouvez le compléter plus tard." in text_of(page.text)
    assert field_value(page.text, "f-request") == "Changer de métier"
    assert 'value="training" checked' in page.text and 'value="funding" checked' in page.text
    assert 'value="cep_service" checked' not in page.text
    # What still keeps it from being completed, linked to the fields.
    assert 'href="#f-clarified_need"' in page.text and 'href="#f-continues"' in page.text
    record = world.kit.cases.get_case("apec", case.id).steps["level1.record"]
    assert not record.completed
    assert record.data == {
        "request": "Changer de métier",
        "information_given": ["training", "funding"],
    }


def test_validation_errors_are_summarised_linked_and_the_values_kept(world: World) -> None:
    case = world.case()
    client = world.client(world.counsellor)
    url = RECORD_URL.format(case.id)
    answer = post(
        client,
        url,
        version="1",
        action="valider",
        **{"f-request": "Changer de métier", "f-continues": "oui", "f-referral.note": "x" * 1001},
    )
    assert answer.status_code == 400
    assert title_of(answer.text).startswith("Erreur — Étape 2 sur 2 — Compte rendu du niveau 1")
    links = error_links(answer.text)
    assert links["f-clarified_need"] == "Besoin clarifié : ce champ est obligatoire."
    assert links["f-information_given"] == "Informations données : cochez au moins une réponse."
    assert links["f-referral.note"] == "Précisions : 1000 caractères au plus."
    for target in links:
        assert f'id="{target}"' in answer.text
    assert 'aria-invalid="true"' in answer.text
    assert field_value(answer.text, "f-request") == "Changer de métier"
    assert re.search(r'id="f-continues-1" name="f-continues" value="oui" checked', answer.text)
    # Nothing was written.
    assert world.kit.cases.get_case("apec", case.id).version == 1


def test_a_valid_step_is_completed(world: World) -> None:
    case = world.case()
    client = world.client(world.counsellor)
    url = RECORD_URL.format(case.id)
    answer = post(
        client,
        url,
        version="1",
        action="valider",
        **{
            "f-request": "Faire le point.",
            "f-clarified_need": "Un projet de reconversion.",
            "f-information_given": ["cep_service"],
            "f-shared_review": "La personne veut poursuivre.",
            "f-continues": "oui",
        },
    )
    assert answer.status_code == 303 and answer.headers["location"].endswith("?etat=terminee")
    assert "Étape terminée" in text_of(client.get(answer.headers["location"]).text)
    stored = world.kit.cases.get_case("apec", case.id).steps["level1.record"]
    assert stored.completed and stored.data["continues"] is True


def test_lists_of_records_and_of_texts_round_trip(world: World) -> None:
    case = world.case(level=Level.TWO)
    client = world.client(world.counsellor)
    plan = f"/espace/dossiers/{case.id}/niveau/2/level2.action_plan"
    page = client.get(plan)
    assert 'name="f-services.lignes" value="1"' in page.text
    saved = post(
        client,
        plan,
        version="1",
        action="brouillon",
        **{
            "f-services.lignes": "1",
            "f-services.0.kind": "vae",
            "f-services.0.label": "VAE du titre",
            "f-services.0.provider_qualiopi": "oui",
            "f-milestones.lignes": "1",
            "f-milestones.0.on": "2027-02-01",
            "f-milestones.0.label": "Dépôt du livret",
        },
    )
    assert saved.status_code == 303
    page = client.get(plan)
    assert 'name="f-services.lignes" value="2"' in page.text  # one more blank row
    assert field_value(page.text, "f-services.0.label") == "VAE du titre"
    assert field_value(page.text, "f-milestones.0.on") == "2027-02-01"
    data = world.kit.cases.get_case("apec", case.id).steps["level2.action_plan"].data
    assert data["services"] == [{"kind": "vae", "label": "VAE du titre", "provider_qualiopi": True}]
    positioning = f"/espace/dossiers/{case.id}/niveau/2/apec.positioning"
    saved = post(
        client,
        positioning,
        version="2",
        action="brouillon",
        **{
            "f-key_skills": "Gestion de projet\n\nAnglais courant\n",
            "f-target_pay_min_cents": "50 000",  # euros, stored in cents
        },
    )
    assert saved.status_code == 303
    data = world.kit.cases.get_case("apec", case.id).steps["apec.positioning"].data
    assert data["key_skills"] == ["Gestion de projet", "Anglais courant"]
    assert data["target_pay_min_cents"] == 5_000_000
    page = client.get(positioning)
    assert field_value(page.text, "f-key_skills") == "Gestion de projet\nAnglais courant"


def test_a_number_typed_wrong_is_kept_in_the_draft_and_named_on_validation(world: World) -> None:
    case = world.case(level=Level.TWO)
    client = world.client(world.counsellor)
    url = f"/espace/dossiers/{case.id}/niveau/2/apec.positioning"
    fields = {"f-key_skills": "Gestion", "f-target_pay_min_cents": "beaucoup"}
    refused = post(client, url, version="1", action="valider", **fields)
    assert refused.status_code == 400
    assert (
        "saisissez un montant en euros, en chiffres"
        in (error_links(refused.text)["f-target_pay_min_cents"])
    )
    assert field_value(refused.text, "f-target_pay_min_cents") == "beaucoup"
    assert post(client, url, version="1", action="brouillon", **fields).status_code == 303
    page = client.get(url)
    assert field_value(page.text, "f-target_pay_min_cents") == "beaucoup"


def test_a_version_conflict_keeps_the_typed_values_and_re_applies_them(world: World) -> None:
    case = world.case()
    client = world.client(world.counsellor)
    url = RECORD_URL.format(case.id)
    form = client.get(url)
    assert 'name="version" value="1"' in form.text
    # Meanwhile, a colleague records a session: the case moves to version 2.
    world.kit.cases.record_session(
        "apec",
        case.id,
        NewSession(
            start=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
            channel=SessionChannel.PHONE,
            duration_minutes=45,
            outside_working_time=True,
        ),
        expected_version=1,
        actor=world.colleague.id,
    )
    typed = {"f-request": "Ce que j'ai tapé pendant ce temps", "f-continues": "non"}
    answer = post(client, url, version="1", action="brouillon", **typed)
    assert answer.status_code == 409
    assert title_of(answer.text).startswith("Erreur — Étape 2 sur 2")
    text = text_of(answer.text)
    assert "Ce dossier a été modifié par Hugo Bernard entre-temps" in text
    assert "Entretien enregistré par Hugo Bernard" in text
    assert field_value(answer.text, "f-request") == "Ce que j'ai tapé pendant ce temps"
    assert 'name="version" value="2"' in answer.text
    assert "Réappliquer en brouillon" in text
    assert world.kit.cases.get_case("apec", case.id).steps == {}
    again = post(client, url, version="2", action="brouillon", **typed)
    assert again.status_code == 303
    data = world.kit.cases.get_case("apec", case.id).steps["level1.record"].data
    assert data == {"request": "Ce que j'ai tapé pendant ce temps", "continues": False}


def test_steps_of_another_level_are_read_only_and_unknown_steps_404(world: World) -> None:
    case = world.case(level=Level.TWO)
    client = world.client(world.counsellor)
    other = client.get(RECORD_URL.format(case.id))
    assert other.status_code == 200
    assert "Cette étape n'est plus modifiable" in text_of(other.text)
    assert 'value="valider"' not in other.text
    assert client.get(f"/espace/dossiers/{case.id}/niveau/1/inconnue").status_code == 404
    assert client.get(f"/espace/dossiers/{case.id}/niveau/3/level1.record").status_code == 400


@pytest.mark.parametrize(
    ("operator", "status", "disability"),
    [
        ("apec", Status.EMPLOYEE, False),
        ("pole_emploi", Status.JOBSEEKER, False),
        ("mission_locale", Status.JOBSEEKER, False),
        ("cap_emploi", Status.JOBSEEKER, True),
        ("regional", Status.EMPLOYEE, False),
    ],
)
def test_every_operators_flow_is_generated_from_its_definitions(
    world: World, operator: str, status: Status, disability: bool
) -> None:
    counsellor = make_staff(world.kit, operator=operator, name="Sam Leroy")
    client = world.client(counsellor)
    for level in (Level.ONE, Level.TWO):
        case = world.case(
            operator, level=level, status=status, disability=disability, counsellor=counsellor
        )
        flow = world.kit.cases.step_definitions(operator, case.id, level)
        assert flow
        for index, step in enumerate(flow, start=1):
            url = f"/espace/dossiers/{case.id}/niveau/{int(level)}/{step.id}"
            page = client.get(url)
            assert page.status_code == 200, (url, text_of(page.text)[:300])
            assert title_of(page.text).startswith(f"Étape {index} sur {len(flow)} — {step.title}")
            assert 'class="stack step-form"' in page.text
            # An empty draft of every step saves: nothing typed is ever refused as a draft.
            saved = post(
                client,
                url,
                version=str(world.kit.cases.get_case(operator, case.id).version),
                action="brouillon",
            )
            assert saved.status_code == 303, text_of(saved.text)[:500]

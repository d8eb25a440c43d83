"""What the case pages say and how: amounts typed in euros, plain French hints, optional parts
of a step, errors said once next to their field, the case page's funding, payer, action plan,
request, appointment and journal wording, one channel vocabulary, scoped styles, and a
disability status never asserted when the person did not declare it."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from pathlib import Path

from request_helpers import submit
from workspace_pages import (
    World,
    error_links,
    field_value,
    post,
    produce_synthesis,
    text_of,
)

from cep_apec.flow import MarketPositioning
from cep_core.domain.case import Level
from cep_core.domain.forms import SessionChannel
from cep_core.domain.requests import AppointmentInput
from cep_core.services.cases import NewSession
from cep_core.web.pages.case_forms import Widget, describe, form_spec, layout, parse

POSITIONING = "/espace/dossiers/{}/niveau/2/apec.positioning"
RECORD = "/espace/dossiers/{}/niveau/1/level1.record"
CSS = Path(__file__).parents[2] / "cep_core" / "web" / "static" / "cep.css"


def plain(text: str) -> str:
    """French typography's no-break spaces as plain spaces, to compare with what people read."""
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def hints(html: str) -> list[str]:
    return [
        plain(unescape(re.sub(r"<[^>]+>", "", h)))
        for h in re.findall(r'<p class="hint"[^>]*>(.*?)</p>', html, flags=re.S)
    ]


class Form:
    """A submitted form as `parse` reads it."""

    def __init__(self, **values: str) -> None:
        self.values = values

    def get(self, name: str, default: str = "") -> str:
        return self.values.get(name, default)

    def get_all(self, name: str) -> list[str]:
        return [self.values[name]] if name in self.values else []


# -- 1. amounts are typed in euros, stored in cents ------------------------------------------


def test_an_amount_in_cents_is_typed_in_euros_and_shown_back_in_euros(world: World) -> None:
    case = world.case(level=Level.TWO)
    client = world.client(world.counsellor)
    url = POSITIONING.format(case.id)
    page = client.get(url)
    field_hints = [h for h in hints(page.text) if "Montant" in h or "Nombre" in h]
    assert "Montant en euros, de 0 € à 10 000 000 € (par exemple 55 000 ou 55000,50)." in (
        field_hints
    )
    assert not any("1000000000" in h or "Nombre entier" in h for h in field_hints)
    assert '<span class="money-unit" aria-hidden="true">€</span>' in page.text
    saved = post(
        client,
        url,
        version=str(case.version),
        action="brouillon",
        **{
            "f-key_skills": "Négociation",
            "f-target_pay_min_cents": "55 000",
            "f-target_pay_max_cents": "65000,50 €",
        },
    )
    assert saved.status_code == 303
    data = world.kit.cases.get_case("apec", case.id).steps["apec.positioning"].data
    assert data["target_pay_min_cents"] == 5_500_000
    assert data["target_pay_max_cents"] == 6_500_050
    again = client.get(url)
    assert plain(field_value(again.text, "f-target_pay_min_cents")) == "55 000"
    assert plain(field_value(again.text, "f-target_pay_max_cents")) == "65 000,50"


def test_money_fields_read_french_amounts_and_show_them_with_the_euro_sign() -> None:
    specs = {spec.name: spec for spec in form_spec(MarketPositioning)}
    pay = specs["target_pay_min_cents"]
    assert pay.widget is Widget.MONEY and pay.money_scale == 100
    for typed, cents in (("55000", 5_500_000), ("55 000,5", 5_500_050), ("0,01", 1)):
        assert parse([pay], Form(**{"f-target_pay_min_cents": typed})) == {
            "target_pay_min_cents": cents
        }
    # Not an amount: kept as typed (the draft keeps it, the check names it).
    assert parse([pay], Form(**{"f-target_pay_min_cents": "55,505"})) == {
        "target_pay_min_cents": "55,505"
    }
    [answer] = describe([pay], {"target_pay_min_cents": 5_500_050})
    assert plain(answer.text) == "55 000,50 €"
    [view] = layout([pay], {"target_pay_min_cents": 5_500_000})
    assert plain(view.value) == "55 000"


def test_a_wrong_amount_is_named_in_euros(world: World) -> None:
    case = world.case(level=Level.TWO)
    client = world.client(world.counsellor)
    url = POSITIONING.format(case.id)
    refused = post(
        client,
        url,
        version=str(case.version),
        action="valider",
        **{"f-key_skills": "Négociation", "f-target_pay_min_cents": "20 000 000"},
    )
    assert refused.status_code == 400
    assert plain(error_links(refused.text)["f-target_pay_min_cents"]) == (
        "Rémunération brute annuelle visée, minimum : saisissez un montant entre 0 € et "
        "10 000 000 €."
    )
    assert plain(field_value(refused.text, "f-target_pay_min_cents")) == "20 000 000"


# -- 2. the funding page speaks plain French -------------------------------------------------


def test_the_funding_form_has_plain_hints_known_funders_and_allowed_payers(world: World) -> None:
    case = world.level_two_with_action_plan()
    client = world.client(world.counsellor)
    page = client.get(f"/espace/dossiers/{case.id}/financement")
    assert page.status_code == 200
    shown = plain(text_of(page.text))
    for developer_text in ("Rang, à partir de 0", "identifiant :", "1000000", "10000 "):
        assert developer_text not in shown, developer_text
    for hint in hints(page.text):
        # Every bound said once.
        assert hint.count("Montant en euros") + hint.count("Nombre") <= 1, hint
        assert "de 0 à 1 000 000." not in hint, hint
    assert "Durée en heures" in shown and "Nombre entier de 0 à 10 000." in shown
    assert "Montant en euros, de 0 € à 1 000 000 €" in shown
    # The funder is a list of known funders, with the parameters' French labels.
    funder = re.search(r'<select id="f-funders\.0\.funder".*?</select>', page.text, flags=re.S)
    assert funder, "the funder is a list"
    options = dict(re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', funder.group(0)))
    assert options["opco"] == "Opérateur de compétences (OPCO) de la branche"
    assert options["region"] == "Conseil régional" and options["agefiph"] == "Agefiph"
    assert not {"cpf", "holder", "employer"} & set(options)
    # Forbidden payers are not offered.
    assert "interdit" not in shown and 'value="training_body"' not in page.text
    payers = re.findall(r'name="f-participation_payer" value="([^"]*)"', page.text)
    assert set(payers) == {"holder", "employer", "opco", ""}


def test_a_funder_answer_is_chosen_from_the_list(world: World) -> None:
    case = world.level_two_with_action_plan()
    client = world.client(world.counsellor)
    url = f"/espace/dossiers/{case.id}/financement"
    done = post(
        client,
        url,
        version=str(case.version),
        **{
            "f-training.service": "0",
            "f-training.cost_eur": "3 000",
            "f-situation.cpf_balance_eur": "1 000",
            "f-participation_payer": "holder",
            "f-funders.lignes": "1",
            "f-funders.0.funder": "region",
            "f-funders.0.amount_eur": "500",
            "f-funders.0.status": "granted",
        },
    )
    assert done.status_code == 303, error_links(done.text) if done.status_code == 400 else ""
    plan = world.kit.cases.get_case("apec", case.id).funding_plan
    assert plan is not None
    assert any(str(line.funder) == "region" for line in plan.lines)


# -- 3. optional parts, and errors said once ---------------------------------------------------


def test_an_optional_group_is_a_fieldset_whose_fields_are_required_only_if_filled(
    world: World,
) -> None:
    case = world.case()
    client = world.client(world.counsellor)
    page = client.get(RECORD.format(case.id))
    opening = re.search(r'<fieldset class="([^"]*)" id="f-referral">', page.text)
    assert opening, "the referral is a fieldset"
    assert "form-group-optional" in opening.group(1)
    group = page.text[opening.end() : page.text.index('<div class="actions">')]
    legend = re.search(r"<legend>(.*?)</legend>", group, re.S)
    assert legend and text_of(legend.group(1)) == (
        "Orientation vers un autre opérateur (facultatif)"
    )
    inside = text_of(group)
    assert "(obligatoire)" not in inside
    assert "Motif de l'orientation (obligatoire si cette partie est remplie)" in inside
    assert "Opérateur vers lequel orienter (obligatoire si cette partie est remplie)" in inside
    # A choice there can be emptied again (no script needed to untick a radio).
    assert 'name="f-referral.operator" value=""' in group
    # Outside the optional part, a required field is plainly required.
    assert re.search(
        r'<label for="f-request">Demande exprimée\s*<span class="required">'
        r"\(obligatoire\)",
        page.text,
    )


def test_an_error_names_its_field_in_the_summary_only(world: World) -> None:
    case = world.case()
    client = world.client(world.counsellor)
    url = RECORD.format(case.id)
    refused = post(
        client,
        url,
        version=str(case.version),
        action="valider",
        **{"f-request": "Changer de métier", "f-referral.note": "Voir avec l'Apec"},
    )
    assert refused.status_code == 400
    links = error_links(refused.text)
    assert links["f-clarified_need"] == "Besoin clarifié : ce champ est obligatoire."
    near = re.search(
        r'<p class="field-error" id="f-clarified_need-erreur">(.*?)</p>', refused.text, re.S
    )
    assert near and text_of(near.group(1)) == "Erreur : Ce champ est obligatoire."
    assert "Besoin clarifié" not in near.group(1)
    # The optional part, once filled in, asks for its fields.
    assert links["f-referral.operator"] == (
        "Opérateur vers lequel orienter : choisissez une réponse."
    )
    assert field_value(refused.text, "f-referral.note") == "Voir avec l'Apec"


# -- 4. the case page --------------------------------------------------------------------------


def test_a_finished_action_plan_leads_to_the_funding_page(world: World) -> None:
    case = world.level_two_with_action_plan()
    client = world.client(world.counsellor)
    page = client.get(f"/espace/dossiers/{case.id}")
    section = page.text[page.text.index('id="financement-titre"') :]
    section = section[: section.index("</section>")]
    assert "Il s'établit à partir d'un plan d'action terminé" not in section
    assert (
        f'<a href="/espace/dossiers/{case.id}/financement">Établir le plan de financement</a>'
        in (section)
    )
    waiting = world.case(level=Level.TWO, first="Jeanne")
    shown = text_of(client.get(f"/espace/dossiers/{waiting.id}").text)
    assert "Il s'établit à partir d'un plan d'action terminé." in shown


def test_the_action_plan_rows_read_as_a_list_not_as_columns(world: World) -> None:
    case = world.level_two_with_action_plan()
    client = world.client(world.counsellor)
    page = client.get(f"/espace/dossiers/{case.id}")
    plan = page.text[page.text.index('id="plan-titre"') :]
    plan = plan[: plan.index("</section>")]
    assert '<ol class="answer-rows">' in plan
    assert "n° 1" not in plan
    assert "Titre professionnel de développeur web" in text_of(plan)
    assert "Entrée en formation" in text_of(plan)


def test_the_funding_plan_says_who_pays_the_participation_and_the_journal_says_it_in_french(
    world: World,
) -> None:
    case = world.level_two_with_action_plan()
    client = world.client(world.counsellor)
    done = post(
        client,
        f"/espace/dossiers/{case.id}/financement",
        version=str(case.version),
        **{
            "f-training.service": "0",
            "f-training.cost_eur": "1 500",
            "f-situation.cpf_balance_eur": "1000",
            "f-participation_payer": "holder",
        },
    )
    assert done.status_code == 303
    page = client.get(f"/espace/dossiers/{case.id}")
    shown = text_of(page.text)
    assert "à la charge de la personne" in shown and "à votre charge" not in shown
    journal = page.text[page.text.index('id="journal-titre"') :]
    cells = [text_of(c) for c in re.findall(r"<td>(.*?)</td>", journal, re.S)]
    assert "Formation certifiante (RNCP ou RS)" in cells
    assert "certification" not in cells


def test_accepting_a_request_confirms_it_and_the_case_shows_the_appointment(
    world: World,
) -> None:
    request = submit(world.kit)
    client = world.client(world.counsellor)
    page = f"/espace/demandes/{request.id}"
    accepted = post(client, page, to=f"{page}/accepter")
    assert accepted.status_code == 303
    location = accepted.headers["location"]
    assert location.endswith("?message=demande-acceptee")
    shown = client.get(location)
    status = re.search(r'<div class="notice notice-success" role="status">(.*?)</div>', shown.text)
    assert status and "La demande est acceptée" in status.group(1)
    assert "Demande de rendez-vous" in text_of(shown.text)
    assert "Aucun rendez-vous proposé" in text_of(shown.text)
    # Only fixed messages: an unknown code shows nothing.
    case_id = location.split("?")[0].rsplit("/", 1)[1]
    odd = client.get(f"/espace/dossiers/{case_id}", params={"message": "<b>faux</b>"})
    assert "faux" not in odd.text and 'role="status"' not in odd.text

    starts = world.kit.clock() + timedelta(days=3)
    world.kit.requests.propose_appointment(
        "apec",
        request.id,
        AppointmentInput(
            starts_at=starts, channel=SessionChannel.IN_PERSON, location="12 rue de la Paix"
        ),
        actor=world.counsellor.id,
        counsellor_name="Claire Martin",
    )
    case_page = client.get(f"/espace/dossiers/{case_id}")
    facts = re.search(r'<dl class="facts" id="rendez-vous">(.*?)</dl>', case_page.text, re.S)
    assert facts, "the appointment is shown"
    text = plain(text_of(facts.group(1)))
    assert "Rendez-vous proposé" in text and "Sur place — 12 rue de la Paix" in text
    assert "Claire Martin" in text and request.reference in text_of(case_page.text)


def test_the_request_of_a_case_is_found_for_its_operator_only(world: World) -> None:
    request = submit(world.kit)
    accepted = world.kit.requests.accept("apec", request.id, actor=world.counsellor.id)
    found = world.kit.requests.for_case("apec", accepted.case.id)
    assert found is not None and found.id == request.id
    assert world.kit.requests.for_case("regional", accepted.case.id) is None
    assert world.kit.requests.for_case("apec", world.case().id) is None
    assert world.kit.requests.for_case("apec", "pas un identifiant") is None
    # Another operator's case: its page stays "not found".
    stranger = world.client(world.stranger)
    assert stranger.get(f"/espace/dossiers/{accepted.case.id}").status_code == 404


def test_sending_the_synthesis_link_is_journaled_without_the_address(world: World) -> None:
    case = world.case(email="maelle.roussel@example.fr")
    client = world.client(world.counsellor)
    synthesis_id = produce_synthesis(world, client, case.id)
    page = f"/espace/dossiers/{case.id}"
    version = world.kit.cases.get_case("apec", case.id).version
    sent = post(client, page, to=f"{page}/syntheses/{synthesis_id}/envoi")
    assert sent.status_code == 303
    events = world.kit.cases.case_events("apec", case.id)
    last = events[-1]
    assert (last.kind, last.reason, last.actor) == (
        "synthesis_link_sent",
        "level_1",
        world.counsellor.id,
    )
    for event in events:
        assert "@" not in f"{event.kind} {event.reason} {event.actor}"
    # A journal line, not a change of the case: its version stays.
    assert world.kit.cases.get_case("apec", case.id).version == version
    shown = text_of(client.get(page).text)
    assert "Lien du document de synthèse envoyé à la personne" in shown
    assert "Niveau 1 — accueil individualisé" in shown
    assert "maelle.roussel@example.fr" in shown  # the person's details, not the journal
    journal = client.get(page).text
    journal = journal[journal.index('id="journal-titre"') :]
    assert "@" not in journal


# -- 5. one wording of the channels -------------------------------------------------------------


def test_the_in_person_channel_is_said_the_same_everywhere(world: World) -> None:
    case = world.case()
    client = world.client(world.counsellor)
    form = client.get(f"/espace/dossiers/{case.id}/entretiens/nouveau")
    assert "Sur place" in text_of(form.text) and "En présentiel" not in form.text
    public = client.get("/demander-un-rendez-vous", params={"operateur": "apec"})
    assert "En présentiel" not in public.text
    world.kit.cases.record_session(
        "apec",
        case.id,
        NewSession(
            start=world.kit.clock() - timedelta(hours=1),
            channel=SessionChannel.IN_PERSON,
            duration_minutes=45,
            outside_working_time=False,
        ),
        expected_version=case.version,
        actor=world.counsellor.id,
    )
    sessions = client.get(f"/espace/dossiers/{case.id}").text
    sessions = sessions[sessions.index('id="entretiens-titre"') :]
    assert "<td>Sur place</td>" in sessions


# -- 6. scoped styles ---------------------------------------------------------------------------


def test_each_filter_form_has_its_own_scoped_class(world: World) -> None:
    css = CSS.read_text(encoding="utf-8")
    assert not re.search(r"(^|[\s,}])\.filters\b", css, flags=re.M)
    assert ".queue-filters {" in css and "form.case-filters {" in css
    client = world.client(world.counsellor)
    queue = client.get("/espace/demandes")
    assert '<ul class="queue-filters">' in queue.text
    cases = client.get("/espace/dossiers")
    assert 'class="case-filters"' in cases.text and 'class="filters"' not in cases.text


# -- 7. the disability status ---------------------------------------------------------------------


def test_an_undeclared_disability_is_never_shown_as_no(world: World) -> None:
    client = world.client(world.counsellor)
    undeclared = world.case(disability=False)
    shown = text_of(client.get(f"/espace/dossiers/{undeclared.id}").text)
    assert "Reconnaissance du handicap Non déclarée" in shown
    recognised = world.case(disability=True, first="Jeanne")
    shown = text_of(client.get(f"/espace/dossiers/{recognised.id}").text)
    assert "Reconnaissance du handicap Oui" in shown

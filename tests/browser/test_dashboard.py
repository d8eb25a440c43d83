"""The activity dashboard in a real browser: a manager of the regional operator opens it on
demo data (cases and questionnaire answers, seeded through the services), sees the charts,
opens a chart's data table, filters by agency, downloads an export; axe on every page."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cep_core.domain.context import Role
from cep_core.kit import Kit
from cep_core.services.demo import seed_demo
from cep_regional import hooks as regional

if TYPE_CHECKING:
    from .conftest import Server, Web


def seed_regional_demo(server: Server) -> None:
    """Demo cases for the regional operator only (the other tests use other operators)."""
    server.add_staff("ines.regional", operator="regional", name="Inès Garnier", role=Role.MANAGER)
    server.add_staff("paul.regional", operator="regional", name="Paul Lemoine")
    server.add_staff("lea.regional", operator="regional", name="Léa Fontaine")
    kit = Kit([regional], settings=server.kit.settings, load_entrypoints=False)
    try:
        kit.indicators.set_agency("regional", server.staff["paul.regional"].id, "Rennes")
        kit.indicators.set_agency("regional", server.staff["lea.regional"].id, "Brest")
        counsellors = [server.staff[key].id for key in ("paul.regional", "lea.regional")]
        seed_demo(kit, per_operator=28, counsellors={"regional": counsellors})
        assert kit.surveys.seed_demo() > 0
    finally:
        kit.close()


def test_a_manager_reads_the_activity_dashboard(web: Web, server: Server) -> None:
    seed_regional_demo(server)
    web.sign_in("ines.regional")
    web.check("accueil-responsable")
    page = web.page
    page.get_by_role("link", name="Activité").click()
    web.check("tableau-de-bord-activite")
    assert page.get_by_role("heading", name="Tableau de bord d'activité", level=1).is_visible()
    charts = page.locator("svg[role=img]")
    assert charts.count() >= 6
    assert charts.first.is_visible()
    assert page.get_by_text("Aucun export statistique depuis plus de 5 mois").is_visible()
    entries = page.locator("section", has=page.get_by_role("heading", name="Entrées par agence"))
    entries.locator("summary").click()
    table = entries.get_by_role("table", name="Entrées par agence")
    assert table.is_visible()
    assert "Rennes" in table.inner_text() and "Brest" in table.inner_text()
    web.check("donnees-du-graphique")

    page.get_by_label("Agence", exact=True).select_option(label="Brest")
    page.get_by_role("button", name="Afficher").click()
    web.check("filtre-agence")
    assert page.get_by_label("Agence", exact=True).input_value() != ""

    with page.expect_download() as download:
        page.get_by_role("button", name="Télécharger l'export de la période").click()
    exported = download.value
    assert exported.suggested_filename.startswith("cep-activity-regional-")
    path = exported.path()
    assert path is not None and "month,age_band,level,channel,entries" in path.read_text()
    web.goto("/espace/activite", "apres-export")
    assert page.get_by_text("Dernier export statistique le").is_visible()


def test_a_person_answers_the_satisfaction_questionnaire(web: Web, server: Server) -> None:
    """The link of the e-mail, opened without an account: the form (fieldsets, legends,
    labels) under axe, an incomplete answer, then the answer, once."""
    import re
    from datetime import date

    from request_helpers import outbox, text_of

    from cep_core import CloseReason, NewBeneficiary, SessionChannel, Situation, Status
    from cep_core.services.cases import NewSession

    server.add_staff("zoe.regional", operator="regional", name="Zoé Marchal")
    kit = Kit([regional], settings=server.kit.settings, load_entrypoints=False)
    try:
        situation = Situation(
            birth_date=date(1988, 6, 1), as_of=kit.today(), status=Status.EMPLOYEE, region="53"
        )
        person = NewBeneficiary(first_name="Yanis", last_name="Moreau", email="yanis@exemple.fr")
        case = kit.cases.open_case("regional", person, situation, force=True)
        case = kit.cases.start_level_1("regional", case.id, expected_version=case.version)
        case = kit.cases.record_session(
            "regional",
            case.id,
            NewSession(
                start=kit.clock(),
                channel=SessionChannel.VIDEO,
                duration_minutes=45,
                outside_working_time=True,
                counsellor_id=server.staff["zoe.regional"].id,
            ),
            expected_version=case.version,
        )
        kit.cases.close("regional", case.id, CloseReason.ABANDONED, expected_version=case.version)
        assert kit.surveys.run().sent >= 1
        surveys = [mail for kind, _, mail in outbox(kit) if kind == "survey_satisfaction"]
    finally:
        kit.close()
    assert surveys
    text = text_of(surveys[-1])  # the newest
    path = re.search(r"/questionnaire/[A-Za-z0-9_-]{43}", text)
    assert path is not None
    page = web.goto(path.group(0), "questionnaire")
    assert page.locator("fieldset legend").count() == 5
    page.get_by_role("button", name="Envoyer mes réponses").click()
    web.check("questionnaire-incomplet")
    assert page.title().startswith("Erreur — ")
    group = page.get_by_role("group", name=re.compile("Dans l'ensemble"))
    group.get_by_label("5 – Très satisfait(e)").check()
    for name in ("bien écouté", "claires et utiles", "prochaines étapes"):
        page.get_by_role("group", name=re.compile(name)).get_by_label("4 – Plutôt oui").check()
    page.get_by_role("group", name=re.compile("Recommanderiez")).get_by_label("Oui").check()
    page.get_by_label("Voulez-vous ajouter un commentaire ? (facultatif)").fill("Merci.")
    page.get_by_role("button", name="Envoyer mes réponses").click()
    web.check("questionnaire-merci")
    assert page.get_by_role("heading", name="Merci pour vos réponses").is_visible()
    web.goto(path.group(0), "questionnaire-deja-repondu", status=410)

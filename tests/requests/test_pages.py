"""The public pages and the workspace's queue, through the real app: French, accessible forms
(errors summarised and linked, values kept), the flow from orientation to reference, the
confirmation page only for the browser that sent the request, rate limits on the real client
address, tenant isolation and roles."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from html import unescape
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from pages import csrf_from, make_staff, page_client, sign_in
from request_helpers import FakeClock, outbox, submit

from cep_core.domain.requests import OperatorSettingsInput, RequestStatus
from cep_core.kit import Kit
from cep_core.web.app import create_app

PERSON = {
    "first_name": "Maëlle",
    "last_name": "Roussel",
    "email": "maelle.roussel@exemple.fr",
    "phone": "06 12 34 56 78",
    "preferred_channel": "visio",
    "preferred_days": ["monday", "friday"],
    "message": "Je voudrais changer de métier.",
    "consent": "oui",
}
CADRE_IN_BRITTANY = {"status": "employee", "age": "41", "cadre": "oui", "region": "53"}


@pytest.fixture
def kit(make_kit: Callable[..., Kit]) -> Kit:
    return make_kit()


@pytest.fixture
def app(kit: Kit) -> Litestar:
    return create_app(kit)


@pytest.fixture
def client(app: Litestar) -> Iterator[TestClient[Litestar]]:
    with page_client(app) as client:
        yield client


def title(html: str) -> str:
    found = re.search(r"<title>(.*?)</title>", html, re.S)
    assert found
    return unescape(found.group(1))


def h1(html: str) -> list[str]:
    return [
        re.sub(r"<[^>]+>", "", found).strip()
        for found in re.findall(r"<h1[^>]*>(.*?)</h1>", html, re.S)
    ]


def summary_links(html: str) -> list[str]:
    block = re.search(r'<div class="error-summary".*?</div>', html, re.S)
    assert block, "no error summary"
    return re.findall(r'<a href="#([^"]+)">', block.group(0))


def assert_linked(html: str) -> list[str]:
    """Every error of the summary points at an element of the page, marked invalid."""
    links = summary_links(html)
    for target in links:
        assert f'id="{target}"' in html, f"#{target} is not on the page"
    return links


def orient(client: TestClient[Litestar], situation: dict[str, str]) -> Any:
    token = csrf_from(client.get("/trouver-mon-conseiller").text)
    return client.post("/trouver-mon-conseiller", data={**situation, "_csrf": token})


def choose(client: TestClient[Litestar], answer_html: str, operator: str) -> Any:
    """Press « Demander un rendez-vous » on the answer: the form of that operator, as sent."""
    forms = re.findall(
        r'<form method="post" action="/demander-un-rendez-vous".*?</form>', answer_html, re.S
    )
    chosen = next(form for form in forms if f'name="operator" value="{operator}"' in form)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', chosen))
    return client.post("/demander-un-rendez-vous", data=fields)


def send(client: TestClient[Litestar], form_html: str, **values: Any) -> Any:
    """Fill the request form's visible fields with `values`, keep its hidden ones, send."""
    form = re.search(
        r'<form method="post" action="/demander-un-rendez-vous".*?</form>', form_html, re.S
    )
    assert form
    fields: dict[str, Any] = dict(
        re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form.group(0))
    )
    fields.update(values)
    return client.post("/demander-un-rendez-vous", data=fields, follow_redirects=False)


def full_request(client: TestClient[Litestar], **person: Any) -> Any:
    answer = orient(client, CADRE_IN_BRITTANY)
    form = choose(client, answer.text, "apec")
    return send(client, form.text, **{**PERSON, **person})


# -- the public pages ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected_title", "expected_h1"),
    [
        ("/", "Le conseil en évolution professionnelle", "Le conseil en évolution professionnelle"),
        (
            "/trouver-mon-conseiller",
            "Trouver mon conseiller — Étape 1 sur 3 : votre situation",
            "Trouver mon conseiller",
        ),
        ("/demander-un-rendez-vous", "Demander un rendez-vous", "Demander un rendez-vous"),
        ("/accessibilite", "Déclaration d'accessibilité", "Déclaration d'accessibilité"),
        ("/donnees-personnelles", "Données personnelles", "Données personnelles"),
    ],
)
def test_public_pages_are_french_with_their_title(
    client: TestClient[Litestar], path: str, expected_title: str, expected_h1: str
) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert '<html lang="fr">' in response.text
    assert title(response.text).startswith(expected_title + " — ")
    assert h1(response.text) == [expected_h1]
    assert "<script" not in response.text and "style=" not in response.text


def test_the_home_page_explains_the_cep(client: TestClient[Litestar]) -> None:
    html = client.get("/").text
    for words in (
        "gratuitement",
        "confidentialité",
        "Niveau 1",
        "Niveau 2",
        "Apec",
        "Mission locale",
        "Cap emploi",
        "France Travail",
        "conseiller mobilité carrière",
    ):
        assert words in html, words
    assert 'href="/trouver-mon-conseiller"' in html and 'href="/demander-un-rendez-vous"' in html


def test_the_statements_say_what_the_law_asks(client: TestClient[Litestar]) -> None:
    accessibility = client.get("/accessibilite").text
    for words in ("RGAA", "4.1", "partiellement conforme", "Défenseur des droits", "71120"):
        assert words in accessibility, words
    privacy = client.get("/donnees-personnelles").text
    for words in ("responsable du traitement", "6.1.e", "9.2.a", "CNIL", "supprimée", "droits"):
        assert words in privacy, words


# -- « Trouver mon conseiller » --------------------------------------------------------------


def test_the_answer_lists_the_competent_operators_with_reasons(
    client: TestClient[Litestar],
) -> None:
    response = orient(client, CADRE_IN_BRITTANY)
    assert response.status_code == 200
    assert title(response.text).startswith("Trouver mon conseiller — Étape 2 sur 3")
    html = response.text
    assert "Apec" in html and "0809 361 212" in html
    assert "Vous êtes cadre en activité" in html  # the operator's own reason
    # The buttons are forms: the situation travels in hidden fields, never in an address.
    assert html.count('action="/demander-un-rendez-vous"') == 2
    assert '<input type="hidden" name="age" value="41">' in html
    assert "?status=" not in html and "age=41" not in html


def test_a_public_agent_is_sent_to_their_employers_adviser(client: TestClient[Litestar]) -> None:
    html = orient(client, {"status": "public_agent", "age": "45"}).text
    assert "Conseiller mobilité carrière (CMC)" in html
    assert 'action="/demander-un-rendez-vous"' not in html


def test_orientation_errors_are_summarised_linked_and_the_answers_kept(
    client: TestClient[Litestar],
) -> None:
    response = orient(client, {"age": "3", "region": "53", "working": "oui"})
    assert response.status_code == 400
    assert title(response.text).startswith("Erreur — Trouver mon conseiller")
    assert assert_linked(response.text) == ["status", "age"]
    assert 'aria-invalid="true"' in response.text
    assert (
        'name="age" type="number" min="15" max="120" inputmode="numeric" value="3"' in response.text
    )
    assert '<option value="53" selected>' in response.text
    assert 'id="working" name="working" value="oui" checked' in response.text


def test_a_birth_date_may_be_typed_the_french_way(client: TestClient[Litestar]) -> None:
    response = orient(client, {"status": "jobseeker", "birth_date": "23/04/2004", "region": "11"})
    assert response.status_code == 200
    assert "Mission locale" in response.text


# -- « Demander un rendez-vous » -------------------------------------------------------------


def test_from_the_orientation_to_the_reference(client: TestClient[Litestar], kit: Kit) -> None:
    answer = orient(client, CADRE_IN_BRITTANY)
    form = choose(client, answer.text, "apec")
    assert form.status_code == 200
    assert title(form.text).startswith("Demander un rendez-vous — Étape 3 sur 3")
    assert "Elle sera adressée à <strong>Apec</strong>" in form.text
    assert "Âge : 41 ans" in form.text and "Région : Bretagne" in form.text
    assert "Le responsable du traitement est <strong>Apec</strong>" in form.text

    sent = send(client, form.text, **PERSON)

    assert sent.status_code == 303
    location = sent.headers["location"]
    assert re.fullmatch(r"/demande-envoyee/[0-9a-f]{32}", location)
    [request] = kit.requests.list_requests("apec").items
    assert request.identity.full_name == "Maëlle Roussel" and request.situation.cadre
    assert [kind for kind, _, _ in outbox(kit)] == ["request_received"]
    page = client.get(location)
    assert page.status_code == 200 and title(page.text).startswith("Demande envoyée")
    assert request.reference in page.text and "Apec" in page.text
    assert "Maëlle" not in page.text and "maelle" not in page.text  # nothing else about them


def test_the_acknowledgement_leaves_after_the_answer(
    client: TestClient[Litestar], kit: Kit
) -> None:
    full_request(client)
    # The background task delivered the outbox through the file backend of the data folder.
    files = list((kit.settings.data_dir / "mail").glob("*.eml"))
    assert len(files) == 1
    assert db_pending(kit) == 0


def db_pending(kit: Kit) -> int:
    from sqlalchemy import func, select

    from cep_core.storage.tables import mail_outbox

    with kit.database.read() as connection:
        return int(
            connection.execute(
                select(func.count())
                .select_from(mail_outbox)
                .where(mail_outbox.c.status == "pending")
            ).scalar_one()
        )


def test_consent_is_required_and_the_typed_values_are_kept(
    client: TestClient[Litestar], kit: Kit
) -> None:
    response = full_request(client, consent="", email="pas-une-adresse")
    assert response.status_code == 400
    assert title(response.text).startswith("Erreur — Demander un rendez-vous")
    assert assert_linked(response.text) == ["email", "consent"]
    html = response.text
    assert "Cochez la case pour accepter le traitement de vos données" in html
    assert 'value="Maëlle"' in html and 'value="pas-une-adresse"' in html
    assert "Je voudrais changer de métier." in html
    assert 'value="friday" checked' in html
    # Still pre-filled from the orientation: the situation stays carried, not asked again.
    assert "Elle sera adressée à <strong>Apec</strong>" in html
    assert kit.requests.count_pending("apec") == 0 and outbox(kit) == []


def test_arriving_directly_asks_the_situation_and_the_operator(
    client: TestClient[Litestar], kit: Kit
) -> None:
    html = client.get("/demander-un-rendez-vous").text
    assert 'name="operator" value="apec"' in html and 'name="status"' in html
    token = csrf_from(html)
    response = client.post("/demander-un-rendez-vous", data={"_csrf": token, "etape": "envoi"})
    assert response.status_code == 400
    assert assert_linked(response.text) == [
        "operator", "status", "birth_date", "first_name", "last_name", "email",
        "preferred_channel", "consent",
    ]  # fmt: skip

    not_competent = client.post(
        "/demander-un-rendez-vous",
        data={
            "_csrf": token,
            "etape": "envoi",
            "operator": "apec",
            "status": "employee",
            "age": "30",
            **PERSON,
        },
    )
    assert not_competent.status_code == 400
    assert "n'est pas l'opérateur qui peut vous accompagner" in unescape(not_competent.text)
    assert assert_linked(not_competent.text) == ["operator"]

    direct = client.post(
        "/demander-un-rendez-vous",
        data={
            "_csrf": token,
            "etape": "envoi",
            "operator": "regional",
            "status": "employee",
            "age": "30",
            **PERSON,
        },
        follow_redirects=False,
    )
    assert direct.status_code == 303
    assert kit.requests.count_pending("regional") == 1


def test_an_operator_closed_to_requests_is_not_offered(
    client: TestClient[Litestar], kit: Kit
) -> None:
    kit.operator_settings.update(
        "apec", OperatorSettingsInput(public_requests_open=False), actor="m", expected_version=0
    )
    answer = orient(client, CADRE_IN_BRITTANY).text
    assert "ne reçoit pas de demandes en ligne pour le moment" in answer
    assert 'name="operator" value="apec"' not in answer
    assert 'name="operator" value="apec"' not in client.get("/demander-un-rendez-vous").text


def test_the_confirmation_is_only_for_the_browser_that_sent_it(
    app: Litestar, client: TestClient[Litestar], kit: Kit, clock: FakeClock
) -> None:
    location = full_request(client).headers["location"]
    other = submit(kit, email="quelqu-un@exemple.fr")
    assert client.get(location).status_code == 200
    # Guessing another id, from the same browser: nothing.
    guessed = client.get(f"/demande-envoyee/{other.id}")
    assert guessed.status_code == 404 and other.reference not in guessed.text
    with page_client(app) as stranger:
        stranger.get("/")
        page = stranger.get(location)
        assert page.status_code == 404 and "CEP-" not in page.text
    clock.advance(hours=1, seconds=1)
    assert client.get(location).status_code == 404


# -- rate limits and the real client address -------------------------------------------------


def with_peer(app: Litestar, host: str) -> Any:
    """The app as seen from a client at `host` (the test client always says "testclient")."""

    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            scope = {**scope, "client": (host, 50000)}
        await app(scope, receive, send)

    return asgi


def test_requests_are_limited_per_address_with_retry_after(
    client: TestClient[Litestar], kit: Kit
) -> None:
    for number in range(5):
        assert full_request(client, email=f"p{number}@exemple.fr").status_code == 303
    refused = full_request(client, email="p5@exemple.fr")
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    assert "Trop de demandes" in refused.text and "réessayez dans" in refused.text
    assert kit.requests.count_pending("apec") == 5


def test_forwarded_addresses_are_ignored_without_a_trusted_proxy(
    make_kit: Callable[..., Kit],
) -> None:
    kit = make_kit()
    with page_client(with_peer(create_app(kit), "203.0.113.7")) as client:
        for number in range(6):
            client.headers["x-forwarded-for"] = f"198.51.100.{number}"
            response = full_request(client, email=f"p{number}@exemple.fr")
        assert response.status_code == 429  # one address, whatever the header says


def test_a_trusted_proxy_gives_each_client_its_own_limit(make_kit: Callable[..., Kit]) -> None:
    kit = make_kit(trusted_proxies=("10.0.0.0/8",))
    with page_client(with_peer(create_app(kit), "10.0.0.2")) as client:
        for number in range(6):
            client.headers["x-forwarded-for"] = f"198.51.100.{number}, 10.0.0.9"
            assert full_request(client, email=f"p{number}@exemple.fr").status_code == 303
        for number in range(5):
            client.headers["x-forwarded-for"] = "198.51.100.77"
            full_request(client, email=f"q{number}@exemple.fr")
        assert full_request(client, email="q5@exemple.fr").status_code == 429
    assert kit.requests.count_pending("apec") == 11


def test_orientation_answers_are_limited_too(client: TestClient[Litestar]) -> None:
    token = csrf_from(client.get("/trouver-mon-conseiller").text)
    statuses = [
        client.post(
            "/trouver-mon-conseiller", data={**CADRE_IN_BRITTANY, "_csrf": token}
        ).status_code
        for _ in range(31)
    ]
    assert statuses[:30] == [200] * 30 and statuses[30] == 429


# -- the workspace ---------------------------------------------------------------------------


def test_the_queue_is_for_the_operators_staff(app: Litestar, kit: Kit) -> None:
    request = submit(kit)
    with page_client(app) as anonymous:
        response = anonymous.get("/espace/demandes", follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/connexion")
    with page_client(app) as admin:
        sign_in(admin, make_staff(kit, operator=None, role="admin"))
        assert admin.get("/espace/demandes").status_code == 403
    with page_client(app) as counsellor:
        sign_in(counsellor, make_staff(kit, operator="apec"))
        page = counsellor.get("/espace/demandes")
        assert page.status_code == 200
        assert title(page.text).startswith("Demandes de rendez-vous — En attente")
        assert request.reference in page.text and "Maëlle Roussel" in page.text
        assert "<caption>" in page.text and 'scope="col"' in page.text
        detail = counsellor.get(f"/espace/demandes/{request.id}")
        assert detail.status_code == 200 and title(detail.text).startswith(
            f"Demande {request.reference}"
        )


def test_another_operators_request_is_not_found(app: Litestar, kit: Kit) -> None:
    request = submit(kit)
    with page_client(app) as client:
        sign_in(client, make_staff(kit, operator="regional"))
        assert request.reference not in client.get("/espace/demandes").text
        page = client.get(f"/espace/demandes/{request.id}")
        assert page.status_code == 404 and "Page introuvable" in page.text
        token = csrf_from(client.get("/espace/demandes").text)
        for action in ("accepter", "refuser", "rendez-vous"):
            response = client.post(
                f"/espace/demandes/{request.id}/{action}",
                data={"_csrf": token, "decline_reason": "duplicate"},
            )
            assert response.status_code == 404, action
        found = client.get("/espace/demandes", params={"reference": request.reference})
        assert "Aucune demande de votre structure" in found.text
    assert kit.requests.get("apec", request.id).pending


def test_a_reference_leads_to_its_request(app: Litestar, kit: Kit) -> None:
    request = submit(kit)
    with page_client(app) as client:
        sign_in(client, make_staff(kit, operator="apec"))
        response = client.get(
            "/espace/demandes",
            params={"reference": request.reference.lower()},
            follow_redirects=False,
        )
        assert response.status_code == 303
        assert response.headers["location"] == f"/espace/demandes/{request.id}"


def test_accepting_lands_on_the_new_case(app: Litestar, kit: Kit) -> None:
    request = submit(kit)
    user = make_staff(kit, operator="apec")
    with page_client(app) as client:
        sign_in(client, user)
        page = f"/espace/demandes/{request.id}"
        token = csrf_from(client.get(page).text)
        response = client.post(f"{page}/accepter", data={"_csrf": token}, follow_redirects=False)
        assert response.status_code == 303
        stored = kit.requests.get("apec", request.id)
        assert stored.status is RequestStatus.ACCEPTED and stored.decided_by == user.id
        assert response.headers["location"] == (
            f"/espace/dossiers/{stored.case_id}?message=demande-acceptee"
        )
        again = client.post(f"{page}/accepter", data={"_csrf": token})
        assert again.status_code == 409 and "déjà été acceptée" in again.text
        assert "Ouvrir le dossier" in client.get(page).text


def test_declining_shows_its_errors_next_to_the_fields(app: Litestar, kit: Kit) -> None:
    request = submit(kit)
    with page_client(app) as client:
        sign_in(client, make_staff(kit, operator="apec"))
        page = f"/espace/demandes/{request.id}"
        token = csrf_from(client.get(page).text)
        response = client.post(
            f"{page}/refuser", data={"_csrf": token, "decline_reason": "other", "decline_text": ""}
        )
        assert response.status_code == 400
        assert title(response.text).startswith("Erreur — Demande")
        assert assert_linked(response.text) == ["decline_text"]
        assert 'value="other" checked' in response.text
        done = client.post(
            f"{page}/refuser",
            data={"_csrf": token, "decline_reason": "other", "decline_text": "Hors de notre zone"},
            follow_redirects=False,
        )
        assert done.status_code == 303 and done.headers["location"].endswith("?fait=refusee")
        shown = client.get(done.headers["location"]).text
        assert "La demande est refusée." in shown and "Hors de notre zone" in shown
        assert 'action="/espace/demandes/' + request.id + '/rendez-vous"' not in shown


def test_proposing_an_appointment_from_the_page(app: Litestar, kit: Kit, clock: FakeClock) -> None:
    request = submit(kit)
    user = make_staff(kit, operator="apec", name="Claire Martin")
    with page_client(app) as client:
        sign_in(client, user)
        page = f"/espace/demandes/{request.id}"
        token = csrf_from(client.get(page).text)
        wrong = client.post(
            f"{page}/rendez-vous",
            data={
                "_csrf": token,
                "appointment_date": "31/02/2026",
                "appointment_time": "25h",
                "channel": "presentiel",
                "duration_minutes": "5",
            },
        )
        assert wrong.status_code == 400
        assert assert_linked(wrong.text) == [
            "appointment_date",
            "appointment_time",
            "duration_minutes",
            "location",
        ]
        assert 'value="31/02/2026"' in wrong.text

        day = (clock.now + timedelta(days=3)).strftime("%d/%m/%Y")
        done = client.post(
            f"{page}/rendez-vous",
            data={
                "_csrf": token,
                "appointment_date": day,
                "appointment_time": "14:30",
                "channel": "presentiel",
                "duration_minutes": "45",
                "location": "12 rue de Brest, Rennes",
            },
            follow_redirects=False,
        )
        assert done.status_code == 303, done.text
        shown = client.get(done.headers["location"]).text
        assert "Le rendez-vous est proposé" in shown and "14:30" in shown
    appointment = kit.requests.get("apec", request.id).appointment
    assert appointment is not None and appointment.counsellor_name == "Claire Martin"
    assert appointment.starts_at.astimezone().utcoffset() is not None
    assert "appointment_proposed" in [kind for kind, _, _ in outbox(kit)]


def test_the_disability_status_is_for_counsellors_only(app: Litestar, kit: Kit) -> None:
    request = submit(
        kit,
        operator="cap_emploi",
        situation={"status": "employee", "age": 35, "disability_recognition": True},
    )
    with page_client(app) as counsellor:
        sign_in(counsellor, make_staff(kit, operator="cap_emploi"))
        assert "Reconnaissance de handicap" in counsellor.get(f"/espace/demandes/{request.id}").text
    with page_client(app) as manager:
        sign_in(
            manager,
            make_staff(kit, operator="cap_emploi", role="manager", email="m@cap.exemple.fr"),
        )
        page = manager.get(f"/espace/demandes/{request.id}")
        assert page.status_code == 200 and "Reconnaissance de handicap" not in page.text
        assert "handicap" not in page.text


# -- the operator's settings -----------------------------------------------------------------


def test_settings_are_for_managers(app: Litestar, kit: Kit) -> None:
    with page_client(app) as counsellor:
        sign_in(counsellor, make_staff(kit, operator="apec"))
        assert counsellor.get("/espace/parametres").status_code == 403
    with page_client(app) as manager:
        sign_in(
            manager, make_staff(kit, operator="apec", role="manager", email="m@apec.exemple.fr")
        )
        form = manager.get("/espace/parametres")
        assert form.status_code == 200 and title(form.text).startswith("Paramètres de l'opérateur")
        token = csrf_from(form.text)
        wrong = manager.post(
            "/espace/parametres",
            data={
                "_csrf": token,
                "version": "0",
                "queue_email": "nulle part",
                "default_duration_minutes": "500",
                "welcome_text": "Bonjour",
            },
        )
        assert wrong.status_code == 400
        assert assert_linked(wrong.text) == ["queue_email", "default_duration_minutes"]
        assert 'value="nulle part"' in wrong.text and "Bonjour" in wrong.text
        saved = manager.post(
            "/espace/parametres",
            data={
                "_csrf": token,
                "version": "0",
                "queue_email": "accueil@apec.exemple.fr",
                "default_duration_minutes": "90",
                "public_requests_open": "oui",
            },
            follow_redirects=False,
        )
        assert saved.status_code == 303
        assert "Les paramètres sont enregistrés." in manager.get(saved.headers["location"]).text
        stale = manager.post(
            "/espace/parametres",
            data={"_csrf": token, "version": "0", "default_duration_minutes": "30"},
        )
        assert stale.status_code == 409 and "modifiés par quelqu'un d'autre" in unescape(stale.text)
    settings = kit.operator_settings.get("apec")
    assert (
        settings.queue_email == "accueil@apec.exemple.fr"
        and settings.default_duration_minutes == 90
    )

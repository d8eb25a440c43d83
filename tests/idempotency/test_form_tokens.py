"""The public « Demander un rendez-vous » form files one request per form (REL-10).

A double click (two submissions at once), or sending the form again once it went through,
lands on the same confirmation and files nothing more; a form refused for its content keeps
its token, and its corrected submission files the request.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from httpx import Response
from litestar import Litestar
from litestar.testing import TestClient
from pages import csrf_from, page_client
from request_helpers import FakeClock, build_kit
from sqlalchemy import func, select

from cep_core.kit import Kit
from cep_core.storage.tables import appointment_requests
from cep_core.web.app import create_app
from cep_core.web.pages.form_tokens import FIELD

PERSON = {
    "first_name": "Maëlle",
    "last_name": "Roussel",
    "email": "maelle.roussel@exemple.fr",
    "preferred_channel": "visio",
    "consent": "oui",
}
CADRE_IN_BRITTANY = {"status": "employee", "age": "41", "cadre": "oui", "region": "53"}
FORM = re.compile(r'<form method="post" action="/demander-un-rendez-vous".*?</form>', re.S)
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Kit, Litestar, TestClient[Litestar]]]:
    kit = build_kit(tmp_path, FakeClock())
    app = create_app(kit)
    with page_client(app) as client:
        yield kit, app, client
    kit.close()


def request_form(client: TestClient[Litestar]) -> dict[str, Any]:
    """The apec request form after the orientation, as its hidden fields."""
    token = csrf_from(client.get("/trouver-mon-conseiller").text)
    answer = client.post("/trouver-mon-conseiller", data={**CADRE_IN_BRITTANY, "_csrf": token})
    chosen = next(f for f in FORM.findall(answer.text) if 'name="operator" value="apec"' in f)
    form = client.post("/demander-un-rendez-vous", data=dict(HIDDEN.findall(chosen)))
    found = FORM.search(form.text)
    assert found
    return dict(HIDDEN.findall(found.group(0)))


def send(client: TestClient[Litestar], fields: dict[str, Any]) -> Response:
    return client.post("/demander-un-rendez-vous", data=fields, follow_redirects=False)


def filed(kit: Kit) -> int:
    with kit.database.read() as connection:
        query = select(func.count()).select_from(appointment_requests)
        return int(connection.execute(query).scalar_one())


def test_sending_the_form_twice_files_one_request(world: Any) -> None:
    kit, _, client = world
    fields = {**request_form(client), **PERSON}
    assert len(fields[FIELD]) >= 32
    first = send(client, fields)
    assert first.status_code == 303, first.text
    again = send(client, fields)
    assert again.status_code == 303
    assert again.headers["location"] == first.headers["location"]
    assert filed(kit) == 1
    # The confirmation shows for this browser after the second answer too (its cookie).
    page = client.get(again.headers["location"])
    assert page.status_code == 200
    # A new form is a new request.
    fresh = {**request_form(client), **PERSON}
    assert fresh[FIELD] != fields[FIELD]
    assert send(client, fresh).headers["location"] != first.headers["location"]
    assert filed(kit) == 2


def test_a_double_click_files_one_request(world: Any) -> None:
    kit, _, client = world
    fields = {**request_form(client), **PERSON}
    barrier = threading.Barrier(2)
    answers: list[Response] = []

    def click() -> None:
        barrier.wait(30)
        answers.append(send(client, fields))

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert [a.status_code for a in answers] == [303, 303], [a.text for a in answers]
    assert answers[0].headers["location"] == answers[1].headers["location"]
    assert filed(kit) == 1


def test_a_refused_form_keeps_its_token_for_the_corrected_one(world: Any) -> None:
    kit, _, client = world
    fields = {**request_form(client), **PERSON}
    without_consent = {k: v for k, v in fields.items() if k != "consent"}
    refused = send(client, without_consent)
    assert refused.status_code == 400
    kept = FORM.search(refused.text)
    assert kept
    assert dict(HIDDEN.findall(kept.group(0)))[FIELD] == fields[FIELD]
    assert filed(kit) == 0
    sent = send(client, fields)
    assert sent.status_code == 303, sent.text
    assert filed(kit) == 1

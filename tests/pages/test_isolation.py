"""Tenant isolation in the workspace (SEC-01): another operator's case, step or synthesis is
"not found" (404, never 403) on every route, and lists, search and cursors never show it.

The routes are read from the app's route table, so a case route added later is checked without
editing this file.
"""

from __future__ import annotations

import re

from litestar import Litestar
from pages import csrf_from
from workspace_pages import World, post, text_of

from cep_core.domain.case import Level

PLACEHOLDER = re.compile(r"\{([a-z_]+)(?::[a-z]+)?\}")
CASE_ROUTES = "/espace/dossiers/{case_id"


def case_routes(app: Litestar) -> list[tuple[str, str]]:
    """Every (method, path) of the workspace that names a case."""
    found = set()
    for route in app.routes:
        if not route.path.startswith(CASE_ROUTES):
            continue
        for handler in getattr(route, "route_handlers", []):
            for method in getattr(handler, "http_methods", ()):
                if method not in {"HEAD", "OPTIONS"}:
                    found.add((method, route.path))
    return sorted(found)


def concrete(path: str, ids: dict[str, str]) -> str:
    return PLACEHOLDER.sub(lambda match: ids[match.group(1)], path)


def test_every_case_route_hides_another_operators_objects(world: World) -> None:
    theirs = world.case("regional", first="Jean", last="Dupont")
    [synthesis] = [world.kit.syntheses.generate("regional", theirs.id, Level.ONE).synthesis]
    mine = world.case("apec", first="Maëlle", last="Roussel")
    [own_synthesis] = [world.kit.syntheses.generate("apec", mine.id, Level.ONE).synthesis]
    routes = case_routes(world.app)
    names = {name for _, path in routes for name in PLACEHOLDER.findall(path)}
    assert names == {"case_id", "level", "step_id", "action", "synthesis_id"}, names
    assert len(routes) >= 15
    others = {
        "case_id": theirs.id,
        "synthesis_id": synthesis.id,
        "level": "1",
        "step_id": "level1.record",
        "action": "pause",
    }
    own = {**others, "case_id": mine.id, "synthesis_id": own_synthesis.id}
    client = world.client(world.counsellor)
    token = csrf_from(client.get("/espace").text)
    leaks: list[str] = []
    for method, path in routes:
        url = concrete(path, others)
        if method == "GET":
            answer = client.get(url, follow_redirects=False)
        else:
            answer = client.post(
                url, data={"_csrf": token, "version": str(theirs.version)}, follow_redirects=False
            )
        if answer.status_code != 404 or "Jean" in answer.text or "Dupont" in answer.text:
            leaks.append(f"{method} {path} -> {answer.status_code}")
        if method == "GET":  # the same route on one's own case works: the matrix is not empty
            assert client.get(concrete(path, own)).status_code == 200, path
    assert not leaks, "\n".join(leaks)
    # Nothing was written on the other operator's case.
    after = world.kit.cases.get_case("regional", theirs.id)
    assert after.version == theirs.version and after.sessions == ()
    kinds = [event.kind for event in world.kit.cases.case_events("regional", theirs.id)]
    assert "synthesis_downloaded" not in kinds


def test_lists_search_and_cursors_never_show_another_operators_cases(world: World) -> None:
    world.case("regional", first="Jean", last="Dupont")
    world.case("apec", first="Anne", last="Dupont")
    for user in (world.counsellor, world.manager):
        client = world.client(user)
        for url in ("/espace", "/espace/dossiers", "/espace/dossiers?vue=tous"):
            text = text_of(client.get(url).text)
            assert "Jean Dupont" not in text, url
        found = post(
            client, "/espace/dossiers", to="/espace/dossiers/recherche", nom="dupont", vue="tous"
        )
        text = text_of(found.text)
        assert "Anne Dupont" in text and "Jean Dupont" not in text
    # A cursor taken from the other operator's list pages into one's own cases only.
    for index in range(3):
        world.case("regional", first=f"Autre{index}", last="Personne")
    other = world.client(world.stranger)
    page = other.get("/espace/dossiers?vue=tous")
    assert "Jean Dupont" in text_of(page.text)
    cursor = world.kit.cases.list_cases("regional", limit=1).next_cursor
    assert cursor
    mine = world.client(world.counsellor).get(f"/espace/dossiers?vue=tous&curseur={cursor}")
    assert mine.status_code == 200 and "Jean Dupont" not in text_of(mine.text)
    assert "Autre" not in text_of(mine.text)

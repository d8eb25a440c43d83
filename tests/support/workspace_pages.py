"""Helpers of the workspace page tests (``tests/pages``): a `World` of staff of two operators
and their cases, and readers of pages (visible text, title, error summary, field values).

`World.client(user)` is a signed-in page client; `World.case(...)` opens a case the way a
counsellor would (``force``: these tests are about pages, not about orientation).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from html import unescape
from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient
from pages import csrf_from, page_client, sign_in

from cep_core.domain.accounts import StaffUser
from cep_core.domain.case import Case, Level
from cep_core.domain.situation import Situation, Status
from cep_core.kit import Kit
from cep_core.services.cases import NewBeneficiary

ACTION_PLAN = {
    "services": [
        {
            "kind": "training",
            "label": "Titre professionnel de développeur web",
            "provider": "Organisme Exemple",
            "provider_qualiopi": True,
            "certification_code": "RNCP37674",
        }
    ],
    "milestones": [{"on": "2027-01-15", "label": "Entrée en formation"}],
}
PROJECT = {
    "objective": "retraining",
    "description": "Devenir développeuse web.",
    "strategies": ["Formation certifiante"],
}
RECORD = {
    "request": "Faire le point sur mon parcours.",
    "clarified_need": "Construire un projet de reconversion.",
    "information_given": ["cep_service", "training"],
    "shared_review": "La personne souhaite être accompagnée.",
    "continues": True,
}


@dataclass
class World:
    kit: Kit
    app: Litestar
    tmp_path: Path
    counsellor: StaffUser
    colleague: StaffUser
    manager: StaffUser
    stranger: StaffUser  # a counsellor of another operator

    def client(self, user: StaffUser) -> TestClient[Litestar]:
        """A page client signed in as `user`. Not entered as a context manager: several
        clients of one app would each run (and wait for) the app's lifespan."""
        client = page_client(self.app)
        sign_in(client, user)
        return client

    def case(
        self,
        operator: str = "apec",
        *,
        first: str = "Maëlle",
        last: str = "Roussel",
        email: str | None = "maelle.roussel@example.fr",
        level: Level | None = Level.ONE,
        status: Status = Status.EMPLOYEE,
        disability: bool = False,
        counsellor: StaffUser | None = None,
        intake: dict[str, Any] | None = None,
    ) -> Case:
        owner = counsellor or (self.counsellor if operator == "apec" else self.stranger)
        return self.kit.cases.open_case(
            operator,
            NewBeneficiary(first_name=first, last_name=last, email=email),
            Situation(
                birth_date=date(1986, 7, 14),
                as_of=self.kit.today(),
                status=status,
                cadre=True,
                disability_recognition=disability,
                region="53",
            ),
            level=level,
            counsellor_id=owner.id,
            actor=owner.id,
            intake=intake,
            force=True,
        )

    def level_two_with_action_plan(self, operator: str = "apec", **kwargs: Any) -> Case:
        """A case at level 2 whose project and action plan are completed."""
        case = self.case(operator, level=Level.TWO, **kwargs)
        for step_id, data in (("level2.project", PROJECT), ("level2.action_plan", ACTION_PLAN)):
            saved = self.kit.cases.save_step(
                operator,
                case.id,
                step_id,
                data,
                complete=True,
                expected_version=case.version,
                actor=self.counsellor.id,
            )
            case = saved.case
        return case


# -- reading pages -----------------------------------------------------------------------------


def text_of(html: str) -> str:
    """The visible text of a page's main content, spaces collapsed."""
    main = html[html.index("<main") : html.index("</main>")] if "<main" in html else html
    main = re.sub(r"<(script|style)\b.*?</\1>", " ", main, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", main))).strip()


def title_of(html: str) -> str:
    found = re.search(r"<title>(.*?)</title>", html, flags=re.S)
    assert found, "no <title>"
    return unescape(found.group(1)).strip()


def error_links(html: str) -> dict[str, str]:
    """The error summary's links: field id -> message."""
    summary = re.search(r'<div class="error-summary".*?</div>', html, flags=re.S)
    assert summary, "no error summary"
    return {
        target: unescape(re.sub(r"<[^>]+>", "", message)).strip()
        for target, message in re.findall(
            r'<a href="#([^"]+)">(.*?)</a>', summary.group(0), flags=re.S
        )
    }


def field_value(html: str, field_id: str) -> str:
    """The value an input or textarea shows."""
    textarea = re.search(
        rf'<textarea id="{re.escape(field_id)}"[^>]*>(.*?)</textarea>', html, flags=re.S
    )
    if textarea:
        return unescape(textarea.group(1))
    tag = re.search(rf'<input id="{re.escape(field_id)}"[^>]*>', html, flags=re.S)
    assert tag, f"no field {field_id}"
    value = re.search(r'value="([^"]*)"', tag.group(0))
    return unescape(value.group(1)) if value else ""


def post(client: TestClient[Litestar], page: str, *, to: str | None = None, **data: Any) -> Any:
    """GET `page`, then POST `data` to the same path (or `to`) with the page's CSRF token."""
    token = csrf_from(client.get(page).text)
    return client.post(to or page, data={**data, "_csrf": token}, follow_redirects=False)


def produce_synthesis(
    world: World, client: TestClient[Litestar], case_id: str, level: Level = Level.ONE
) -> str:
    """Produce the case's synthesis of `level` from the case page; the stored version's id."""
    page = f"/espace/dossiers/{case_id}"
    answer = post(client, page, to=f"{page}/syntheses", niveau=str(int(level)))
    assert answer.status_code == 303, text_of(answer.text)[:500]
    [synthesis] = [
        s for s in world.kit.syntheses.list_for_case("apec", case_id) if s.level is level
    ]
    return synthesis.id

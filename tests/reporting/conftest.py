"""A known set of cases, built through the services with a clock the tests move.

At Apec (the operator under test), for the period March–April 2026:

====  ========  ==========  ===========  =====================================  =========
case  opened    counsellor  1st channel  path                                   e-mail
====  ========  ==========  ===========  =====================================  =========
A     03-02     c1 Rennes   presentiel   L1, L2 on 03-12 (10 d), funded,        yes
                                         closed completed 04-21 (40 d of L2)
B     03-03     c2 Nantes   telephone    L1, L2 on 03-23 (20 d), stays at L2    yes
C     03-04     c1 Rennes   visio        L1, referred to regional 03-05         yes
D     03-05     c2 Nantes   -            opened only                            yes
E     04-02     c1 Rennes   presentiel   L1, closed abandoned 04-03             no
====  ========  ==========  ===========  =====================================  =========

Plus one regional case (never in Apec's figures). The survey job runs after each level end;
`answer_surveys` answers A's two satisfaction surveys (5 and 4) and B's (3); C's stays
unanswered and E has no address (skipped).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from cep_apec import hooks as apec
from cep_core import CloseReason, FormChannel, ReferralReason, SessionChannel, Situation, Status
from cep_core.domain.accounts import StaffUser
from cep_core.domain.context import Role
from cep_core.domain.reporting import SatisfactionAnswer
from cep_core.kit import Kit
from cep_core.services.cases import (
    CaseFundingFacts,
    CaseTraining,
    FundingPlanRequest,
    NewBeneficiary,
    NewSession,
)
from cep_core.settings import Settings
from cep_core.storage.tables import mail_outbox
from cep_core.testing import minimal_answers
from cep_regional import hooks as regional

PASSWORD = "une phrase de passe solide"
LINK = re.compile(r"/questionnaire/([A-Za-z0-9_-]{43})")

CORE: dict[str, dict[str, Any]] = {
    "level1.record": {
        "request": "Je souhaite faire le point sur mon parcours.",
        "clarified_need": "Construire un projet d'évolution réaliste.",
        "information_given": ["cep_service", "job_market", "funding"],
        "shared_review": "La personne veut être accompagnée pour formaliser son projet.",
        "continues": True,
    },
    "level2.action_plan": {
        "services": [
            {
                "kind": "training",
                "label": "Certificat de coordination d'équipe",
                "provider": "Organisme régional",
                "provider_qualiopi": True,
                "certification_code": "RNCP35830",
            }
        ],
        "personal_steps": [{"description": "Rencontrer deux coordinateurs en poste"}],
        "milestones": [{"on": "2026-06-01", "label": "Entrée en formation"}],
    },
}


def project(objective: str) -> dict[str, Any]:
    return {
        "objective": objective,
        "description": "Évoluer vers un poste de coordination.",
        "strategies": ["Formation courte certifiante"],
        "rome_code": "M1302",
    }


def at(day: str, hour: int = 9) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


@dataclass
class World:
    kit: Kit
    now: list[datetime]
    counsellors: dict[str, StaffUser] = field(default_factory=dict)
    cases: dict[str, str] = field(default_factory=dict)
    other_case: str = ""

    def move(self, day: str, hour: int = 9) -> None:
        self.now[0] = at(day, hour)

    def survey_links(self) -> list[tuple[str, str]]:
        """(recipient, secret) of every survey e-mail queued so far, oldest first."""
        with self.kit.database.read() as conn:
            rows = conn.execute(
                select(mail_outbox.c.message, mail_outbox.c.kind)
                .where(mail_outbox.c.kind.like("survey_%"))
                .order_by(mail_outbox.c.created_at)
            ).all()
        found = []
        for raw, _kind in rows:
            message = message_from_bytes(raw)
            found.append((str(message["To"]), LINK.findall(_text(message))[0]))
        return found

    def answer_surveys(self) -> None:
        """A answers 5 then 4, B answers 3; C never answers."""
        answers = {"a.roussel": (5, 4), "b.roussel": (3,)}
        back = self.now[0]
        for prefix, scores in answers.items():
            links = [s for to, s in self.survey_links() if prefix in to]
            assert len(links) == len(scores)
            for secret, score in zip(links, scores, strict=True):
                answer = SatisfactionAnswer(
                    overall=score, listening=5, clarity=4, next_steps=4, recommend=True
                )
                link = self.kit.surveys.peek(secret)
                assert link is not None
                self.now[0] = link.expires_at - timedelta(days=29)  # the day after sending
                assert self.kit.surveys.answer(secret, answer)
        self.now[0] = back

    def link_for(self, email: str) -> str:
        return [secret for to, secret in self.survey_links() if email in to][-1]


def _text(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError("no text part")


SITUATION = Situation(
    birth_date=date(1979, 5, 4), as_of=date(2026, 3, 2), status=Status.EMPLOYEE, cadre=True,
    region="11",
)  # fmt: skip


def reporting_kit(tmp_path: Path, database_url: str | None, now: list[datetime]) -> Kit:
    options: dict[str, Any] = {
        "hash_profile": "fast",
        "allow_non_durable_database": (database_url or "").startswith("postgresql"),
        "pseudonymisation_key": "une clé de pseudonymisation de test",
        "public_url": "https://cep.example.fr",
    }
    kit = Kit(
        [apec, regional],
        settings=Settings(data_dir=tmp_path, database_url=database_url, **options),
        load_entrypoints=False,
        clock=lambda: now[0],
    )
    kit.database.upgrade()
    return kit


def build_world(kit: Kit, now: list[datetime]) -> World:
    world = World(kit=kit, now=now)
    world.move("2026-03-01")
    accounts = kit.accounts
    for key, name, agency in (("c1", "Claire Martin", "Rennes"), ("c2", "Hugo Petit", "Nantes")):
        user = accounts.create_user(
            email=f"{key}@apec.example.fr",
            display_name=name,
            role=Role.COUNSELLOR,
            operator="apec",
            password=PASSWORD,  # type: ignore[arg-type]
        )
        kit.indicators.set_agency("apec", user.id, agency)
        world.counsellors[key] = user
    svc = kit.cases
    c1, c2 = world.counsellors["c1"].id, world.counsellors["c2"].id

    intake = svc.intake_form("apec", FormChannel.COUNSELLOR)

    def open_case(key: str, day: str, counsellor: str, email: str | None) -> tuple[str, int]:
        world.move(day)
        case = svc.open_case(
            "apec",
            NewBeneficiary(
                first_name="Maëlle",
                last_name=f"Roussel{key}",
                email=email,
                phone="06 39 98 12 34",
            ),
            SITUATION,
            counsellor_id=counsellor,
            actor=counsellor,
            intake=minimal_answers(intake.input, now[0].date()) if intake else None,
        )
        world.cases[key] = case.id
        return case.id, case.version

    def session(case_id: str, version: int, channel: SessionChannel, counsellor: str) -> int:
        return svc.record_session(
            "apec",
            case_id,
            NewSession(
                start=now[0],
                channel=channel,
                duration_minutes=60,
                outside_working_time=True,
                counsellor_id=counsellor,
            ),
            expected_version=version,
            actor=counsellor,
        ).version

    def complete(case_id: str, version: int, overrides: dict[str, dict[str, Any]]) -> int:
        for step in svc.step_definitions("apec", case_id):
            if step.required and not svc.get_case("apec", case_id).step_completed(step.id):
                data = overrides.get(step.id) or CORE.get(step.id)
                data = data or minimal_answers(step.input, now[0].date())
                version = svc.save_step(
                    "apec", case_id, step.id, data, complete=True, expected_version=version
                ).case.version
        return version

    def level_one(case_id: str, version: int, channel: SessionChannel, who: str) -> int:
        version = svc.start_level_1("apec", case_id, expected_version=version).version
        version = session(case_id, version, channel, who)
        return complete(case_id, version, {})

    # A: the whole path, funded, closed completed.
    a, v = open_case("A", "2026-03-02", c1, "a.roussel@exemple.fr")
    v = level_one(a, v, SessionChannel.IN_PERSON, c1)
    world.move("2026-03-12")
    v = svc.start_level_2("apec", a, expected_version=v).version
    v = session(a, v, SessionChannel.IN_PERSON, c1)
    v = complete(a, v, {"level2.project": project("career_development")})
    v = svc.attach_funding_plan(
        "apec",
        a,
        FundingPlanRequest(
            training=CaseTraining(service=0, cost_eur=1500, hours=35),
            situation=CaseFundingFacts(cpf_balance_eur=800),
        ),
        expected_version=v,
    ).version
    kit.surveys.run()  # A's level 1 ended on 03-12
    # B: level 2 after 20 days, stays there.
    b, vb = open_case("B", "2026-03-03", c2, "b.roussel@exemple.fr")
    vb = level_one(b, vb, SessionChannel.PHONE, c2)
    # C: referred from level 1.
    c, vc = open_case("C", "2026-03-04", c1, "c.roussel@exemple.fr")
    vc = level_one(c, vc, SessionChannel.VIDEO, c1)
    world.move("2026-03-05")
    svc.refer("apec", c, "regional", ReferralReason.BETTER_SUITED, expected_version=vc)
    # D: opened only.
    open_case("D", "2026-03-05", c2, "d.roussel@exemple.fr")
    world.move("2026-03-23")
    svc.start_level_2("apec", b, expected_version=vb)
    kit.surveys.run()  # B's level 1 (03-23), C's (03-05)
    # E: April, closed at level 1, no address.
    e, ve = open_case("E", "2026-04-02", c1, None)
    ve = level_one(e, ve, SessionChannel.IN_PERSON, c1)
    world.move("2026-04-03")
    svc.close("apec", e, CloseReason.ABANDONED, expected_version=ve)
    world.move("2026-04-21")
    svc.close("apec", a, CloseReason.COMPLETED, expected_version=svc.get_case("apec", a).version)
    kit.surveys.run()  # A's level 2, E's level 1 (skipped: no address)
    # Another operator's case, same period.
    world.move("2026-03-02")
    other = svc.open_case(
        "regional",
        NewBeneficiary(first_name="Noé", last_name="Fabre", email="noe@exemple.fr"),
        Situation(birth_date=date(1986, 7, 14), as_of=date(2026, 3, 2), status=Status.EMPLOYEE,
                  region="53"),
        force=True,
    )  # fmt: skip
    world.other_case = other.id
    world.move("2026-04-30", 12)
    return world


@dataclass
class Template:
    folder: Path
    cases: dict[str, str]
    counsellors: dict[str, StaffUser]
    other_case: str


@pytest.fixture(scope="session")
def world_template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    """The world built once (SQLite); each test gets a copy of its files (fast)."""
    folder = tmp_path_factory.mktemp("reporting-world")
    now = [at("2026-03-01")]
    kit = reporting_kit(folder, None, now)
    built = build_world(kit, now)
    kit.close()
    return Template(folder, built.cases, built.counsellors, built.other_case)


@pytest.fixture
def world(world_template: Template, tmp_path: Path) -> Iterator[World]:
    """A fresh copy of the world at 2026-04-30 12:00 UTC, on SQLite."""
    folder = tmp_path / "world"
    shutil.copytree(world_template.folder, folder)
    now = [at("2026-04-30", 12)]
    kit = reporting_kit(folder, None, now)
    yield World(
        kit=kit,
        now=now,
        counsellors=dict(world_template.counsellors),
        cases=dict(world_template.cases),
        other_case=world_template.other_case,
    )
    kit.close()


@pytest.fixture
def built_world(database_url: str, tmp_path: Path) -> Iterator[World]:
    """The world built through the services on each backend (SQLite and PostgreSQL)."""
    now = [at("2026-03-01")]
    kit = reporting_kit(tmp_path, database_url, now)
    yield build_world(kit, now)
    kit.close()


@pytest.fixture
def cli_env(world, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """The world, with ``cep`` pointed at its database (the CLI opens its own kit)."""
    monkeypatch.setenv("CEP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CEP_DATABASE_URL", world.kit.settings.effective_database_url)
    monkeypatch.setenv("CEP_PSEUDONYMISATION_KEY", "une clé de pseudonymisation de test")
    monkeypatch.setenv("CEP_PLUGINS", "apec,regional")
    return world

"""Fixtures for the GDPR tests: fake operators, a settable clock, kits on SQLite and PostgreSQL,
and `seed_person`, which files one person with every kind of record the schema can hold
(cases with notes and free text, journal lines, syntheses with their PDFs, download links, an
appointment request, a pending e-mail, audit events, survey answers, a rectification).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Annotated, Any, Protocol

import msgspec
import pytest
from request_helpers import START, FakeClock
from sqlalchemy import insert

from cep_core import (
    Competence,
    DatedLabel,
    OperatorContext,
    PluginInfo,
    PluginKind,
    Situation,
    hookimpl,
)
from cep_core.domain.case import (
    Beneficiary,
    Case,
    CaseStatus,
    CloseReason,
    Closure,
    IntakeRecord,
    Level,
    SessionRecord,
    StepRecord,
)
from cep_core.domain.forms import FormChannel, IntakeForm, SessionChannel
from cep_core.domain.requests import (
    AppointmentRequest,
    Consent,
    ContactDetails,
    Identity,
    Preferences,
    RequestStatus,
    new_reference,
)
from cep_core.domain.situation import Status
from cep_core.kit import Kit
from cep_core.mail.outbox import enqueue
from cep_core.services.gdpr import record_rectification
from cep_core.settings import Settings
from cep_core.storage import tables
from cep_core.storage.ids import new_id
from cep_core.storage.repositories import (
    BeneficiaryRepository,
    CaseEventRepository,
    CaseRepository,
)
from cep_core.storage.requests import RequestRepository
from cep_core.storage.syntheses import SynthesisRepository

OPERATORS = ("op_a", "op_b")
SECRET_NOTE = "Note confidentielle : conflit avec sa manageuse"
FREE_TEXT = "Devenir ébéniste à Quimper"


class Intake(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    employer: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    hours: Annotated[int, msgspec.Meta(ge=0, le=48)] | None = None


class FakeOperator:
    operator_id = "?"

    @hookimpl
    def cep_intake_form(self, ctx: OperatorContext, channel: FormChannel) -> IntakeForm | None:
        return IntakeForm(operator=self.operator_id, title="Accueil", input=Intake)

    @hookimpl
    def cep_assess_competence(self, situation: Situation) -> Competence:
        return Competence(
            operator=self.operator_id, competent=True, name=self.operator_id, reason="Tous."
        )

    @hookimpl
    def cep_plugin_info(self) -> PluginInfo:
        return PluginInfo(
            id=self.operator_id,
            kind=PluginKind.OPERATOR,
            labels=(
                DatedLabel(
                    valid_from=date(2020, 1, 1), value=f"Opérateur {self.operator_id}", source="t"
                ),
            ),
            core_range=">=0",
        )


def fake_operator(operator_id: str) -> object:
    cls = type(f"GdprOperator_{operator_id}", (FakeOperator,), {"operator_id": operator_id})
    return cls()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def kit(database_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[Kit]:
    kit = Kit(
        [fake_operator(o) for o in OPERATORS],
        settings=Settings(data_dir=tmp_path, database_url=database_url),
        load_entrypoints=False,
        clock=clock,
    )
    kit.check()
    kit.database.upgrade()
    yield kit
    kit.close()


class Seeded(msgspec.Struct, kw_only=True):
    operator: str
    beneficiary_id: str
    email: str
    case_ids: list[str]
    synthesis_ids: list[str]
    request_id: str
    pdf: bytes


class Seeder(Protocol):
    def __call__(self, kit: Kit, operator: str = "op_a", **kwargs: Any) -> Seeded: ...


def mime_to(address: str, subject: str = "Votre demande") -> bytes:
    message = EmailMessage()
    message["From"] = "cep@plateforme.exemple.fr"
    message["To"] = address
    message["Subject"] = subject
    message.set_content(f"Bonjour, {subject}.")
    return message.as_bytes()


def seed_person(
    kit: Kit,
    operator: str = "op_a",
    *,
    first_name: str = "Élodie",
    last_name: str = "Lefèvre",
    cases: int = 2,
    syntheses_per_case: int = 2,
    pdf: bytes = b"%PDF-1.7 synthese de test\n%%EOF",
) -> Seeded:
    """One person with every kind of record, as of the clock's time."""
    now = kit.clock()
    email = f"p{new_id()[-10:]}@exemple.fr"
    person = Beneficiary(
        id=new_id(),
        operator=operator,
        first_name=first_name,
        last_name=last_name,
        email=email,
        phone="06 12 34 56 78",
        created_at=now,
    )
    situation = Situation(
        birth_date=date(1988, 4, 12),
        as_of=now.date(),
        status=Status.EMPLOYEE,
        cadre=True,
        region="53",
    )
    case_ids: list[str] = []
    synthesis_ids: list[str] = []
    with kit.database.write() as conn:
        BeneficiaryRepository(conn, operator).add(person)
        for index in range(cases):
            case = Case(
                id=new_id(),
                operator=operator,
                beneficiary_id=person.id,
                status=CaseStatus.CLOSED if index == 0 else CaseStatus.LEVEL_TWO,
                level=Level.TWO,
                situation=situation,
                counsellor_id="conseiller-1",
                created_at=now,
                updated_at=now,
                intake=IntakeRecord(
                    channel=FormChannel.COUNSELLOR,
                    answers={"employer": "Menuiserie Durand", "hours": 35},
                    submitted_at=now,
                ),
                steps={
                    "level2.project": StepRecord(
                        data={
                            "objective": "retraining",
                            "description": FREE_TEXT,
                            "strategies": ["Formation CAP"],
                        },
                        completed=True,
                        updated_at=now,
                        completed_at=now,
                    ),
                    "level2.action_plan": StepRecord(
                        data={
                            "services": [{"kind": "training", "label": "CAP ébéniste"}],
                            "milestones": [{"on": "2026-09-01", "label": "Entrée en formation"}],
                        },
                        updated_at=now,
                    ),
                },
                sessions=(
                    SessionRecord(
                        id=new_id(),
                        start=now,
                        channel=SessionChannel.IN_PERSON,
                        duration_minutes=60,
                        counsellor_id="conseiller-1",
                        notes=SECRET_NOTE,
                        level=Level.TWO,
                        recorded_at=now,
                    ),
                ),
                closure=(
                    Closure(reason=CloseReason.COMPLETED, note="Parti en formation", at=now)
                    if index == 0
                    else None
                ),
            )
            CaseRepository(conn, operator).add(case)
            CaseEventRepository(conn, operator).append(
                case_id=case.id, at=now, kind="opened", actor="conseiller-1"
            )
            case_ids.append(case.id)
            for _ in range(syntheses_per_case):
                synthesis = SynthesisRepository(conn, operator).add(
                    case_id=case.id,
                    level=Level.TWO,
                    content_hash="0" * 64,
                    created_at=now,
                    author="conseiller-1",
                    pdf=pdf,
                )
                synthesis_ids.append(synthesis.id)
            kit.download_links.create(
                conn,
                operator=operator,
                case_id=case.id,
                synthesis_id=synthesis_ids[-1],
                ttl=timedelta(days=7),
            )
        request = AppointmentRequest(
            id=new_id(),
            reference=new_reference(),
            operator=operator,
            status=RequestStatus.ACCEPTED,
            created_at=now,
            updated_at=now,
            identity=Identity(first_name=first_name, last_name=last_name),
            contact=ContactDetails(email=email, phone="06 12 34 56 78"),
            preferences=Preferences(channel=SessionChannel.PHONE),
            message="Je voudrais changer de métier",
            situation=situation,
            consent=Consent(given_at=now, notice_version="2026-01"),
            case_id=case_ids[0],
        )
        RequestRepository(conn, operator).add(request)
        enqueue(conn, operator=operator, kind="request_ack", message=mime_to(email), now=now)
        record_rectification(
            conn,
            operator=operator,
            beneficiary_id=person.id,
            case_id=None,
            at=now,
            actor="conseiller-1",
            fields=["phone"],
            reason="Numéro mal saisi par Élodie elle-même",
        )
        invitation_id = new_id()
        conn.execute(
            insert(tables.metadata.tables["survey_invitations"]).values(
                id=invitation_id,
                operator=operator,
                case_id=case_ids[0],
                kind="satisfaction",
                level=2,
                status="answered",
                created_at=now,
                due_at=now,
                answered_at=now,
            )
        )
        conn.execute(
            insert(tables.metadata.tables["survey_answers"]).values(
                id=new_id(),
                invitation_id=invitation_id,
                operator=operator,
                case_id=case_ids[0],
                kind="satisfaction",
                level=2,
                answered_at=now,
                satisfaction=5,
                doc=msgspec.json.encode(
                    {
                        "overall": 5,
                        "listening": 5,
                        "clarity": 4,
                        "next_steps": 4,
                        "recommend": True,
                        "comment": "Merci à Claire, ma conseillère",
                    }
                ).decode(),
            )
        )
    for case_id in case_ids:
        kit.audit.record(
            action="case.read",
            operator=operator,
            actor="conseiller-1",
            record_type="case",
            record_id=case_id,
        )
    return Seeded(
        operator=operator,
        beneficiary_id=person.id,
        email=email,
        case_ids=case_ids,
        synthesis_ids=synthesis_ids,
        request_id=request.id,
        pdf=pdf,
    )

"""Fixtures for the document tests.

- ``samples``: builders of a realistic case (both levels' steps completed, sessions carrying
  confidential notes, a referral, a funding plan), from the core's Structs only;
- ``pool`` (session): a small render pool, warm, shared by the tests that only need PDFs;
- ``pdf_tools``: pdfinfo / pdftotext / pdffonts / pdfdetach wrappers.

Tests run with ``--import-mode=importlib`` and cannot import this file: they get what they
need through these fixtures.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import zlib
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import msgspec
import pytest

from cep_core import DatedLabel, PluginInfo, PluginKind, RenderRequest, hookimpl
from cep_core.documents.pool import RenderPool, RenderSettings
from cep_core.domain.case import (
    Beneficiary,
    Case,
    CaseStatus,
    Level,
    ReferralReason,
    SessionRecord,
    StepRecord,
)
from cep_core.domain.forms import SessionChannel
from cep_core.domain.funding import (
    FundingLine,
    FundingPlan,
    FundingStatus,
    ParticipationLine,
    ParticipationPayer,
)
from cep_core.domain.situation import Situation, Status
from cep_core.domain.steps import (
    LEVEL_ONE_RECORD,
    LEVEL_TWO_ACTION_PLAN,
    LEVEL_TWO_PROJECT,
    ActionPlan,
    CareerProject,
    InformationKind,
    Level1Record,
    Level1Referral,
    Milestone,
    PersonalStep,
    PlannedService,
    ProjectObjective,
    ServiceKind,
)
from cep_core.kit import Kit
from cep_core.settings import Settings

CONFIDENTIAL = "NOTE-CONFIDENTIELLE-7Q2"
AT = datetime(2026, 3, 4, 13, 30, tzinfo=UTC)


def level1_record(**changes: Any) -> Level1Record:
    record = Level1Record(
        request="Je souhaite changer de métier et travailler dans le soin aux personnes âgées.",
        clarified_need="Valider un projet de reconversion vers le métier d'aide-soignante.",
        information_given=(InformationKind.CEP_SERVICE, InformationKind.TRAINING,
                           InformationKind.FUNDING),
        shared_review="Projet mûri depuis deux ans ; expérience bénévole en EHPAD.",
        continues=True,
        referral=Level1Referral(operator="mission_locale", reason=ReferralReason.BETTER_SUITED,
                                note="Rendez-vous proposé à la Mission locale de Lyon."),
    )  # fmt: skip
    return msgspec.structs.replace(record, **changes)


def career_project(**changes: Any) -> CareerProject:
    project = CareerProject(
        objective=ProjectObjective.RETRAINING,
        description="Devenir aide-soignante en EHPAD dans la métropole de Lyon.",
        strategies=("Obtenir le diplôme d'État d'aide-soignant par la formation continue.",
                    "Travailler d'abord comme agente de service hospitalier."),
        target_job="Aide-soignante",
        rome_code="J1501",
    )  # fmt: skip
    return msgspec.structs.replace(project, **changes)


def action_plan(**changes: Any) -> ActionPlan:
    plan = ActionPlan(
        services=(
            PlannedService(kind=ServiceKind.TRAINING, label="Diplôme d'État d'aide-soignant",
                           provider="IFAS Lumière", provider_qualiopi=True,
                           certification_code="RNCP35830", start=date(2026, 9, 7),
                           end=date(2027, 6, 30)),
            PlannedService(kind=ServiceKind.SKILLS_ASSESSMENT, label="Bilan de compétences",
                           provider="Cabinet Orientation Plus", provider_qualiopi=True,
                           start=date(2026, 4, 6), end=date(2026, 5, 29)),
        ),
        personal_steps=(
            PersonalStep(description="Faire un stage d'observation de deux semaines en EHPAD.",
                         support="Atelier de préparation aux candidatures",
                         due=date(2026, 5, 15)),
        ),
        milestones=(
            Milestone(on=date(2026, 4, 30), label="Dépôt du dossier de financement"),
            Milestone(on=date(2026, 6, 15), label="Épreuves de sélection de l'IFAS"),
        ),
    )  # fmt: skip
    return msgspec.structs.replace(plan, **changes)


def funding_plan() -> FundingPlan:
    return FundingPlan(
        total_cost=612_345,
        teaching_cost=612_345,
        lines=(
            FundingLine(funder="cpf", label="Compte personnel de formation (CPF)",
                        amount=310_000, status=FundingStatus.GRANTED),
            FundingLine(funder="transitions_pro", label="Transitions Pro",
                        amount=278_022, status=FundingStatus.REQUESTED),
        ),
        participation=ParticipationLine(amount=10_223, payer=ParticipationPayer.HOLDER,
                                        flat_amount=10_223),
        remaining=24_323,
    )  # fmt: skip


def sample_id(operator: str, kind: str) -> str:
    """A stable 32-hex id per operator and kind (ids are globally unique in the tables)."""
    return hashlib.sha256(f"{operator}/{kind}".encode()).hexdigest()[:32]


def beneficiary(operator: str = "apec", **changes: Any) -> Beneficiary:
    person = Beneficiary(
        id=sample_id(operator, "beneficiary"),
        operator=operator,
        first_name="Élodie",
        last_name="Lefèvre-Œuvray",
        created_at=AT,
    )
    return msgspec.structs.replace(person, **changes)


def step(value: msgspec.Struct) -> StepRecord:
    return StepRecord(data=msgspec.to_builtins(value), completed=True, updated_at=AT,
                      completed_at=AT)  # fmt: skip


def session(start: datetime, level: Level, channel: SessionChannel, minutes: int) -> SessionRecord:
    return SessionRecord(
        id=f"{start:%Y%m%d%H%M}".ljust(32, "0"), start=start, channel=channel,
        duration_minutes=minutes, counsellor_id="c.martin", outside_working_time=True,
        notes=f"{CONFIDENTIAL} : la personne évoque des difficultés familiales.", level=level,
        recorded_at=start, recorded_by="c.martin",
    )  # fmt: skip


def full_case(operator: str = "apec", **changes: Any) -> Case:
    """A case that went through both levels, with every legal step completed."""
    case = Case(
        id=sample_id(operator, "case"),
        operator=operator,
        beneficiary_id=sample_id(operator, "beneficiary"),
        status=CaseStatus.LEVEL_TWO,
        level=Level.TWO,
        situation=Situation(birth_date=date(1985, 5, 17), as_of=date(2026, 3, 4),
                            status=Status.EMPLOYEE, cadre=True),
        counsellor_id="c.martin",
        created_at=datetime(2026, 2, 2, 8, 0, tzinfo=UTC),
        updated_at=AT,
        steps={
            LEVEL_ONE_RECORD: step(level1_record()),
            LEVEL_TWO_PROJECT: step(career_project()),
            LEVEL_TWO_ACTION_PLAN: step(action_plan()),
        },
        sessions=(
            session(datetime(2026, 2, 3, 8, 30, tzinfo=UTC), Level.ONE, SessionChannel.IN_PERSON, 60),
            session(datetime(2026, 2, 17, 15, 0, tzinfo=UTC), Level.TWO, SessionChannel.VIDEO, 90),
            session(datetime(2026, 3, 4, 13, 30, tzinfo=UTC), Level.TWO, SessionChannel.PHONE, 45),
        ),
        funding_plan=funding_plan(),
    )  # fmt: skip
    return msgspec.structs.replace(case, **changes)


# -- fixtures --------------------------------------------------------------------------------

OPERATORS = ("apec", "cap_emploi", "mission_locale", "pole_emploi", "regional")
NOW = datetime(2026, 3, 5, 10, 0, tzinfo=UTC)


@pytest.fixture
def samples() -> SimpleNamespace:
    return SimpleNamespace(
        full_case=full_case,
        beneficiary=beneficiary,
        level1_record=level1_record,
        career_project=career_project,
        action_plan=action_plan,
        funding_plan=funding_plan,
        step=step,
        session=session,
        sample_id=sample_id,
        CONFIDENTIAL=CONFIDENTIAL,
        AT=AT,
    )


@pytest.fixture(scope="session")
def pool() -> Iterator[RenderPool]:
    """Two warm workers for the whole session (the pool tests build their own)."""
    with RenderPool(RenderSettings(workers=2, timeout_seconds=60)) as shared:
        shared.start(wait=True)
        yield shared


class PoolRenderer:
    """A renderer plugin answering before the default one, on a given pool; counts calls."""

    def __init__(self, pool: RenderPool) -> None:
        self.pool = pool
        self.calls = 0

    @hookimpl
    def cep_plugin_info(self) -> PluginInfo:
        return PluginInfo(
            id="test.renderer",
            kind=PluginKind.CAPABILITY,
            labels=(DatedLabel(valid_from=date(2020, 1, 1), value="Rendu de test", source="t"),),
            core_range=">=0",
        )

    @hookimpl
    def cep_render_pdf(self, request: RenderRequest) -> bytes:
        self.calls += 1
        return self.pool.render(request)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def renderer(pool: RenderPool) -> PoolRenderer:
    return PoolRenderer(pool)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def real_kit(tmp_path: Path, renderer: PoolRenderer, clock: Clock) -> Iterator[Kit]:
    """The five real operator plugins (entry points), the test renderer, a SQLite file."""
    kit = Kit(
        [renderer],
        settings=Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'k.sqlite3'}"),
        load_entrypoints=True,
        clock=clock,
    )
    kit.check()
    assert {info.id for info in kit.hooks.operators()} >= set(OPERATORS)
    yield kit
    kit.close()


# -- PDF tools (poppler-utils) ---------------------------------------------------------------


def _run(*args: str, data: bytes) -> str:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "doc.pdf"
        path.write_bytes(data)
        result = subprocess.run(
            [*args, str(path), *(["-"] if args[0] == "pdftotext" else [])],
            capture_output=True,
            check=True,
            timeout=60,
        )
        return result.stdout.decode("utf-8")


def pdf_text(data: bytes) -> str:
    return _run("pdftotext", "-enc", "UTF-8", data=data)


def pdf_info(data: bytes) -> dict[str, str]:
    lines = _run("pdfinfo", data=data).splitlines()
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in lines)}


def pdf_fonts(data: bytes) -> str:
    return _run("pdffonts", data=data)


def pdf_attachments(data: bytes) -> str:
    return _run("pdfdetach", "-list", data=data)


def pdf_catalog(data: bytes) -> bytes:
    """The document catalog dictionary (WeasyPrint puts it in a compressed object stream)."""
    bodies = [data]
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            bodies.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue
    for body in bodies:
        found = body.find(b"/Type /Catalog")
        if found < 0:
            continue
        start = body.rfind(b"<<", 0, found)
        depth, index = 0, start
        while index < len(body):
            if body.startswith(b"<<", index):
                depth, index = depth + 1, index + 2
            elif body.startswith(b">>", index):
                depth, index = depth - 1, index + 2
                if depth == 0:
                    return body[start:index]
            else:
                index += 1
    return b""


def pdf_pages_png(data: bytes, folder: Path, prefix: str, dpi: int = 60) -> list[Path]:
    pdf = folder / f"{prefix}.pdf"
    pdf.write_bytes(data)
    subprocess.run(
        ["pdftoppm", "-png", "-r", str(dpi), str(pdf), str(folder / prefix)],
        check=True,
        timeout=60,
    )
    return sorted(folder.glob(f"{prefix}*.png"))


@pytest.fixture(scope="session")
def pdf_tools() -> SimpleNamespace:
    missing = [t for t in ("pdfinfo", "pdftotext", "pdffonts", "pdfdetach", "pdftoppm")
               if shutil.which(t) is None]  # fmt: skip
    if missing:
        pytest.fail(f"poppler-utils missing ({', '.join(missing)}): .ci/run installs it")
    return SimpleNamespace(
        text=pdf_text,
        info=pdf_info,
        fonts=pdf_fonts,
        attachments=pdf_attachments,
        catalog=pdf_catalog,
        pages_png=pdf_pages_png,
    )


# -- a TCP server that records every connection (http:// and https:// alike) ---------------


class RecordingServer:
    """Accepts connections on 127.0.0.1 and records each one, whatever is sent (a TLS
    handshake counts as much as an HTTP request), then closes it."""

    def __init__(self) -> None:
        self.hits: list[bytes] = []
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(16)
        self._socket.settimeout(0.2)
        self.port = int(self._socket.getsockname()[1])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with connection:
                connection.settimeout(1)
                try:
                    self.hits.append(connection.recv(1024))
                except OSError:
                    self.hits.append(b"")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self._socket.close()


@pytest.fixture
def recording_server() -> Iterator[RecordingServer]:
    server = RecordingServer()
    yield server
    server.close()

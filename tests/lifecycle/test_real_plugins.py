"""Done-when, with the five real operator plugins: a complete case each, and a referral.

Each operator's own intake form and steps are filled with the smallest answers their input
Structs accept (`minimal`), plus the few their own rules require (`OVERRIDES`); the core's
steps get real answers. The flows themselves are tested in each plugin's own tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from msgspec import inspect as mi

from cep_apec import hooks as apec
from cep_cap_emploi import hooks as cap_emploi
from cep_core import (
    CaseStatus,
    CloseReason,
    FormChannel,
    Level,
    ReferralReason,
    Role,
    SessionChannel,
    Situation,
    Status,
)
from cep_core.kit import Kit
from cep_core.services.cases import CaseService, NewBeneficiary, NewSession
from cep_core.settings import Settings
from cep_core.storage.database import Database
from cep_mission_locale import hooks as mission_locale
from cep_pole_emploi import hooks as pole_emploi
from cep_regional import hooks as regional

TODAY = date(2026, 3, 2)

SITUATIONS = {
    "apec": Situation(
        birth_date=date(1979, 5, 4), as_of=TODAY, status=Status.EMPLOYEE, cadre=True, region="11"
    ),
    "cap_emploi": Situation(
        birth_date=date(1975, 9, 1), as_of=TODAY, status=Status.JOBSEEKER,
        registered_jobseeker=True, disability_recognition=True, region="84",
    ),
    "mission_locale": Situation(
        birth_date=date(2005, 1, 20), as_of=TODAY, status=Status.JOBSEEKER, seeking_job=True,
        region="93",
    ),
    "pole_emploi": Situation(
        birth_date=date(1984, 2, 10), as_of=TODAY, status=Status.JOBSEEKER,
        registered_jobseeker=True, region="32",
    ),
    "regional": Situation(
        birth_date=date(1986, 7, 14), as_of=TODAY, status=Status.EMPLOYEE, region="53"
    ),
}  # fmt: skip

# What the operators' own rules require beyond the smallest typed answers.
OVERRIDES: dict[str, dict[str, Any]] = {"pole_emploi": {"registration_id": "AB12345"}}

CORE: dict[str, dict[str, Any]] = {
    "level1.record": {
        "request": "Je souhaite faire le point sur mon parcours.",
        "clarified_need": "Construire un projet d'évolution réaliste.",
        "information_given": ["cep_service", "job_market", "funding"],
        "shared_review": "La personne veut être accompagnée pour formaliser son projet.",
        "continues": True,
    },
    "level2.project": {
        "objective": "career_development",
        "description": "Évoluer vers un poste de coordination.",
        "strategies": ["Formation courte certifiante", "Mobilité interne"],
        "rome_code": "M1302",
    },
    "level2.action_plan": {
        "services": [
            {
                "kind": "training",
                "label": "Certificat de coordination d'équipe",
                "provider": "Organisme régional",
                "provider_qualiopi": True,
            }
        ],
        "personal_steps": [{"description": "Rencontrer deux coordinateurs en poste"}],
        "milestones": [{"on": "2026-06-01", "label": "Entrée en formation"}],
    },
}


def minimal(info: Any) -> Any:
    """The smallest answer a type accepts: required fields only, first choices, lower bounds."""
    if isinstance(info, type):
        info = mi.type_info(info)
    if isinstance(info, mi.Metadata):
        return minimal(info.type)
    if isinstance(info, mi.UnionType):
        if any(isinstance(t, mi.NoneType) for t in info.types):
            return None
        return minimal(info.types[0])
    if isinstance(info, mi.StrType):
        return "Réponse"[: info.max_length or 7].ljust(info.min_length or 0, "x")
    if isinstance(info, mi.BoolType):
        return True
    if isinstance(info, mi.IntType):
        low = info.ge if info.ge is not None else 0
        return max(low, 1) if info.le is None or info.le >= 1 else low
    if isinstance(info, mi.EnumType):
        return next(iter(info.cls)).value
    if isinstance(info, mi.LiteralType):
        return info.values[0]
    if isinstance(info, mi.DateType):
        return TODAY.isoformat()
    if isinstance(info, mi.ListType | mi.VarTupleType | mi.SetType | mi.FrozenSetType):
        return [minimal(info.item_type) for _ in range(info.min_length or 0)]
    if isinstance(info, mi.StructType):
        return {f.encode_name: minimal(f.type) for f in info.fields if f.required}
    raise AssertionError(f"no minimal answer for {info!r}")


@pytest.fixture
def service(database: Database, tmp_path: Path) -> Iterator[tuple[CaseService, list[datetime]]]:
    now = [datetime(2026, 3, 2, 9, 0, tzinfo=UTC)]
    kit = Kit(
        [apec, cap_emploi, mission_locale, pole_emploi, regional],
        settings=Settings(data_dir=tmp_path),
        load_entrypoints=False,
        clock=lambda: now[0],
    )
    assert kit.registry.refused == []
    yield CaseService(database, kit.hooks, clock=lambda: now[0]), now
    kit.close()


def complete_level(svc: CaseService, operator: str, case_id: str, version: int) -> int:
    """Complete every required step of the case's current level; return the new version."""
    for step in svc.step_definitions(operator, case_id):
        if step.required:
            data = CORE.get(step.id) or minimal(step.input)
            saved = svc.save_step(
                operator, case_id, step.id, data, complete=True, expected_version=version,
                actor="conseiller-1",
            )  # fmt: skip
            version = saved.case.version
    progress = svc.progress(operator, case_id)
    assert progress is not None
    assert progress.percent == 100
    return version


@pytest.mark.parametrize("operator", sorted(SITUATIONS))
def test_a_complete_case_with_each_real_operator(
    service: tuple[CaseService, list[datetime]], operator: str
) -> None:
    svc, now = service
    form = svc.intake_form(operator, FormChannel.COUNSELLOR)
    assert form is not None, f"{operator} has its own intake form"
    intake = {**minimal(form.input), **OVERRIDES.get(operator, {})}
    case = svc.open_case(
        operator,
        NewBeneficiary(first_name="Maëlle", last_name="Roussel"),
        SITUATIONS[operator],
        intake=intake,
        counsellor_id="conseiller-1",
        actor="conseiller-1",
    )
    assert case.intake is not None
    v = svc.start_level_1(operator, case.id, expected_version=case.version).version
    v = svc.record_session(
        operator, case.id,
        NewSession(start=now[0], channel=SessionChannel.IN_PERSON, duration_minutes=90,
                   outside_working_time=True, notes="Notes du conseiller."),
        expected_version=v, actor="conseiller-1",
    ).version  # fmt: skip
    v = complete_level(svc, operator, case.id, v)
    v = svc.start_level_2(operator, case.id, expected_version=v).version
    v = svc.pause(operator, case.id, expected_version=v).version
    now[0] = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)  # six months later: no expiry
    v = svc.resume(operator, case.id, expected_version=v).version
    v = complete_level(svc, operator, case.id, v)
    closed = svc.close(operator, case.id, CloseReason.COMPLETED, expected_version=v)
    assert (closed.status, closed.level) == (CaseStatus.CLOSED, Level.TWO)
    events = svc.case_events(operator, case.id)
    transitions = [(e.from_status, e.to_status) for e in events if e.kind == "transition"]
    assert transitions == [
        (CaseStatus.OPENED, CaseStatus.LEVEL_ONE),
        (CaseStatus.LEVEL_ONE, CaseStatus.LEVEL_TWO),
        (CaseStatus.LEVEL_TWO, CaseStatus.PAUSED),
        (CaseStatus.PAUSED, CaseStatus.LEVEL_TWO),
        (CaseStatus.LEVEL_TWO, CaseStatus.CLOSED),
    ]
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    view = svc.view_case(operator, case.id, role=Role.BENEFICIARY)
    assert view.case.sessions[0].notes is None


@pytest.mark.parametrize("operator", sorted(SITUATIONS))
def test_each_real_operator_takes_its_public_form(
    service: tuple[CaseService, list[datetime]], operator: str
) -> None:
    svc, _ = service
    form = svc.intake_form(operator, FormChannel.PUBLIC)
    assert form is not None
    extra = {k: v for k, v in OVERRIDES.get(operator, {}).items() if k in _fields(form.input)}
    case = svc.open_case(
        operator,
        NewBeneficiary(first_name="Noé", last_name="Fabre"),
        SITUATIONS[operator],
        intake={**minimal(form.input), **extra},
        channel=FormChannel.PUBLIC,
    )
    assert case.intake is not None
    assert case.intake.channel is FormChannel.PUBLIC


def _fields(model: Any) -> set[str]:
    info = mi.type_info(model)
    assert isinstance(info, mi.StructType)
    return {f.encode_name for f in info.fields}


def test_a_case_referred_from_one_real_operator_to_another(
    service: tuple[CaseService, list[datetime]],
) -> None:
    svc, _ = service
    cadre = SITUATIONS["apec"]
    case = svc.open_case(
        "apec",
        NewBeneficiary(first_name="Théo", last_name="Garnier"),
        cadre,
        level=Level.ONE,
        actor="conseiller-apec",
    )
    referred = svc.refer(
        "apec", case.id, "regional", ReferralReason.PERSON_REQUEST,
        note="Préfère un conseiller près de chez lui.", expected_version=case.version,
        actor="conseiller-apec",
    )  # fmt: skip
    assert referred.status is CaseStatus.REFERRED
    assert referred.steps["level1.record"].data["referral"]["operator"] == "regional"
    last = svc.case_events("apec", case.id)[-1]
    assert (last.to_status, last.reason) == (CaseStatus.REFERRED, "person_request")
    # The regional operator, competent for a cadre in work too, opens its own case.
    theirs = svc.open_case(
        "regional",
        NewBeneficiary(first_name="Théo", last_name="Garnier"),
        cadre,
        level=Level.ONE,
        actor="conseiller-region",
    )
    assert theirs.operator == "regional"
    assert svc.list_cases("regional", name="theo garnier").items == (
        theirs.without_confidential_notes(),
    )
    assert svc.list_cases("apec", name="garnier").items[0].status is CaseStatus.REFERRED

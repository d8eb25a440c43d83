"""Fixtures for the case lifecycle: small fake operators with a flow of their own.

- ``op_a`` has an intake form (a counsellor's and a shorter public one) with its own rule, an
  extra required level-1 step (``op_a.positioning``) with its own check, an optional level-2
  step that depends on the action plan, a configurable veto and an event listener;
- ``op_b`` is a plain operator (the referral target);
- ``op_r`` replaces the core level-1 record with a subclass adding one field.

Tests run with ``--import-mode=importlib`` and cannot import this file: what they need comes
as fixtures (``world`` bundles the service, the kit, the clock and the plugins).
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import msgspec
import pytest

from cep_core import (
    Case,
    CaseEvent,
    Competence,
    DatedLabel,
    FormChannel,
    IntakeForm,
    Issue,
    Level,
    Level1Record,
    OperatorContext,
    PluginInfo,
    PluginKind,
    Situation,
    Status,
    StepDefinition,
    Transition,
    hookimpl,
)
from cep_core.kit import Kit
from cep_core.services.cases import CaseService, NewBeneficiary
from cep_core.settings import Settings
from cep_core.storage.database import Database

TODAY = date(2026, 3, 2)


class Contract(enum.StrEnum):
    CDI = "cdi"
    CDD = "cdd"


class CounsellorIntake(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    employer_size: Annotated[int, msgspec.Meta(ge=1, le=1_000_000, title="Effectif")]
    contract: Annotated[Contract, msgspec.Meta(title="Contrat")]
    wishes: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None


class PublicIntake(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    wishes: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class Positioning(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    score: Annotated[int, msgspec.Meta(ge=0, le=10, title="Positionnement")]
    comment: Annotated[str, msgspec.Meta(max_length=200)] | None = None


class FollowUp(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    months: Annotated[int, msgspec.Meta(ge=1, le=24)]


class RecordWithSector(Level1Record, frozen=True, kw_only=True, forbid_unknown_fields=True):
    sector: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


def _info(operator_id: str) -> PluginInfo:
    return PluginInfo(
        id=operator_id,
        kind=PluginKind.OPERATOR,
        labels=(
            DatedLabel(valid_from=date(2020, 1, 1), value=f"Opérateur {operator_id}", source="t"),
        ),
        core_range=">=0",
    )


class Operator:
    """A fake operator competent for everyone unless told otherwise; records its events."""

    operator_id = "?"

    def __init__(self) -> None:
        self.competent = True
        self.events: list[tuple[OperatorContext, CaseEvent]] = []
        self.veto: list[Issue] = []
        self.transitions: list[Transition] = []
        self.fail_in: set[str] = set()  # hook names that raise, to inject faults

    def _maybe_fail(self, hook: str) -> None:
        if hook in self.fail_in:
            raise RuntimeError(f"panne injectée dans {hook}")

    @hookimpl
    def cep_plugin_info(self) -> PluginInfo:
        return _info(self.operator_id)

    @hookimpl
    def cep_assess_competence(self, situation: Situation) -> Competence:
        return Competence(
            operator=self.operator_id,
            competent=self.competent,
            name=f"Opérateur {self.operator_id}",
            reason="Pour tout le monde." if self.competent else "Pour personne.",
        )

    @hookimpl
    def cep_case_event(self, ctx: OperatorContext, event: CaseEvent) -> None:
        self._maybe_fail("cep_case_event")
        self.events.append((ctx, event))

    @hookimpl
    def cep_case_transition(
        self, ctx: OperatorContext, case: Case, transition: Transition
    ) -> list[Issue]:
        self._maybe_fail("cep_case_transition")
        self.transitions.append(transition)
        return list(self.veto)


class OperatorA(Operator):
    operator_id = "op_a"

    def __init__(self) -> None:
        super().__init__()
        self.extra_steps: list[StepDefinition] = []  # offered at their own level
        self.unfiltered_steps: list[StepDefinition] = []  # offered at every level

    @hookimpl
    def cep_intake_form(self, ctx: OperatorContext, channel: FormChannel) -> IntakeForm:
        self._maybe_fail("cep_intake_form")
        if channel is FormChannel.PUBLIC:
            return IntakeForm(operator="op_a", title="Vos souhaits", input=PublicIntake)
        return IntakeForm(operator="op_a", title="Accueil", input=CounsellorIntake)

    @hookimpl
    def cep_validate_intake(self, ctx: OperatorContext, data: Mapping[str, Any]) -> list[Issue]:
        self._maybe_fail("cep_validate_intake")
        if data.get("contract") == "cdd" and not data.get("wishes"):
            return [Issue(path="wishes", message="Pour un CDD, précisez les souhaits.")]
        return []

    @hookimpl
    def cep_session_steps(
        self, ctx: OperatorContext, level: Level, case: Case
    ) -> list[StepDefinition]:
        self._maybe_fail("cep_session_steps")
        extra = [s for s in self.extra_steps if s.level is level] + self.unfiltered_steps
        if level is Level.ONE:
            return [
                StepDefinition(
                    id="op_a.positioning",
                    level=Level.ONE,
                    title="Positionnement",
                    input=Positioning,
                    order=10,
                ),
                *extra,
            ]
        return [
            StepDefinition(
                id="op_a.follow_up",
                level=Level.TWO,
                title="Suivi après l'accompagnement",
                input=FollowUp,
                order=950,
                required=False,
                depends_on=("level2.action_plan",),
            ),
            *extra,
        ]

    @hookimpl
    def cep_validate_step(
        self, ctx: OperatorContext, case: Case, step_id: str, data: Mapping[str, Any]
    ) -> list[Issue]:
        self._maybe_fail("cep_validate_step")
        if step_id == "op_a.positioning" and data.get("score") == 0:
            return [Issue(path="score", message="Un positionnement nul n'est pas accepté.")]
        return []


class OperatorB(Operator):
    operator_id = "op_b"


class OperatorR(Operator):
    operator_id = "op_r"

    @hookimpl
    def cep_session_steps(
        self, ctx: OperatorContext, level: Level, case: Case
    ) -> list[StepDefinition]:
        if level is not Level.ONE:
            return []
        return [
            StepDefinition(
                id="op_r.record",
                level=Level.ONE,
                title="Compte rendu (op_r)",
                input=RecordWithSector,
                replaces="level1.record",
                order=50,
                required=False,  # the core keeps it required anyway
            ),
            StepDefinition(
                id="op_r.after",
                level=Level.ONE,
                title="Après le compte rendu",
                input=FollowUp,
                order=60,
                required=False,
                depends_on=("op_r.record",),
            ),
        ]


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class World:
    """Everything a lifecycle test drives."""

    cases: CaseService
    kit: Kit
    database: Database
    clock: FakeClock
    a: OperatorA
    b: OperatorB
    r: OperatorR

    def person(self, first: str = "Camille", last: str = "Martin") -> NewBeneficiary:
        return NewBeneficiary(first_name=first, last_name=last)

    def situation(self, **changes: Any) -> Situation:
        values: dict[str, Any] = {
            "birth_date": date(1988, 4, 12),
            "as_of": TODAY,
            "status": Status.EMPLOYEE,
            "region": "53",
        }
        values.update(changes)
        return Situation(**values)

    def open(self, operator: str = "op_a", level: Level | None = None, **kwargs: Any) -> Case:
        first = kwargs.pop("first", "Camille")
        last = kwargs.pop("last", "Martin")
        situation = kwargs.pop("situation", None) or self.situation()
        kwargs.setdefault("actor", "c-1")
        return self.cases.open_case(
            operator, self.person(first, last), situation, level=level, **kwargs
        )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 2, 9, 30, tzinfo=UTC))


@pytest.fixture
def world(database: Database, tmp_path: Path, clock: FakeClock) -> Iterator[World]:
    a, b, r = OperatorA(), OperatorB(), OperatorR()
    kit = Kit(
        [a, b, r],
        settings=Settings(data_dir=tmp_path),
        load_entrypoints=False,
        clock=clock,
    )
    kit.check()
    service = CaseService(database, kit.hooks, clock=clock)
    yield World(cases=service, kit=kit, database=database, clock=clock, a=a, b=b, r=r)
    kit.close()


# -- valid answers for the core steps ---------------------------------------------------------

RECORD: dict[str, Any] = {
    "request": "Je voudrais changer de métier.",
    "clarified_need": "Construire un projet de reconversion dans le soin.",
    "information_given": ["cep_service", "training", "funding"],
    "shared_review": "Projet encore flou ; la personne souhaite être accompagnée.",
    "continues": True,
}
PROJECT: dict[str, Any] = {
    "objective": "retraining",
    "description": "Devenir aide-soignante.",
    "strategies": ["Formation qualifiante en alternance"],
    "target_job": "Aide-soignant",
    "rome_code": "J1501",
}
ACTION_PLAN: dict[str, Any] = {
    "services": [
        {
            "kind": "training",
            "label": "Diplôme d'État d'aide-soignant",
            "provider": "IFAS de Rennes",
            "provider_qualiopi": True,
            "certification_code": "RNCP35830",
            "start": "2026-09-01",
            "end": "2027-06-30",
        }
    ],
    "personal_steps": [
        {"description": "Faire un stage d'observation", "support": "Préparer la demande"}
    ],
    "milestones": [{"on": "2026-05-01", "label": "Dépôt du dossier"}],
}


@pytest.fixture
def answers() -> dict[str, dict[str, Any]]:
    """Valid answers for the core steps and op_a's steps, by step id (fresh copies)."""
    return msgspec.json.decode(
        msgspec.json.encode(
            {
                "level1.record": RECORD,
                "level2.project": PROJECT,
                "level2.action_plan": ACTION_PLAN,
                "op_a.positioning": {"score": 6},
                "op_a.follow_up": {"months": 6},
            }
        )
    )

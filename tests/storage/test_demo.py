"""Demo seeding: every operator gets cases from its own public, once, reproducibly."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from cep_core.domain.case import Case
from cep_core.domain.situation import Status
from cep_core.kit import Kit
from cep_core.services.cases import CaseService
from cep_core.services.demo import DEMO_ACTOR, seed_demo
from cep_core.settings import Settings
from cep_core.storage.database import Database

if TYPE_CHECKING:
    from .conftest import FakeClock, KitFactory

REAL_OPERATORS = ("apec", "cap_emploi", "mission_locale", "pole_emploi", "regional")
OPERATORS = (*REAL_OPERATORS, "op_x")  # op_x: an operator the demo knows nothing about


def all_cases(kit: Kit, database: Database, clock: FakeClock) -> dict[str, list[Case]]:
    service = CaseService(database, kit.hooks, clock=clock)
    return {operator: list(service.list_cases(operator, limit=200).items) for operator in OPERATORS}


def test_seeding_is_spread_over_every_operator_and_idempotent(
    database: Database, kit_factory: KitFactory, clock: FakeClock
) -> None:
    kit = kit_factory(operators=OPERATORS)
    calls: list[tuple[int, int]] = []
    created = seed_demo(
        database, kit.hooks, clock, per_operator=4, progress=lambda d, t: calls.append((d, t))
    )
    assert created == 4 * len(OPERATORS)
    assert calls == [(n, created) for n in range(1, created + 1)]
    found = all_cases(kit, database, clock)
    assert {operator: len(items) for operator, items in found.items()} == dict.fromkeys(
        OPERATORS, 4
    )

    assert seed_demo(database, kit.hooks, clock, per_operator=4) == 0  # nothing duplicated
    assert seed_demo(database, kit.hooks, clock, per_operator=6) == 2 * len(OPERATORS)  # top-up
    found = all_cases(kit, database, clock)
    assert all(len(items) == 6 for items in found.values())
    service = CaseService(database, kit.hooks, clock=clock)
    for operator, items in found.items():
        for case in items:
            [opened] = service.case_events(operator, case.id)
            assert opened.actor == DEMO_ACTOR


def test_each_operator_gets_its_own_public(
    database: Database, kit_factory: KitFactory, clock: FakeClock
) -> None:
    kit = kit_factory(operators=OPERATORS)
    seed_demo(database, kit.hooks, clock, per_operator=8)
    service = CaseService(database, kit.hooks, clock=clock)
    for operator in OPERATORS:
        for case in service.list_cases(operator).items:
            s = case.situation
            assert s.problems() == []
            person = service.get_beneficiary(operator, case.beneficiary_id)
            assert person is not None
            assert person.email is not None
            assert person.email.endswith(".invalid")  # never a real mailbox
            if operator == "apec":
                assert s.cadre
            elif operator == "mission_locale":
                assert 16 <= s.age < 26
            elif operator == "cap_emploi":
                assert s.disability_recognition
            elif operator == "pole_emploi":
                assert s.status is Status.JOBSEEKER
                assert s.registered_jobseeker
            elif operator == "regional":
                assert s.status in {Status.EMPLOYEE, Status.SELF_EMPLOYED}
                assert not s.cadre
            else:
                assert s.status is Status.EMPLOYEE  # the fallback for an unknown public
    levels = {c.level for op in OPERATORS for c in service.list_cases(op).items}
    assert len(levels) > 1  # a mix of opened, level-1 and level-2 cases


def test_seeding_is_reproducible(
    database: Database, kit_factory: KitFactory, clock: FakeClock, tmp_path: Path
) -> None:
    kit = kit_factory(operators=OPERATORS)
    other = Database(f"sqlite:///{tmp_path / 'other.sqlite3'}")
    try:
        other.upgrade()
        seed_demo(database, kit.hooks, clock, per_operator=3)
        seed_demo(other, kit.hooks, clock, per_operator=3)

        def people(db: Database) -> set[tuple[str, str, str | None, object]]:
            service = CaseService(db, kit.hooks, clock=clock)
            found: set[tuple[str, str, str | None, object]] = set()
            for operator in OPERATORS:
                for case in service.list_cases(operator).items:
                    person = service.get_beneficiary(operator, case.beneficiary_id)
                    assert person is not None
                    found.add((operator, person.last_name, person.email, case.situation))
            return found

        assert people(database) == people(other)
    finally:
        other.dispose()


def test_a_kit_can_be_passed_whole(database_url: str, kit_factory: KitFactory) -> None:
    kit = kit_factory(database_url)
    kit.database.upgrade()
    assert seed_demo(kit, per_operator=2) == 4  # op_a and op_b
    assert seed_demo(kit, per_operator=2) == 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_demo_people_are_in_the_real_plugins_public(database: Database, tmp_path: Path) -> None:
    """Cross-check with the real operator plugins: each says the person is in its public."""
    kit = Kit(settings=Settings(data_dir=tmp_path, plugins=None), load_entrypoints=True)
    try:
        installed = {info.id for info in kit.hooks.operators()}
        if kit.registry.refused or not set(REAL_OPERATORS) <= installed:
            pytest.skip(
                f"the five operator plugins are not all usable here: {kit.registry.refused}"
            )
        seed_demo(database, kit.hooks, kit.clock, per_operator=6)
        service = CaseService(database, kit.hooks, clock=kit.clock)
        for operator in REAL_OPERATORS:
            for case in service.list_cases(operator).items:
                competences, failures = kit.hooks.assess_competences(case.situation)
                assert failures == []
                verdict = {c.operator: c for c in competences}[operator]
                assert verdict.competent, (operator, case.situation, verdict.reason)
    finally:
        kit.close()

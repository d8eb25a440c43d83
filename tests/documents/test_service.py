"""Stored syntheses: versions by content hash, downloads without rendering, the case journal,
tenant isolation — on SQLite and PostgreSQL alike (``database`` fixture)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import msgspec
import pytest

from cep_core import (
    CaseEvent,
    Competence,
    DatedLabel,
    OperatorContext,
    PluginInfo,
    PluginKind,
    RenderRequest,
    Situation,
    hookimpl,
)
from cep_core.documents.errors import RenderTimeout
from cep_core.domain.case import Level
from cep_core.domain.steps import LEVEL_TWO_PROJECT
from cep_core.errors import CaseNotFound
from cep_core.kit import Kit
from cep_core.services.syntheses import (
    DOWNLOADED,
    GENERATED,
    SynthesisNotAvailable,
    SynthesisNotFound,
    SynthesisService,
)
from cep_core.settings import Settings
from cep_core.storage.database import Database
from cep_core.storage.repositories import (
    BeneficiaryRepository,
    CaseEventRepository,
    CaseRepository,
)
from cep_core.storage.syntheses import SynthesisRepository


class Operator:
    """A fake operator that records the journal lines it is told of."""

    operator_id = "?"

    def __init__(self) -> None:
        self.events: list[CaseEvent] = []

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

    @hookimpl
    def cep_assess_competence(self, situation: Situation) -> Competence:
        return Competence(operator=self.operator_id, competent=True, name="x", reason="x")

    @hookimpl
    def cep_case_event(self, ctx: OperatorContext, event: CaseEvent) -> None:
        self.events.append(event)


def operator(operator_id: str) -> Operator:
    plugin: Operator = type(f"Operator_{operator_id}", (Operator,), {"operator_id": operator_id})()
    return plugin


class World(msgspec.Struct, kw_only=True, dict=True):
    service: SynthesisService
    database: Database
    op_a: Any
    op_b: Any
    renderer: Any
    clock: Any
    samples: SimpleNamespace

    def store(self, operator_id: str = "op_a", **changes: Any) -> str:
        case = self.samples.full_case(operator=operator_id, **changes)
        with self.database.write() as connection:
            BeneficiaryRepository(connection, operator_id).add(
                self.samples.beneficiary(operator=operator_id)
            )
            CaseRepository(connection, operator_id).add(case)
        return str(case.id)

    def journal(self, case_id: str, operator_id: str = "op_a") -> list[CaseEvent]:
        with self.database.read() as connection:
            return CaseEventRepository(connection, operator_id).for_case(case_id)

    def change_project(self, case_id: str, description: str) -> None:
        with self.database.write() as connection:
            cases = CaseRepository(connection, "op_a")
            case = cases.get(case_id)
            assert case is not None
            project = self.samples.career_project(description=description)
            steps = {**case.steps, LEVEL_TWO_PROJECT: self.samples.step(project)}
            cases.update(msgspec.structs.replace(case, steps=steps))


@pytest.fixture
def world(
    database: Database, renderer: Any, clock: Any, samples: SimpleNamespace, tmp_path: Path
) -> Iterator[World]:
    op_a, op_b = operator("op_a"), operator("op_b")
    kit = Kit(
        [op_a, op_b, renderer],
        settings=Settings(data_dir=tmp_path),
        load_entrypoints=False,
        clock=clock,
    )
    kit.check()
    service = SynthesisService(database, kit.hooks, kit.registry, clock=clock)
    yield World(
        service=service,
        database=database,
        op_a=op_a,
        op_b=op_b,
        renderer=renderer,
        clock=clock,
        samples=samples,
    )
    kit.close()


def test_a_generated_synthesis_is_stored_with_hash_level_time_and_author(world: World) -> None:
    case_id = world.store()
    result = world.service.generate("op_a", case_id, 1, actor="c.martin")
    synthesis = result.synthesis
    assert result.created
    assert (synthesis.case_id, synthesis.operator, synthesis.level) == (case_id, "op_a", Level.ONE)
    assert synthesis.version == 1
    assert len(synthesis.content_hash) == 64
    assert synthesis.created_at == world.clock.now
    assert synthesis.author == "c.martin"
    stored, pdf = world.service.download("op_a", case_id, synthesis.id)
    assert stored == synthesis
    assert pdf.startswith(b"%PDF-") and synthesis.size == len(pdf)
    assert world.service.list_for_case("op_a", case_id) == [synthesis]


def test_an_unchanged_case_is_never_rendered_again(world: World) -> None:
    case_id = world.store()
    first = world.service.generate("op_a", case_id, 2)
    calls = world.renderer.calls
    world.clock.now += timedelta(days=3)  # time passing changes nothing in the document
    again = world.service.generate("op_a", case_id, 2, actor="someone.else")
    assert not again.created
    assert again.synthesis == first.synthesis
    for _ in range(3):
        world.service.download("op_a", case_id, first.synthesis.id)
    assert world.renderer.calls == calls


def test_a_change_makes_a_new_version_and_keeps_the_old_ones(world: World) -> None:
    case_id = world.store()
    first = world.service.generate("op_a", case_id, 2).synthesis
    _, first_pdf = world.service.download("op_a", case_id, first.id)
    world.change_project(case_id, "Devenir infirmière en pédiatrie.")
    world.clock.now += timedelta(hours=1)
    second = world.service.generate("op_a", case_id, 2).synthesis
    assert second.version == 2 and second.id != first.id
    assert second.content_hash != first.content_hash
    assert second.created_at == world.clock.now
    level_one = world.service.generate("op_a", case_id, 1).synthesis
    assert level_one.version == 1  # versions count per level
    listed = world.service.list_for_case("op_a", case_id)
    assert [(s.level, s.version) for s in listed] == [(1, 1), (2, 2), (2, 1)]
    assert world.service.download("op_a", case_id, first.id)[1] == first_pdf
    assert world.service.get("op_a", case_id, first.id) == first


def test_generations_and_downloads_are_in_the_journal_without_content(world: World) -> None:
    case_id = world.store()
    result = world.service.generate("op_a", case_id, 1, actor="c.martin")
    world.service.generate("op_a", case_id, 1, actor="c.martin")  # unchanged: no new line
    world.service.download("op_a", case_id, result.synthesis.id, actor="beneficiaire.7")
    lines = [(e.kind, e.actor, e.reason) for e in world.journal(case_id)]
    assert lines == [
        (GENERATED, "c.martin", "level_1"),
        (DOWNLOADED, "beneficiaire.7", "level_1"),
    ]
    assert [e.kind for e in world.op_a.events] == [GENERATED, DOWNLOADED]
    assert world.op_b.events == []


def test_a_level_not_reached_has_no_synthesis(world: World) -> None:
    at_level_one = world.store(level=Level.ONE)
    with pytest.raises(SynthesisNotAvailable, match="niveau 2"):
        world.service.generate("op_a", at_level_one, 2)
    assert world.service.generate("op_a", at_level_one, 1).created
    with pytest.raises(ValueError, match="1 ou 2"):
        world.service.generate("op_a", at_level_one, 3)


def test_another_operator_sees_nothing(world: World) -> None:
    case_id = world.store()
    synthesis = world.service.generate("op_a", case_id, 1).synthesis
    with pytest.raises(CaseNotFound):
        world.service.generate("op_b", case_id, 1)
    with pytest.raises(CaseNotFound):
        world.service.list_for_case("op_b", case_id)
    with pytest.raises(SynthesisNotFound):
        world.service.download("op_b", case_id, synthesis.id)
    with pytest.raises(SynthesisNotFound):
        world.service.get("op_b", case_id, synthesis.id)
    with pytest.raises(SynthesisNotFound):
        world.service.download("op_a", case_id, "not-an-id")
    with world.database.read() as connection:
        assert SynthesisRepository(connection, "op_b").count() == 0
        assert SynthesisRepository(connection, "op_a").count() == 1
    assert world.journal(case_id, "op_b") == []


def test_a_render_failure_stores_nothing_and_says_why_in_french(world: World) -> None:
    case_id = world.store()

    def fail(request: RenderRequest) -> bytes:
        raise RenderTimeout(30)

    world.renderer.pool = SimpleNamespace(render=fail)
    with pytest.raises(RenderTimeout, match="temps limite"):
        world.service.generate("op_a", case_id, 1)
    assert world.service.list_for_case("op_a", case_id) == []
    assert world.journal(case_id) == []


def race(world: World, case_id: str, writers: int) -> list[Any]:
    """`writers` threads asking for the same synthesis at the same moment."""
    barrier = threading.Barrier(writers)
    results: list[Any] = []
    errors: list[BaseException] = []

    def generate() -> None:
        try:
            barrier.wait(10)
            results.append(world.service.generate("op_a", case_id, 2))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=generate) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    return results


def test_concurrent_generations_store_one_version(world: World) -> None:
    """Writers racing on one case take turns (a row lock on PostgreSQL, BEGIN IMMEDIATE on
    SQLite): each content is stored once, whoever renders it."""
    case_id = world.store()
    for round_number in range(3):
        if round_number:
            world.change_project(case_id, f"Projet révisé, version {round_number}.")
        results = race(world, case_id, 4)
        assert len({r.synthesis.id for r in results}) == 1
        assert sum(r.created for r in results) == 1
        assert results[0].synthesis.version == round_number + 1
    assert [e.kind for e in world.journal(case_id)] == [GENERATED] * 3
    assert len(world.service.list_for_case("op_a", case_id)) == 3


def test_the_default_renderer_plugin_uses_worker_processes(
    database: Database, samples: SimpleNamespace, clock: Any, tmp_path: Path
) -> None:
    kit = Kit([operator("op_a")], settings=Settings(data_dir=tmp_path), load_entrypoints=False)
    try:
        service = SynthesisService(database, kit.hooks, kit.registry, clock=clock)
        case = samples.full_case(operator="op_a")
        with database.write() as connection:
            BeneficiaryRepository(connection, "op_a").add(samples.beneficiary(operator="op_a"))
            CaseRepository(connection, "op_a").add(case)
        result = service.generate("op_a", case.id, 1)
        assert service.download("op_a", case.id, result.synthesis.id)[1].startswith(b"%PDF-")
    finally:
        kit.close()

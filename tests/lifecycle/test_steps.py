"""Steps: the flow (core + operator), drafts never lost, completion checks, progress."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import msgspec
import pytest

from cep_core import Level, Level1Record, StepDefinition
from cep_core.domain.issues import InvalidInput
from cep_core.domain.steps import StepStatus
from cep_core.errors import CaseStateConflict, PluginFailure, UnknownStep
from cep_core.services.cases import MAX_ANSWERS_BYTES

if TYPE_CHECKING:
    from .conftest import World

Answers = dict[str, dict[str, Any]]


def test_the_flow_mixes_core_and_operator_steps_in_order(world: World) -> None:
    one = world.open(level=Level.ONE)
    two = world.open(level=Level.TWO)
    assert [s.id for s in world.cases.step_definitions("op_a", one.id)] == [
        "op_a.positioning",
        "level1.record",
    ]
    flow = world.cases.step_definitions("op_a", two.id)
    assert [(s.id, s.required) for s in flow] == [
        ("level2.project", True),
        ("level2.action_plan", True),
        ("op_a.follow_up", False),
    ]
    assert flow[1].depends_on == ("level2.project",)
    assert flow[0].title == "Projet professionnel"
    # Another operator has only the core's steps; a case with no level has none yet.
    b = world.open("op_b", level=Level.ONE)
    assert [s.id for s in world.cases.step_definitions("op_b", b.id)] == ["level1.record"]
    assert world.cases.steps("op_a", world.open().id) == ()
    assert world.cases.progress("op_a", world.open().id) is None


def test_a_draft_keeps_invalid_partial_answers_exactly(world: World) -> None:
    case = world.open(level=Level.ONE)
    partial = {
        "request": "Je ne sais pas encore",
        "information_given": ["cep_service", "pas_une_valeur"],
        "couleur": "bleu",
    }
    saved = world.cases.save_step(
        "op_a", case.id, "level1.record", partial, expected_version=case.version, actor="c-1"
    )
    assert saved.step.status is StepStatus.DRAFT
    assert saved.case.version == case.version + 1
    paths = {issue.path for issue in saved.issues}
    assert {"couleur", "clarified_need", "shared_review", "continues"} <= paths
    # Reloaded from the database: the draft is there, as typed.
    again = world.cases.get_case("op_a", case.id)
    record = again.steps["level1.record"]
    assert record.data == partial
    assert (record.completed, record.updated_by) == (False, "c-1")
    [state] = [s for s in world.cases.steps("op_a", case.id) if s.id == "level1.record"]
    assert (state.status, state.data) == (StepStatus.DRAFT, partial)
    kinds = [e.kind for e in world.cases.case_events("op_a", case.id)]
    assert kinds[-1] == "step_draft_saved"


def test_completing_reports_every_problem_in_french_and_writes_nothing(
    world: World, answers: Answers
) -> None:
    case = world.open(level=Level.ONE)
    bad = dict(answers["level1.record"])
    bad["request"] = "x" * 4001
    bad["information_given"] = ["training", "horoscope"]
    del bad["clarified_need"]
    bad["couleur"] = "bleu"
    with pytest.raises(InvalidInput) as refused:
        world.cases.save_step(
            "op_a", case.id, "level1.record", bad, complete=True, expected_version=case.version
        )
    issues = {issue.path: issue for issue in refused.value.issues}
    assert set(issues) == {"request", "information_given[1]", "clarified_need", "couleur"}
    assert "au plus 4000 caractères" in issues["request"].message
    assert "Valeur non autorisée" in issues["information_given[1]"].message
    assert "cep_service" in issues["information_given[1]"].message  # the allowed values
    assert "obligatoire" in issues["clarified_need"].message
    assert "Champ inconnu" in issues["couleur"].message
    assert world.cases.get_case("op_a", case.id) == case
    assert len(world.cases.case_events("op_a", case.id)) == 1


def test_completed_answers_are_normalised_and_progress_follows(
    world: World, answers: Answers
) -> None:
    case = world.open(level=Level.ONE)
    progress = world.cases.progress("op_a", case.id)
    assert progress is not None
    assert (progress.required, progress.completed, progress.percent) == (2, 0, 0)
    assert progress.missing == ("op_a.positioning", "level1.record")
    saved = world.cases.save_step(
        "op_a", case.id, "level1.record", answers["level1.record"], complete=True,
        expected_version=case.version,
    )  # fmt: skip
    assert saved.step.status is StepStatus.COMPLETED
    assert saved.issues == ()
    record = saved.case.steps["level1.record"]
    assert record.completed
    assert record.completed_at == world.clock.now
    assert record.data["referral"] is None  # defaults filled in
    assert record.data["information_given"] == ["cep_service", "training", "funding"]
    progress = world.cases.progress("op_a", case.id)
    assert progress is not None
    assert (progress.completed, progress.percent, progress.missing) == (
        1,
        50,
        ("op_a.positioning",),
    )
    world.cases.save_step(
        "op_a", case.id, "op_a.positioning", {"score": 7}, complete=True,
        expected_version=saved.case.version,
    )  # fmt: skip
    progress = world.cases.progress("op_a", case.id)
    assert progress is not None
    assert (progress.completed, progress.percent, progress.missing) == (2, 100, ())
    assert [e.kind for e in world.cases.case_events("op_a", case.id)] == [
        "opened",
        "step_completed",
        "step_completed",
    ]


def test_the_operator_checks_a_step_too(world: World) -> None:
    case = world.open(level=Level.ONE)
    with pytest.raises(InvalidInput) as refused:
        world.cases.save_step(
            "op_a", case.id, "op_a.positioning", {"score": 0}, complete=True,
            expected_version=case.version,
        )  # fmt: skip
    [issue] = refused.value.issues
    assert (issue.path, issue.message) == ("score", "Un positionnement nul n'est pas accepté.")
    # The draft is kept whatever the operator thinks of it.
    saved = world.cases.save_step(
        "op_a", case.id, "op_a.positioning", {"score": 0}, expected_version=case.version
    )
    assert saved.step.status is StepStatus.DRAFT
    assert saved.case.steps["op_a.positioning"].data == {"score": 0}


def test_a_step_waits_for_its_dependencies(world: World, answers: Answers) -> None:
    case = world.open(level=Level.TWO)
    with pytest.raises(InvalidInput) as refused:
        world.cases.save_step(
            "op_a", case.id, "level2.action_plan", answers["level2.action_plan"], complete=True,
            expected_version=case.version,
        )  # fmt: skip
    [issue] = refused.value.issues
    assert issue.code == "dependency_incomplete"
    assert "« Projet professionnel » doit être terminée" in issue.message
    draft = world.cases.save_step(
        "op_a", case.id, "level2.action_plan", answers["level2.action_plan"],
        expected_version=case.version,
    )  # fmt: skip
    assert draft.step.blocked_by == ("level2.project",)
    project = world.cases.save_step(
        "op_a", case.id, "level2.project", answers["level2.project"], complete=True,
        expected_version=draft.case.version,
    )  # fmt: skip
    plan = world.cases.save_step(
        "op_a", case.id, "level2.action_plan", answers["level2.action_plan"], complete=True,
        expected_version=project.case.version,
    )  # fmt: skip
    assert plan.step.status is StepStatus.COMPLETED
    assert plan.step.blocked_by == ()


@pytest.mark.parametrize(
    ("change", "path", "words"),
    [
        ({"services": [], "personal_steps": []}, "services", "au moins un dispositif"),
        ({"services": [{"kind": "vae", "label": "VAE", "provider": "X"}]},
         "services[0].provider_qualiopi", "Qualiopi"),
        ({"services": [{"kind": "training", "label": "F", "start": "2026-09-01",
                        "end": "2026-08-01"}]}, "services[0].end", "précéder"),
        ({"milestones": []}, "milestones", "au moins 1"),
        ({"services": [{"kind": "training", "label": "F", "certification_code": "RNCP-12"}]},
         "services[0].certification_code", "motif"),
    ],
)  # fmt: skip
def test_the_core_checks_the_action_plan(
    world: World, answers: Answers, change: dict[str, Any], path: str, words: str
) -> None:
    case = world.open(level=Level.TWO)
    case = world.cases.save_step(
        "op_a", case.id, "level2.project", answers["level2.project"], complete=True,
        expected_version=case.version,
    ).case  # fmt: skip
    plan = {**answers["level2.action_plan"], **change}
    with pytest.raises(InvalidInput) as refused:
        world.cases.save_step(
            "op_a", case.id, "level2.action_plan", plan, complete=True,
            expected_version=case.version,
        )  # fmt: skip
    [issue] = refused.value.issues
    assert issue.path == path
    assert words in issue.message


def test_project_objectives_are_the_seven_of_the_seed(world: World, answers: Answers) -> None:
    case = world.open(level=Level.TWO)
    project = {**answers["level2.project"], "objective": "astronaute"}
    with pytest.raises(InvalidInput) as refused:
        world.cases.save_step(
            "op_a", case.id, "level2.project", project, complete=True,
            expected_version=case.version,
        )  # fmt: skip
    [issue] = refused.value.issues
    assert issue.path == "objective"
    for value in ("insertion", "career_development", "skills_development", "certification",
                  "mobility", "retraining", "business"):  # fmt: skip
        assert value in issue.message


def test_saving_a_draft_over_a_completed_step_reopens_it(world: World, answers: Answers) -> None:
    case = world.open(level=Level.ONE)
    done = world.cases.save_step(
        "op_a", case.id, "op_a.positioning", {"score": 5}, complete=True,
        expected_version=case.version,
    )  # fmt: skip
    reopened = world.cases.save_step(
        "op_a", case.id, "op_a.positioning", {"score": 4}, expected_version=done.case.version
    )
    assert reopened.step.status is StepStatus.DRAFT
    assert reopened.step.completed_at is None
    assert world.cases.case_events("op_a", case.id)[-1].kind == "step_reopened"


def test_steps_belong_to_the_current_level(world: World, answers: Answers) -> None:
    opened = world.open()
    with pytest.raises(CaseStateConflict, match="Démarrez d'abord"):
        world.cases.save_step("op_a", opened.id, "level1.record", {}, expected_version=1)
    one = world.open(level=Level.ONE)
    with pytest.raises(CaseStateConflict) as other_level:
        world.cases.save_step("op_a", one.id, "level2.project", {}, expected_version=1)
    assert "niveau 2" in other_level.value.issues[0].message
    with pytest.raises(UnknownStep):
        world.cases.save_step("op_a", one.id, "nope.step", {}, expected_version=1)
    with pytest.raises(UnknownStep):
        world.cases.save_step("op_a", one.id, "x" * 10_000, {}, expected_version=1)
    assert world.cases.get_case("op_a", one.id).version == 1


def test_answers_are_bounded_in_size(world: World) -> None:
    case = world.open(level=Level.ONE)
    huge = {"request": "x" * (MAX_ANSWERS_BYTES + 1)}
    with pytest.raises(InvalidInput, match="taille maximale"):
        world.cases.save_step("op_a", case.id, "level1.record", huge, expected_version=1)
    with pytest.raises(InvalidInput, match="valeurs illisibles"):
        world.cases.save_step(
            "op_a", case.id, "level1.record", {"request": object()}, expected_version=1
        )
    assert world.cases.get_case("op_a", case.id).version == 1


# -- replacements and broken flows -----------------------------------------------------------


def test_a_replacing_step_takes_the_core_place_and_id(world: World, answers: Answers) -> None:
    case = world.open("op_r", level=Level.ONE)
    flow = world.cases.step_definitions("op_r", case.id)
    assert [s.id for s in flow] == ["level1.record", "op_r.after"]
    record, after = flow
    assert (record.title, record.required, record.replaces) == ("Compte rendu (op_r)", True, None)
    assert issubclass(record.input, Level1Record)
    assert after.depends_on == ("level1.record",)  # its own id was redirected to the core's
    with pytest.raises(InvalidInput) as refused:
        world.cases.save_step(
            "op_r", case.id, "level1.record", answers["level1.record"], complete=True,
            expected_version=case.version,
        )  # fmt: skip
    assert [i.path for i in refused.value.issues] == ["sector"]
    saved = world.cases.save_step(
        "op_r", case.id, "level1.record", {**answers["level1.record"], "sector": "Santé"},
        complete=True, expected_version=case.version,
    )  # fmt: skip
    level_two = world.cases.start_level_2("op_r", case.id, expected_version=saved.case.version)
    assert level_two.level is Level.TWO


@pytest.mark.parametrize(
    ("step", "words"),
    [
        (StepDefinition(id="op_a.bad", level=Level.ONE, title="T", input=int),  # type: ignore[arg-type]
         "msgspec.Struct"),
        (StepDefinition(id="op_a.positioning", level=Level.ONE, title="T",
                        input=Level1Record), "en double"),
        (StepDefinition(id="op_a.rec", level=Level.ONE, title="T", input=Level1Record,
                        replaces="level2.project"), "pas une étape du noyau"),
        (StepDefinition(id="op_a.two", level=Level.TWO, title="T", input=Level1Record),
         "est du niveau 2"),
        (StepDefinition(id="op_a.rec", level=Level.ONE, title="T", input=msgspec.Struct,
                        replaces="level1.record"), "doit hériter de Level1Record"),
    ],
)  # fmt: skip
def test_a_broken_flow_fails_for_its_operator_only(
    world: World, step: StepDefinition, words: str
) -> None:
    world.a.unfiltered_steps.append(step)
    case = world.open(level=Level.ONE)
    with pytest.raises(PluginFailure) as failure:
        world.cases.save_step("op_a", case.id, "level1.record", {}, expected_version=1)
    assert failure.value.plugin == "op_a"
    assert failure.value.hook == "cep_session_steps"
    assert words in str(failure.value)
    assert world.cases.get_case("op_a", case.id).version == 1
    other = world.open("op_b", level=Level.ONE)  # op_b's cases are not affected
    assert world.cases.save_step("op_b", other.id, "level1.record", {}, expected_version=1)


class Unbounded(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    text: str


class Lenient(msgspec.Struct, frozen=True, kw_only=True):
    text: Annotated[str, msgspec.Meta(max_length=10)]


@pytest.mark.parametrize(
    ("model", "words"),
    [(Unbounded, "sans borne : text"), (Lenient, "refuser les champs inconnus")],
)
def test_inputs_must_be_bounded_and_strict(
    world: World, model: type[msgspec.Struct], words: str
) -> None:
    world.a.extra_steps.append(
        StepDefinition(id="op_a.free", level=Level.ONE, title="Libre", input=model)
    )
    case = world.open(level=Level.ONE)
    with pytest.raises(PluginFailure, match=words):
        world.cases.steps("op_a", case.id)

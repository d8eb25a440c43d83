"""The conformance suite finds what is wrong with a plugin, check by check, in French.

The bundled plugins pass it (their own ``test_conformance.py``); here small plugins written to
a temporary folder each break some rules. They are real modules with a source file, as the
"no import of core internals" check reads the plugin's sources.
"""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Annotated

import msgspec
import pytest

from cep_core import Level1Record, Situation, Status
from cep_core.testing import (
    CHECKS,
    ConformanceError,
    check_operator_plugin,
    minimal_answers,
    situation_grid,
)
from cep_core.testing.answers import NoMinimalAnswer

AS_OF = date(2026, 3, 2)

HEADER = """
from __future__ import annotations

from datetime import date
from typing import Annotated

import msgspec

from cep_core import (
    Competence, Contact, CostKind, DatedLabel, FundingOption, IntakeForm, Level, PluginInfo,
    PluginKind, StepDefinition, TemplateRef, hookimpl,
)

PLUGIN_ID = "essai"
CORE_RANGE = ">=0.1,<0.2"
KIND = PluginKind.OPERATOR

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=200, title="Texte")]


class Intake(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    request: Text


class Review(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    notes: Text


@hookimpl
def cep_plugin_info():
    return PluginInfo(
        id=PLUGIN_ID, kind=KIND, core_range=CORE_RANGE, description="Opérateur d'essai.",
        contact=Contact(url="https://essai.invalid/"),
        labels=(DatedLabel(valid_from=date(2020, 1, 1), value="Essai", source="test"),),
    )


@hookimpl
def cep_assess_competence(situation):
    return Competence(
        operator=PLUGIN_ID, competent=situation.cadre, name="Essai", reason="Une raison."
    )


@hookimpl
def cep_intake_form(ctx, channel):
    return IntakeForm(operator=PLUGIN_ID, title="Accueil", input=Intake)


@hookimpl
def cep_session_steps(ctx, level, case):
    return [StepDefinition(id=PLUGIN_ID + ".review", level=level, title="Point", input=Review)]
"""

Write = Callable[[str, str], ModuleType]


@pytest.fixture
def write_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Write]:
    """Write `HEADER` + `body` as module `name` in a temporary folder and import it."""
    monkeypatch.syspath_prepend(str(tmp_path))
    names: list[str] = []

    def write(name: str, body: str) -> ModuleType:
        path = tmp_path / f"{name}.py"
        path.write_text(HEADER + textwrap.dedent(body), encoding="utf-8")
        names.append(name)
        return importlib.import_module(name)

    yield write
    for name in names:
        sys.modules.pop(name, None)


def failing(module: ModuleType) -> ConformanceError:
    with pytest.raises(ConformanceError) as raised:
        check_operator_plugin(module, as_of=AS_OF)
    return raised.value


def test_a_plugin_that_breaks_many_rules_gets_every_problem_at_once(write_plugin: Write) -> None:
    module = write_plugin(
        "cep_essai_multiple",
        """
        from cep_core.domain.case import Case  # an internal module
        from cep_core import _version  # not the public surface

        @hookimpl
        def cep_assess_competence(situation):
            return Competence(operator=PLUGIN_ID, competent=True, name="Essai", reason="Oui.")

        @hookimpl
        def cep_intake_form(ctx, channel):
            return None

        @hookimpl
        def cep_funding_options(ctx, project, situation):
            return [
                FundingOption(funder="Mon Financeur", label="", rule="règle", amount=-5),
                FundingOption(funder="ok_funder", label="Aide", rule="Règle", operator=None),
            ]
        """,
    )
    error = failing(module)
    report = error.report
    assert not report.check("metadata").problems
    imports = report.check("imports").problems
    assert any("from cep_core.domain.case import" in p for p in imports)
    assert any("cep_core._version ne fait pas partie de la surface publique" in p for p in imports)
    competence = report.check("competence").problems
    assert any("compétent pour toutes les situations essayées" in p for p in competence)
    assert report.check("intake").problems == (
        "aucun formulaire d'accueil pour le conseiller (cep_intake_form)",
    )
    funding = " ".join(report.check("funding").problems)
    assert "identifiant de financeur invalide" in funding
    assert "libellé ou règle (avec sa source) vide" in funding
    assert "amount négatif" in funding
    assert "operator=None au lieu de « essai »" in funding
    # The case still went through both levels: its synthesis rendered.
    assert report.check("synthesis").passed and report.pdf.startswith(b"%PDF-")
    message = str(error)
    assert message.startswith("Le plugin « essai » ne passe pas la vérification de conformité")
    assert "[imports] seule la surface publique de cep_core est importée :" in message
    assert [check.name for check in report.checks] == list(CHECKS)


def test_steps_must_be_bounded_titled_and_resolve(write_plugin: Write) -> None:
    module = write_plugin(
        "cep_essai_steps",
        """
        class Loose(msgspec.Struct, kw_only=True):
            notes: str
            tags: list[Text] = []

        @hookimpl
        def cep_session_steps(ctx, level, case):
            if level is Level.ONE:
                return [StepDefinition(id="review", level=level, title="Point", input=Review)]
            return [
                StepDefinition(
                    id=PLUGIN_ID + ".plan", level=level, title="Plan", input=Review,
                    depends_on=("essai.nowhere",),
                ),
                StepDefinition(id=PLUGIN_ID + ".loose", level=level, title="", input=Loose),
            ]
        """,
    )
    problems = " | ".join(failing(module).report.check("steps").problems)
    assert "étape « review » : identifiant hors de l'espace « essai. »" in problems
    assert "le modèle de saisie doit refuser les champs inconnus" in problems
    assert "champs sans borne : notes, tags" in problems
    assert "champs sans libellé français (Meta(title=...)) : notes, tags" in problems
    assert "étape « essai.loose » sans titre" in problems


def test_a_dependency_on_a_missing_step_is_reported(write_plugin: Write) -> None:
    module = write_plugin(
        "cep_essai_dependency",
        """
        @hookimpl
        def cep_session_steps(ctx, level, case):
            return [
                StepDefinition(
                    id=PLUGIN_ID + ".review", level=level, title="Point", input=Review,
                    depends_on=("essai.nowhere",),
                )
            ]
        """,
    )
    report = failing(module).report
    assert "dépend de « essai.nowhere », absente du niveau" in " ".join(
        report.check("steps").problems
    )
    assert "étapes jamais prêtes" in " ".join(report.check("synthesis").problems)


def test_the_synthesis_templates_must_resolve(write_plugin: Write) -> None:
    module = write_plugin(
        "cep_essai_template",
        """
        @hookimpl
        def cep_synthesis_template(ctx, level):
            return TemplateRef(package="cep_essai_template", name="absent/page.html")
        """,
    )
    report = failing(module).report
    problems = report.check("synthesis").problems
    assert problems and all("synthèse du niveau" in p for p in problems)
    assert "absent/page.html" in problems[0] and "inutilisable" in problems[0]
    assert report.pdf == b""


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("KIND = PluginKind.CAPABILITY", "doit déclarer un opérateur"),
        ('CORE_RANGE = ">=0.1"', "sans borne haute"),
        ('CORE_RANGE = "<0.2"', "sans borne basse"),
        (
            'CORE_RANGE = ">=0.2,<0.3"',
            "le noyau refuse le plugin : demande le noyau >=0.2,<0.3, or le noyau installé est "
            "0.1.0",
        ),
        ('PLUGIN_ID = "Essai-1"', "identifiant « Essai-1 » invalide"),
    ],
)
def test_identity_and_core_range(write_plugin: Write, body: str, expected: str) -> None:
    report = failing(write_plugin(f"cep_essai_meta_{abs(hash(body))}", body)).report
    assert expected in " ".join(report.check("metadata").problems)
    assert [check.name for check in report.checks] == ["metadata"]  # nothing else is asked


def test_answering_for_another_operator_is_a_failure(write_plugin: Write) -> None:
    module = write_plugin(
        "cep_essai_other",
        """
        @hookimpl
        def cep_assess_competence(situation):
            return Competence(operator="apec", competent=True, name="Apec", reason="Oui.")
        """,
    )
    problems = failing(module).report.check("competence").problems
    assert "Competence pour « apec » renvoyée par « essai »" in problems[0]


def test_the_grid_covers_every_status_and_only_valid_eligible_situations() -> None:
    grid = situation_grid(AS_OF)
    assert {situation.status for situation in grid} == set(Status)
    assert all(not situation.problems() for situation in grid)
    assert {situation.age for situation in grid} == {18, 24, 35, 58}
    assert len(grid) > 1000


class Coded(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    code: Annotated[str, msgspec.Meta(max_length=5, pattern="^[A-N][0-9]{4}$")]


class Wrapper(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    items: Annotated[list[Coded], msgspec.Meta(min_length=1, max_length=3)]
    note: Annotated[str, msgspec.Meta(max_length=3)] | None = None


def test_minimal_answers_fill_the_core_steps_and_name_what_they_cannot_guess() -> None:
    answers = minimal_answers(Level1Record, AS_OF)
    assert answers["continues"] is True and answers["information_given"] == ["cep_service"]
    assert msgspec.convert(answers, Level1Record).request == "Réponse"
    with pytest.raises(NoMinimalAnswer) as raised:
        minimal_answers(Wrapper, AS_OF)
    assert raised.value.path == "items[].code"


def test_the_case_is_opened_for_the_situation_given(write_plugin: Write) -> None:
    cadre = Situation(birth_date=date(1980, 1, 1), as_of=AS_OF, status=Status.EMPLOYEE, cadre=True)
    report = check_operator_plugin(write_plugin("cep_essai_situation", ""), situation=cadre)
    assert report.passed and report.situation == cadre

"""Forms generated from input Structs (`cep_core.web.pages.case_forms`): every operator's
inputs get French labels, what a page shows reads back as the same answers, and health data is
left out for the roles that may not see it."""

from __future__ import annotations

import importlib
from typing import Any

import msgspec
import pytest
from workspace_pages import ACTION_PLAN, PROJECT, RECORD

from cep_core.domain.health_data import redact_answers, sensitive_fields
from cep_core.domain.issues import Issue
from cep_core.domain.steps import CORE_STEPS, ActionPlan, CareerProject, Level1Record
from cep_core.services.cases import FundingPlanRequest
from cep_core.web.pages.case_forms import (
    YES,
    FieldView,
    Widget,
    describe,
    flatten,
    form_errors,
    form_spec,
    layout,
    parse,
    without_sensitive,
)
from cep_core.web.pages.common import FormData

OPERATOR_FLOWS = [
    "cep_apec.flow",
    "cep_pole_emploi.flow",
    "cep_mission_locale.flow",
    "cep_cap_emploi.flow",
    "cep_regional.flow",
]


def operator_inputs() -> list[type[msgspec.Struct]]:
    """The core's step inputs and every Struct the bundled operators' flows declare."""
    found: dict[str, type[msgspec.Struct]] = {
        s.input.__name__: s.input for s in CORE_STEPS.values()
    }
    for name in OPERATOR_FLOWS:
        module = importlib.import_module(name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, msgspec.Struct)
                and value.__module__ == name
            ):
                found[f"{name}.{value.__name__}"] = value
    return list(found.values())


@pytest.mark.parametrize("struct", operator_inputs(), ids=lambda s: s.__name__)
def test_every_field_of_every_operator_input_has_a_french_label(
    struct: type[msgspec.Struct],
) -> None:
    for view in flatten(layout(form_spec(struct), None)):
        if view.spec.widget is Widget.REPEAT and view.path.endswith("]"):
            continue  # a row: « <list> — n° 1 »
        assert view.label != view.spec.name.replace("_", " ").capitalize(), view.path
        assert view.key.startswith("f-") and " " not in view.key


def submitted(views: tuple[FieldView, ...]) -> FormData:
    """The form a browser would send back for `views`, as shown."""
    values: dict[str, list[str]] = {}
    for view in flatten(views):
        widget = view.spec.widget
        if widget is Widget.REPEAT and not view.path.endswith("]"):
            values[view.rows_key] = [str(len(view.rows))]
        elif widget is Widget.MULTI_CHOICE:
            values[view.key] = list(view.value)
        elif widget is Widget.CHECKBOX:
            if view.value:
                values[view.key] = [YES]
        elif widget not in (Widget.GROUP, Widget.REPEAT) and view.value != "":
            values[view.key] = [view.value]
    return FormData(values)


@pytest.mark.parametrize(
    ("struct", "answers"),
    [(Level1Record, RECORD), (CareerProject, PROJECT), (ActionPlan, ACTION_PLAN)],
    ids=["record", "project", "action_plan"],
)
def test_what_a_page_shows_reads_back_as_the_same_answers(
    struct: type[msgspec.Struct], answers: dict[str, Any]
) -> None:
    specs = form_spec(struct)
    assert parse(specs, submitted(layout(specs, answers))) == answers
    assert describe(specs, answers)


def test_drafts_keep_what_was_typed_even_when_it_is_not_valid() -> None:
    specs = form_spec(FundingPlanRequest)
    form = FormData(
        {
            "f-training.cost_eur": ["1 250,50"],
            "f-training.hours": ["environ 30"],
            "f-situation.low_qualified": [YES],
            "f-funders.lignes": ["2"],
            "f-funders.1.funder": ["opco"],
            "f-purchase_date": [""],
        }
    )
    answers = parse(specs, form)
    assert answers["training"] == {
        "cost_eur": 1250.5,
        "hours": "environ 30",
        "ptp": False,
        "part_time": False,
    }
    assert answers["situation"]["low_qualified"] is True
    assert answers["funders"] == [{"funder": "opco"}]  # the blank first row is dropped
    assert "purchase_date" not in answers


def test_errors_point_at_their_fields_and_rows() -> None:
    views = layout(form_spec(ActionPlan), ACTION_PLAN)
    errors = form_errors(
        [
            Issue(path="services[0].provider_qualiopi", code="missing_field", message="x"),
            Issue(path="milestones", code="invalid_length", message="au moins 1"),
            Issue(path="", code="empty_plan", message="Le plan est vide."),
            Issue(path="services[0].label[3]", code="invalid", message="Règle de l'opérateur."),
        ],
        views,
    )
    assert [(e.field, e.message) for e in errors] == [
        (
            "f-services.0.provider_qualiopi",
            "Dispositifs et prestations mobilisés — n° 1 — Prestataire certifié Qualiopi : "
            "répondez par oui ou par non.",
        ),
        ("f-milestones", "Calendrier prévisionnel : au moins 1 élément attendu."),
        (None, "Le plan est vide."),
        (
            "f-services.0.label",
            "Dispositifs et prestations mobilisés — n° 1 — Intitulé : Règle de l'opérateur.",
        ),
    ]


def test_health_fields_are_left_out_and_redacted() -> None:
    cap_emploi = importlib.import_module("cep_cap_emploi.flow")
    intake = cap_emploi.CapEmploiIntake
    marked = sensitive_fields(intake)
    assert marked == {
        "recognition_kind",
        "recognition_valid_until",
        "recognition_permanent",
        "renewal_requested",
        "on_sick_leave",
        "occupational_health_involved",
    }
    shown = {spec.name for spec in without_sensitive(form_spec(intake))}
    assert not shown & marked and "currently_employed" in shown
    answers = {"recognition_kind": "rqth", "currently_employed": True, "on_sick_leave": True}
    assert redact_answers(answers, intake) == {"currently_employed": True}

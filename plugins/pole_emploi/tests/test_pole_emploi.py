"""The France Travail plugin (Pôle emploi until 31 December 2023): job seekers."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from cep_core import Kit, PluginKind, Situation, Status
from cep_pole_emploi import hooks

AS_OF = date(2025, 6, 1)


def situation(status: Status, as_of: date = AS_OF, **flags: Any) -> Situation:
    return Situation(birth_date=date(1985, 3, 10), as_of=as_of, status=status, **flags)


@pytest.mark.parametrize(
    ("status", "flags", "competent", "fragment"),
    [
        (Status.JOBSEEKER, {}, True, "demandeur(se) d'emploi"),
        (Status.JOBSEEKER, {"working": True}, True, "demandeur(se) d'emploi"),
        (Status.EMPLOYEE, {"registered_jobseeker": True}, True, "inscrit(e)"),
        (Status.PUBLIC_AGENT, {"registered_jobseeker": True}, True, "inscrit(e)"),
        (Status.STUDENT, {"seeking_job": True}, True, "sans en occuper"),
        (Status.RETIRED, {"seeking_job": True}, True, "sans en occuper"),
        (Status.EMPLOYEE, {"seeking_job": True}, False, "tout en travaillant"),
        (Status.STUDENT, {"seeking_job": True, "working": True}, False, "tout en travaillant"),
        (Status.EMPLOYEE, {}, False, "pas indiqué rechercher"),
        (Status.INACTIVE, {}, False, "pas indiqué rechercher"),
    ],
)
def test_rules(status: Status, flags: dict[str, Any], competent: bool, fragment: str) -> None:
    answer = hooks.cep_assess_competence(situation(status, **flags))
    assert answer.operator == "pole_emploi"
    assert answer.competent is competent
    assert fragment in answer.reason
    assert answer.reason.startswith("Vous ")


@pytest.mark.parametrize(
    ("as_of", "name", "other", "url"),
    [
        (date(2023, 12, 31), "Pôle emploi", "France Travail", "https://www.pole-emploi.fr/"),
        (date(2024, 1, 1), "France Travail", "Pôle emploi", "https://www.francetravail.fr/"),
    ],
)
def test_label_and_contact_are_dated(as_of: date, name: str, other: str, url: str) -> None:
    for flags in ({"registered_jobseeker": True}, {}):
        answer = hooks.cep_assess_competence(situation(Status.JOBSEEKER, as_of, **flags))
        assert answer.name == name
        assert name in answer.reason
        assert other not in answer.reason
        assert answer.contact is not None
        assert answer.contact.url == url
        assert answer.contact.phone == "3949"
    assert hooks.cep_plugin_info().label(as_of) == name


def test_plugin_info() -> None:
    info = hooks.cep_plugin_info()
    assert info.id == "pole_emploi"
    assert info.kind is PluginKind.OPERATOR
    assert [label.value for label in info.labels] == ["Pôle emploi", "France Travail"]
    assert info.labels[1].valid_from == date(2024, 1, 1)
    assert "2023-1196" in info.labels[1].source
    assert info.contact is not None
    assert info.contact.url == "https://www.francetravail.fr/"


def test_parameter_file_loads_and_every_value_has_a_source() -> None:
    params = hooks.parameters()
    assert {"label", "contact.url", "contact.phone"} <= set(params)
    for parameter in params.values():
        assert parameter.description.strip()
        for value in parameter.values:
            assert value.source.strip(), (parameter.name, value.valid_from)


def test_admitted_by_a_kit() -> None:
    kit = Kit([hooks], load_entrypoints=False)
    assert kit.registry.refused == []
    assert [r.info.id for r in kit.registry.operators()] == ["pole_emploi"]

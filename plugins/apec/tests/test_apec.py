"""The Apec plugin: cadres in work (private sector) or looking for a job."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from cep_apec import hooks
from cep_core import Kit, PluginKind, Situation, Status

AS_OF = date(2025, 6, 1)


def situation(status: Status, **flags: Any) -> Situation:
    return Situation(birth_date=date(1985, 3, 10), as_of=AS_OF, status=status, **flags)


@pytest.mark.parametrize(
    ("status", "flags", "competent", "fragment"),
    [
        (Status.EMPLOYEE, {"cadre": True}, True, "cadre en activité"),
        (Status.SELF_EMPLOYED, {"cadre": True}, True, "cadre en activité"),
        (Status.JOBSEEKER, {"cadre": True}, True, "recherchez un emploi"),
        (Status.EMPLOYEE, {"cadre": True, "seeking_job": True}, True, "recherchez un emploi"),
        (Status.STUDENT, {"cadre": True, "working": True}, True, "cadre en activité"),
        (Status.PUBLIC_AGENT, {"cadre": True, "seeking_job": True}, True, "recherchez un emploi"),
        (Status.PUBLIC_AGENT, {"cadre": True}, False, "fonction publique"),
        (Status.EMPLOYEE, {}, False, "pas indiqué être cadre"),
        (Status.JOBSEEKER, {"registered_jobseeker": True}, False, "pas indiqué être cadre"),
        (Status.RETIRED, {"cadre": True}, False, "ni ne recherchez"),
    ],
)
def test_rules(status: Status, flags: dict[str, Any], competent: bool, fragment: str) -> None:
    answer = hooks.cep_assess_competence(situation(status, **flags))
    assert answer.operator == "apec"
    assert answer.competent is competent
    assert fragment in answer.reason
    assert answer.reason.startswith("Vous ")
    assert answer.name == "Apec"


def test_contact_comes_from_the_parameter_file() -> None:
    answer = hooks.cep_assess_competence(situation(Status.EMPLOYEE, cadre=True))
    assert answer.contact is not None
    assert answer.contact.url == "https://www.apec.fr/"
    assert answer.contact.phone == "0809 361 212"


def test_plugin_info() -> None:
    info = hooks.cep_plugin_info()
    assert info.id == "apec"
    assert info.kind is PluginKind.OPERATOR
    assert info.label(AS_OF) == "Apec"
    assert all(label.source for label in info.labels)
    assert info.contact is not None
    assert info.contact.url == "https://www.apec.fr/"


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
    assert [r.info.id for r in kit.registry.operators()] == ["apec"]

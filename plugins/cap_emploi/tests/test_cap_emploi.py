"""The Cap emploi plugin: a recognised disability, in work or looking for a job."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from cep_cap_emploi import hooks
from cep_core import Kit, PluginKind, Situation, Status

AS_OF = date(2025, 6, 1)
RECOGNITION = "une reconnaissance de handicap (RQTH ou équivalent)"


def situation(status: Status, **flags: Any) -> Situation:
    return Situation(birth_date=date(1985, 3, 10), as_of=AS_OF, status=status, **flags)


@pytest.mark.parametrize(
    ("status", "flags", "competent"),
    [
        (Status.EMPLOYEE, {"disability_recognition": True}, True),
        (Status.PUBLIC_AGENT, {"disability_recognition": True}, True),
        (Status.SELF_EMPLOYED, {"disability_recognition": True}, True),
        (Status.JOBSEEKER, {"disability_recognition": True}, True),
        (Status.STUDENT, {"disability_recognition": True, "seeking_job": True}, True),
        (Status.RETIRED, {"disability_recognition": True, "working": True}, True),
        (Status.INACTIVE, {"disability_recognition": True}, False),
        (Status.EMPLOYEE, {}, False),
        (Status.JOBSEEKER, {"registered_jobseeker": True}, False),
    ],
)
def test_rules(status: Status, flags: dict[str, Any], competent: bool) -> None:
    answer = hooks.cep_assess_competence(situation(status, **flags))
    assert answer.operator == "cap_emploi"
    assert answer.competent is competent
    assert answer.name == "Cap emploi"
    assert answer.reason.startswith("Vous ")


def test_reasons_mention_the_recognition_soberly() -> None:
    in_work = hooks.cep_assess_competence(situation(Status.EMPLOYEE, disability_recognition=True))
    assert in_work.reason.startswith(f"Vous avez indiqué {RECOGNITION} et vous êtes en emploi")
    seeking = hooks.cep_assess_competence(situation(Status.JOBSEEKER, disability_recognition=True))
    assert seeking.reason.startswith(f"Vous avez indiqué {RECOGNITION} et vous recherchez")
    without = hooks.cep_assess_competence(situation(Status.EMPLOYEE))
    assert without.reason.startswith("Vous n'avez pas indiqué de reconnaissance de handicap")


def test_plugin_info() -> None:
    info = hooks.cep_plugin_info()
    assert info.id == "cap_emploi"
    assert info.kind is PluginKind.OPERATOR
    assert info.label(AS_OF) == "Cap emploi"
    assert info.contact is not None
    assert info.contact.url == "https://mon-cep.org/"


def test_parameter_file_loads_and_every_value_has_a_source() -> None:
    params = hooks.parameters()
    assert {"label", "contact.url"} <= set(params)
    for parameter in params.values():
        assert parameter.description.strip()
        for value in parameter.values:
            assert value.source.strip(), (parameter.name, value.valid_from)


def test_admitted_by_a_kit() -> None:
    kit = Kit([hooks], load_entrypoints=False)
    assert kit.registry.refused == []
    assert [r.info.id for r in kit.registry.operators()] == ["cap_emploi"]

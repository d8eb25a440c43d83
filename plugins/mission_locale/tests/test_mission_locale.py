"""The Missions locales plugin: under 26 on the reference date, not registered as job seeker."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from cep_core import Kit, PluginKind, Situation, Status
from cep_mission_locale import hooks

BIRTH = date(2000, 6, 15)


def situation(as_of: date, status: Status = Status.EMPLOYEE, **flags: Any) -> Situation:
    return Situation(birth_date=BIRTH, as_of=as_of, status=status, **flags)


def test_under_26_on_the_reference_date_is_served() -> None:
    answer = hooks.cep_assess_competence(situation(date(2026, 6, 14)))  # the day before
    assert answer.competent is True
    assert answer.name == "Mission locale"
    assert "moins de 26 ans" in answer.reason
    assert "France Travail" in answer.reason


def test_from_the_26th_birthday_it_is_not() -> None:
    answer = hooks.cep_assess_competence(situation(date(2026, 6, 15)))
    assert answer.competent is False
    assert answer.reason.startswith("Vous avez 26 ans ou plus")


@pytest.mark.parametrize("status", [Status.JOBSEEKER, Status.STUDENT, Status.PUBLIC_AGENT])
def test_any_status_under_26_and_not_registered(status: Status) -> None:
    answer = hooks.cep_assess_competence(situation(date(2022, 1, 1), status, seeking_job=True))
    assert answer.competent is True


@pytest.mark.parametrize(
    ("as_of", "label", "other"),
    [
        (date(2023, 12, 31), "Pôle emploi", "France Travail"),
        (date(2024, 1, 1), "France Travail", "Pôle emploi"),
    ],
)
def test_registered_young_people_are_sent_to_the_dated_public_service(
    as_of: date, label: str, other: str
) -> None:
    registered = hooks.cep_assess_competence(
        situation(as_of, Status.JOBSEEKER, registered_jobseeker=True)
    )
    assert registered.competent is False
    assert f"inscrit(e) à {label}" in registered.reason
    assert other not in registered.reason
    served = hooks.cep_assess_competence(situation(as_of))
    assert f"inscrit(e) à {label}" in served.reason
    assert other not in served.reason


def test_age_limit_is_a_dated_parameter() -> None:
    params = hooks.parameters()
    assert params["age_limit"].unit == "ans"
    assert params.at("age_limit", date(2025, 1, 1)) == 26


def test_plugin_info() -> None:
    info = hooks.cep_plugin_info()
    assert info.id == "mission_locale"
    assert info.kind is PluginKind.OPERATOR
    assert info.label(date(2025, 1, 1)) == "Mission locale"
    assert info.contact is not None
    assert info.contact.url == "https://www.unml.info/"


def test_parameter_file_loads_and_every_value_has_a_source() -> None:
    params = hooks.parameters()
    assert {"label", "age_limit", "france_travail.label", "contact.url"} <= set(params)
    for parameter in params.values():
        assert parameter.description.strip()
        for value in parameter.values:
            assert value.source.strip(), (parameter.name, value.valid_from)


def test_admitted_by_a_kit() -> None:
    kit = Kit([hooks], load_entrypoints=False)
    assert kit.registry.refused == []
    assert [r.info.id for r in kit.registry.operators()] == ["mission_locale"]

"""Operator settings: defaults, saving, bounds in French, and two managers saving at once."""

from __future__ import annotations

import pytest
from request_helpers import FakeClock

from cep_core.domain.issues import InvalidInput
from cep_core.domain.requests import DEFAULT_APPOINTMENT_MINUTES, OperatorSettingsInput
from cep_core.errors import UnknownOperator
from cep_core.kit import Kit
from cep_core.services.operator_settings import SettingsConflict


def test_an_operator_never_saved_has_the_defaults(db_kit: Kit) -> None:
    settings = db_kit.operator_settings.get("apec")
    assert settings.version == 0
    assert settings.public_requests_open and settings.queue_email is None
    assert settings.default_duration_minutes == DEFAULT_APPOINTMENT_MINUTES
    with pytest.raises(UnknownOperator):
        db_kit.operator_settings.get("inconnu")


def test_saving_replaces_the_settings_of_that_operator_only(db_kit: Kit, clock: FakeClock) -> None:
    saved = db_kit.operator_settings.update(
        "apec",
        OperatorSettingsInput(
            queue_email=" accueil@apec.exemple.fr ",
            public_requests_open=False,
            welcome_text="  Nous répondons sous trois jours ouvrés.  ",
            default_duration_minutes=90,
        ),
        actor="manager-1",
        expected_version=0,
    )
    assert saved.version == 1 and saved.updated_at == clock.now
    again = db_kit.operator_settings.get("apec")
    assert again == saved
    assert again.queue_email == "accueil@apec.exemple.fr"
    assert again.welcome_text == "Nous répondons sous trois jours ouvrés."
    assert again.updated_by == "manager-1"
    assert db_kit.operator_settings.get("regional").version == 0

    blank = db_kit.operator_settings.update(
        "apec", OperatorSettingsInput(welcome_text="   "), actor="manager-1", expected_version=1
    )
    assert blank.version == 2 and blank.welcome_text is None


def test_of_two_managers_saving_from_the_same_version_one_wins(db_kit: Kit) -> None:
    db_kit.operator_settings.update(
        "apec", OperatorSettingsInput(default_duration_minutes=45), actor="a", expected_version=0
    )
    with pytest.raises(SettingsConflict) as conflict:
        db_kit.operator_settings.update(
            "apec",
            OperatorSettingsInput(default_duration_minutes=30),
            actor="b",
            expected_version=0,
        )
    assert "Rechargez" in str(conflict.value)
    assert db_kit.operator_settings.get("apec").default_duration_minutes == 45
    with pytest.raises(SettingsConflict):
        db_kit.operator_settings.update(
            "apec", OperatorSettingsInput(), actor="b", expected_version=7
        )


def test_values_out_of_bounds_are_refused_in_french(db_kit: Kit) -> None:
    with pytest.raises(InvalidInput) as refused:
        db_kit.operator_settings.parse(
            {
                "queue_email": "pas une adresse",
                "default_duration_minutes": 5,
                "welcome_text": "x" * 501,
            }
        )
    found = {issue.path: issue.message for issue in refused.value.issues}
    assert set(found) == {"queue_email", "default_duration_minutes", "welcome_text"}
    assert "entre 15 et 240 minutes" in found["default_duration_minutes"]
    with pytest.raises(InvalidInput):
        db_kit.operator_settings.parse({"operator": "regional"})  # unknown field

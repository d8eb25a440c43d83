"""Operator settings use case: how an operator takes public requests, edited by its managers.

An operator that never saved its settings gets the defaults (requests open, no queue address
of its own, one-hour appointments). Saving is optimistic: the form carries the version it
read, and of two managers saving at once only the first wins (`SettingsConflict`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC
from typing import Any

import msgspec
from sqlalchemy.exc import IntegrityError

from cep_core.clock import Clock
from cep_core.domain.issues import InvalidInput, Issue
from cep_core.domain.requests import (
    APPOINTMENT_MAX_MINUTES,
    APPOINTMENT_MIN_MINUTES,
    RETENTION_MAX_MONTHS,
    RETENTION_MIN_MONTHS,
    WELCOME_MAX_LENGTH,
    OperatorSettings,
    OperatorSettingsInput,
)
from cep_core.errors import CepError
from cep_core.plugins import Hooks
from cep_core.services.form_input import decode_form, trimmed
from cep_core.storage.database import Database
from cep_core.storage.requests import OperatorSettingsRepository

SETTINGS_MESSAGES = {
    "queue_email": "L'adresse de la file n'est pas valide (exemple : accueil@operateur.fr).",
    "public_requests_open": "Indiquez si les demandes en ligne sont ouvertes.",
    "welcome_text": f"Le mot d'accueil ne doit pas dépasser {WELCOME_MAX_LENGTH} caractères.",
    "retention_months": (
        f"La durée de conservation doit être comprise entre {RETENTION_MIN_MONTHS} et "
        f"{RETENTION_MAX_MONTHS} mois."
    ),
    "default_duration_minutes": (
        f"La durée d'un rendez-vous doit être comprise entre {APPOINTMENT_MIN_MINUTES} et "
        f"{APPOINTMENT_MAX_MINUTES} minutes."
    ),
}


class SettingsConflict(CepError):
    """Another manager saved the settings since they were read: nothing was written."""

    def __init__(self) -> None:
        super().__init__(
            "Les paramètres ont été modifiés par quelqu'un d'autre depuis que vous avez ouvert "
            "la page. Rechargez-la, vérifiez les changements, puis refaites votre modification."
        )


class OperatorSettingsService:
    def __init__(self, database: Database, hooks: Hooks, *, clock: Clock) -> None:
        self._database = database
        self._hooks = hooks
        self._clock = clock

    def get(self, operator: str) -> OperatorSettings:
        """The operator's settings, or the defaults; `UnknownOperator` if not installed."""
        self._hooks.operator(operator)
        with self._database.read() as connection:
            found = OperatorSettingsRepository(connection, operator).get()
        return found or OperatorSettings(operator=operator)

    @staticmethod
    def parse(data: Mapping[str, Any]) -> OperatorSettingsInput:
        """Plain form or JSON values as an input, every problem at once (`InvalidInput`);
        texts are trimmed and a blank one means none."""
        found, issues = decode_form(OperatorSettingsInput, trimmed(data), SETTINGS_MESSAGES)
        if found is None:
            raise InvalidInput(issues)
        return found

    def update(
        self,
        operator: str,
        data: OperatorSettingsInput,
        *,
        actor: str | None,
        expected_version: int,
    ) -> OperatorSettings:
        """Replace the settings read at `expected_version` (0: never saved).

        Texts are trimmed (blank means none). Raises `InvalidInput` for values out of bounds
        and `SettingsConflict` when someone saved meanwhile.
        """
        self._hooks.operator(operator)
        data = self.parse(msgspec.to_builtins(data))
        if isinstance(expected_version, bool) or expected_version < 0:
            raise InvalidInput(
                [Issue(path="version", code="invalid", message="Version des paramètres invalide.")]
            )
        now = self._clock().astimezone(UTC)
        settings = OperatorSettings(
            operator=operator,
            queue_email=(data.queue_email or "").strip() or None,
            public_requests_open=data.public_requests_open,
            welcome_text=(data.welcome_text or "").strip() or None,
            default_duration_minutes=data.default_duration_minutes,
            retention_months=data.retention_months,
            updated_at=now,
            updated_by=actor,
            version=expected_version + 1,
        )
        try:
            with self._database.write() as connection:
                saved = OperatorSettingsRepository(connection, operator).save(
                    settings, expected_version=expected_version
                )
                if not saved:
                    raise SettingsConflict()
        except IntegrityError:  # two first saves at once: the other one's row won
            raise SettingsConflict() from None
        return settings

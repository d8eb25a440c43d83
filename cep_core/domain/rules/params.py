"""Typed, checked access to the funding parameters (``cep_core/data/funding.toml``).

`FundingParameters` wraps a `ParameterSet` and is built through ONE code path, `from_toml`,
whether the text comes from the packaged file, a deployment's copy or a test's modified copy:
a new year's participation amount is a data-file change, never a code change. Construction
fails fast — a missing parameter or an amount that is not an exact ``"123.45"`` text stops the
kit at start-up, not in the middle of a request.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from cep_core.domain.money import Cents, MoneyError, parse_euros
from cep_core.domain.parameters import Parameter, ParameterError, ParameterSet

EUR = "EUR"
PACKAGE = "cep_core"
RESOURCE = "data/funding.toml"

# Every parameter the core rules read; `FundingParameters` refuses a file without one of them.
REQUIRED = (
    "cpf.in_euros",
    "cpf.credit.standard.amount",
    "cpf.credit.standard.ceiling",
    "cpf.credit.low_qualified.amount",
    "cpf.credit.low_qualified.ceiling",
    "cpf.credit.disabled.amount",
    "cpf.credit.disabled.ceiling",
    "cpf.credit.self_employed.amount",
    "cpf.credit.self_employed.ceiling",
    "cpf.credit.half_time_percent",
    "cpf.credit.public_agent.hours",
    "cpf.credit.public_agent.hours_ceiling",
    "cpf.dif.euros_per_hour",
    "cpf.exception_kinds",
    "certification.code_pattern",
    "qualiopi.required",
    "cpf.participation.amount",
    "cpf.participation.revalued_yearly",
    "cpf.participation.public_agent_exempt",
    "ptp.available",
    "ptp.cdi.months_salaried",
    "ptp.cdi.months_company",
    "ptp.cdd.months_salaried",
    "ptp.cdd.window_months",
    "ptp.cdd.months_cdd",
    "ptp.cdd.cdd_window_months",
    "ptp.cdd.excluded_kinds",
    "ptp.cdd.start_within_months",
    "ptp.absence_exemption",
    "ptp.absence.min_months",
    "ptp.absence.window_months",
    "ptp.pay.full_pay_smic_multiple",
    "ptp.pay.first_period_percent",
    "ptp.pay.first_period_months",
    "ptp.pay.later_percent",
    "ptp.pay.floor_smic_multiple",
    "ptp.notice.long_absence_months",
    "ptp.notice.long_days",
    "ptp.notice.short_days",
    "ptp.employer_answer_days",
    "smic.monthly",
    "demission.available",
    "demission.days_worked",
    "demission.window_months",
    "demission.registration_months",
    "bilan.max_hours",
    "vae.france_vae",
    "vae.yearly_applications_per_certification",
    "vae.employer_notice_days",
    "vae.employer_answer_days",
    "abondement_correctif.amount",
    "abondement_correctif.min_headcount",
    "abondement_correctif.period_years",
    "calendar.public_holidays.fixed",
    "calendar.public_holidays.easter_offsets",
    "funders.cpf.label",
    "funders.cpf.rule",
    "funders.employer.label",
    "funders.employer.rule",
    "funders.opco.label",
    "funders.opco.rule",
    "funders.region.label",
    "funders.region.rule",
    "funders.participation.rule",
)


class FundingParameters:
    """The dated values the funding rules read, each with its source."""

    def __init__(self, parameters: ParameterSet, *, required: Iterable[str] = REQUIRED) -> None:
        missing = [name for name in required if name not in parameters]
        if missing:
            raise ParameterError("paramètres de financement manquants : " + ", ".join(missing))
        for name in parameters:
            parameter = parameters[name]
            if parameter.unit == EUR:
                for entry in parameter.values:
                    try:
                        parse_euros(entry.value)
                    except MoneyError as exc:
                        raise ParameterError(
                            f"« {name} » au {entry.valid_from.isoformat()} : {exc}"
                        ) from exc
        self._parameters = parameters

    # -- loading (one path) ----------------------------------------------------------------

    @classmethod
    def from_toml(cls, text: str, *, origin: str = "<texte>") -> FundingParameters:
        return cls(ParameterSet.from_toml(text, origin=origin))

    @classmethod
    def from_path(cls, path: str | os.PathLike[str]) -> FundingParameters:
        return cls.from_toml(Path(path).read_text(encoding="utf-8"), origin=os.fspath(path))

    @classmethod
    def packaged_text(cls) -> str:
        return resources.files(PACKAGE).joinpath(RESOURCE).read_text(encoding="utf-8")

    # -- typed reads -----------------------------------------------------------------------

    @property
    def parameters(self) -> ParameterSet:
        return self._parameters

    def __contains__(self, name: object) -> bool:
        return name in self._parameters

    def parameter(self, name: str) -> Parameter:
        return self._parameters[name]

    def value(self, name: str, when: date) -> Any:
        """The value on `when`; `ParameterError` when the parameter is not defined then."""
        return self._parameters.at(name, when)

    def get(self, name: str, when: date, default: Any = None) -> Any:
        return self._parameters.get_at(name, when, default)

    def defined(self, name: str, when: date) -> bool:
        return self._parameters[name].entry_at(when) is not None

    def cents(self, name: str, when: date) -> Cents:
        parameter = self._parameters[name]
        if parameter.unit != EUR:
            raise ParameterError(f"« {name} » n'est pas un montant en euros")
        return parse_euros(parameter.at(when))

    def cents_or_none(self, name: str, when: date) -> Cents | None:
        return self.cents(name, when) if self.defined(name, when) else None

    def integer(self, name: str, when: date) -> int:
        value = self.value(name, when)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ParameterError(f"« {name} » doit être un nombre entier")
        return value

    def flag(self, name: str, when: date) -> bool:
        """A yes/no parameter; False on a date before its first value (the rule did not exist)."""
        value = self.get(name, when, False)
        if not isinstance(value, bool):
            raise ParameterError(f"« {name} » doit être vrai ou faux")
        return value

    def text(self, name: str, when: date) -> str:
        return str(self.value(name, when))

    def strings(self, name: str, when: date) -> tuple[str, ...]:
        value = self.value(name, when)
        if not isinstance(value, list):
            raise ParameterError(f"« {name} » doit être une liste")
        return tuple(str(item) for item in value)

    def source(self, name: str, when: date) -> str:
        entry = self._parameters[name].entry_at(when)
        return entry.source if entry is not None else ""

    def first_date(self, name: str) -> date:
        return self._parameters[name].values[0].valid_from

    def last_change(self, name: str) -> date:
        return self._parameters[name].values[-1].valid_from


@cache
def funding_parameters() -> FundingParameters:
    """The packaged parameters, loaded once per process (immutable, so safe to share)."""
    return FundingParameters.from_toml(FundingParameters.packaged_text(), origin=RESOURCE)

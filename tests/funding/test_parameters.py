"""The funding parameters: complete, sourced, exact — and a new year is a data-file change."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import msgspec
import pytest

from cep_core.domain.issues import InvalidInput
from cep_core.domain.money import parse_euros
from cep_core.domain.parameters import ParameterError
from cep_core.domain.rules import REQUIRED, FundingParameters
from cep_core.errors import PluginFailure
from cep_core.kit import Kit
from cep_core.services.funding import FundingService, SimulationQuery

PARTICIPATION_2027 = """\
  { valid_from = 2027-01-01, value = "104.56", source = "Arrêté fictif du test (revalorisation 2027)" },
"""


def test_packaged_file_has_every_required_parameter_with_a_source(
    params: FundingParameters,
) -> None:
    for name in REQUIRED:
        parameter = params.parameter(name)
        assert parameter.description.strip(), name
        assert all(value.source.strip() for value in parameter.values), name


def test_every_euro_amount_is_exact_text(params: FundingParameters) -> None:
    for name in params.parameters:
        parameter = params.parameter(name)
        if parameter.unit == "EUR":
            for value in parameter.values:
                assert isinstance(value.value, str), name
                parse_euros(value.value)


def test_a_missing_parameter_stops_loading() -> None:
    text = FundingParameters.packaged_text().replace("[bilan.max_hours]", "[bilan.max_hour]")
    with pytest.raises(ParameterError, match=r"bilan\.max_hours"):
        FundingParameters.from_toml(text)


def test_an_inexact_amount_stops_loading() -> None:
    text = FundingParameters.packaged_text().replace('value = "102.23"', 'value = "102.234"')
    with pytest.raises(ParameterError, match=r"cpf\.participation\.amount"):
        FundingParameters.from_toml(text)


def test_a_float_amount_stops_loading() -> None:
    text = FundingParameters.packaged_text().replace('value = "102.23"', "value = 102.23")
    with pytest.raises(ParameterError):
        FundingParameters.from_toml(text)


def modified_copy(tmp_path: Path) -> Path:
    """The packaged file with a 2027 participation amount added, as a deployment would."""
    text = FundingParameters.packaged_text()
    anchor = '  { valid_from = 2026-01-01, value = "103.20"'
    start = text.index(anchor)
    end = text.index("\n", start) + 1
    path = tmp_path / "funding.toml"
    path.write_text(text[:end] + PARTICIPATION_2027 + text[end:], encoding="utf-8")
    return path


def simulation_2027() -> SimulationQuery:
    payload: dict[str, Any] = {
        "purchase_date": "2027-02-01",
        "training": {
            "cost_eur": 1000,
            "kind": "certification",
            "certification_code": "RNCP34828",
            "qualiopi": True,
        },
        "situation": {"status": "employee", "cpf_balance_eur": 2000},
    }
    return msgspec.convert(payload, SimulationQuery)


def test_new_year_participation_is_a_data_file_change_only(tmp_path: Path, kit: Kit) -> None:
    """Arrêté de revalorisation annuelle (décret n° 2024-394): only the TOML changes."""
    packaged = FundingService(kit.hooks).simulate(simulation_2027(), date(2027, 1, 15))
    assert packaged.plan.participation.amount == 10_320  # 2026 value, with a warning
    assert any("2027" in w and "pas encore" in w for w in packaged.warnings)

    modified = FundingParameters.from_path(modified_copy(tmp_path))
    assert modified.cents("cpf.participation.amount", date(2026, 12, 31)) == 10_320
    assert modified.cents("cpf.participation.amount", date(2027, 1, 1)) == 10_456

    updated = FundingService(kit.hooks, modified).simulate(simulation_2027(), date(2027, 1, 15))
    assert updated.plan.participation.amount == 10_456
    cpf = updated.plan.line("cpf")
    assert cpf is not None
    assert cpf.amount == 100_000 - 10_456
    assert not any("pas encore" in w for w in updated.warnings)


def test_a_parameter_missing_on_the_date_makes_the_service_unavailable(kit: Kit) -> None:
    """A data file that does not cover the date asked is the kit's fault (503), not the
    client's; the client's own impossible date is a 400."""
    text = FundingParameters.packaged_text().replace(
        '{ valid_from = 2019-01-01, value = "Conseil régional"',
        '{ valid_from = 2030-01-01, value = "Conseil régional"',
    )
    service = FundingService(kit.hooks, FundingParameters.from_toml(text))
    with pytest.raises(PluginFailure) as failure:
        service.simulate(simulation_2027(), date(2027, 1, 15))
    assert failure.value.plugin == "core.funding"

    early = msgspec.structs.replace(simulation_2027(), purchase_date=date(2018, 12, 31))
    with pytest.raises(InvalidInput) as invalid:
        FundingService(kit.hooks).simulate(early, date(2018, 12, 31))
    assert [issue.path for issue in invalid.value.issues] == ["purchase_date"]

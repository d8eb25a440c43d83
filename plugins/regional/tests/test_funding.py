"""Transitions Pro: the PTP's funder, a gap-filler only for an eligible PTP."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from cep_core import (
    FundingSituation,
    Kit,
    OperatorContext,
    Project,
    Status,
    TrainingKind,
)
from cep_core.domain.funding import ContractKind
from cep_core.settings import Settings
from cep_pole_emploi import hooks as pole_emploi
from cep_regional import funding, hooks

CTX = OperatorContext(operator="regional", today=date(2025, 3, 10))
ELIGIBLE = FundingSituation(
    status=Status.EMPLOYEE,
    contract=ContractKind.CDI,
    months_salaried_total=30,
    months_current_employer=12,
)


def project(ptp: bool) -> Project:
    return Project(
        kind=TrainingKind.CERTIFICATION, price=800_000, certification_code="RNCP34828", ptp=ptp
    )


@pytest.mark.parametrize(
    ("situation", "ptp", "offered", "gap"),
    [
        pytest.param(ELIGIBLE, True, True, True, id="PTP demandé et possible : comble le reste"),
        pytest.param(ELIGIBLE, False, True, False, id="PTP possible : option sans montant"),
        pytest.param(
            FundingSituation(
                status=Status.EMPLOYEE, contract=ContractKind.CDI, months_salaried_total=10
            ),
            True,
            True,
            False,
            id="PTP demandé mais conditions non remplies",
        ),
        pytest.param(
            FundingSituation(
                status=Status.EMPLOYEE, contract=ContractKind.CDI, months_salaried_total=10
            ),
            False,
            False,
            False,
            id="ni demandé ni possible",
        ),
        pytest.param(
            FundingSituation(status=Status.JOBSEEKER), True, False, False, id="demandeur d'emploi"
        ),
    ],
)
def test_transitions_pro(situation: FundingSituation, ptp: bool, offered: bool, gap: bool) -> None:
    options = funding.cep_funding_options(CTX, project(ptp), situation)
    assert [o.funder for o in options] == (["transitions_pro"] if offered else [])
    if offered:
        (option,) = options
        assert option.covers_gap is gap
        assert option.label == "Transitions Pro de votre région"
        assert set(option.covers) == {"teaching", "pay", "other"}
        assert option.operator == "regional"


def test_label_in_2019() -> None:
    ctx = OperatorContext(operator="regional", today=date(2019, 6, 1))
    (option,) = funding.cep_funding_options(ctx, project(True), ELIGIBLE)
    assert "CPIR" in option.label


def test_options_run_only_for_their_operator(tmp_path: Path) -> None:
    """Operator-scoped: the regional funder never shows on a France Travail case."""
    assert hooks.cep_funding_options is funding.cep_funding_options
    kit = Kit([hooks, pole_emploi], settings=Settings(data_dir=tmp_path), load_entrypoints=False)
    regional = kit.hooks.funding_options(CTX, project(True), ELIGIBLE)
    assert "transitions_pro" in {o.funder for o in regional}
    other = OperatorContext(operator="pole_emploi", today=CTX.today)
    assert "transitions_pro" not in {
        o.funder for o in kit.hooks.funding_options(other, project(True), ELIGIBLE)
    }
    kit.close()

"""Disability-related funding: Agefiph, or the FIPHFP for public agents; no amount known."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from cep_cap_emploi import funding, hooks
from cep_core import (
    FundingSituation,
    Kit,
    OperatorContext,
    Project,
    Status,
    TrainingKind,
)
from cep_core.settings import Settings

PROJECT = Project(kind=TrainingKind.CERTIFICATION, price=300_000, certification_code="RNCP34828")
CTX = OperatorContext(operator="cap_emploi", today=date(2025, 3, 10))


@pytest.mark.parametrize(
    ("situation", "funders"),
    [
        pytest.param(
            FundingSituation(status=Status.EMPLOYEE, disability_recognition=True),
            ["agefiph"],
            id="salarié RQTH : Agefiph",
        ),
        pytest.param(
            FundingSituation(status=Status.JOBSEEKER, disability_recognition=True),
            ["agefiph"],
            id="demandeur d'emploi RQTH : Agefiph",
        ),
        pytest.param(
            FundingSituation(status=Status.PUBLIC_AGENT, disability_recognition=True),
            ["fiphfp"],
            id="agent public RQTH : FIPHFP",
        ),
        pytest.param(FundingSituation(status=Status.EMPLOYEE), [], id="sans reconnaissance"),
    ],
)
def test_options(situation: FundingSituation, funders: list[str]) -> None:
    options = funding.cep_funding_options(CTX, PROJECT, situation)
    assert [o.funder for o in options] == funders
    for option in options:
        assert option.amount is None  # not researched: counts 0 until the aid is known
        assert not option.covers_gap
        assert option.conditions
        assert option.documents
        assert option.operator == "cap_emploi"
        assert "[M]" in option.rule


def test_registered_through_the_hooks_module(tmp_path: Path) -> None:
    assert hooks.cep_funding_options is funding.cep_funding_options
    kit = Kit([hooks], settings=Settings(data_dir=tmp_path), load_entrypoints=False)
    situation = FundingSituation(status=Status.EMPLOYEE, disability_recognition=True)
    assert "agefiph" in {o.funder for o in kit.hooks.funding_options(CTX, PROJECT, situation)}
    kit.close()

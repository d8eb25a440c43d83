"""France Travail's funding options: its CPF top-up (a gap-filler, capped) and the AIF."""

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
from cep_core.settings import Settings
from cep_pole_emploi import funding, hooks

PROJECT = Project(kind=TrainingKind.CERTIFICATION, price=300_000, certification_code="RNCP34828")


def ctx(today: date = date(2025, 3, 10)) -> OperatorContext:
    return OperatorContext(operator="pole_emploi", today=today)


@pytest.mark.parametrize(
    ("situation", "funders"),
    [
        pytest.param(
            FundingSituation(status=Status.JOBSEEKER),
            {"france_travail", "france_travail_aif"},
            id="demandeur d'emploi",
        ),
        pytest.param(
            FundingSituation(status=Status.EMPLOYEE, registered_jobseeker=True),
            {"france_travail", "france_travail_aif"},
            id="inscrit en travaillant",
        ),
        pytest.param(FundingSituation(status=Status.EMPLOYEE), set(), id="salarié"),
    ],
)
def test_options_only_for_job_seekers(situation: FundingSituation, funders: set[str]) -> None:
    options = funding.cep_funding_options(ctx(), PROJECT, situation)
    assert {o.funder for o in options} == funders
    assert all(o.operator == "pole_emploi" for o in options)


def test_topup_is_a_capped_gap_filler_marked_as_dated() -> None:
    (topup,) = [
        o
        for o in funding.cep_funding_options(
            ctx(), PROJECT, FundingSituation(status=Status.JOBSEEKER)
        )
        if o.funder == "france_travail"
    ]
    assert topup.covers_gap
    assert topup.max_amount == 600_000  # [V2 ~2021] cap, from the parameter file
    assert topup.request_working_days_before_start == 21
    assert topup.answer_working_days == 10
    assert topup.label == "Abondement de France Travail"
    assert any("2021" in note for note in topup.notes)
    assert "V2" in topup.rule


@pytest.mark.parametrize(
    ("today", "label"),
    [
        pytest.param(date(2020, 7, 5), None, id="avant le 6 juillet 2020 : pas d'abondement"),
        pytest.param(date(2020, 7, 6), "Abondement de Pôle emploi", id="6 juillet 2020"),
        pytest.param(date(2023, 12, 31), "Abondement de Pôle emploi", id="loi 2023-1196 veille"),
        pytest.param(date(2024, 1, 1), "Abondement de France Travail", id="loi 2023-1196"),
    ],
)
def test_topup_is_dated(today: date, label: str | None) -> None:
    options = funding.cep_funding_options(
        ctx(today), PROJECT, FundingSituation(status=Status.JOBSEEKER)
    )
    topups = [o.label for o in options if o.funder == "france_travail"]
    assert topups == ([label] if label else [])


def test_registered_through_the_hooks_module_and_scoped(tmp_path: Path) -> None:
    assert hooks.cep_funding_options is funding.cep_funding_options
    kit = Kit([hooks], settings=Settings(data_dir=tmp_path), load_entrypoints=False)
    jobseeker = FundingSituation(status=Status.JOBSEEKER)
    found = kit.hooks.funding_options(ctx(), PROJECT, jobseeker)
    assert "france_travail" in {o.funder for o in found}
    assert {"cpf", "region"} <= {o.funder for o in found}  # the core's default plugin
    kit.close()

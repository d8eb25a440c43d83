"""Démission-reconversion, bilan, VAE, abondement correctif; and the working-day calendar."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Any

import pytest

from cep_core.domain.funding import ContractKind, TrainingKind
from cep_core.domain.rules import (
    FundingParameters,
    abondement_correctif,
    add_months,
    bilan_verdict,
    demission_reconversion,
    easter_sunday,
    is_working_day,
    months_spanned,
    vae_verdict,
    working_days_after,
    working_days_before,
)
from cep_core.domain.situation import Status

WHEN = date(2024, 6, 1)
CDI = {"contract": ContractKind.CDI}


@pytest.mark.parametrize(
    ("facts", "when", "eligible"),
    [
        pytest.param(
            {**CDI, "days_worked_last_60_months": 1300},
            WHEN,
            True,
            id="1 300 jours sur 60 mois (Transitions Pro NA) : oui",
        ),
        pytest.param(
            {**CDI, "days_worked_last_60_months": 1299}, WHEN, False, id="1 299 jours : non"
        ),
        pytest.param(CDI, WHEN, None, id="jours non indiqués : indéterminé"),
        pytest.param(
            {"contract": ContractKind.CDD, "days_worked_last_60_months": 1500},
            WHEN,
            False,
            id="L5422-1 : CDD exclu",
        ),
        pytest.param(
            {**CDI, "days_worked_last_60_months": 1500},
            date(2019, 10, 31),
            False,
            id="loi 2018-771 : avant le 1er novembre 2019",
        ),
        pytest.param(
            {**CDI, "days_worked_last_60_months": 1500},
            date(2019, 11, 1),
            True,
            id="loi 2018-771 : dès le 1er novembre 2019",
        ),
    ],
)
def test_demission_reconversion(
    params: FundingParameters,
    make: SimpleNamespace,
    facts: dict[str, Any],
    when: date,
    eligible: bool | None,
) -> None:
    verdict = demission_reconversion(make.situation(**facts), when, params)
    assert verdict.eligible is eligible
    if facts.get("contract") == ContractKind.CDI and when >= date(2019, 11, 1):
        assert verdict.uncertain  # the seniority count is disputed, and says so
        assert any("INCERTAINE" in reason for reason in verdict.reasons)
        assert any("obligatoire AVANT la démission" in reason for reason in verdict.reasons)


def test_demission_not_for_public_agents(params: FundingParameters, make: SimpleNamespace) -> None:
    situation = make.situation(status=Status.PUBLIC_AGENT, **CDI, days_worked_last_60_months=2000)
    assert demission_reconversion(situation, WHEN, params).eligible is False


@pytest.mark.parametrize(
    ("hours", "eligible"),
    [
        pytest.param(24, True, id="R6313-4 : 24 h"),
        pytest.param(25, False, id="R6313-4 : 25 h"),
        pytest.param(None, True, id="durée non indiquée"),
    ],
)
def test_bilan(
    params: FundingParameters, make: SimpleNamespace, hours: int | None, eligible: bool
) -> None:
    verdict = bilan_verdict(make.project(kind=TrainingKind.BILAN, hours=hours), WHEN, params)
    assert verdict.eligible is eligible
    assert any("R6313-4" in reason for reason in verdict.reasons)
    assert any("consentement" in reason for reason in verdict.reasons)


@pytest.mark.parametrize(
    ("when", "france_vae", "notice"),
    [
        pytest.param(date(2023, 12, 31), False, 60, id="décret 2023-1275 : avant 2024, 60 jours"),
        pytest.param(date(2024, 1, 1), True, 30, id="décret 2023-1275 : France VAE, 30 jours"),
    ],
)
def test_vae(
    params: FundingParameters, make: SimpleNamespace, when: date, france_vae: bool, notice: int
) -> None:
    project = make.project(kind=TrainingKind.VAE, certification_code=None)
    verdict, warnings = vae_verdict(project, make.situation(), when, params)
    assert verdict.eligible is True
    assert any("France VAE" in reason for reason in verdict.reasons) is france_vae
    assert any(f"au moins {notice} jours" in reason for reason in verdict.reasons)
    assert warnings == ()


@pytest.mark.parametrize(
    ("days_before", "late"),
    [pytest.param(30, False, id="30 jours : à temps"), pytest.param(29, True, id="29 jours")],
)
def test_vae_leave_notice_warning(
    params: FundingParameters, make: SimpleNamespace, days_before: int, late: bool
) -> None:
    start = date.fromordinal(WHEN.toordinal() + days_before)
    project = make.project(kind=TrainingKind.VAE, certification_code=None, start_date=start)
    _, warnings = vae_verdict(project, make.situation(), WHEN, params)
    assert bool(warnings) is late


def test_one_vae_application_per_certification_per_year(
    params: FundingParameters, make: SimpleNamespace
) -> None:
    project = make.project(
        kind=TrainingKind.VAE, certification_code=None, vae_applications_this_year=1
    )
    verdict, _ = vae_verdict(project, make.situation(), WHEN, params)
    assert verdict.eligible is False
    assert any("2025" in reason for reason in verdict.reasons)


@pytest.mark.parametrize(
    ("facts", "eligible"),
    [
        pytest.param(
            {
                "employer_headcount": 50,
                "professional_reviews_held": False,
                "non_compulsory_training": True,
            },
            True,
            id="L6315-1 : 50 salariés, entretiens manquants : dû",
        ),
        pytest.param(
            {
                "employer_headcount": 49,
                "professional_reviews_held": False,
                "non_compulsory_training": False,
            },
            False,
            id="L6315-1 : 49 salariés",
        ),
        pytest.param(
            {
                "employer_headcount": 300,
                "professional_reviews_held": True,
                "non_compulsory_training": False,
            },
            True,
            id="L6315-1 : pas de formation non obligatoire : dû",
        ),
        pytest.param(
            {
                "employer_headcount": 300,
                "professional_reviews_held": True,
                "non_compulsory_training": True,
            },
            False,
            id="L6315-1 : tout en règle",
        ),
        pytest.param(
            {"employer_headcount": 300, "professional_reviews_held": True},
            None,
            id="formation inconnue : indéterminé",
        ),
        pytest.param({}, None, id="effectif inconnu"),
        pytest.param(
            {
                "status": Status.JOBSEEKER,
                "employer_headcount": 300,
                "professional_reviews_held": False,
            },
            False,
            id="L6323-13 : salariés",
        ),
    ],
)
def test_abondement_correctif(
    params: FundingParameters, make: SimpleNamespace, facts: dict[str, Any], eligible: bool | None
) -> None:
    verdict = abondement_correctif(make.situation(**facts), WHEN, params)
    assert verdict.eligible is eligible
    if eligible:
        assert verdict.amount == 300_000
        assert any("n'exonère pas" in reason for reason in verdict.reasons)


# --- calendar ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "easter"),
    [
        (2019, date(2019, 4, 21)),
        (2024, date(2024, 3, 31)),
        (2025, date(2025, 4, 20)),
        (2026, date(2026, 4, 5)),
    ],
)
def test_easter(year: int, easter: date) -> None:
    assert easter_sunday(year) == easter


@pytest.mark.parametrize(
    ("day", "working"),
    [
        pytest.param(date(2025, 4, 21), False, id="L3133-1 lundi de Pâques"),
        pytest.param(date(2025, 5, 29), False, id="L3133-1 Ascension"),
        pytest.param(date(2025, 6, 9), False, id="L3133-1 lundi de Pentecôte"),
        pytest.param(date(2025, 7, 14), False, id="L3133-1 14 juillet"),
        pytest.param(date(2025, 7, 15), True, id="mardi ordinaire"),
        pytest.param(date(2025, 7, 12), False, id="samedi"),
    ],
)
def test_working_days(params: FundingParameters, day: date, working: bool) -> None:
    assert is_working_day(day, params) is working


def test_counting_working_days(params: FundingParameters) -> None:
    # Monday 2025-04-28: 21 working days before, skipping Easter Monday (21 April).
    assert working_days_before(date(2025, 4, 28), 21, params) == date(2025, 3, 27)
    # Friday 2025-05-02 + 10 working days, skipping 8 May: Monday 2025-05-19.
    assert working_days_after(date(2025, 5, 2), 10, params) == date(2025, 5, 19)


def test_months() -> None:
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2024, 6, 30), 6) == date(2024, 12, 30)
    assert months_spanned(date(2025, 3, 1), date(2025, 3, 31)) == 1
    assert months_spanned(date(2025, 3, 1), date(2025, 4, 1)) == 2
    assert months_spanned(date(2025, 3, 1), date(2026, 2, 28)) == 12

"""PTP (C. trav. L6323-17-1, L6323-17-2, D6323-9, D6323-18-1, R6323-10-1), both sides of
every threshold and date."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Any

import pytest

from cep_core.domain.funding import CddKind, ContractKind
from cep_core.domain.rules import (
    FundingParameters,
    ptp_eligibility,
    ptp_leave_deadline,
    ptp_pay_estimate,
)
from cep_core.domain.situation import Status

WHEN = date(2024, 6, 1)
CDI: dict[str, Any] = {
    "contract": ContractKind.CDI,
    "months_salaried_total": 24,
    "months_current_employer": 12,
}
CDD: dict[str, Any] = {
    "contract": ContractKind.CDD,
    "months_salaried_last_60": 24,
    "months_cdd_last_12": 4,
}

ELIGIBILITY = [
    ("L6323-17-2 CDI 24 mois dont 12: éligible", CDI, WHEN, True),
    ("L6323-17-2 CDI 23 mois: non", {**CDI, "months_salaried_total": 23}, WHEN, False),
    (
        "L6323-17-2 CDI 11 mois dans l'entreprise: non",
        {**CDI, "months_current_employer": 11},
        WHEN,
        False,
    ),
    ("D6323-9 CDD 24 mois/60 dont 4 de CDD/12: éligible", CDD, WHEN, True),
    ("D6323-9 CDD 23 mois sur 60: non", {**CDD, "months_salaried_last_60": 23}, WHEN, False),
    ("D6323-9 CDD 3 mois de CDD sur 12: non", {**CDD, "months_cdd_last_12": 3}, WHEN, False),
    ("D6323-9 CDD standard déclaré", {**CDD, "cdd_kind": CddKind.STANDARD}, WHEN, True),
    ("D6323-9 exclu: apprentissage", {**CDD, "cdd_kind": CddKind.APPRENTICESHIP}, WHEN, False),
    (
        "D6323-9 exclu: professionnalisation",
        {**CDD, "cdd_kind": CddKind.PROFESSIONALISATION},
        WHEN,
        False,
    ),
    ("D6323-9 exclu: CUI-CAE", {**CDD, "cdd_kind": CddKind.CAE_PEC}, WHEN, False),
    ("D6323-9 exclu: contrat étudiant", {**CDD, "cdd_kind": CddKind.STUDENT}, WHEN, False),
    ("D6323-9 exclu: CDD poursuivi en CDI", {**CDD, "cdd_kind": CddKind.CDD_TO_CDI}, WHEN, False),
    (
        "L6323-17-2 dispense BOETH",
        {
            **CDI,
            "months_salaried_total": 3,
            "months_current_employer": 1,
            "disability_recognition": True,
        },
        WHEN,
        True,
    ),
    (
        "L6323-17-2 dispense réembauche après licenciement économique ou inaptitude",
        {
            **CDD,
            "months_salaried_last_60": 2,
            "months_cdd_last_12": 2,
            "reemployed_after_dismissal": True,
        },
        WHEN,
        True,
    ),
    (
        "décret du 16 mars 2022: absence 6 mois, demande le 2022-03-30: pas de dispense",
        {**CDI, "months_salaried_total": 3, "absence_months_last_24": 6},
        date(2022, 3, 30),
        False,
    ),
    (
        "décret du 16 mars 2022: absence 6 mois, demande le 2022-03-31: dispense",
        {
            **CDI,
            "months_salaried_total": 3,
            "months_current_employer": 3,
            "absence_months_last_24": 6,
        },
        date(2022, 3, 31),
        True,
    ),
    (
        "décret du 16 mars 2022: absence 5 mois: pas de dispense",
        {
            **CDI,
            "months_salaried_total": 3,
            "months_current_employer": 3,
            "absence_months_last_24": 5,
        },
        WHEN,
        False,
    ),
    (
        "décret du 16 mars 2022: maladie professionnelle: dispense",
        {
            **CDI,
            "months_salaried_total": 3,
            "months_current_employer": 3,
            "occupational_disease_absence": True,
        },
        WHEN,
        True,
    ),
    ("L6323-17-1 avant 2019: pas de PTP (CIF)", CDI, date(2018, 12, 31), False),
    ("L6323-17-1 dès 2019-01-01", CDI, date(2019, 1, 1), True),
    ("contrat non indiqué", {**CDI, "contract": None}, WHEN, False),
]


@pytest.mark.parametrize(
    ("facts", "when", "eligible"), [pytest.param(f, w, e, id=i) for i, f, w, e in ELIGIBILITY]
)
def test_ptp_eligibility(
    params: FundingParameters,
    make: SimpleNamespace,
    facts: dict[str, Any],
    when: date,
    eligible: bool,
) -> None:
    verdict = ptp_eligibility(make.situation(**facts), make.project(), when, params)
    assert verdict.eligible is eligible
    assert verdict.reasons
    assert any("C. trav." in reason for reason in verdict.reasons)
    if eligible and facts.get("months_salaried_total", 24) < 24:
        assert verdict.seniority_waived


@pytest.mark.parametrize(
    "status",
    [
        Status.JOBSEEKER,
        Status.SELF_EMPLOYED,
        Status.PUBLIC_AGENT,
        Status.STUDENT,
        Status.APPRENTICE,
    ],
)
def test_non_employees_are_not_eligible_with_a_reason(
    params: FundingParameters, make: SimpleNamespace, status: Status
) -> None:
    verdict = ptp_eligibility(make.situation(status=status, **CDI), make.project(), WHEN, params)
    assert verdict.eligible is False
    assert len(verdict.reasons) == 1
    assert "transition professionnelle" in verdict.reasons[0]


def test_training_must_be_certifying(params: FundingParameters, make: SimpleNamespace) -> None:
    verdict = ptp_eligibility(
        make.situation(**CDI), make.project(certification_code=None), WHEN, params
    )
    assert verdict.eligible is False
    assert any("RNCP" in reason for reason in verdict.reasons)


@pytest.mark.parametrize(
    ("start", "eligible"),
    [
        pytest.param(date(2024, 12, 30), True, id="D6323-9: 6 mois après la fin du CDD"),
        pytest.param(date(2024, 12, 31), False, id="D6323-9: 6 mois et un jour"),
    ],
)
def test_cdd_training_starts_within_6_months(
    params: FundingParameters, make: SimpleNamespace, start: date, eligible: bool
) -> None:
    situation = make.situation(**CDD, cdd_end_date=date(2024, 6, 30))
    verdict = ptp_eligibility(situation, make.project(start_date=start), WHEN, params)
    assert verdict.eligible is eligible


@pytest.mark.parametrize(
    ("project", "days"),
    [
        pytest.param({"end_date": date(2025, 3, 31)}, 120, id="R6323-10-1: 6 mois pile: 120 j"),
        pytest.param(
            {"end_date": date(2025, 3, 30)}, 60, id="R6323-10-1: 6 mois moins un jour: 60 j"
        ),
        pytest.param(
            {"end_date": date(2026, 1, 1), "part_time": True},
            60,
            id="R6323-10-1: temps partiel: 60 j",
        ),
        pytest.param({}, 120, id="R6323-10-1: fin inconnue: le délai le plus long"),
    ],
)
def test_leave_request_deadline(
    params: FundingParameters, make: SimpleNamespace, project: dict[str, Any], days: int
) -> None:
    start = date(2024, 10, 1)
    deadline, reason = ptp_leave_deadline(make.project(start_date=start, **project), WHEN, params)
    assert deadline is not None
    assert (start - deadline).days == days
    assert reason is not None
    assert "R6323-10-1" in reason


def test_eligible_verdict_gives_deadline_and_answer_delay(
    params: FundingParameters, make: SimpleNamespace
) -> None:
    project = make.project(start_date=date(2024, 10, 1), end_date=date(2025, 9, 30))
    verdict = ptp_eligibility(make.situation(**CDI), project, WHEN, params)
    assert verdict.eligible
    assert verdict.leave_request_deadline == date(2024, 6, 3)
    assert verdict.employer_answer_days == 30


SMIC_2024_11 = 180_180  # décret n° 2024-951, from 2024-11-01
SMIC_2026 = 182_303


@pytest.mark.parametrize(
    ("salary", "months", "start", "total", "first"),
    [
        pytest.param(
            2 * SMIC_2024_11,
            12,
            date(2025, 1, 6),
            24 * SMIC_2024_11,
            2 * SMIC_2024_11,
            id="D6323-18-1: 2 SMIC pile: 100 %",
        ),
        pytest.param(
            250_000, 10, date(2025, 1, 6), 2_500_000, 250_000, id="D6323-18-1: sous 2 SMIC: 100 %"
        ),
        pytest.param(
            500_000,
            12,
            date(2025, 1, 6),
            12 * 450_000,
            450_000,
            id="D6323-18-1: au-delà de 2 SMIC: 90 % la 1re année",
        ),
        pytest.param(
            500_000,
            18,
            date(2025, 1, 6),
            12 * 450_000 + 6 * 2 * SMIC_2024_11,
            450_000,
            id="D6323-18-1: puis 60 %, sans descendre sous 2 SMIC",
        ),
        pytest.param(
            1_000_000,
            13,
            date(2025, 1, 6),
            12 * 900_000 + 600_000,
            900_000,
            id="D6323-18-1: 13e mois à 60 %",
        ),
        pytest.param(
            2 * SMIC_2024_11 + 1,
            1,
            date(2025, 1, 6),
            2 * SMIC_2024_11,
            2 * SMIC_2024_11,
            id="plancher 2 SMIC juste au-dessus du seuil",
        ),
        pytest.param(
            2 * SMIC_2024_11 + 1,
            1,
            date(2026, 1, 5),
            2 * SMIC_2024_11 + 1,
            2 * SMIC_2024_11 + 1,
            id="SMIC 2026: le même salaire est sous 2 SMIC",
        ),
    ],
)
def test_pay_estimate(
    params: FundingParameters, salary: int, months: int, start: date, total: int, first: int
) -> None:
    got_total, got_first, reason = ptp_pay_estimate(salary, months, start, params)
    assert (got_total, got_first) == (total, first)
    assert "D6323-18-1" in reason


def test_pay_estimate_in_the_verdict(params: FundingParameters, make: SimpleNamespace) -> None:
    situation = make.situation(**CDI, reference_monthly_salary=200_000)
    project = make.project(start_date=date(2025, 1, 6), end_date=date(2025, 7, 5))
    verdict = ptp_eligibility(situation, project, date(2024, 6, 1), params)
    assert verdict.months == 6
    assert verdict.monthly_pay == 200_000
    assert verdict.pay_estimate == 1_200_000

"""CPF rules, table-driven on both sides of every threshold and date; sources in the ids."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from cep_core.domain.funding import ParticipationPayer, TrainingKind
from cep_core.domain.rules import (
    CreditBasis,
    FundingParameters,
    cpf_annual_credit,
    cpf_use,
    dif_hours_to_cents,
    participation,
)
from cep_core.domain.situation import Status

Y2024 = date(2024, 6, 1)

# --- annual credit -------------------------------------------------------------------------

CREDIT_CASES = [
    # (id with source, bases, date, amount, ceiling)
    ("R6323-1 salarié temps plein", [CreditBasis(status=Status.EMPLOYEE)], Y2024, 50_000, 500_000),
    (
        "R6323-1 salarié à 50 % exactement: crédit complet",
        [CreditBasis(status=Status.EMPLOYEE, working_time_percent=50)],
        Y2024,
        50_000,
        500_000,
    ),
    (
        "L6323-11 salarié à 49 %: prorata 500 x 49/50",
        [CreditBasis(status=Status.EMPLOYEE, working_time_percent=49)],
        Y2024,
        49_000,
        500_000,
    ),
    (
        "L6323-11 salarié à 25 %: 250 €",
        [CreditBasis(status=Status.EMPLOYEE, working_time_percent=25)],
        Y2024,
        25_000,
        500_000,
    ),
    (
        "R6323-3-1 peu qualifié: 800/8000",
        [CreditBasis(status=Status.EMPLOYEE, low_qualified=True)],
        Y2024,
        80_000,
        800_000,
    ),
    (
        "R6323-3-1 peu qualifié à 25 %: prorata",
        [CreditBasis(status=Status.EMPLOYEE, low_qualified=True, working_time_percent=25)],
        Y2024,
        40_000,
        800_000,
    ),
    (
        "D6323-3-3 BOETH la veille du décret 2019-566 (2019-06-08): 500",
        [CreditBasis(status=Status.EMPLOYEE, disability_recognition=True)],
        date(2019, 6, 8),
        50_000,
        500_000,
    ),
    (
        "D6323-3-3 BOETH dès le 2019-06-09 (décret 2019-566): 800",
        [CreditBasis(status=Status.EMPLOYEE, disability_recognition=True)],
        date(2019, 6, 9),
        80_000,
        800_000,
    ),
    (
        "apprenti: salarié",
        [CreditBasis(status=Status.APPRENTICE)],
        Y2024,
        50_000,
        500_000,
    ),
    (
        "L6323-27 indépendant année complète",
        [CreditBasis(status=Status.SELF_EMPLOYED)],
        Y2024,
        50_000,
        500_000,
    ),
    (
        "L6323-27 indépendant 6 mois: prorata",
        [CreditBasis(status=Status.SELF_EMPLOYED, activity_months=6)],
        Y2024,
        25_000,
        500_000,
    ),
    (
        "décret 2018-1329 plusieurs statuts: le plus favorable (peu qualifié)",
        [
            CreditBasis(status=Status.SELF_EMPLOYED),
            CreditBasis(status=Status.EMPLOYEE, low_qualified=True, working_time_percent=45),
        ],
        Y2024,
        72_000,
        800_000,
    ),
    (
        "décret 2018-1329 plusieurs statuts: le plus favorable (indépendant)",
        [
            CreditBasis(status=Status.SELF_EMPLOYED),
            CreditBasis(status=Status.EMPLOYEE, working_time_percent=20),
        ],
        Y2024,
        50_000,
        500_000,
    ),
    (
        "L6323-3 demandeur d'emploi: pas d'alimentation",
        [CreditBasis(status=Status.JOBSEEKER)],
        Y2024,
        0,
        None,
    ),
]


@pytest.mark.parametrize(
    ("bases", "when", "amount", "ceiling"),
    [pytest.param(b, w, a, c, id=i) for i, b, w, a, c in CREDIT_CASES],
)
def test_cpf_annual_credit(
    params: FundingParameters,
    bases: list[CreditBasis],
    when: date,
    amount: int,
    ceiling: int | None,
) -> None:
    verdict = cpf_annual_credit(bases, when, params)
    assert verdict.amount == amount
    assert verdict.ceiling == ceiling
    assert verdict.eligible is (amount > 0)
    assert verdict.reasons
    assert all("(" in reason for reason in verdict.reasons)  # each reason cites its rule


def test_public_agents_count_in_hours(params: FundingParameters) -> None:
    verdict = cpf_annual_credit([CreditBasis(status=Status.PUBLIC_AGENT)], Y2024, params)
    assert verdict.amount is None
    assert "25 h" in verdict.reasons[0]
    assert "150 h" in verdict.reasons[0]


def test_before_2019_the_cpf_was_in_hours(params: FundingParameters) -> None:
    verdict = cpf_annual_credit([CreditBasis(status=Status.EMPLOYEE)], date(2018, 12, 31), params)
    assert verdict.eligible is None
    assert verdict.amount is None


def test_old_dif_hours_convert_at_15_euros(params: FundingParameters) -> None:
    """Décret n° 2018-1153: €15 per hour held on 31 December 2018."""
    assert dif_hours_to_cents(120, params) == 180_000
    assert dif_hours_to_cents(0, params) == 0


# --- participation amount by date --------------------------------------------------------------

PARTICIPATION_DATES = [
    ("avant le décret 2024-394 (2024-05-01)", date(2024, 5, 1), 0),
    ("décret 2024-394, 2024-05-02", date(2024, 5, 2), 10_000),
    ("décret 2024-394, 2024-12-31", date(2024, 12, 31), 10_000),
    ("arrêté du 26 décembre 2024, 2025-01-01", date(2025, 1, 1), 10_223),
    ("arrêté du 26 décembre 2024, 2025-12-31", date(2025, 12, 31), 10_223),
    ("arrêté du 30 décembre 2025, 2026-01-01", date(2026, 1, 1), 10_320),
]


@pytest.mark.parametrize(
    ("when", "expected"), [pytest.param(w, e, id=i) for i, w, e in PARTICIPATION_DATES]
)
def test_participation_amount_at_purchase_date(
    params: FundingParameters, make: SimpleNamespace, when: date, expected: int
) -> None:
    line, verdict = participation(
        eligible_price=500_000,
        situation=make.situation(),
        when=when,
        params=params,
        payer=ParticipationPayer.HOLDER,
        cpf_usable=True,
        topup_exempts=False,
    )
    assert line.amount == expected
    assert line.payer == (ParticipationPayer.HOLDER if expected else ParticipationPayer.NONE)
    assert verdict.reasons
    assert "2024-394" in verdict.reasons[0]


@pytest.mark.parametrize(
    ("price", "expected"),
    [
        pytest.param(7_500, 7_500, id="addendum: prix 75 € < participation: min(100, 75)"),
        pytest.param(10_000, 10_000, id="addendum: prix = participation"),
        pytest.param(10_001, 10_000, id="addendum: prix au-dessus: forfait"),
        pytest.param(0, 0, id="prix nul: rien à payer, payeur none"),
    ],
)
def test_participation_is_at_most_the_price(
    params: FundingParameters, make: SimpleNamespace, price: int, expected: int
) -> None:
    line, _ = participation(
        eligible_price=price,
        situation=make.situation(),
        when=Y2024,
        params=params,
        payer=ParticipationPayer.HOLDER,
        cpf_usable=True,
        topup_exempts=False,
    )
    assert line.amount == expected
    assert line.payer == (ParticipationPayer.HOLDER if expected else ParticipationPayer.NONE)


@pytest.mark.parametrize(
    ("facts", "topup", "reason"),
    [
        pytest.param(
            {"status": Status.JOBSEEKER}, False, "demandeur", id="2024-394: demandeur d'emploi"
        ),
        pytest.param(
            {"registered_jobseeker": True},
            False,
            "demandeur",
            id="2024-394: inscrit à France Travail",
        ),
        pytest.param({}, True, "abondement", id="2024-394: abondement employeur ou OPCO"),
        pytest.param({"c2p_points_used": True}, False, "C2P", id="2024-394: points C2P (L4163-8)"),
        pytest.param(
            {"atmp_reconversion_topup": True}, False, "AT/MP", id="2024-394: abondement AT/MP"
        ),
        pytest.param(
            {"status": Status.PUBLIC_AGENT},
            False,
            "agent",
            id="addendum: agent public (CPF en heures)",
        ),
    ],
)
def test_participation_exemptions(
    params: FundingParameters,
    make: SimpleNamespace,
    facts: dict[str, object],
    topup: bool,
    reason: str,
) -> None:
    line, verdict = participation(
        eligible_price=100_000,
        situation=make.situation(**facts),
        when=Y2024,
        params=params,
        payer=ParticipationPayer.HOLDER,
        cpf_usable=True,
        topup_exempts=topup,
    )
    assert line.amount == 0
    assert line.payer == ParticipationPayer.NONE
    assert line.flat_amount == 10_000
    assert any(reason in exemption for exemption in line.exemptions)
    assert "Exonération" in verdict.reasons[0]


def test_no_participation_when_the_cpf_is_not_used(
    params: FundingParameters, make: SimpleNamespace
) -> None:
    line, verdict = participation(
        eligible_price=0,
        situation=make.situation(),
        when=Y2024,
        params=params,
        payer=ParticipationPayer.HOLDER,
        cpf_usable=False,
        topup_exempts=False,
    )
    assert (line.amount, line.payer, verdict.eligible) == (0, ParticipationPayer.NONE, False)


def test_training_body_payer_is_flagged_in_the_verdict(
    params: FundingParameters, make: SimpleNamespace
) -> None:
    line, verdict = participation(
        eligible_price=100_000,
        situation=make.situation(),
        when=Y2024,
        params=params,
        payer=ParticipationPayer.TRAINING_BODY,
        cpf_usable=True,
        topup_exempts=False,
    )
    assert line.payer == ParticipationPayer.TRAINING_BODY
    assert any("refusé" in reason for reason in verdict.reasons)


# --- what the CPF pays for ---------------------------------------------------------------------

USE_CASES = [
    ("L6323-6 certification RNCP", {}, Y2024, True, 100_000),
    (
        "L6323-6 code RS avec espaces et minuscules",
        {"certification_code": " rs 5635 "},
        Y2024,
        True,
        100_000,
    ),
    ("L6323-6 certification sans code", {"certification_code": None}, Y2024, False, 0),
    ("L6323-6 code invalide", {"certification_code": "ABC123"}, Y2024, False, 0),
    (
        "L6323-6 exception permis",
        {"kind": TrainingKind.PERMIS, "certification_code": None},
        Y2024,
        True,
        100_000,
    ),
    (
        "L6323-6 exception création",
        {"kind": TrainingKind.CREATION, "certification_code": None},
        Y2024,
        True,
        100_000,
    ),
    (
        "L6323-6 autre action sans code",
        {"kind": TrainingKind.OTHER, "certification_code": None},
        Y2024,
        False,
        0,
    ),
    (
        "L6316-1 Qualiopi absent 2021-12-31: pas encore exigé",
        {"provider_qualiopi": False},
        date(2021, 12, 31),
        True,
        100_000,
    ),
    (
        "L6316-1 Qualiopi absent 2022-01-01: refusé",
        {"provider_qualiopi": False},
        date(2022, 1, 1),
        False,
        0,
    ),
    (
        "L6316-1 Qualiopi non vérifié: accepté (check_plan le signale)",
        {"provider_qualiopi": None},
        Y2024,
        True,
        100_000,
    ),
    (
        "R6313-4 bilan 24 h: prix entier",
        {"kind": TrainingKind.BILAN, "hours": 24, "certification_code": None},
        Y2024,
        True,
        100_000,
    ),
    (
        "R6313-4 bilan 25 h: 24/25 du prix",
        {"kind": TrainingKind.BILAN, "hours": 25, "certification_code": None},
        Y2024,
        True,
        96_000,
    ),
    (
        "décret 2023-1275 VAE, 2e demande en 2023: pas de limite",
        {"kind": TrainingKind.VAE, "certification_code": None, "vae_applications_this_year": 1},
        date(2023, 12, 31),
        True,
        100_000,
    ),
    (
        "décret 2023-1275 VAE, 2e demande en 2024: refusée",
        {"kind": TrainingKind.VAE, "certification_code": None, "vae_applications_this_year": 1},
        date(2024, 1, 1),
        False,
        0,
    ),
    (
        "décret 2023-1275 VAE, 1re demande en 2024",
        {"kind": TrainingKind.VAE, "certification_code": None},
        date(2024, 1, 1),
        True,
        100_000,
    ),
]


@pytest.mark.parametrize(
    ("project", "when", "usable", "eligible_price"),
    [pytest.param(p, w, u, e, id=i) for i, p, w, u, e in USE_CASES],
)
def test_cpf_use(
    params: FundingParameters,
    make: SimpleNamespace,
    project: dict[str, object],
    when: date,
    usable: bool,
    eligible_price: int,
) -> None:
    use = cpf_use(make.project(**project), make.situation(), when, params)
    assert use.usable is usable
    assert use.eligible_price == eligible_price
    assert use.verdict.eligible is usable
    assert all("(" in reason for reason in use.verdict.reasons)
    if project.get("hours") == 25:
        assert any("24 heures" in w for w in use.warnings)

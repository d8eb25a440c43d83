"""`build_plan` and `check_plan`: the worked examples, the order of funders, the checks."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Any

import pytest

from cep_core.domain.funding import (
    ContractKind,
    CostKind,
    FunderDecision,
    FundingOption,
    FundingPlan,
    FundingStatus,
    ParticipationPayer,
    TrainingKind,
)
from cep_core.domain.rules import FundingParameters, build_plan, check_plan
from cep_core.domain.situation import Status


def cpf(plan: FundingPlan) -> int:
    line = plan.line("cpf")
    assert line is not None
    return line.amount


def amounts(plan: FundingPlan) -> dict[str, int]:
    return {str(line.funder): line.amount for line in plan.lines}


# Domain.md, addendum: the participation is part of the price (€100 era: 2024-05-02..12-31).
WORKED = [
    ("addendum: prix 1000, solde 1000", 100_000, 100_000, 90_000, 10_000, 10_000),
    ("addendum: prix 1000, solde 5000", 100_000, 500_000, 90_000, 10_000, 10_000),
    ("addendum: prix 1000, solde 950", 100_000, 95_000, 90_000, 10_000, 10_000),
    ("addendum: prix 1000, solde 500 (pas 100 de plus)", 100_000, 50_000, 50_000, 10_000, 50_000),
    ("addendum: prix 75", 7_500, 100_000, 0, 7_500, 7_500),
    ("addendum: solde nul", 100_000, 0, 0, 10_000, 100_000),
]


@pytest.mark.parametrize(
    ("price", "balance", "cpf_amount", "participation", "remaining"),
    [pytest.param(*case[1:], id=case[0]) for case in WORKED],
)
def test_worked_examples(
    params: FundingParameters,
    make: SimpleNamespace,
    price: int,
    balance: int,
    cpf_amount: int,
    participation: int,
    remaining: int,
) -> None:
    plan = build_plan(
        make.request(
            project=make.project(price=price),
            situation=make.situation(cpf_balance=balance),
            purchase_date=date(2024, 6, 1),
        ),
        params,
    )
    assert cpf(plan) == cpf_amount
    assert plan.participation.amount == participation
    assert plan.participation.payer == ParticipationPayer.HOLDER
    assert plan.remaining == remaining
    assert plan.total_cost == price
    assert check_plan(plan, params) == []


def test_employer_topup_exempts_and_comes_after_the_cpf(
    params: FundingParameters, make: SimpleNamespace
) -> None:
    """Décret n° 2024-394: an employer top-up exempts from the participation."""
    plan = build_plan(
        make.request(situation=make.situation(cpf_balance=50_000, employer_topup=30_000)), params
    )
    assert amounts(plan) == {"cpf": 50_000, "employer": 30_000}
    assert (plan.participation.amount, plan.participation.payer) == (0, ParticipationPayer.NONE)
    assert plan.remaining == 20_000


def test_employer_topup_larger_than_the_gap_is_capped(
    params: FundingParameters, make: SimpleNamespace
) -> None:
    plan = build_plan(
        make.request(situation=make.situation(cpf_balance=80_000, employer_topup=50_000)), params
    )
    assert amounts(plan) == {"cpf": 80_000, "employer": 20_000}
    assert plan.remaining == 0
    assert any("retenus" in w for w in plan.warnings)


def test_declared_topup_exempts_even_when_the_balance_covers(
    params: FundingParameters, make: SimpleNamespace
) -> None:
    plan = build_plan(
        make.request(situation=make.situation(cpf_balance=200_000, employer_topup=10_000)), params
    )
    assert amounts(plan) == {"cpf": 100_000, "employer": 0}
    assert plan.participation.amount == 0
    assert any("à vérifier" in w for w in plan.warnings)


def test_refused_employer_topup_does_not_exempt(
    params: FundingParameters, make: SimpleNamespace
) -> None:
    plan = build_plan(
        make.request(
            situation=make.situation(cpf_balance=50_000, employer_topup=30_000),
            decisions=(FunderDecision(funder="employer", status=FundingStatus.REFUSED),),
        ),
        params,
    )
    assert plan.participation.amount == 10_000
    assert amounts(plan) == {"cpf": 50_000, "employer": 0}
    assert plan.line("employer").status == FundingStatus.REFUSED  # type: ignore[union-attr]
    assert plan.remaining == 50_000


@pytest.mark.parametrize(
    ("payer", "line_funder", "remaining"),
    [
        pytest.param(ParticipationPayer.EMPLOYER, "employer", 0, id="2024-394: l'employeur paie"),
        pytest.param(ParticipationPayer.OPCO, "opco", 0, id="2024-394: l'OPCO paie"),
        pytest.param(ParticipationPayer.HOLDER, None, 10_000, id="2024-394: le titulaire paie"),
    ],
)
def test_participation_payer(
    params: FundingParameters,
    make: SimpleNamespace,
    payer: ParticipationPayer,
    line_funder: str | None,
    remaining: int,
) -> None:
    plan = build_plan(
        make.request(situation=make.situation(cpf_balance=200_000), participation_payer=payer),
        params,
    )
    assert plan.participation.payer == payer
    assert plan.remaining == remaining
    if line_funder:
        assert amounts(plan)[line_funder] == 10_000
    assert plan.funded + plan.remaining == plan.total_cost
    assert check_plan(plan, params) == []


def test_training_body_may_not_pay_the_participation(
    params: FundingParameters, make: SimpleNamespace
) -> None:
    """Décret n° 2024-394 (liste des tiers): such a plan is refused."""
    plan = build_plan(
        make.request(
            situation=make.situation(cpf_balance=200_000),
            participation_payer=ParticipationPayer.TRAINING_BODY,
        ),
        params,
    )
    issues = check_plan(plan, params)
    assert [i.code for i in issues] == ["forbidden_payer"]
    assert "organisme de formation" in issues[0].message


def gap_option(**overrides: Any) -> FundingOption:
    values: dict[str, Any] = {
        "funder": "france_travail",
        "label": "Abondement de France Travail",
        "rule": "test",
        "covers_gap": True,
        "max_amount": 600_000,
        "order": 60,
    }
    values.update(overrides)
    return FundingOption(**values)


def test_known_amounts_come_before_gap_fillers(
    params: FundingParameters, make: SimpleNamespace
) -> None:
    region = FundingOption(funder="region", label="Région", rule="test", order=40)
    plan = build_plan(
        make.request(
            project=make.project(price=300_000),
            situation=make.situation(status=Status.JOBSEEKER, cpf_balance=100_000),
            options=(gap_option(), region),
            decisions=(
                FunderDecision(funder="region", amount=50_000, status=FundingStatus.GRANTED),
            ),
        ),
        params,
    )
    assert [str(line.funder) for line in plan.lines] == ["cpf", "region", "france_travail"]
    assert amounts(plan) == {"cpf": 100_000, "region": 50_000, "france_travail": 150_000}
    assert plan.remaining == 0
    assert plan.line("region").status == FundingStatus.GRANTED  # type: ignore[union-attr]


def test_gap_filler_stops_at_its_ceiling(params: FundingParameters, make: SimpleNamespace) -> None:
    plan = build_plan(
        make.request(
            project=make.project(price=1_000_000),
            situation=make.situation(status=Status.JOBSEEKER, cpf_balance=100_000),
            options=(gap_option(),),
        ),
        params,
    )
    assert amounts(plan) == {"cpf": 100_000, "france_travail": 600_000}
    assert plan.remaining == 300_000
    assert any("plafond" in w for w in plan.warnings)


def test_unknown_amounts_count_zero_and_are_named(
    params: FundingParameters, make: SimpleNamespace
) -> None:
    opco = FundingOption(funder="opco", label="OPCO", rule="test", order=30)
    plan = build_plan(
        make.request(situation=make.situation(cpf_balance=0), options=(opco,)), params
    )
    assert "opco" not in amounts(plan)
    assert any("OPCO" in w and "0 €" in w for w in plan.warnings)


def test_funder_known_only_by_a_decision(params: FundingParameters, make: SimpleNamespace) -> None:
    plan = build_plan(
        make.request(
            situation=make.situation(cpf_balance=0),
            project=make.project(price=100_000, other_costs=20_000),
            decisions=(FunderDecision(funder="departement", amount=110_000),),
        ),
        params,
    )
    # Never the participation: the département pays the rest of the price and the other costs.
    assert amounts(plan)["departement"] == 110_000
    assert plan.remaining == 10_000


def test_tacit_acceptance_after_the_answer_delay(
    params: FundingParameters, make: SimpleNamespace
) -> None:
    option = gap_option(answer_working_days=10)
    decision = FunderDecision(funder="france_travail", requested_on=date(2025, 5, 2))

    def status(as_of: date) -> FundingStatus:
        plan = build_plan(
            make.request(
                purchase_date=date(2025, 5, 2),
                situation=make.situation(status=Status.JOBSEEKER, cpf_balance=0),
                options=(option,),
                decisions=(decision,),
                as_of=as_of,
            ),
            params,
        )
        line = plan.line("france_travail")
        assert line is not None
        return line.status

    assert status(date(2025, 5, 19)) == FundingStatus.REQUESTED  # 10th working day
    assert status(date(2025, 5, 20)) == FundingStatus.TACITLY_GRANTED


def test_qualiopi_missing_refuses_public_money(
    params: FundingParameters, make: SimpleNamespace
) -> None:
    """C. trav. L6316-1, since 2022-01-01."""
    plan = build_plan(
        make.request(
            project=make.project(provider_qualiopi=False),
            situation=make.situation(status=Status.JOBSEEKER, cpf_balance=100_000),
            options=(gap_option(),),
        ),
        params,
    )
    assert amounts(plan) == {"cpf": 0, "france_travail": 0}
    assert all(line.status == FundingStatus.REFUSED for line in plan.lines)
    assert plan.remaining == plan.total_cost
    assert check_plan(plan, params) == []


def test_qualiopi_unverified_is_a_check_issue(
    params: FundingParameters, make: SimpleNamespace
) -> None:
    plan = build_plan(
        make.request(
            project=make.project(provider_qualiopi=None),
            situation=make.situation(cpf_balance=100_000),
        ),
        params,
    )
    assert cpf(plan) == 90_000
    assert [i.code for i in check_plan(plan, params)] == ["qualiopi"]


def test_request_deadline_is_checked(params: FundingParameters, make: SimpleNamespace) -> None:
    option = gap_option(request_working_days_before_start=21)
    start = date(2025, 4, 28)

    def codes(purchase: date) -> list[str]:
        plan = build_plan(
            make.request(
                purchase_date=purchase,
                project=make.project(start_date=start),
                situation=make.situation(status=Status.JOBSEEKER, cpf_balance=0),
                options=(option,),
            ),
            params,
        )
        line = plan.line("france_travail")
        assert line is not None
        assert line.request_deadline == date(2025, 3, 27)
        return [i.code for i in check_plan(plan, params)]

    assert codes(date(2025, 3, 27)) == []
    assert codes(date(2025, 3, 28)) == ["deadline"]


def test_ptp_plan_counts_pay_and_transitions_pro_fills_the_gap(
    params: FundingParameters, make: SimpleNamespace
) -> None:
    transitions_pro = FundingOption(
        funder="transitions_pro",
        label="Transitions Pro",
        rule="test",
        covers_gap=True,
        covers=(CostKind.TEACHING, CostKind.PAY, CostKind.OTHER),
        order=70,
    )
    situation = make.situation(
        contract=ContractKind.CDI,
        months_salaried_total=60,
        months_current_employer=30,
        cpf_balance=200_000,
        reference_monthly_salary=250_000,
    )
    project = make.project(
        price=800_000,
        other_costs=50_000,
        ptp=True,
        start_date=date(2025, 1, 6),
        end_date=date(2025, 12, 19),
    )
    plan = build_plan(
        make.request(
            project=project,
            situation=situation,
            purchase_date=date(2024, 6, 1),
            options=(transitions_pro,),
        ),
        params,
    )
    assert plan.ptp is not None and plan.ptp.eligible
    assert plan.pay_cost == 12 * 250_000
    assert plan.total_cost == 800_000 + 3_000_000 + 50_000
    assert plan.participation.amount == 0  # PTP: not a Mon Compte Formation purchase
    assert amounts(plan) == {"cpf": 200_000, "transitions_pro": 3_650_000}
    assert plan.remaining == 0
    assert check_plan(plan, params) == []


def test_ptp_asked_but_not_eligible_counts_no_pay(
    params: FundingParameters, make: SimpleNamespace
) -> None:
    situation = make.situation(
        contract=ContractKind.CDI, months_salaried_total=10, reference_monthly_salary=250_000
    )
    project = make.project(ptp=True, start_date=date(2025, 1, 6), end_date=date(2025, 12, 19))
    plan = build_plan(make.request(project=project, situation=situation), params)
    assert plan.pay_cost == 0
    assert any("conditions ne sont pas" in w for w in plan.warnings)


def test_bilan_beyond_24_hours(params: FundingParameters, make: SimpleNamespace) -> None:
    project = make.project(
        kind=TrainingKind.BILAN, hours=30, certification_code=None, price=300_000
    )
    plan = build_plan(
        make.request(project=project, situation=make.situation(cpf_balance=500_000)), params
    )
    # R6313-4: the CPF pays the first 24 of 30 hours (2 400 €) minus the participation.
    assert cpf(plan) == 240_000 - 10_000
    assert plan.remaining == 70_000
    assert any(v.rule == "bilan" and v.eligible is False for v in plan.verdicts)


def test_plan_is_json_serialisable(params: FundingParameters, make: SimpleNamespace) -> None:
    import msgspec

    plan = build_plan(make.request(situation=make.situation(cpf_balance=50_000)), params)
    assert msgspec.json.decode(msgspec.json.encode(plan), type=FundingPlan) == plan


def test_check_plan_catches_edited_plans(params: FundingParameters, make: SimpleNamespace) -> None:
    import msgspec

    plan = build_plan(make.request(situation=make.situation(cpf_balance=50_000)), params)
    cpf_line = plan.lines[0]
    over = msgspec.structs.replace(cpf_line, amount=95_000, ceiling=None)
    edited = msgspec.structs.replace(plan, lines=(over,), remaining=5_000)
    codes = {i.code for i in check_plan(edited, params)}
    assert codes == {"over_balance", "over_price"}
    unbalanced = msgspec.structs.replace(plan, remaining=1)
    assert [i.code for i in check_plan(unbalanced, params)] == ["arithmetic"]
    no_code = msgspec.structs.replace(
        plan, project=msgspec.structs.replace(plan.project, certification_code="12")
    )
    assert [i.code for i in check_plan(no_code, params)] == ["certification_code"]

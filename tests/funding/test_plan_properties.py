"""Plan invariants, for any request hypothesis can build.

- reste à charge ≥ 0, and funded + reste à charge = total;
- no funder above its ceiling;
- participation ≤ price;
- CPF line ≤ balance and ≤ price − participation;
- a plan the builder makes passes its own structural checks.
"""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from cep_core.domain.funding import (
    CddKind,
    ContractKind,
    CostKind,
    FunderDecision,
    FundingOption,
    FundingRequest,
    FundingSituation,
    FundingStatus,
    ParticipationPayer,
    Project,
    TrainingKind,
)
from cep_core.domain.money import MAX_INPUT_CENTS
from cep_core.domain.rules import build_plan, check_plan, funding_parameters
from cep_core.domain.situation import Status

PARAMS = funding_parameters()
STRUCTURAL = {"arithmetic", "over_ceiling", "over_balance", "over_price", "negative"}

money = st.integers(min_value=0, max_value=MAX_INPUT_CENTS)
small_money = st.one_of(st.integers(min_value=0, max_value=300_000), money)
dates = st.dates(min_value=date(2019, 1, 1), max_value=date(2028, 12, 31))
funders = st.sampled_from(["opco", "region", "france_travail", "agefiph", "transitions_pro", "x_y"])

projects = st.builds(
    Project,
    kind=st.sampled_from(list(TrainingKind)),
    price=small_money,
    hours=st.none() | st.integers(min_value=0, max_value=2_000),
    start_date=st.none() | dates,
    end_date=st.none() | dates,
    certification_code=st.sampled_from([None, "RNCP34828", "RS5635", "bogus", ""]),
    provider_qualiopi=st.sampled_from([True, False, None]),
    other_costs=small_money,
    ptp=st.booleans(),
    part_time=st.booleans(),
    vae_applications_this_year=st.integers(min_value=0, max_value=2),
)
situations = st.builds(
    FundingSituation,
    status=st.sampled_from(list(Status)),
    disability_recognition=st.booleans(),
    registered_jobseeker=st.booleans(),
    cpf_balance=st.none() | small_money,
    employer_topup=st.one_of(st.just(0), small_money),
    low_qualified=st.booleans(),
    working_time_percent=st.integers(min_value=0, max_value=100),
    contract=st.none() | st.sampled_from(list(ContractKind)),
    cdd_kind=st.none() | st.sampled_from(list(CddKind)),
    months_salaried_total=st.integers(min_value=0, max_value=400),
    months_current_employer=st.integers(min_value=0, max_value=400),
    months_salaried_last_60=st.integers(min_value=0, max_value=60),
    months_cdd_last_12=st.integers(min_value=0, max_value=12),
    reference_monthly_salary=st.none() | st.integers(min_value=0, max_value=2_000_000),
    c2p_points_used=st.booleans(),
    atmp_reconversion_topup=st.booleans(),
)
options = st.builds(
    FundingOption,
    funder=funders,
    label=st.just("Financeur"),
    rule=st.just("règle"),
    amount=st.none() | small_money,
    max_amount=st.none() | small_money,
    covers_gap=st.booleans(),
    covers=st.lists(st.sampled_from(list(CostKind)), min_size=1, max_size=3, unique=True).map(
        tuple
    ),
    public_money=st.booleans(),
    exempts_participation=st.booleans(),
    order=st.integers(min_value=0, max_value=100),
    answer_working_days=st.none() | st.integers(min_value=1, max_value=15),
)
decisions = st.builds(
    FunderDecision,
    funder=funders,
    status=st.sampled_from(list(FundingStatus)),
    amount=st.none() | small_money,
    requested_on=st.none() | dates,
)
requests = st.builds(
    FundingRequest,
    project=projects,
    situation=situations,
    purchase_date=dates,
    options=st.lists(options, max_size=5).map(tuple),
    decisions=st.lists(decisions, max_size=3).map(tuple),
    participation_payer=st.sampled_from(
        [ParticipationPayer.HOLDER, ParticipationPayer.EMPLOYER, ParticipationPayer.OPCO]
    ),
    as_of=st.none() | dates,
)


@settings(max_examples=400, deadline=None)
@given(requests)
def test_plan_invariants(request: FundingRequest) -> None:
    plan = build_plan(request, PARAMS)
    project = request.project

    assert plan.remaining >= 0
    assert plan.funded + plan.remaining == plan.total_cost
    assert plan.total_cost == project.price + plan.pay_cost + project.other_costs
    for line in plan.lines:
        assert line.amount >= 0
        if line.ceiling is not None:
            assert line.amount <= line.ceiling, line
        if line.status == FundingStatus.REFUSED:
            assert line.amount == 0

    participation = plan.participation.amount
    assert 0 <= participation <= project.price
    if participation == 0:
        assert plan.participation.payer == ParticipationPayer.NONE

    cpf = plan.line("cpf")
    assert cpf is not None
    assert cpf.amount <= (request.situation.cpf_balance or 0)
    assert cpf.amount <= project.price - participation

    assert not {issue.code for issue in check_plan(plan, PARAMS)} & STRUCTURAL

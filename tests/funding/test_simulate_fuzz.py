"""Junk never makes the simulator fail: any body gets 200 or 400, and every 200 balances."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar import Litestar
from litestar.testing import TestClient

from cep_apec import hooks as apec
from cep_cap_emploi import hooks as cap_emploi
from cep_core.kit import Kit
from cep_core.settings import Settings
from cep_core.web import create_app
from cep_mission_locale import hooks as mission_locale
from cep_pole_emploi import hooks as pole_emploi
from cep_regional import hooks as regional

URL = "/api/v1/funding/simulate"

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
iso_dates = st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat)
plausible_dates = st.dates(min_value=date(2018, 6, 1), max_value=date(2028, 12, 31)).map(
    date.isoformat
)
amounts = st.floats(min_value=-10, max_value=2_000_000, allow_nan=False) | st.integers(
    min_value=-5, max_value=3_000_000
)
months = st.integers(min_value=-2, max_value=100)
trainings = st.fixed_dictionaries(
    {
        "cost_eur": amounts,
        "kind": st.sampled_from(
            ["certification", "bilan", "vae", "permis", "creation", "other", "yoga"]
        ),
    },
    optional={
        "hours": st.integers(min_value=-1, max_value=12_000) | scalars,
        "certification_code": st.sampled_from([None, "RNCP34828", "RS5635", "x", ""]) | scalars,
        "qualiopi": st.sampled_from([True, False, None]),
        "start_date": plausible_dates | iso_dates,
        "end_date": plausible_dates,
        "other_costs_eur": amounts,
        "ptp": st.booleans(),
        "part_time": st.booleans(),
    },
)
situations = st.fixed_dictionaries(
    {
        "status": st.sampled_from(
            [
                "employee",
                "public_agent",
                "self_employed",
                "jobseeker",
                "apprentice",
                "student",
                "retired",
                "inactive",
                "astronaut",
            ]
        )
    },
    optional={
        "disability_recognition": st.booleans(),
        "registered_jobseeker": st.booleans(),
        "cpf_balance_eur": amounts | st.none(),
        "employer_topup_eur": amounts,
        "contract": st.sampled_from(["cdi", "cdd", None, "interim"]),
        "cdd_kind": st.sampled_from(["standard", "apprenticeship", "cae_pec", None]),
        "months_salaried_total": months,
        "months_current_employer": months,
        "months_salaried_last_60": months,
        "months_cdd_last_12": months,
        "reference_monthly_salary_eur": amounts,
        "absence_months_last_24": months,
        "days_worked_last_60_months": st.integers(min_value=-1, max_value=2000),
        "employer_headcount": st.integers(min_value=-1, max_value=1000),
        "professional_reviews_held": st.booleans(),
    },
)
bodies = st.fixed_dictionaries(
    {"training": trainings, "situation": situations},
    optional={
        "purchase_date": plausible_dates | iso_dates,
        "participation_payer": st.sampled_from(["holder", "employer", "opco", "training_body"]),
        "funders": st.lists(
            st.fixed_dictionaries(
                {"funder": st.sampled_from(["opco", "region", "departement", "cpf", "X"])},
                optional={
                    "amount_eur": amounts,
                    "status": st.sampled_from(["requested", "granted", "refused", "maybe"]),
                },
            ),
            max_size=3,
        ),
    },
) | st.recursive(
    scalars,
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=3),
    max_leaves=8,
)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient[Litestar]]:
    data_dir: Path = tmp_path_factory.mktemp("fuzz")
    kit = Kit(
        [apec, cap_emploi, mission_locale, pole_emploi, regional],
        settings=Settings(data_dir=data_dir),
        load_entrypoints=False,
    )
    with TestClient(create_app(kit)) as test_client:
        yield test_client
    kit.close()


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(bodies)
def test_never_a_server_error(client: TestClient[Litestar], body: Any) -> None:
    response = client.post(URL, json=body)
    assert response.status_code in (200, 400), response.text
    answer = response.json()
    if response.status_code == 400:
        assert answer["errors"]
        return
    total = Decimal(str(answer["total_eur"]))
    funded = sum((Decimal(str(line["amount_eur"])) for line in answer["lines"]), Decimal(0))
    remaining = Decimal(str(answer["remaining_eur"]))
    assert remaining >= 0
    assert funded + remaining == total
    assert Decimal(str(answer["participation_eur"])) <= Decimal(
        str(answer["costs"]["teaching_eur"])
    )
    assert answer["participation_payer"] in {"holder", "employer", "opco", "none"}

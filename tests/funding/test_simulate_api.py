"""``POST /api/v1/funding/simulate``: the contract, the worked examples, errors, OpenAPI."""

from __future__ import annotations

import types
from collections.abc import Callable
from datetime import date
from typing import Any

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from cep_core import (
    DatedLabel,
    FundingOption,
    FundingSituation,
    OperatorContext,
    PluginInfo,
    PluginKind,
    Project,
    hookimpl,
)
from cep_core.domain.funding import FundingPlan
from cep_core.kit import Kit
from cep_core.services.funding import FundingService, SimulationQuery, to_domain
from cep_core.web import create_app

URL = "/api/v1/funding/simulate"
Simulate = Callable[..., dict[str, Any]]
Body = Callable[..., dict[str, Any]]


def line(answer: dict[str, Any], funder: str) -> dict[str, Any]:
    return next(item for item in answer["lines"] if item["funder"] == funder)


def test_response_has_the_contract_keys_and_types(simulate: Simulate) -> None:
    answer = simulate()
    assert {
        "lines",
        "participation_eur",
        "participation_payer",
        "remaining_eur",
        "ptp",
        "warnings",
    } <= set(answer)
    for item in answer["lines"]:
        assert {"funder", "label", "amount_eur", "status"} <= set(item)
        assert isinstance(item["amount_eur"], int | float)
        assert item["status"] in {"requested", "granted", "tacitly_granted", "refused"}
    assert set(answer["ptp"]) >= {"eligible", "reasons"}
    assert isinstance(answer["ptp"]["eligible"], bool)
    assert all(isinstance(r, str) and r for r in answer["ptp"]["reasons"])
    assert all(isinstance(w, str) for w in answer["warnings"])
    assert isinstance(answer["participation_payer"], str)


@pytest.mark.parametrize(
    ("cost", "balance", "cpf", "participation", "remaining"),
    [
        pytest.param(1000, 1000, 900, 100, 100, id="addendum: solde 1000"),
        pytest.param(1000, 950, 900, 100, 100, id="addendum: solde 950"),
        pytest.param(1000, 500, 500, 100, 500, id="addendum: solde 500 (pas 100 de plus)"),
        pytest.param(75, 1000, 0, 75, 75, id="addendum: prix 75"),
    ],
)
def test_worked_examples_over_http(
    simulate: Simulate,
    cost: float,
    balance: float,
    cpf: float,
    participation: float,
    remaining: float,
) -> None:
    answer = simulate(training={"cost_eur": cost}, situation={"cpf_balance_eur": balance})
    assert line(answer, "cpf")["amount_eur"] == cpf
    assert answer["participation_eur"] == participation
    assert answer["participation_payer"] == "holder"
    assert answer["remaining_eur"] == remaining
    assert sum(item["amount_eur"] for item in answer["lines"]) + remaining == cost


@pytest.mark.parametrize(
    ("purchase", "participation"),
    [
        ("2024-05-01", 0),
        ("2024-05-02", 100),
        ("2025-01-01", 102.23),
        ("2026-01-01", 103.2),
    ],
)
def test_participation_by_purchase_date(
    simulate: Simulate, purchase: str, participation: float
) -> None:
    answer = simulate(purchase_date=purchase, training={"start_date": "2026-06-01"})
    assert answer["participation_eur"] == participation
    assert line(answer, "cpf")["amount_eur"] == round(1000 - participation, 2)


def test_jobseeker_is_exempt_and_france_travail_fills_the_gap(simulate: Simulate) -> None:
    answer = simulate(
        situation={"status": "jobseeker", "cpf_balance_eur": 500, "contract": None},
        training={"cost_eur": 2000},
    )
    assert answer["participation_eur"] == 0
    assert answer["participation_payer"] == "none"
    assert line(answer, "cpf")["amount_eur"] == 500
    topup = line(answer, "france_travail")
    assert topup["amount_eur"] == 1500
    assert topup["status"] == "requested"
    assert answer["remaining_eur"] == 0
    assert any("2021" in w for w in answer["warnings"])  # [V2 dated ~2021]


def test_employer_topup_exempts(simulate: Simulate) -> None:
    answer = simulate(situation={"cpf_balance_eur": 500, "employer_topup_eur": 300})
    assert answer["participation_eur"] == 0
    assert answer["participation_payer"] == "none"
    assert line(answer, "employer")["amount_eur"] == 300
    assert answer["remaining_eur"] == 200


def test_unknown_amounts_are_options_with_a_warning(simulate: Simulate) -> None:
    answer = simulate(situation={"cpf_balance_eur": 0})
    funders = {o["funder"] for o in answer["options"]}
    assert {"cpf", "employer", "opco", "region"} <= funders
    assert {item["funder"] for item in answer["lines"]} == {"cpf"}
    assert any("OPCO" in w and "0 €" in w for w in answer["warnings"])


def test_given_amounts_count(simulate: Simulate, request_body: Body) -> None:
    answer = simulate(
        situation={"cpf_balance_eur": 0},
        funders=[{"funder": "opco", "amount_eur": 400, "status": "granted"}],
    )
    assert line(answer, "opco") == {
        **line(answer, "opco"),
        "amount_eur": 400,
        "status": "granted",
    }
    # The OPCO's top-up under a branch agreement exempts from the participation.
    assert answer["participation_eur"] == 0
    assert answer["remaining_eur"] == 600


def test_disability_options_come_from_cap_emploi(simulate: Simulate) -> None:
    answer = simulate(situation={"disability_recognition": True})
    assert "agefiph" in {o["funder"] for o in answer["options"]}
    public = simulate(situation={"disability_recognition": True, "status": "public_agent"})
    assert "fiphfp" in {o["funder"] for o in public["options"]}


@pytest.mark.parametrize(
    ("situation", "eligible"),
    [
        pytest.param({}, True, id="L6323-17-2 CDI 60 mois dont 30"),
        pytest.param({"months_current_employer": 11}, False, id="L6323-17-2 CDI 11 mois"),
        pytest.param(
            {"contract": "cdd", "months_salaried_last_60": 24, "months_cdd_last_12": 4},
            True,
            id="D6323-9 CDD 24/60 dont 4/12",
        ),
        pytest.param(
            {"contract": "cdd", "months_salaried_last_60": 24, "months_cdd_last_12": 3},
            False,
            id="D6323-9 CDD 3 mois de CDD",
        ),
        pytest.param({"status": "self_employed", "contract": None}, False, id="indépendant"),
        pytest.param({"status": "jobseeker", "contract": None}, False, id="demandeur d'emploi"),
    ],
)
def test_ptp_block(simulate: Simulate, situation: dict[str, Any], eligible: bool) -> None:
    answer = simulate(situation=situation)
    assert answer["ptp"]["eligible"] is eligible
    assert answer["ptp"]["reasons"]


def test_ptp_project_counts_pay_and_transitions_pro(simulate: Simulate) -> None:
    answer = simulate(
        training={
            "cost_eur": 8000,
            "ptp": True,
            "start_date": "2025-01-06",
            "end_date": "2025-12-19",
        },
        situation={"cpf_balance_eur": 2000, "reference_monthly_salary_eur": 2500},
    )
    assert answer["ptp"]["eligible"] is True
    assert answer["ptp"]["pay_estimate_eur"] == 30_000
    assert answer["ptp"]["leave_request_deadline"] == "2024-09-08"
    assert answer["total_eur"] == 38_000
    assert line(answer, "transitions_pro")["amount_eur"] == 36_000
    assert answer["remaining_eur"] == 0


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        pytest.param({"training": {"cost_eur": -1}}, "training.cost_eur", id="coût négatif"),
        pytest.param(
            {"training": {"cost_eur": 1_000_000.01}}, "training.cost_eur", id="au-delà de 1 M€"
        ),
        pytest.param({"situation": {"status": "astronaut"}}, "situation.status", id="statut"),
        pytest.param({"training": {"kind": "yoga"}}, "training.kind", id="nature"),
        pytest.param({"purchase_date": "2025-02-30"}, "purchase_date", id="date impossible"),
        pytest.param({"purchase_date": "2018-12-31"}, "purchase_date", id="avant le CPF en €"),
        pytest.param(
            {"training": {"start_date": "2024-05-31"}}, "training.start_date", id="avant l'achat"
        ),
        pytest.param(
            {"training": {"end_date": "2024-09-01"}}, "training.end_date", id="fin avant début"
        ),
        pytest.param(
            {"participation_payer": "training_body"}, "participation_payer", id="organisme"
        ),
        pytest.param(
            {"situation": {"cpf_balance_eur": "500"}},
            "situation.cpf_balance_eur",
            id="texte au lieu d'un nombre",
        ),
        pytest.param({"training": {"hours": 1.5}}, "training.hours", id="heures non entières"),
        pytest.param(
            {"situation": {"months_cdd_last_12": 13}},
            "situation.months_cdd_last_12",
            id="13 mois sur 12",
        ),
        pytest.param(
            {"funders": [{"funder": "cpf", "amount_eur": 1}]},
            "funders[0].funder",
            id="le CPF est calculé",
        ),
        pytest.param({"unknown": 1}, "unknown", id="champ inconnu"),
        pytest.param({"situation": {"contract": "interim"}}, "situation.contract", id="contrat"),
    ],
)
def test_invalid_input_is_a_400_with_the_path(
    client: TestClient[Litestar], request_body: Body, changes: dict[str, Any], path: str
) -> None:
    response = client.post(URL, json=request_body(**changes))
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert path in [error["path"] for error in problem["errors"]]
    assert all(error["message"] for error in problem["errors"])


@pytest.mark.parametrize("raw", [b'{"x": NaN}', b"[1, 2]", b"", b'{"training": 1e400}'])
def test_junk_bodies_are_400(client: TestClient[Litestar], raw: bytes) -> None:
    response = client.post(URL, content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 400


def test_infinity_as_a_number_is_400(client: TestClient[Litestar], request_body: Body) -> None:
    raw = (
        b'{"training": {"cost_eur": 1e400, "kind": "certification"},'
        b' "situation": {"status": "employee"}}'
    )
    response = client.post(URL, content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "training.cost_eur"


def test_body_too_large_is_413(client: TestClient[Litestar]) -> None:
    response = client.post(
        URL,
        content=b'{"x": "' + b"a" * 1_100_000 + b'"}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413


def test_amounts_are_rounded_half_up_to_the_cent(simulate: Simulate) -> None:
    answer = simulate(training={"cost_eur": 1000.005}, situation={"cpf_balance_eur": 0})
    assert answer["total_eur"] == 1000.01
    assert answer["remaining_eur"] == 1000.01


def test_minimal_request(client: TestClient[Litestar]) -> None:
    response = client.post(
        URL,
        json={"training": {"cost_eur": 500, "kind": "permis"}, "situation": {"status": "employee"}},
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["purchase_date"] == "2025-03-10"  # today in France (fixed clock)
    assert answer["participation_eur"] == 102.23
    assert any("Solde CPF non indiqué" in w for w in answer["warnings"])


def failing_operator() -> types.ModuleType:
    module = types.ModuleType("fake_failing_funder")

    @hookimpl
    def cep_plugin_info() -> PluginInfo:
        return PluginInfo(
            id="broken_operator",
            kind=PluginKind.OPERATOR,
            labels=(DatedLabel(valid_from=date(2020, 1, 1), value="Cassé", source="test"),),
            core_range=">=0.1,<0.2",
        )

    @hookimpl
    def cep_funding_options(
        ctx: OperatorContext, project: Project, situation: FundingSituation
    ) -> list[FundingOption]:
        raise RuntimeError("secret internal detail")

    module.cep_plugin_info = cep_plugin_info  # type: ignore[attr-defined]
    module.cep_funding_options = cep_funding_options  # type: ignore[attr-defined]
    return module


def test_a_failing_operator_is_left_out_with_a_warning(
    make_kit: Callable[..., Kit], request_body: Body
) -> None:
    kit = make_kit(failing_operator())
    with TestClient(create_app(kit)) as client:
        response = client.post(URL, json=request_body())
    assert response.status_code == 200
    warnings = response.json()["warnings"]
    assert any("broken_operator" in w for w in warnings)
    assert not any("secret" in w for w in warnings)


def test_works_with_no_operator_installed(make_kit: Callable[..., Kit], request_body: Body) -> None:
    with TestClient(create_app(make_kit())) as client:
        response = client.post(URL, json=request_body())
    assert response.status_code == 200
    assert response.json()["remaining_eur"] == 100


@pytest.mark.parametrize(
    ("operator", "changes"),
    [
        pytest.param(
            "pole_emploi",
            {
                "situation": {"status": "jobseeker", "contract": None, "cpf_balance_eur": 300},
                "training": {"cost_eur": 2500},
            },
            id="demandeur d'emploi, France Travail",
        ),
        pytest.param(
            "regional",
            {
                "situation": {"cpf_balance_eur": 3000, "reference_monthly_salary_eur": 2500},
                "training": {
                    "cost_eur": 8000,
                    "ptp": True,
                    "start_date": "2025-01-06",
                    "end_date": "2025-06-30",
                },
            },
            id="salarié en PTP, Transitions Pro",
        ),
        pytest.param(
            "regional",
            {"situation": {"cpf_balance_eur": 700, "employer_topup_eur": 100}},
            id="salarié, abondement employeur",
        ),
    ],
)
def test_simulator_and_case_plan_give_the_same_figures(
    kit: Kit,
    simulate: Simulate,
    request_body: Body,
    operator: str,
    changes: dict[str, Any],
) -> None:
    answer = simulate(**changes)
    query = msgspec.convert(request_body(**changes), SimulationQuery)
    given = to_domain(query, kit.today(), FundingService(kit.hooks).parameters)
    ctx = OperatorContext(operator=operator, today=given.purchase_date)
    plan, _issues = FundingService(kit.hooks).plan_for_case(
        ctx, given.project, given.situation, purchase_date=given.purchase_date
    )
    assert isinstance(plan, FundingPlan)
    case_lines = {str(line.funder): line.amount / 100 for line in plan.lines}
    assert case_lines == {item["funder"]: item["amount_eur"] for item in answer["lines"]}
    assert plan.participation.amount / 100 == answer["participation_eur"]
    assert str(plan.participation.payer) == answer["participation_payer"]
    assert plan.remaining / 100 == answer["remaining_eur"]
    assert plan.total_cost / 100 == answer["total_eur"]


def test_openapi_documents_the_operation_in_french(client: TestClient[Litestar]) -> None:
    doc = client.get("/schema/openapi.json").json()
    operation = doc["paths"][URL]["post"]
    assert operation["summary"] == "Simuler le plan de financement d'une formation"
    assert "reste à charge" in operation["description"]
    assert {"200", "400", "413", "503"} <= set(operation["responses"])
    for status in ("400", "413", "503"):
        content = operation["responses"][status]["content"]
        assert list(content) == ["application/problem+json"]
        assert "é" in operation["responses"][status]["description"] or status == "413"
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    if "allOf" in schema:
        examples = schema.get("examples", [])
        schema = schema["allOf"][0]
    else:
        examples = []
    schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    examples = examples or schema.get("examples", [])
    assert examples
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {"training", "situation"}
    for example in examples:
        msgspec.convert(example, SimulationQuery)


def test_input_structs_are_bounded() -> None:
    from cep_core.domain.forms import unbounded_fields

    assert unbounded_fields(SimulationQuery) == []


def test_a_case_plan_asks_each_operator_once(
    kit: Kit, request_body: Body, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []
    ask = kit.hooks.funding_options

    def counting(ctx: OperatorContext, project: Any, situation: Any) -> Any:
        asked.append(ctx.operator)
        return ask(ctx, project, situation)

    monkeypatch.setattr(kit.hooks, "funding_options", counting)
    service = FundingService(kit.hooks)
    query = msgspec.convert(request_body(), SimulationQuery)
    given = to_domain(query, kit.today(), service.parameters)
    ctx = OperatorContext(operator="cap_emploi", today=given.purchase_date)
    service.plan_for_case(ctx, given.project, given.situation, purchase_date=given.purchase_date)
    assert sorted(asked) == sorted(info.id for info in kit.hooks.operators())
    assert asked[0] == "cap_emploi"  # the case's own operator first

"""Fixtures of the funding tests: the packaged parameters, request builders, kits and clients.

Tests run with ``--import-mode=importlib``: what they share comes as fixtures.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from cep_apec import hooks as apec
from cep_cap_emploi import hooks as cap_emploi
from cep_core.domain.funding import (
    FundingRequest,
    FundingSituation,
    Project,
    TrainingKind,
)
from cep_core.domain.rules import FundingParameters, funding_parameters
from cep_core.domain.situation import Status
from cep_core.kit import Kit
from cep_core.settings import Settings
from cep_core.web import create_app
from cep_mission_locale import hooks as mission_locale
from cep_pole_emploi import hooks as pole_emploi
from cep_regional import hooks as regional

# 10 March 2025, 09:00 UTC: "today" in France is 2025-03-10.
FIXED_NOW = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
SIMULATE = "/api/v1/funding/simulate"


@pytest.fixture(scope="session")
def params() -> FundingParameters:
    return funding_parameters()


def _project(**overrides: Any) -> Project:
    values: dict[str, Any] = {
        "kind": TrainingKind.CERTIFICATION,
        "price": 100_000,
        "certification_code": "RNCP34828",
        "provider_qualiopi": True,
    }
    values.update(overrides)
    return Project(**values)


def _situation(**overrides: Any) -> FundingSituation:
    values: dict[str, Any] = {"status": Status.EMPLOYEE, "cpf_balance": 0}
    values.update(overrides)
    return FundingSituation(**values)


def _request(
    *, purchase_date: date = date(2024, 6, 1), project: Project | None = None, **kw: Any
) -> FundingRequest:
    return FundingRequest(
        project=project or _project(),
        situation=kw.pop("situation", None) or _situation(),
        purchase_date=purchase_date,
        **kw,
    )


@pytest.fixture
def make() -> SimpleNamespace:
    """Builders with sensible defaults: ``make.project(...)``, ``make.situation(...)``,
    ``make.request(...)``."""
    return SimpleNamespace(project=_project, situation=_situation, request=_request)


@pytest.fixture(scope="session")
def operator_modules() -> list[ModuleType]:
    return [apec, cap_emploi, mission_locale, pole_emploi, regional]


KitFactory = Callable[..., Kit]


@pytest.fixture
def make_kit(tmp_path: Path) -> Iterator[KitFactory]:
    kits: list[Kit] = []

    def build(*plugins: object) -> Kit:
        kit = Kit(
            plugins=plugins,
            load_entrypoints=False,
            settings=Settings(data_dir=tmp_path, load_entrypoints=False),
            clock=lambda: FIXED_NOW,
        )
        assert kit.registry.refused == []
        kits.append(kit)
        return kit

    yield build
    for kit in kits:
        kit.close()


@pytest.fixture
def kit(make_kit: KitFactory, operator_modules: list[ModuleType]) -> Kit:
    return make_kit(*operator_modules)


@pytest.fixture
def client(kit: Kit) -> Iterator[TestClient[Litestar]]:
    with TestClient(create_app(kit)) as test_client:
        yield test_client


def body(**changes: Any) -> dict[str, Any]:
    """A valid simulator request (the contract's example); ``training``/``situation`` dicts
    passed in are merged into the defaults."""
    request: dict[str, Any] = {
        "purchase_date": "2024-06-01",
        "training": {
            "cost_eur": 1000,
            "hours": 100,
            "kind": "certification",
            "certification_code": "RNCP34828",
            "qualiopi": True,
            "start_date": "2024-09-02",
        },
        "situation": {
            "status": "employee",
            "disability_recognition": False,
            "cpf_balance_eur": 1000,
            "employer_topup_eur": 0,
            "contract": "cdi",
            "months_salaried_total": 60,
            "months_current_employer": 30,
            "months_salaried_last_60": 60,
            "months_cdd_last_12": 0,
        },
    }
    for key, value in changes.items():
        if key in ("training", "situation"):
            request[key] = {**request[key], **value}
        else:
            request[key] = value
    return request


@pytest.fixture
def simulate(client: TestClient[Litestar]) -> Callable[..., dict[str, Any]]:
    """POST a request built by `body` and return the 200 answer."""

    def post(**changes: Any) -> dict[str, Any]:
        response = client.post(SIMULATE, json=body(**changes))
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    return post


@pytest.fixture
def request_body() -> Callable[..., dict[str, Any]]:
    return body

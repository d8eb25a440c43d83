"""Helpers for the cases API tests: an HTTP client per API token, and small fake operators.

`CaseClient` keeps nothing between calls but its token: each write names the ETag it sends,
so tests say exactly which version they believe in.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any

import msgspec
from httpx import Response
from litestar import Litestar
from litestar.testing import TestClient

from cep_core import (
    Case,
    Competence,
    DatedLabel,
    FormChannel,
    FundingPlan,
    IntakeForm,
    Issue,
    Level,
    OperatorContext,
    PluginInfo,
    PluginKind,
    Situation,
    StepDefinition,
    Transition,
    hookimpl,
)

CASES = "/api/v1/cases"


def token(seed: str) -> str:
    """A token long enough for the settings (32 characters at least)."""
    return (seed * 40)[:40]


class CaseClient:
    """One API client (one token) over a shared test client."""

    def __init__(self, http: TestClient[Litestar], secret: str | None) -> None:
        self.http = http
        self.secret = secret

    def headers(self, etag: str | None = None, **extra: str) -> dict[str, str]:
        headers = dict(extra)
        if self.secret is not None:
            headers["Authorization"] = f"Bearer {self.secret}"
        if etag is not None:
            headers["If-Match"] = etag
        return headers

    def request(
        self, method: str, path: str, *, etag: str | None = None, json: Any = None, **kw: Any
    ) -> Response:
        if json is not None:
            kw["json"] = json
        return self.http.request(method, path, headers=self.headers(etag), **kw)

    # -- routes --------------------------------------------------------------------------

    def create(self, body: Mapping[str, Any]) -> Response:
        return self.request("POST", CASES, json=body)

    def get(self, case_id: str) -> Response:
        return self.request("GET", f"{CASES}/{case_id}")

    def events(self, case_id: str) -> list[dict[str, Any]]:
        answer = self.request("GET", f"{CASES}/{case_id}/events")
        assert answer.status_code == 200, answer.text
        events: list[dict[str, Any]] = answer.json()["events"]
        return events

    def action(self, case_id: str, action: str, etag: str | None, body: Any = None) -> Response:
        return self.request("POST", f"{CASES}/{case_id}/actions/{action}", etag=etag, json=body)

    def save_step(
        self, case_id: str, step_id: str, data: Any, etag: str | None, *, complete: bool
    ) -> Response:
        return self.request(
            "PUT",
            f"{CASES}/{case_id}/steps/{step_id}",
            etag=etag,
            json={"data": data, "complete": complete},
        )

    def snapshot(self, case_id: str) -> tuple[Any, list[dict[str, Any]], str]:
        """The case, its journal and its ETag: equal before and after a refused write."""
        answer = self.get(case_id)
        assert answer.status_code == 200, answer.text
        return answer.json(), self.events(case_id), answer.headers["etag"]


def problem(answer: Response, status: int) -> dict[str, Any]:
    """The problem details of an error answer, checked for shape and status."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = answer.json()
    assert set(body) == {"status", "title", "detail", "errors"}
    assert body["status"] == status
    return body


def paths(body: Mapping[str, Any]) -> set[str]:
    return {error["path"] for error in body["errors"]}


# -- fake operators ---------------------------------------------------------------------------


class Contract(enum.StrEnum):
    CDI = "cdi"
    CDD = "cdd"


class AlphaIntake(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    contract: Annotated[Contract, msgspec.Meta(title="Contrat de travail")]
    employer_size: Annotated[int, msgspec.Meta(ge=1, le=1_000_000, title="Effectif")]
    wishes: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None


class Positioning(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    score: Annotated[int, msgspec.Meta(ge=0, le=10, title="Positionnement")]
    comment: Annotated[str, msgspec.Meta(max_length=200)] | None = None


class FollowUp(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    months: Annotated[int, msgspec.Meta(ge=1, le=24, title="Suivi (mois)")]


def _info(operator_id: str) -> PluginInfo:
    return PluginInfo(
        id=operator_id,
        kind=PluginKind.OPERATOR,
        labels=(
            DatedLabel(valid_from=date(2020, 1, 1), value=f"Opérateur {operator_id}", source="t"),
        ),
        core_range=">=0",
    )


class FakeOperator:
    """Competent for everyone unless told otherwise; can veto transitions or break."""

    operator_id = "?"

    def __init__(self) -> None:
        self.competent = True
        self.veto: list[Issue] = []
        self.plan_problems: list[Issue] = []
        self.broken_steps = False

    @hookimpl
    def cep_plugin_info(self) -> PluginInfo:
        return _info(self.operator_id)

    @hookimpl
    def cep_assess_competence(self, situation: Situation) -> Competence:
        return Competence(
            operator=self.operator_id,
            competent=self.competent,
            name=f"Opérateur {self.operator_id}",
            reason="Pour tout le monde." if self.competent else "Pour personne.",
        )

    @hookimpl
    def cep_case_transition(
        self, ctx: OperatorContext, case: Case, transition: Transition
    ) -> list[Issue]:
        return list(self.veto)

    @hookimpl
    def cep_check_funding_plan(self, ctx: OperatorContext, plan: FundingPlan) -> list[Issue]:
        return list(self.plan_problems)


class Alpha(FakeOperator):
    """An intake form, a required level-1 step with its own rule, an optional level-2 step."""

    operator_id = "alpha"

    @hookimpl
    def cep_intake_form(self, ctx: OperatorContext, channel: FormChannel) -> IntakeForm:
        return IntakeForm(
            operator="alpha", title="Accueil alpha", input=AlphaIntake, help="Le contrat."
        )

    @hookimpl
    def cep_validate_intake(self, ctx: OperatorContext, data: Mapping[str, Any]) -> list[Issue]:
        if data.get("contract") == "cdd" and not data.get("wishes"):
            return [Issue(path="wishes", message="Pour un CDD, précisez les souhaits.")]
        return []

    @hookimpl
    def cep_session_steps(
        self, ctx: OperatorContext, level: Level, case: Case
    ) -> list[StepDefinition]:
        if self.broken_steps:
            raise RuntimeError("panne injectée")
        if level is Level.ONE:
            return [
                StepDefinition(
                    id="alpha.positioning",
                    level=Level.ONE,
                    title="Positionnement",
                    input=Positioning,
                    order=10,
                )
            ]
        return [
            StepDefinition(
                id="alpha.follow_up",
                level=Level.TWO,
                title="Suivi",
                input=FollowUp,
                order=950,
                required=False,
                depends_on=("level2.action_plan",),
            )
        ]

    @hookimpl
    def cep_validate_step(
        self, ctx: OperatorContext, case: Case, step_id: str, data: Mapping[str, Any]
    ) -> list[Issue]:
        if step_id == "alpha.positioning" and data.get("score") == 0:
            return [Issue(path="score", message="Un positionnement nul n'est pas accepté.")]
        return []


class Beta(FakeOperator):
    operator_id = "beta"


class Gamma(FakeOperator):
    """Competent for nobody: only a counsellor's ``force`` opens a case here."""

    operator_id = "gamma"

    def __init__(self) -> None:
        super().__init__()
        self.competent = False


# -- valid answers for the core steps ---------------------------------------------------------

RECORD: dict[str, Any] = {
    "request": "Je voudrais changer de métier.",
    "clarified_need": "Construire un projet de reconversion dans le soin.",
    "information_given": ["cep_service", "training", "funding"],
    "shared_review": "Projet encore flou ; la personne souhaite être accompagnée.",
    "continues": True,
}
PROJECT: dict[str, Any] = {
    "objective": "retraining",
    "description": "Devenir aide-soignante.",
    "strategies": ["Formation qualifiante"],
    "target_job": "Aide-soignant",
    "rome_code": "J1501",
}
ACTION_PLAN: dict[str, Any] = {
    "services": [
        {
            "kind": "training",
            "label": "Diplôme d'État d'aide-soignant",
            "provider": "IFAS de Rennes",
            "provider_qualiopi": True,
            "certification_code": "RNCP35830",
            "start": "2026-09-01",
            "end": "2027-06-30",
        }
    ],
    "personal_steps": [{"description": "Faire un stage d'observation"}],
    "milestones": [{"on": "2026-05-01", "label": "Dépôt du dossier"}],
}

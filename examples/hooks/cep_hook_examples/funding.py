"""Funding hooks: the default plan with a deployment's advice, and a check on unfunded plans."""

from __future__ import annotations

import msgspec

from cep_core import (
    FundingPlan,
    FundingRequest,
    Issue,
    OperatorContext,
    PluginInfo,
    PluginKind,
    build_plan,
    funding_parameters,
    hookimpl,
    issue,
)
from cep_hook_examples.info import example_info

ADVICE = (
    "Avant toute demande, vérifiez avec votre conseiller ou conseillère les dates limites de "
    "dépôt de chaque financeur."
)


@hookimpl
def cep_plugin_info() -> PluginInfo:
    return example_info("exemples.financement", PluginKind.POLICY, "Conseils de financement")


@hookimpl
def cep_build_funding_plan(ctx: OperatorContext, request: FundingRequest) -> FundingPlan | None:
    plan = build_plan(request, funding_parameters())
    return msgspec.structs.replace(plan, warnings=(*plan.warnings, ADVICE))


@hookimpl
def cep_check_funding_plan(ctx: OperatorContext, plan: FundingPlan) -> list[Issue]:
    if plan.total_cost > 0 and plan.funded == 0:
        return [
            issue(
                "lines",
                "unfunded",
                "Aucun financeur ne participe à ce plan : indiquez au moins une demande de "
                "financement.",
            )
        ]
    return []

"""The public employer: who pays for a public agent's training, their CPF included.

A public agent's CPF is counted in hours and managed by their employer (the core's CPF rules
say so); the employer decides and pays. Its amounts and decision rules were not researched:
the option names the funder, its conditions and documents, without an amount, so a plan
counts it 0 until the employer's decision is known.
"""

from __future__ import annotations

from functools import cache

from cep_core import (
    CostKind,
    FundingOption,
    FundingSituation,
    OperatorContext,
    ParameterSet,
    Project,
    Status,
    funding_parameters,
    hookimpl,
)

PLUGIN_ID = "cmc"
ORDER = 20  # after the CPF, before the gap-fillers


@cache
def parameters() -> ParameterSet:
    """The plugin's parameters (the same file as its hooks module reads)."""
    return ParameterSet.from_package("cep_cmc", "data/parameters.toml")


def funding_options(
    project: Project, situation: FundingSituation, ctx: OperatorContext
) -> list[FundingOption]:
    """The public employer's option on ``ctx.today``, for a public agent only."""
    if situation.status != Status.PUBLIC_AGENT:
        return []
    params, when = parameters(), ctx.today
    label = params.get_at("funding.public_employer.label", when)
    if label is None:
        return []
    core = funding_parameters()
    hours = core.integer("cpf.credit.public_agent.hours", when)
    ceiling = core.integer("cpf.credit.public_agent.hours_ceiling", when)
    return [
        FundingOption(
            funder="public_employer",
            label=str(label),
            rule=str(params.at("funding.public_employer.rule", when)),
            conditions=(
                f"Votre CPF d'agent(e) public(que) est crédité en heures ({hours} h par an, "
                f"dans la limite de {ceiling} h) et se mobilise avec l'accord de votre employeur.",
                "Formation liée à votre projet d'évolution professionnelle, construit avec votre "
                "conseiller ou conseillère mobilité carrière.",
            ),
            documents=(
                "Demande écrite à votre employeur, qui présente votre projet d'évolution "
                "professionnelle.",
                "Devis et programme de la formation.",
            ),
            covers=(CostKind.TEACHING, CostKind.OTHER),
            order=ORDER,
            operator=PLUGIN_ID,
        )
    ]


@hookimpl
def cep_funding_options(
    ctx: OperatorContext, project: Project, situation: FundingSituation
) -> list[FundingOption]:
    return funding_options(project, situation, ctx)

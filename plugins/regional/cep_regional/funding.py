"""Transitions Pro: the funder of the projet de transition professionnelle (PTP).

The option is offered to private-sector employees when the PTP is possible for them (the
core's `ptp_eligibility`, the same rule the simulator shows) or asked for. When the project
IS run as a PTP and the person is eligible, Transitions Pro fills the gap — teaching costs,
pay during the training and ancillary costs — and its line is "requested": its commission
decides. Otherwise it is listed without an amount.
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
    ptp_eligibility,
)

PLUGIN_ID = "regional"


@cache
def packaged_parameters() -> ParameterSet:
    """The plugin's parameters (the same file as its hooks module reads)."""
    return ParameterSet.from_package("cep_regional", "data/parameters.toml")


ORDER = 70  # a gap-filler, after the CPF, known amounts and the job seekers' top-up


def funding_options(
    project: Project, situation: FundingSituation, ctx: OperatorContext
) -> list[FundingOption]:
    if situation.status != Status.EMPLOYEE:
        return []
    params, when = packaged_parameters(), ctx.today
    label = params.get_at("funding.transitions_pro.label", when)
    if not label:
        return []
    verdict = ptp_eligibility(situation, project, when, funding_parameters())
    if not (verdict.eligible or project.ptp):
        return []
    active = project.ptp and verdict.eligible
    return [
        FundingOption(
            funder="transitions_pro",
            label=str(label),
            rule=str(params.at("funding.transitions_pro.rule", when)),
            conditions=(
                "Salarié(e) en CDI ou en CDD qui remplit les conditions d'ancienneté, ou qui en "
                "est dispensé(e) (C. trav. L6323-17-2).",
                "Formation certifiante (RNCP ou RS) pour changer de métier, après un "
                "positionnement préalable auprès de l'organisme de formation.",
                "Congé demandé à l'employeur 120 jours avant le début (absence continue d'au "
                "moins 6 mois) ou 60 jours avant (absence plus courte, temps partiel).",
                "Dossier examiné par la commission de Transitions Pro, qui décide de la prise "
                "en charge. Transitions Pro atteste aussi le caractère réel et sérieux d'un "
                "projet de démission pour reconversion.",
            ),
            documents=(
                "Réponse de l'employeur à la demande de congé (ou preuve de son silence).",
                "Devis, programme et résultat du positionnement préalable.",
                "Bulletins de salaire de la période de référence.",
            ),
            covers_gap=active,
            covers=(CostKind.TEACHING, CostKind.PAY, CostKind.OTHER),
            order=ORDER,
            operator=PLUGIN_ID,
            notes=(
                "Transitions Pro : le montant du plan est celui demandé ; la commission décide "
                "de la prise en charge.",
            )
            if active
            else (),
        )
    ]


@hookimpl
def cep_funding_options(
    ctx: OperatorContext, project: Project, situation: FundingSituation
) -> list[FundingOption]:
    return funding_options(project, situation, ctx)

"""Disability-related funding: Agefiph (private sector, job seekers, self-employed) and the
FIPHFP (public employers' agents).

Their aid rules and amounts were not researched: the options name the funder, its
conditions and documents, without an amount, so a plan counts them 0 until the aid granted
is known. Disability is health data: the options mention the recognition, never a diagnosis.
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
    hookimpl,
)

PLUGIN_ID = "cap_emploi"


@cache
def parameters() -> ParameterSet:
    """The plugin's parameters (the same file as its hooks module reads)."""
    return ParameterSet.from_package("cep_cap_emploi", "data/parameters.toml")


ORDER = 50
PROOF = "Justificatif de la reconnaissance de handicap (RQTH ou équivalent), sans autre détail."


def funding_options(
    project: Project, situation: FundingSituation, ctx: OperatorContext
) -> list[FundingOption]:
    """The disability-related options on ``ctx.today`` (none without a recognition)."""
    if not situation.disability_recognition:
        return []
    params, when = parameters(), ctx.today
    if situation.status == Status.PUBLIC_AGENT:
        label = params.get_at("funding.fiphfp.label", when)
        if not label:
            return []
        return [
            FundingOption(
                funder="fiphfp",
                label=str(label),
                rule="Aides du FIPHFP aux employeurs publics pour leurs agents handicapés "
                "(loi n° 2005-102, art. 36) ; montants non étudiés [M]",
                conditions=(
                    "Agent(e) public(que) bénéficiaire de l'obligation d'emploi ; la demande "
                    "passe par votre employeur public.",
                    "Formation liée au handicap : reconversion, maintien dans l'emploi, "
                    "compensation.",
                ),
                documents=(PROOF, "Devis et programme de la formation."),
                covers=(CostKind.TEACHING, CostKind.OTHER),
                order=ORDER,
                operator=PLUGIN_ID,
            )
        ]
    label = params.get_at("funding.agefiph.label", when)
    if not label:
        return []
    return [
        FundingOption(
            funder="agefiph",
            label=str(label),
            rule="Aides de l'Agefiph à la formation des personnes handicapées (C. trav. "
            "L5214-1 et s.) ; montants non étudiés [M]",
            conditions=(
                "Bénéficiaire de l'obligation d'emploi (RQTH ou équivalent), salarié(e) du "
                "privé, demandeur(se) d'emploi ou travailleur(se) indépendant(e).",
                "En complément des autres financements (CPF, OPCO, Région, France Travail), "
                "notamment pour compenser le handicap pendant la formation.",
            ),
            documents=(PROOF, "Devis et programme de la formation."),
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

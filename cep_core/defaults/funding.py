"""Default funding rules, as a plugin: the core funders, the plan builder and the checks.

The core funders are the ones every public may meet: the CPF, the employer's top-up, the
OPCO and the Région. Operators add their own (France Travail's top-up, Agefiph, Transitions
Pro...) in their plugins. The plan builder and the checks are ``trylast``: a deployment may
register its own builder, which answers first.

OPCO and Région amounts are decided case by case: they are offered as options with no
amount, so a plan counts them 0 until someone records the amount granted.
"""

from __future__ import annotations

from datetime import date

from cep_core.defaults.info import builtin_info
from cep_core.domain.context import OperatorContext
from cep_core.domain.funding import (
    CostKind,
    FunderKind,
    FundingOption,
    FundingPlan,
    FundingRequest,
    FundingSituation,
    Project,
)
from cep_core.domain.issues import Issue
from cep_core.domain.plugin_info import PluginInfo, PluginKind
from cep_core.domain.rules import FundingParameters, build_plan, check_plan, funding_parameters
from cep_core.domain.situation import Status
from cep_core.markers import hookimpl

PLUGIN_ID = "core.funding"
SALARIED = frozenset({Status.EMPLOYEE, Status.APPRENTICE})


def core_options(
    project: Project, situation: FundingSituation, when: date, params: FundingParameters
) -> list[FundingOption]:
    """The core funders for this person and project, read on `when`."""
    balance = situation.cpf_balance
    options = [
        FundingOption(
            funder=FunderKind.CPF,
            label=params.text("funders.cpf.label", when),
            rule=params.text("funders.cpf.rule", when),
            conditions=(
                "Certification inscrite au RNCP ou au répertoire spécifique, ou exception "
                "légale : permis de conduire, bilan de compétences, VAE, création ou reprise "
                "d'entreprise (C. trav. L6323-6).",
                "Organisme certifié Qualiopi (obligatoire depuis le 1er janvier 2022).",
                "Achat sur Mon Compte Formation par le titulaire, avec son accord exprès "
                "(C. trav. L6323-2).",
            ),
            documents=(
                "Identifiants Mon Compte Formation (connexion par FranceConnect+).",
                "Session de formation choisie sur Mon Compte Formation (devis de l'organisme).",
            ),
            max_amount=balance,
            order=0,
        )
    ]
    if situation.status in SALARIED or situation.employer_topup > 0:
        topup = situation.employer_topup
        options.append(
            FundingOption(
                funder=FunderKind.EMPLOYER,
                label=params.text("funders.employer.label", when),
                rule=params.text("funders.employer.rule", when),
                conditions=(
                    "Accord de l'employeur, qui verse une dotation sur votre CPF (espace des "
                    "employeurs et financeurs, EDEF).",
                    "Un abondement de l'employeur vous exonère de la participation forfaitaire "
                    "(décret n° 2024-394).",
                ),
                documents=("Accord écrit de l'employeur sur le montant de l'abondement.",),
                amount=topup if topup > 0 else None,
                public_money=False,
                exempts_participation=True,
                order=10,
            )
        )
    if situation.status in SALARIED:
        options.append(
            FundingOption(
                funder=FunderKind.OPCO,
                label=params.text("funders.opco.label", when),
                rule=params.text("funders.opco.rule", when),
                conditions=(
                    "Selon les accords de votre branche professionnelle et les priorités de "
                    "l'OPCO ; la demande passe en général par l'employeur.",
                    "Un abondement versé au titre d'un accord de branche ou de l'OPCO exonère "
                    "de la participation forfaitaire (décret n° 2024-394).",
                ),
                documents=(
                    "Devis et programme de la formation.",
                    "Demande de prise en charge de l'employeur à l'OPCO.",
                ),
                covers=(CostKind.TEACHING, CostKind.OTHER),
                exempts_participation=True,
                order=30,
            )
        )
    if situation.status != Status.PUBLIC_AGENT:
        options.append(
            FundingOption(
                funder=FunderKind.REGION,
                label=params.text("funders.region.label", when),
                rule=params.text("funders.region.rule", when),
                conditions=(
                    "Selon les priorités régionales (métiers en tension, publics prioritaires, "
                    "en particulier les demandeurs d'emploi) ; certains abondements sont "
                    "automatiques sur Mon Compte Formation depuis janvier 2021.",
                ),
                documents=("Devis et programme de la formation.",),
                covers=(CostKind.TEACHING, CostKind.OTHER),
                order=40,
            )
        )
    return options


@hookimpl
def cep_plugin_info() -> PluginInfo:
    return builtin_info(
        PLUGIN_ID,
        PluginKind.POLICY,
        "Règles de financement par défaut",
        "CPF, abondement de l'employeur, OPCO et Région ; plan de financement et "
        "contrôles par défaut.",
        since=date(2019, 1, 1),
    )


@hookimpl
def cep_funding_options(
    ctx: OperatorContext, project: Project, situation: FundingSituation
) -> list[FundingOption]:
    return core_options(project, situation, ctx.today, funding_parameters())


@hookimpl(trylast=True)
def cep_build_funding_plan(ctx: OperatorContext, request: FundingRequest) -> FundingPlan:
    return build_plan(request, funding_parameters())


@hookimpl(trylast=True)
def cep_check_funding_plan(ctx: OperatorContext, plan: FundingPlan) -> list[Issue]:
    return check_plan(plan, funding_parameters())

"""France Travail's funding for job seekers: its CPF top-up and the AIF.

The top-up completes the CPF in the Mon Compte Formation purchase flow (since 6 July 2020):
it pays what the CPF leaves of the teaching costs, up to a dated cap, and a job seeker is
exempt from the CPF participation. Its cap and deadlines were read in a ~2021 secondary
source: every plan that counts it says so. The AIF's rules were not researched: it is
offered without an amount, so a plan counts it 0 until the amount granted is known.
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
    format_euros,
    hookimpl,
    parse_euros,
)

PLUGIN_ID = "pole_emploi"


@cache
def parameters() -> ParameterSet:
    """The plugin's parameters (the same file as its hooks module reads)."""
    return ParameterSet.from_package("cep_pole_emploi", "data/parameters.toml")


TOPUP_ORDER = 60  # a gap-filler: after the CPF and the known amounts
AIF_ORDER = 65


def funding_options(
    project: Project, situation: FundingSituation, ctx: OperatorContext
) -> list[FundingOption]:
    """The options for a job seeker on ``ctx.today`` (nothing for anyone else)."""
    if not situation.is_jobseeker:
        return []
    params, when = parameters(), ctx.today
    name = params.at("label", when)
    options: list[FundingOption] = []
    if params.get_at("funding.france_travail.topup_available", when, False):
        cap = parse_euros(params.at("funding.france_travail.topup_cap", when))
        request_days = int(params.at("funding.france_travail.request_working_days", when))
        answer_days = int(params.at("funding.france_travail.answer_working_days", when))
        caveat = str(params.at("funding.france_travail.caveat", when))
        options.append(
            FundingOption(
                funder="france_travail",
                label=f"Abondement de {name}",
                rule=f"Abondement de {name} sur le CPF des demandeurs d'emploi (C. trav. L6323-4 "
                "II), dans le parcours d'achat de Mon Compte Formation depuis le 6 juillet 2020 "
                "[règles V2, ~2021]",
                conditions=(
                    f"Être inscrit(e) comme demandeur(se) d'emploi à {name} ; projet de "
                    "formation validé avec votre conseiller.",
                    f"Demande au moins {request_days} jours ouvrés avant le début de la "
                    f"formation ; réponse sous {answer_days} jours ouvrés, l'absence de réponse "
                    "vaut accord.",
                    f"Plafond habituel de {format_euros(cap)}, avec des exceptions ; aucun frais "
                    "pédagogique ne doit rester à votre charge.",
                ),
                documents=(
                    "Session de formation choisie sur Mon Compte Formation.",
                    f"Projet de formation validé avec votre conseiller {name}.",
                ),
                max_amount=cap,
                covers_gap=True,
                covers=(CostKind.TEACHING,),
                order=TOPUP_ORDER,
                request_working_days_before_start=request_days,
                answer_working_days=answer_days,
                operator=PLUGIN_ID,
                notes=(caveat,),
            )
        )
    if params.get_at("funding.aif.available", when, False):
        options.append(
            FundingOption(
                funder="france_travail_aif",
                label=f"Aide individuelle à la formation (AIF) de {name}",
                rule=f"Aide individuelle à la formation de {name} (règles et montants non "
                "étudiés [M])",
                conditions=(
                    "Formation qui répond à un projet de retour à l'emploi validé avec votre "
                    "conseiller, quand les autres financements ne suffisent pas.",
                ),
                documents=("Devis et programme de la formation.",),
                covers=(CostKind.TEACHING, CostKind.OTHER),
                order=AIF_ORDER,
                operator=PLUGIN_ID,
            )
        )
    return options


@hookimpl
def cep_funding_options(
    ctx: OperatorContext, project: Project, situation: FundingSituation
) -> list[FundingOption]:
    return funding_options(project, situation, ctx)

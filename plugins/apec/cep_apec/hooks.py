"""Apec: the CEP of cadres, in a job or looking for one.

The Apec serves the private sector's cadres; a public agent who is cadre and only in work is
served by their employer's conseillers mobilité carrière, but a cadre looking for a job is
the Apec's public whatever their former employer.
"""

from __future__ import annotations

from functools import cache

from cep_apec.flow import (  # noqa: F401 (hooks re-exported for registration)
    cep_intake_form,
    cep_session_steps,
    cep_validate_intake,
    cep_validate_step,
)
from cep_apec.synthesis import cep_synthesis_sections, cep_synthesis_template  # noqa: F401
from cep_core import (
    Competence,
    Contact,
    ParameterSet,
    PluginInfo,
    PluginKind,
    Situation,
    Theme,
    dated_labels,
    hookimpl,
)

PLUGIN_ID = "apec"


@cache
def parameters() -> ParameterSet:
    return ParameterSet.from_package("cep_apec", "data/parameters.toml")


@hookimpl
def cep_plugin_info() -> PluginInfo:
    return PluginInfo(
        id=PLUGIN_ID,
        kind=PluginKind.OPERATOR,
        labels=dated_labels(parameters()["label"]),
        core_range=">=0.1,<0.2",
        description=(
            "Conseil en évolution professionnelle des cadres du secteur privé, en poste ou en "
            "recherche d'emploi."
        ),
        contact=Contact.from_parameters(parameters()),
        theme=Theme(primary_color="#004b87", accent_color="#e4003a"),
    )


@hookimpl
def cep_assess_competence(situation: Situation) -> Competence:
    when = situation.as_of
    name = parameters().at("label", when)
    competent = False
    if not situation.cadre:
        reason = (
            f"Vous n'avez pas indiqué être cadre : l'{name} accompagne les cadres, en poste ou "
            "en recherche d'emploi."
        )
    elif situation.job_seeking:
        competent = True
        reason = (
            f"Vous êtes cadre et vous recherchez un emploi : l'{name} accompagne les cadres "
            "en recherche d'emploi."
        )
    elif situation.is_public_agent:
        reason = (
            f"Vous êtes cadre de la fonction publique et ne recherchez pas d'emploi : l'{name} "
            "accompagne les cadres du secteur privé ; les agents publics sont accompagnés par "
            "leur employeur."
        )
    elif situation.in_work:
        competent = True
        reason = (
            f"Vous êtes cadre en activité : l'{name} accompagne les cadres en poste dans "
            "leur évolution professionnelle."
        )
    else:
        reason = (
            f"Vous avez indiqué être cadre, mais vous n'exercez ni ne recherchez d'emploi : "
            f"l'{name} accompagne les cadres en poste ou en recherche d'emploi."
        )
    return Competence(
        operator=PLUGIN_ID,
        competent=competent,
        name=name,
        reason=reason,
        contact=Contact.from_parameters(parameters(), when),
    )

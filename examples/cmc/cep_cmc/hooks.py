"""Conseillers mobilité carrière: the CEP of public agents, served by their employers' network.

Public agents have a right to the CEP, but the regional operators do not serve them: without
this plugin the kit points them to their employer's conseiller mobilité carrière, outside the
kit (the core's ``cmc`` redirect). Installed, this operator answers for them instead, and
says so with ``covers_redirect``, so the orientation lists it rather than sending the person
away. Everyone else is outside its public, whatever else is true.
"""

from __future__ import annotations

from functools import cache

from cep_cmc.flow import (  # noqa: F401 (hooks re-exported for registration)
    cep_intake_form,
    cep_session_steps,
    cep_validate_intake,
    cep_validate_step,
)
from cep_cmc.funding import cep_funding_options  # noqa: F401 (hook re-exported for registration)
from cep_cmc.synthesis import cep_synthesis_sections, cep_synthesis_template  # noqa: F401
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

PLUGIN_ID = "cmc"
# The network the core's orientation points public agents to when no operator serves them.
COVERED_REDIRECT = "cmc"


@cache
def parameters() -> ParameterSet:
    return ParameterSet.from_package("cep_cmc", "data/parameters.toml")


@hookimpl
def cep_plugin_info() -> PluginInfo:
    return PluginInfo(
        id=PLUGIN_ID,
        kind=PluginKind.OPERATOR,
        labels=dated_labels(parameters()["label"]),
        core_range=">=0.1,<0.2",
        description=(
            "Conseil en évolution professionnelle des agents publics (fonctions publiques de "
            "l'État, territoriale et hospitalière), par les conseillers mobilité carrière de "
            "leur employeur."
        ),
        contact=Contact.from_parameters(parameters()),
        theme=Theme(primary_color="#000091", accent_color="#e1000f"),
    )


@hookimpl
def cep_assess_competence(situation: Situation) -> Competence:
    when = situation.as_of
    name = parameters().at("label", when)
    if situation.is_public_agent:
        competent = True
        reason = (
            f"Vous êtes agent(e) public(que) : les {name.lower()} de votre employeur vous "
            "accompagnent dans votre évolution professionnelle (mobilité, concours, "
            "reconversion), gratuitement et en toute confidentialité."
        )
    else:
        competent = False
        reason = (
            f"Les {name.lower()} accompagnent les agents publics ; vous n'avez pas indiqué "
            "être agent(e) public(que)."
        )
    return Competence(
        operator=PLUGIN_ID,
        competent=competent,
        name=name,
        reason=reason,
        contact=Contact.from_parameters(parameters(), when),
        covers_redirect=COVERED_REDIRECT if competent else None,
    )

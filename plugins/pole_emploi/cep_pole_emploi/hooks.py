"""France Travail (Pôle emploi until 31 December 2023): the CEP of job seekers.

Its public is whoever is registered as a job seeker, or says they are one, or looks for a job
without holding one; a person in work who looks for another job without registering is served
by the other operators (regional, Apec). The operator's name is dated: the reason uses the
name in force on the situation's reference date.
"""

from __future__ import annotations

from functools import cache

from cep_core import (
    Competence,
    Contact,
    ParameterSet,
    PluginInfo,
    PluginKind,
    Situation,
    Status,
    Theme,
    dated_labels,
    hookimpl,
)
from cep_pole_emploi.flow import (  # noqa: F401 (hooks re-exported for registration)
    cep_intake_form,
    cep_session_steps,
    cep_validate_intake,
    cep_validate_step,
)
from cep_pole_emploi.funding import cep_funding_options  # noqa: F401 (hook re-exported for registration)
from cep_pole_emploi.synthesis import cep_synthesis_sections, cep_synthesis_template  # noqa: F401

PLUGIN_ID = "pole_emploi"


@cache
def parameters() -> ParameterSet:
    return ParameterSet.from_package("cep_pole_emploi", "data/parameters.toml")


@hookimpl
def cep_plugin_info() -> PluginInfo:
    return PluginInfo(
        id=PLUGIN_ID,
        kind=PluginKind.OPERATOR,
        labels=dated_labels(parameters()["label"]),
        core_range=">=0.1,<0.2",
        description=(
            "Conseil en évolution professionnelle des demandeurs d'emploi, par l'opérateur "
            "France Travail (Pôle emploi jusqu'au 31 décembre 2023)."
        ),
        contact=Contact.from_parameters(parameters()),
        theme=Theme(primary_color="#1d1f65", accent_color="#e1000f"),
    )


@hookimpl
def cep_assess_competence(situation: Situation) -> Competence:
    name = parameters().at("label", situation.as_of)
    competent = True
    if situation.registered_jobseeker:
        reason = (
            f"Vous êtes inscrit(e) comme demandeur(se) d'emploi à {name} : {name} vous "
            "accompagne dans votre évolution professionnelle."
        )
    elif situation.status == Status.JOBSEEKER:
        reason = (
            f"Vous êtes demandeur(se) d'emploi : {name} accompagne les demandeurs d'emploi, "
            "que vous soyez déjà inscrit(e) ou non."
        )
    elif situation.seeking_job and not situation.in_work:
        reason = (
            f"Vous recherchez un emploi sans en occuper : {name} accompagne les demandeurs "
            "d'emploi."
        )
    else:
        competent = False
        if situation.seeking_job:
            reason = (
                f"Vous recherchez un emploi tout en travaillant, sans être inscrit(e) à {name} : "
                f"{name} accompagne les demandeurs d'emploi ; si vous vous y inscrivez, il "
                "pourra vous accompagner."
            )
        else:
            reason = (
                f"Vous n'avez pas indiqué rechercher un emploi : {name} accompagne les "
                "demandeurs d'emploi."
            )
    return Competence(
        operator=PLUGIN_ID,
        competent=competent,
        name=name,
        reason=reason,
        contact=Contact.from_parameters(parameters(), situation.as_of),
    )

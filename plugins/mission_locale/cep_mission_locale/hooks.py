"""Missions locales: the CEP of young people under 26 who are not registered with France Travail.

"Under 26" is the age on the situation's reference date, below a dated threshold; a young person
registered as a job seeker is France Travail's public (Pôle emploi before 2024), named as it
was on that date.
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
    Theme,
    dated_labels,
    hookimpl,
)
from cep_mission_locale.flow import (  # noqa: F401 (hooks re-exported for registration)
    cep_intake_form,
    cep_session_steps,
    cep_validate_intake,
    cep_validate_step,
)
from cep_mission_locale.synthesis import cep_synthesis_sections, cep_synthesis_template  # noqa: F401

PLUGIN_ID = "mission_locale"


@cache
def parameters() -> ParameterSet:
    return ParameterSet.from_package("cep_mission_locale", "data/parameters.toml")


@hookimpl
def cep_plugin_info() -> PluginInfo:
    return PluginInfo(
        id=PLUGIN_ID,
        kind=PluginKind.OPERATOR,
        labels=dated_labels(parameters()["label"]),
        core_range=">=0.1,<0.2",
        description=(
            "Conseil en évolution professionnelle des jeunes de moins de 26 ans non inscrits à "
            "France Travail, par la Mission locale de leur territoire."
        ),
        contact=Contact.from_parameters(parameters()),
        theme=Theme(primary_color="#00677f", accent_color="#f39200"),
    )


@hookimpl
def cep_assess_competence(situation: Situation) -> Competence:
    params, when = parameters(), situation.as_of
    name = params.at("label", when)
    limit = params.at("age_limit", when)
    competent = False
    if situation.age >= limit:
        reason = (
            f"Vous avez {limit} ans ou plus : la {name} accompagne les jeunes de moins de "
            f"{limit} ans."
        )
    elif situation.registered_jobseeker:
        public_service = params.at("france_travail.label", when)
        reason = (
            f"Vous êtes inscrit(e) à {public_service} : c'est {public_service} qui vous "
            f"accompagne ; la {name} accompagne les jeunes de moins de {limit} ans qui n'y sont "
            "pas inscrits."
        )
    else:
        competent = True
        public_service = params.at("france_travail.label", when)
        reason = (
            f"Vous avez moins de {limit} ans et n'êtes pas inscrit(e) à {public_service} : la "
            f"{name} de votre territoire accompagne les jeunes de moins de {limit} ans."
        )
    return Competence(
        operator=PLUGIN_ID,
        competent=competent,
        name=name,
        reason=reason,
        contact=Contact.from_parameters(parameters(), when),
    )

"""Cap emploi: the CEP of people with a recognised disability, in work or looking for a job.

Disability status is health data (GDPR art. 9): the plugin reads only the stated flag, and its
reasons mention the recognition soberly, never a diagnosis. Public agents are included: this is
one of the operators that can serve them inside the kit.
"""

from __future__ import annotations

from functools import cache

from cep_cap_emploi.flow import (  # noqa: F401 (hooks re-exported for registration)
    cep_intake_form,
    cep_session_steps,
    cep_validate_intake,
    cep_validate_step,
)
from cep_cap_emploi.funding import cep_funding_options  # noqa: F401 (hook re-exported for registration)
from cep_cap_emploi.synthesis import cep_synthesis_sections, cep_synthesis_template  # noqa: F401
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

PLUGIN_ID = "cap_emploi"
RECOGNITION = "une reconnaissance de handicap (RQTH ou équivalent)"


@cache
def parameters() -> ParameterSet:
    return ParameterSet.from_package("cep_cap_emploi", "data/parameters.toml")


@hookimpl
def cep_plugin_info() -> PluginInfo:
    return PluginInfo(
        id=PLUGIN_ID,
        kind=PluginKind.OPERATOR,
        labels=dated_labels(parameters()["label"]),
        core_range=">=0.1,<0.2",
        description=(
            "Conseil en évolution professionnelle des personnes bénéficiant d'une "
            "reconnaissance de handicap, en emploi ou en recherche d'emploi."
        ),
        contact=Contact.from_parameters(parameters()),
        theme=Theme(primary_color="#5b2c83", accent_color="#00a19a"),
    )


@hookimpl
def cep_assess_competence(situation: Situation) -> Competence:
    name = parameters().at("label", situation.as_of)
    competent = situation.disability_recognition and (situation.in_work or situation.job_seeking)
    if not situation.disability_recognition:
        reason = (
            f"Vous n'avez pas indiqué de reconnaissance de handicap : {name} accompagne les "
            f"personnes qui bénéficient d'{RECOGNITION}."
        )
    elif situation.in_work:
        reason = (
            f"Vous avez indiqué {RECOGNITION} et vous êtes en emploi : {name} peut vous "
            "accompagner dans votre évolution professionnelle et votre maintien dans l'emploi."
        )
    elif situation.job_seeking:
        reason = (
            f"Vous avez indiqué {RECOGNITION} et vous recherchez un emploi : {name} peut vous "
            "accompagner dans votre projet professionnel."
        )
    else:
        reason = (
            f"Vous avez indiqué {RECOGNITION}, sans exercer ni rechercher d'emploi : {name} "
            "accompagne les personnes en emploi ou en recherche d'emploi."
        )
    return Competence(
        operator=PLUGIN_ID,
        competent=competent,
        name=name,
        reason=reason,
        contact=Contact.from_parameters(parameters(), situation.as_of),
    )

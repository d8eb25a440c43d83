"""Cap emploi: the CEP of people with a recognised disability, in work or looking for a job.

Disability status is health data (GDPR art. 9): the plugin reads only the stated flag, and its
reasons mention the recognition soberly, never a diagnosis. Public agents are included: this is
one of the operators that can serve them inside the kit.
"""

from __future__ import annotations

from datetime import date
from functools import cache

from cep_cap_emploi.flow import (  # noqa: F401 (hooks re-exported for registration)
    cep_intake_form,
    cep_session_steps,
    cep_validate_intake,
    cep_validate_step,
)
from cep_cap_emploi.funding import cep_funding_options  # noqa: F401 (hook re-exported for registration)
from cep_core import (
    Competence,
    Contact,
    DatedLabel,
    ParameterSet,
    PluginInfo,
    PluginKind,
    Situation,
    Theme,
    hookimpl,
)

PLUGIN_ID = "cap_emploi"
RECOGNITION = "une reconnaissance de handicap (RQTH ou équivalent)"


@cache
def parameters() -> ParameterSet:
    return ParameterSet.from_package("cep_cap_emploi", "data/parameters.toml")


def _contact(when: date | None = None) -> Contact:
    """The contact in force on `when`, or the latest known one."""
    params = parameters()
    if when is None:
        return Contact(url=params["contact.url"].values[-1].value)
    return Contact(url=params.get_at("contact.url", when))


@hookimpl
def cep_plugin_info() -> PluginInfo:
    return PluginInfo(
        id=PLUGIN_ID,
        kind=PluginKind.OPERATOR,
        labels=tuple(
            DatedLabel(valid_from=v.valid_from, value=v.value, source=v.source)
            for v in parameters()["label"].values
        ),
        core_range=">=0.1,<0.2",
        description=(
            "Conseil en évolution professionnelle des personnes bénéficiant d'une "
            "reconnaissance de handicap, en emploi ou en recherche d'emploi."
        ),
        contact=_contact(),
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
        contact=_contact(situation.as_of),
    )

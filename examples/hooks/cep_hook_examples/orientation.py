"""An orientation policy: Mission locale first for people under 26, the default otherwise."""

from __future__ import annotations

from collections.abc import Sequence

from cep_core import (
    Competence,
    Eligibility,
    OperatorChoice,
    Orientation,
    PluginInfo,
    PluginKind,
    Situation,
    hookimpl,
)
from cep_hook_examples.info import example_info

FIRST_FOR_YOUNG = "mission_locale"


@hookimpl
def cep_plugin_info() -> PluginInfo:
    return example_info("exemples.jeunes", PluginKind.POLICY, "Les jeunes d'abord")


@hookimpl
def cep_choose_orientation(
    situation: Situation, eligibility: Eligibility, competences: Sequence[Competence]
) -> Orientation | None:
    competent = [c for c in competences if c.competent]
    if not eligibility.eligible or situation.age >= 26 or situation.is_public_agent:
        return None  # the default policy answers
    if FIRST_FOR_YOUNG not in {c.operator for c in competent}:
        return None
    ordered = sorted(competent, key=lambda c: (c.operator != FIRST_FOR_YOUNG, c.operator))
    return Orientation(
        eligible=True,
        reasons=eligibility.reasons,
        operators=tuple(
            OperatorChoice(id=c.operator, name=c.name, reason=c.reason, contact=c.contact)
            for c in ordered
        ),
    )

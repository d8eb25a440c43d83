"""Default orientation policy: list every competent operator and let the person choose.

No official precedence exists between operators (a cadre in work is served by Apec and by the
regional operator alike), so the default never picks one; it orders them by id so the answer
does not depend on the order plugins were registered. Public agents are pointed to their
employer's conseillers mobilité carrière unless an installed operator covers that network.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from cep_core.defaults.info import builtin_info
from cep_core.domain.orientation import (
    Competence,
    Eligibility,
    OperatorChoice,
    Orientation,
    Redirect,
)
from cep_core.domain.parameters import ParameterSet
from cep_core.domain.plugin_info import PluginInfo, PluginKind
from cep_core.domain.situation import Situation
from cep_core.markers import hookimpl

PLUGIN_ID = "core.orientation"


@cache
def parameters() -> ParameterSet:
    return ParameterSet.from_package("cep_core", "data/orientation.toml")


@hookimpl
def cep_plugin_info() -> PluginInfo:
    return builtin_info(
        PLUGIN_ID,
        PluginKind.POLICY,
        "Politique d'orientation par défaut",
        "Liste tous les opérateurs compétents ; la personne choisit.",
    )


@hookimpl(trylast=True)
def cep_choose_orientation(
    situation: Situation, eligibility: Eligibility, competences: Sequence[Competence]
) -> Orientation:
    if not eligibility.eligible:
        return Orientation(eligible=False, reasons=eligibility.reasons, operators=())
    competent = sorted((c for c in competences if c.competent), key=lambda c: c.operator)
    operators = tuple(
        OperatorChoice(id=c.operator, name=c.name, reason=c.reason, contact=c.contact)
        for c in competent
    )
    redirect = None
    covered = {c.covers_redirect for c in competent if c.covers_redirect}
    if situation.is_public_agent and "cmc" not in covered:
        params, when = parameters(), situation.as_of
        redirect = Redirect(
            id="cmc",
            name=params.at("redirect.cmc.name", when),
            reason=params.at("redirect.cmc.reason", when),
            url=params.get_at("redirect.cmc.url", when),
        )
    return Orientation(
        eligible=True, reasons=eligibility.reasons, operators=operators, redirect=redirect
    )

"""Default steps: the legal minimum of each level, offered to every operator's flow.

Operator plugins add steps of their own or replace these (``StepDefinition.replaces``); the
case service resolves the replacements and orders the flow.
"""

from __future__ import annotations

from cep_core.defaults.info import builtin_info
from cep_core.domain.case import Case, Level
from cep_core.domain.context import OperatorContext
from cep_core.domain.forms import StepDefinition
from cep_core.domain.plugin_info import PluginInfo, PluginKind
from cep_core.domain.steps import core_steps
from cep_core.markers import hookimpl

PLUGIN_ID = "core.steps"


@hookimpl
def cep_plugin_info() -> PluginInfo:
    return builtin_info(
        PLUGIN_ID,
        PluginKind.CAPABILITY,
        "Étapes légales des niveaux 1 et 2",
        "Compte rendu du niveau 1 ; projet professionnel et plan d'action du niveau 2.",
        source="Arrêté du 29 mars 2019 fixant le cahier des charges du CEP",
    )


@hookimpl(trylast=True)
def cep_session_steps(ctx: OperatorContext, level: Level, case: Case) -> list[StepDefinition]:
    return core_steps(level)

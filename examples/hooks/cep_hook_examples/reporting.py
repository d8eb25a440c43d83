"""An activity indicator: people referred to this deployment by another operator."""

from __future__ import annotations

from cep_core import IndicatorDefinition, PluginInfo, PluginKind, hookimpl
from cep_hook_examples.info import example_info


@hookimpl
def cep_plugin_info() -> PluginInfo:
    return example_info("exemples.indicateurs", PluginKind.CAPABILITY, "Indicateurs d'activité")


@hookimpl
def cep_indicators() -> list[IndicatorDefinition]:
    return [
        IndicatorDefinition(
            id="exemples.referrals_received",
            label="Personnes orientées par un autre opérateur",
            description="Dossiers ouverts après une orientation décidée au niveau 1 ailleurs.",
        )
    ]

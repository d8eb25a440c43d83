"""The identity every example plugin declares (one shape, one place)."""

from __future__ import annotations

from datetime import date

from cep_core import DatedLabel, PluginInfo, PluginKind


def example_info(plugin_id: str, kind: PluginKind, label: str) -> PluginInfo:
    return PluginInfo(
        id=plugin_id,
        kind=kind,
        labels=(DatedLabel(valid_from=date(2020, 1, 1), value=label, source="exemple"),),
        core_range=">=0.1,<0.2",
        description=label,
    )

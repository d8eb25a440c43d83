"""The identity every built-in plugin declares: the same shape, one place."""

from __future__ import annotations

from datetime import date

from cep_core._version import __version__
from cep_core.domain.plugin_info import DatedLabel, PluginInfo, PluginKind


def builtin_info(
    plugin_id: str,
    kind: PluginKind,
    label: str,
    description: str,
    *,
    source: str = "cep-kit",
    since: date = date(2020, 1, 1),
) -> PluginInfo:
    """A built-in plugin ships with the core, so it accepts exactly this core version."""
    return PluginInfo(
        id=plugin_id,
        kind=kind,
        labels=(DatedLabel(valid_from=since, value=label, source=source),),
        core_range=f"=={__version__}",
        description=description,
    )

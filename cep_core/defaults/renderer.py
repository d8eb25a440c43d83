"""Default PDF renderer: WeasyPrint in the process's pool of render workers (``trylast``).

A plugin that renders elsewhere (a dedicated service, another engine) implements
``cep_render_pdf`` without ``trylast`` and answers first; returning None hands over to this
one. WeasyPrint is imported by the workers only, never by the process that calls the hook.
"""

from __future__ import annotations

from cep_core.defaults.info import builtin_info
from cep_core.domain.plugin_info import PluginInfo, PluginKind
from cep_core.domain.synthesis import RenderRequest
from cep_core.markers import hookimpl

PLUGIN_ID = "core.renderer"


@hookimpl
def cep_plugin_info() -> PluginInfo:
    return builtin_info(
        PLUGIN_ID,
        PluginKind.CAPABILITY,
        "Production des PDF (WeasyPrint)",
        "Met en page les documents en PDF/UA balisé, dans des processus séparés, avec une "
        "limite de temps et sans accès au réseau ni aux fichiers.",
    )


@hookimpl(trylast=True)
def cep_render_pdf(request: RenderRequest) -> bytes:
    from cep_core.documents.pool import shared_pool

    return shared_pool().render(request)

"""Document de synthèse vocabulary: sections, templates and render requests."""

from __future__ import annotations

from typing import Any

import msgspec


class SynthesisSection(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    title: str
    template: str  # template name, resolved in the plugin's then the core's folder
    order: int = 100
    context: dict[str, Any] = {}


class TemplateRef(msgspec.Struct, frozen=True, kw_only=True):
    package: str
    name: str


class RenderRequest(msgspec.Struct, frozen=True, kw_only=True):
    """HTML to turn into PDF; `assets` maps the only URLs the renderer may load to packaged
    resources (``package:path``)."""

    html: str
    title: str
    assets: dict[str, str] = {}

"""Document de synthèse vocabulary: sections, templates and render requests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from cep_core.domain.case import Level


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
    resources (``package:path``).

    `packages` (added in 0.1) are the packages whose ``cep-asset://<package>/<path>`` URLs the
    document may load (the kit's own are always allowed); `lang` is the document language
    written into the PDF (BCP 47).
    """

    html: str
    title: str
    assets: dict[str, str] = {}
    packages: tuple[str, ...] = ()
    lang: str = "fr"


class Synthesis(msgspec.Struct, frozen=True, kw_only=True):
    """One stored version of a case's document de synthèse (its PDF is fetched apart).

    ``version`` counts from 1 per case and level; ``content_hash`` (SHA-256 of the HTML and
    its assets) tells whether the case changed since; ``author`` is who asked for it.
    """

    id: str
    case_id: str
    operator: str
    level: Level
    version: int
    content_hash: str
    created_at: datetime
    author: str | None = None
    size: int = 0

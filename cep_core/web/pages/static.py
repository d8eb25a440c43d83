"""The app's own assets (no CDN, UX-06) and one small stylesheet per operator theme."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from litestar import Response, get
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import PathParameter
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler

from cep_core.domain.plugin_info import Theme
from cep_core.errors import UnknownOperator
from cep_core.kit import Kit

STATIC = Path(__file__).resolve().parent.parent / "static"
HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
THEME_CACHE = "public, max-age=3600"


def _contrast_text(colour: str) -> str:
    """Black or white text, whichever reads better on `colour` (WCAG relative luminance)."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return "#000000" if luminance > 0.179 else "#ffffff"


def theme_css(theme: Theme) -> str:
    brand = theme.primary_color if HEX_COLOUR.match(theme.primary_color) else Theme().primary_color
    accent = theme.accent_color if HEX_COLOUR.match(theme.accent_color) else Theme().accent_color
    return (
        f":root {{ --brand: {brand}; --brand-contrast: {_contrast_text(brand)}; "
        f"--accent: {accent}; }}\n"
    )


@get("/theme/{operator:str}/style.css", name="theme-css", sync_to_thread=False)
def operator_theme(
    operator: Annotated[str, PathParameter(max_length=64)], kit: NamedDependency[Kit]
) -> Response[str]:
    try:
        info = kit.hooks.operator(operator)
    except UnknownOperator:
        raise NotFoundException() from None
    return Response(
        content=theme_css(info.theme or Theme()),
        media_type="text/css",
        headers={"cache-control": THEME_CACHE},
    )


LOGO_TYPES = {
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".webp": "image/webp",
}


def operator_logo_bytes(kit: Kit, operator: str) -> tuple[bytes, str] | None:
    """The operator's logo from its plugin package (``Theme.logo``), or None."""
    import importlib.resources

    from cep_core.services.syntheses import plugin_package

    try:
        record = kit.registry.operator(operator)
    except UnknownOperator:
        return None
    logo = record.info.theme.logo if record.info.theme else None
    media_type = LOGO_TYPES.get(Path(logo).suffix.lower()) if logo else None
    if not logo or media_type is None or ".." in Path(logo).parts:
        return None
    try:
        resource = importlib.resources.files(plugin_package(record.plugin)).joinpath(logo)
        return resource.read_bytes(), media_type
    except (OSError, ModuleNotFoundError, TypeError):
        return None


@get("/theme/{operator:str}/logo", name="theme-logo", sync_to_thread=True)
def operator_logo(
    operator: Annotated[str, PathParameter(max_length=64)], kit: NamedDependency[Kit]
) -> Response[bytes]:
    found = operator_logo_bytes(kit, operator)
    if found is None:
        raise NotFoundException()
    content, media_type = found
    # An SVG opened directly must not run script: a sandboxing CSP for this answer.
    return Response(
        content=content,
        media_type=media_type,
        headers={
            "cache-control": THEME_CACHE,
            "content-security-policy": "sandbox; default-src 'none'; style-src 'unsafe-inline'",
        },
    )


def static_handlers() -> list[ControllerRouterHandler]:
    return [
        operator_theme,
        operator_logo,
        create_static_files_router(
            path="/static",
            directories=[STATIC],
            name="static",
            cache_control=CacheControlHeader(max_age=3600, public=True),
            include_in_schema=False,
        ),
    ]

"""Jinja2 for documents: the environment, the asset allow-list, and section assembly.

The environment is built explicitly with ``autoescape=True`` (Jinja's own default is off,
pitfall 16) and `StrictUndefined` (a typo in a template is an error, not a blank). Templates
come from installed packages only — the operator's package first, then the core's — so an
operator can replace a core section template by shipping one with the same name, and nobody
can author a template at run time (pitfall 18). No user value ever goes through ``safe``,
`Markup` or ``xmlattr``: the only markup built in Python is in `formatting` (escaped first)
and the sections' HTML, itself produced by autoescaped templates.

Templates get assets through ``asset(package, path)``, which checks the package is one this
document may use and records the URL, so the render's allow-list is exactly what the
templates asked for.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import jinja2
from markupsafe import Markup

from cep_core.documents.assets import BlockedURL, asset_url, read_asset
from cep_core.documents.formatting import FILTERS

KIT_PACKAGE = "cep_core"
KIT_TEMPLATES = "documents/templates"
_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


class TemplateSource:
    """A package folder of templates (``package``, ``folder`` relative to the package)."""

    __slots__ = ("folder", "package")

    def __init__(self, package: str, folder: str) -> None:
        self.package = package
        self.folder = folder

    def __repr__(self) -> str:
        return f"TemplateSource({self.package!r}, {self.folder!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TemplateSource) and (self.package, self.folder) == (
            other.package,
            other.folder,
        )

    def __hash__(self) -> int:
        return hash((self.package, self.folder))


def package_has_folder(package: str, folder: str) -> bool:
    import importlib.resources

    try:
        return importlib.resources.files(package).joinpath(*folder.split("/")).is_dir()
    except (ModuleNotFoundError, TypeError):
        return False


# Longest run of characters without a break opportunity that reaches the page as it is.
MAX_UNBROKEN = 40
ZERO_WIDTH_SPACE = "\u200b"
_UNBROKEN = re.compile(r"[^\s\u200b]{" + str(MAX_UNBROKEN + 1) + ",}")


def _break_long_runs(match: re.Match[str]) -> str:
    run = match.group(0)
    return ZERO_WIDTH_SPACE.join(
        run[i : i + MAX_UNBROKEN] for i in range(0, len(run), MAX_UNBROKEN)
    )


def breakable(value: Any) -> Any:
    """Every printed text gets a line-break opportunity every 40 characters.

    A long unbroken token (a pasted URL, 100 000 times the same letter) would otherwise make
    the layout engine search for break points in quadratic time — about 90 s for 100 000
    characters, against 1 s once broken. Markup (already-rendered sections, filters' spans)
    is left alone; a zero-width space is invisible on the page and to screen readers.
    """
    if isinstance(value, str) and not isinstance(value, Markup):
        return _UNBROKEN.sub(_break_long_runs, value)
    return value


def make_environment(sources: Sequence[TemplateSource] = ()) -> jinja2.Environment:
    """An environment loading from `sources` first, then from the kit's own templates."""
    loaders: list[jinja2.BaseLoader] = [
        jinja2.PackageLoader(source.package, source.folder) for source in sources
    ]
    loaders.append(jinja2.PackageLoader(KIT_PACKAGE, KIT_TEMPLATES))
    environment = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
        keep_trailing_newline=False,
        finalize=breakable,
    )
    environment.filters.update(FILTERS)
    return environment


class Environments:
    """Environments cached by template sources (compiled templates are reused)."""

    def __init__(self) -> None:
        self._cache: dict[tuple[TemplateSource, ...], jinja2.Environment] = {}

    def get(self, sources: Sequence[TemplateSource] = ()) -> jinja2.Environment:
        key = tuple(sources)
        environment = self._cache.get(key)
        if environment is None:
            environment = self._cache[key] = make_environment(key)
        return environment


class AssetCollector:
    """``asset(package, path)`` for templates: checks, records, and returns the asset's URL."""

    def __init__(self, packages: Iterable[str]) -> None:
        self.packages = frozenset({KIT_PACKAGE, *packages})
        self.assets: dict[str, str] = {}

    def __call__(self, package: str, path: str) -> Markup:
        if package not in self.packages:
            raise BlockedURL(f"le paquet « {package} » n'est pas autorisé dans ce document")
        url = asset_url(package, path)
        read_asset(package, path)  # fails now, with the template's name, if it cannot be served
        self.assets[url] = f"{package}:{path}"
        # Checked segments only ([A-Za-z0-9_.-] and "/"): nothing to escape, nothing to break.
        return Markup(url)  # noqa: S704

    def fingerprint(self) -> str:
        """A hash of every asset's bytes, so a changed logo or stylesheet changes the hash."""
        digest = hashlib.sha256()
        for url in sorted(self.assets):
            package, _, path = self.assets[url].partition(":")
            digest.update(url.encode())
            digest.update(hashlib.sha256(read_asset(package, path)[0]).digest())
        return digest.hexdigest()


def css_color(value: str | None, default: str) -> str:
    """A theme colour safe to put in a stylesheet (``#rgb`` or ``#rrggbb``), else `default`."""
    return value if value is not None and _COLOR.fullmatch(value) else default


def render_template(
    environment: jinja2.Environment, name: str, context: Mapping[str, Any]
) -> Markup:
    """Render `name` with `context`; the result is markup from an autoescaped template."""
    return Markup(environment.get_template(name).render(context))  # noqa: S704

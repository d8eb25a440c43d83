"""Packaged assets and data: URLs, resolved without WeasyPrint (the parent process uses these).

A document may load only ``data:`` URLs and ``cep-asset://<package>/<path>`` URLs: a file of
an allowed package, read with `importlib.resources`, each path segment checked (no ``..``,
no hidden file, no separator or percent sign), the resolved file inside the package (no
symlink escape), and only asset file types (stylesheets, images, fonts) — never source code
or data files. `cep_core.documents.fetcher` puts these rules in front of WeasyPrint.
"""

from __future__ import annotations

import base64
import binascii
import importlib.resources
import re
from pathlib import Path
from urllib.parse import unquote_to_bytes

ASSET_SCHEME = "cep-asset"
ASSET_PREFIX = f"{ASSET_SCHEME}://"
ASSET_TYPES = {
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
}
MAX_ASSET_BYTES = 2 * 1024 * 1024
MAX_DATA_URL_LENGTH = 1024 * 1024
MAX_SEGMENTS = 8

_PACKAGE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}(\.[A-Za-z_][A-Za-z0-9_]{0,63}){0,4}$")
# A file or folder name: no leading dot (so no "." / ".." / hidden files), no separator,
# no percent-encoding, no query or fragment.
_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,99}$")


class BlockedURL(ValueError):
    """A URL the document may not load; WeasyPrint logs it and renders without it."""


def _segments(path: str) -> list[str]:
    parts = path.split("/")
    if not 1 <= len(parts) <= MAX_SEGMENTS or not all(_SEGMENT.fullmatch(p) for p in parts):
        raise BlockedURL("chemin de ressource refusé")
    if Path(parts[-1]).suffix.lower() not in ASSET_TYPES:
        raise BlockedURL("type de ressource refusé")
    return parts


def asset_url(package: str, path: str) -> str:
    """The URL of a packaged asset, after checking it could be served."""
    if not _PACKAGE.fullmatch(package):
        raise BlockedURL("paquet refusé")
    _segments(path)
    return f"{ASSET_PREFIX}{package}/{path}"


def parse_asset_url(url: str) -> tuple[str, str]:
    if not url.startswith(ASSET_PREFIX):
        raise BlockedURL("adresse refusée")
    package, sep, path = url.removeprefix(ASSET_PREFIX).partition("/")
    if not sep or not _PACKAGE.fullmatch(package):
        raise BlockedURL("paquet refusé")
    _segments(path)
    return package, path


def read_asset(package: str, path: str) -> tuple[bytes, str]:
    """The bytes and media type of ``path`` inside ``package``, or `BlockedURL`."""
    if not _PACKAGE.fullmatch(package):
        raise BlockedURL("paquet refusé")
    parts = _segments(path)
    try:
        root = importlib.resources.files(package)
    except (ModuleNotFoundError, TypeError) as exc:
        raise BlockedURL("paquet introuvable") from exc
    target = root.joinpath(*parts)
    if isinstance(root, Path) and isinstance(target, Path):
        base = root.resolve()
        if not target.resolve().is_relative_to(base):
            raise BlockedURL("chemin de ressource hors du paquet")
    if not target.is_file():
        raise BlockedURL("ressource introuvable")
    with target.open("rb") as handle:
        body = handle.read(MAX_ASSET_BYTES + 1)
    if len(body) > MAX_ASSET_BYTES:
        raise BlockedURL("ressource trop volumineuse")
    return body, ASSET_TYPES[Path(parts[-1]).suffix.lower()]


def decode_data_url(url: str) -> tuple[bytes, str]:
    """Decode a ``data:`` URL (RFC 2397) without urllib's opener."""
    if len(url) > MAX_DATA_URL_LENGTH:
        raise BlockedURL("URL data: trop longue")
    header, sep, payload = url[len("data:") :].partition(",")
    if not sep:
        raise BlockedURL("URL data: mal formée")
    params = [p.strip() for p in header.split(";")]
    is_base64 = bool(params) and params[-1].lower() == "base64"
    if is_base64:
        params.pop()
    media_type = params[0] if params and "/" in params[0] else "text/plain"
    try:
        body = (
            base64.b64decode(unquote_to_bytes(payload), validate=False)
            if is_base64
            else unquote_to_bytes(payload)
        )
    except (binascii.Error, ValueError) as exc:
        raise BlockedURL("URL data: illisible") from exc
    return body, media_type

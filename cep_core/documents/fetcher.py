"""The only way a document may load anything: ``data:`` URLs and packaged assets (SEC-16).

WeasyPrint's default fetcher opens ``http(s)://`` and ``file://`` URLs and follows redirects,
which turns any HTML it renders into a server-side request forgery and local file read tool
(and ``<link rel="attachment">`` into a way to embed those files in the PDF). `LockedFetcher`
replaces it: it never touches the network or the file system outside the installed packages.

It serves:

- ``data:`` URLs (bounded in size), decoded here rather than by urllib;
- ``cep-asset://<package>/<path>`` URLs whose package is allowed for this render (the kit's
  and the case's operator's), read with `importlib.resources` from inside that package:
  each path segment is checked (no ``..``, no hidden file, no separator or percent sign),
  the resolved file must stay inside the package (no symlink escape), and only asset file
  types (stylesheets, images, fonts) are served — never source code or data files;
- the exact URLs of the render's asset map (URL → ``package:path``), checked the same way.

Everything else raises `BlockedURL`; WeasyPrint logs it and goes on without the resource.
Redirects are impossible: no request is ever made.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.request import Request

from weasyprint.urls import URLFetcher, URLFetcherResponse  # type: ignore[import-untyped]

from cep_core.documents.assets import (
    ASSET_PREFIX,
    ASSET_SCHEME,
    ASSET_TYPES,
    MAX_ASSET_BYTES,
    MAX_DATA_URL_LENGTH,
    BlockedURL,
    asset_url,
    decode_data_url,
    parse_asset_url,
    read_asset,
)

__all__ = [
    "ASSET_PREFIX",
    "ASSET_SCHEME",
    "ASSET_TYPES",
    "MAX_ASSET_BYTES",
    "MAX_DATA_URL_LENGTH",
    "BlockedURL",
    "LockedFetcher",
    "asset_url",
    "decode_data_url",
    "parse_asset_url",
    "read_asset",
]


class LockedFetcher(URLFetcher):  # type: ignore[misc]  # WeasyPrint is untyped
    """WeasyPrint URL fetcher that only serves ``data:`` URLs and allowed packaged assets.

    ``packages``: packages whose ``cep-asset://`` URLs may be served; ``assets``: exact URLs
    mapped to ``package:path``. ``served`` and ``refused`` list what was asked (for tests and
    logs; a refused URL is cut to 200 characters).
    """

    def __init__(
        self, *, packages: Iterable[str] = (), assets: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(
            timeout=1,
            allowed_protocols=frozenset({"data", ASSET_SCHEME}),
            allow_redirects=False,
            fail_on_errors=False,
        )
        self.packages = frozenset(packages)
        self.assets = dict(assets or {})
        self.served: list[str] = []
        self.refused: list[str] = []

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        try:
            body, media_type = self._resolve(url)
        except Exception:
            self.refused.append(url[:200])
            raise
        self.served.append(url[:200])
        return URLFetcherResponse(url, body, {"Content-Type": media_type})

    def _resolve(self, url: str) -> tuple[bytes, str]:
        mapped = self.assets.get(url)
        if mapped is not None:
            package, sep, path = mapped.partition(":")
            if not sep:
                raise BlockedURL("ressource mal déclarée")
            return read_asset(package, path)
        scheme = url.partition(":")[0].lower()
        if scheme == "data":
            return decode_data_url(url)
        if scheme == ASSET_SCHEME:
            package, path = parse_asset_url(url)
            if package not in self.packages:
                raise BlockedURL("paquet non autorisé pour ce document")
            return read_asset(package, path)
        raise BlockedURL(f"protocole refusé : {scheme[:20]!r}")

    def open(self, url: str | Request, data: Any = None, timeout: Any = None) -> Any:
        # urllib's opener is never used: the parent class would open any protocol.
        return self.fetch(url.full_url if isinstance(url, Request) else url)

    def __call__(self, url: str) -> URLFetcherResponse:
        return self.fetch(url)

"""The locked URL fetcher: data: URLs and allowed packaged assets, nothing else (SEC-16)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any
from urllib.request import Request

import pytest

from cep_core.documents.fetcher import (
    MAX_DATA_URL_LENGTH,
    BlockedURL,
    LockedFetcher,
    asset_url,
    read_asset,
)
from cep_core.documents.render import AssetCollector

CSS = "documents/templates/synthesis/synthesis.css"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x.png",
        "https://169.254.169.254/latest/meta-data/",
        "HTTP://example.org/a.css",
        "file:///etc/passwd",
        "FILE:///etc/hostname",
        "ftp://127.0.0.1/x",
        "javascript:alert(1)",
        "gopher://127.0.0.1:70/",
        "//127.0.0.1/x.css",
        "/etc/passwd",
        "relative/x.css",
    ],
)
def test_every_other_url_is_refused(url: str) -> None:
    fetcher = LockedFetcher(packages={"cep_core"})
    with pytest.raises(BlockedURL):
        fetcher.fetch(url)
    assert fetcher.refused == [url]
    assert fetcher.served == []


def test_no_request_even_through_the_urllib_opener_interface(recording_server: Any) -> None:
    fetcher = LockedFetcher()
    for url in (
        f"http://127.0.0.1:{recording_server.port}/a",
        f"https://127.0.0.1:{recording_server.port}/b",
    ):
        with pytest.raises(BlockedURL):
            fetcher.open(Request(url))
        with pytest.raises(BlockedURL):
            fetcher(url)
    assert recording_server.hits == []


def test_data_urls_are_decoded_here() -> None:
    fetcher = LockedFetcher()
    payload = base64.b64encode(b"\x89PNG fake").decode()
    response = fetcher.fetch(f"data:image/png;base64,{payload}")
    assert response.read() == b"\x89PNG fake"
    assert response.content_type == "image/png"
    response = fetcher.fetch("data:,caf%C3%A9")
    assert response.read() == "café".encode()
    assert response.content_type == "text/plain"


def test_oversized_data_urls_are_refused() -> None:
    with pytest.raises(BlockedURL, match="trop longue"):
        LockedFetcher().fetch("data:text/plain," + "a" * MAX_DATA_URL_LENGTH)


def test_packaged_assets_of_allowed_packages_are_served() -> None:
    fetcher = LockedFetcher(packages={"cep_core"})
    response = fetcher.fetch(asset_url("cep_core", CSS))
    assert b"@page" in response.read()
    assert response.content_type == "text/css"
    assert fetcher.served == [f"cep-asset://cep_core/{CSS}"]


def test_assets_of_packages_not_allowed_for_the_document_are_refused() -> None:
    fetcher = LockedFetcher(packages={"cep_core"})
    url = "cep-asset://cep_apec/templates/cep_apec/logo-apec.svg"
    with pytest.raises(BlockedURL, match="non autorisé"):
        fetcher.fetch(url)
    assert LockedFetcher(packages={"cep_apec"}).fetch(url).read().startswith(b"<svg")


@pytest.mark.parametrize(
    "path",
    [
        "../cep_core/settings.py",
        "documents/../settings.css",
        "documents/./templates/x.css",
        "..",
        "%2e%2e/x.css",
        "documents//x.css",
        "documents\\templates\\x.css",
        ".hidden.css",
        "documents/templates/synthesis/synthesis.css?x=1",
        "documents/templates/synthesis/synthesis.css#top",
        "settings.py",
        "data/orientation.toml",
        "documents/templates/synthesis/page.html",
        "documents/templates/missing.css",
        "",
    ],
)
def test_paths_are_checked_segment_by_segment(path: str) -> None:
    with pytest.raises(BlockedURL):
        read_asset("cep_core", path)
    with pytest.raises(BlockedURL):
        LockedFetcher(packages={"cep_core"}).fetch(f"cep-asset://cep_core/{path}")


@pytest.mark.parametrize("package", ["os", "../cep_core", "cep_core/..", "", "no_such_pkg_x"])
def test_unknown_or_malformed_packages_are_refused(package: str) -> None:
    with pytest.raises(BlockedURL):
        read_asset(package, "x.css")


def test_a_symlink_out_of_the_package_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "secret.css"
    secret.write_text("body { color: red }")
    package = tmp_path / "site" / "cep_symlink_probe"
    (package / "assets").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "assets" / "inside.css").write_text("p { margin: 0 }")
    (package / "assets" / "evil.css").symlink_to(secret)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    assert read_asset("cep_symlink_probe", "assets/inside.css")[0] == b"p { margin: 0 }"
    with pytest.raises(BlockedURL, match="hors du paquet"):
        read_asset("cep_symlink_probe", "assets/evil.css")


def test_the_asset_map_serves_exactly_its_urls() -> None:
    fetcher = LockedFetcher(assets={"cep-asset://style": f"cep_core:{CSS}"})
    assert b"@page" in fetcher.fetch("cep-asset://style").read()
    with pytest.raises(BlockedURL):
        fetcher.fetch("cep-asset://other")
    bad = LockedFetcher(assets={"cep-asset://x": "cep_core:../cep_core/settings.py"})
    with pytest.raises(BlockedURL):
        bad.fetch("cep-asset://x")


def test_templates_can_only_ask_for_their_own_packages() -> None:
    collector = AssetCollector(["cep_apec"])
    url = collector("cep_apec", "templates/cep_apec/logo-apec.svg")
    assert url == "cep-asset://cep_apec/templates/cep_apec/logo-apec.svg"
    assert collector.assets == {url: "cep_apec:templates/cep_apec/logo-apec.svg"}
    with pytest.raises(BlockedURL):
        collector("cep_mission_locale", "templates/cep_mission_locale/logo-mission-locale.svg")
    with pytest.raises(BlockedURL):
        collector("cep_core", "settings.py")
    before = collector.fingerprint()
    collector("cep_core", CSS)
    assert collector.fingerprint() != before

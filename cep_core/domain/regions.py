"""French regions by INSEE code: the vocabulary the orientation uses to name places."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources

import msgspec


class Region(msgspec.Struct, frozen=True):
    code: str
    name: str
    overseas: bool


@cache
def regions() -> dict[str, Region]:
    """All regions keyed by INSEE code (read once from the packaged reference file)."""
    raw = tomllib.loads(
        resources.files("cep_core").joinpath("data/regions.toml").read_text(encoding="utf-8")
    )
    overseas = set(raw["overseas"]["codes"])
    return {code: Region(code, name, code in overseas) for code, name in raw["regions"].items()}


def region(code: str) -> Region | None:
    return regions().get(code)

"""Registration hooks: a route, a command, a start-up check (the opening hours of a desk)."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from typing import Any

from cep_core import CommandRegistry, Kit, PluginInfo, PluginKind, hookimpl
from cep_hook_examples.info import example_info

log = logging.getLogger("cep_hook_examples")
OPENING_HOURS = ("Mardi : 9 h – 12 h", "Jeudi : 14 h – 17 h")


@hookimpl
def cep_plugin_info() -> PluginInfo:
    return example_info("exemples.accueil", PluginKind.CAPABILITY, "Permanences d'accueil")


@hookimpl
def cep_register_routes() -> Sequence[Any]:
    from litestar import get

    @get("/plugins/exemples/permanences", sync_to_thread=False)
    def opening_hours() -> dict[str, list[str]]:
        return {"permanences": list(OPENING_HOURS)}

    return [opening_hours]


def print_opening_hours(args: argparse.Namespace, kit: Kit) -> int:
    for line in OPENING_HOURS:
        print(line)
    return 0


@hookimpl
def cep_register_commands(commands: CommandRegistry) -> None:
    commands.add("permanences", "afficher les permanences d'accueil", print_opening_hours)


@hookimpl
def cep_startup(kit: Kit) -> None:
    if not kit.hooks.operators():
        log.warning("aucun opérateur installé : l'orientation ne proposera personne")

"""How plugins add `cep` sub-commands without importing the CLI module."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:
    from cep_core.kit import Kit

CommandHandler = Callable[[argparse.Namespace, "Kit"], int]
ConfigureParser = Callable[[argparse.ArgumentParser], None]


class Command(msgspec.Struct, frozen=True):
    name: str
    help: str
    handler: CommandHandler
    configure: ConfigureParser | None = None


class CommandRegistry:
    """Collects sub-commands offered through `cep_register_commands`."""

    def __init__(self) -> None:
        self._commands: dict[str, Command] = {}

    def add(
        self,
        name: str,
        help: str,
        handler: CommandHandler,
        configure: ConfigureParser | None = None,
    ) -> None:
        if name in self._commands:
            raise ValueError(f"la commande « {name} » est déjà déclarée")
        self._commands[name] = Command(name, help, handler, configure)

    def __iter__(self) -> Iterator[Command]:
        return iter(self._commands.values())

"""argparse speaking French: help titles, usage line and error messages.

argparse builds its messages in English; rather than patching the stdlib's gettext hook (a
process-wide change), the parser translates its own messages where they are printed.
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import NoReturn

_ERRORS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"^the following arguments are required: (.*)$", r"arguments obligatoires manquants : \1"),
        (r"^unrecognized arguments: (.*)$", r"arguments non reconnus : \1"),
        (
            r"^argument (.*?): invalid choice: (.*?) \(choose from (.*)\)$",
            r"argument \1 : choix invalide : \2 (choix possibles : \3)",
        ),
        (r"^argument (.*?): expected one argument$", r"argument \1 : une valeur est attendue"),
        (r"^argument (.*?): expected at most one argument$", r"argument \1 : une valeur au plus"),
        (r"^argument (.*?): expected at least one argument$", r"argument \1 : une valeur au moins"),
        (
            r"^argument (.*?): not allowed with argument (.*)$",
            r"argument \1 : incompatible avec \2",
        ),
        (r"^argument (.*?): ignored explicit argument (.*)$", r"argument \1 : valeur ignorée \2"),
        (r"^argument (.*?): invalid (\w+) value: (.*)$", r"argument \1 : valeur invalide : \3"),
        (r"^argument (.*?): (.*)$", r"argument \1 : \2"),
        (r"^ambiguous option: (.*?) could match (.*)$", r"option ambiguë : \1 (possibles : \2)"),
        (r"^one of the arguments (.*) is required$", r"l'un des arguments \1 est obligatoire"),
    )
)


def translate(message: str) -> str:
    for pattern, replacement in _ERRORS:
        if pattern.match(message):
            return pattern.sub(replacement, message, count=1)
    return message


class FrenchHelpFormatter(argparse.RawDescriptionHelpFormatter):
    def start_section(self, heading: str | None) -> None:
        # French typography puts a space before the colon argparse appends.
        super().start_section(f"{heading} " if heading else heading)

    def add_usage(
        self,
        usage: str | None,
        actions: object,
        groups: object,
        prefix: str | None = None,
    ) -> None:
        # argparse passes prefix="" when it builds a sub-command's prog: keep that one empty.
        super().add_usage(usage, actions, groups, "usage : " if prefix is None else prefix)  # type: ignore[arg-type]


class FrenchArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose help and errors are in French; usage errors exit with 2."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("formatter_class", FrenchHelpFormatter)
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._positionals.title = "arguments"
        self._optionals.title = "options"
        self.add_argument(
            "-h",
            "--help",
            action="help",
            default=argparse.SUPPRESS,
            help="afficher cette aide et quitter",
        )

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog} : erreur : {translate(message)}\n")

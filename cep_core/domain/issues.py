"""Validation problems, the common currency of every check in the kit.

A rule never raises to say "this input is wrong": it returns `Issue` values so callers can
show every problem at once (a form summary, a JSON error list, a CLI message).
"""

from __future__ import annotations

import msgspec


class Issue(msgspec.Struct, frozen=True, kw_only=True):
    """One problem found in some input, addressed by a path such as ``birth_date``."""

    path: str
    message: str
    code: str = "invalid"


class InvalidInput(ValueError):
    """Raised by services when input breaks a rule; carries every issue found."""

    def __init__(self, issues: list[Issue] | tuple[Issue, ...]) -> None:
        self.issues = tuple(issues)
        super().__init__("; ".join(f"{i.path}: {i.message}" for i in self.issues))

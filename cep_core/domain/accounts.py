"""Staff accounts: who may sign in, for which operator, with which role, and password rules.

Passwords follow CNIL 2022 / ASVS (SEC-06): a length floor and a list of common passwords,
no composition rules and no forced rotation — rules that only push people to predictable
variants. Long passphrases are welcome (up to 128 characters).
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Annotated

import msgspec

from cep_core.domain.context import Role

PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_LENGTH = 128
STAFF_ROLES = (Role.COUNSELLOR, Role.MANAGER, Role.ADMIN)
ROLE_LABELS = {
    Role.COUNSELLOR: "conseiller ou conseillère",
    Role.MANAGER: "responsable de l'opérateur",
    Role.ADMIN: "administrateur de la plateforme",
}

Email = Annotated[
    str, msgspec.Meta(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
]
DisplayName = Annotated[str, msgspec.Meta(min_length=1, max_length=120)]


class StaffUser(msgspec.Struct, frozen=True, kw_only=True):
    """A member of staff. Admins have no operator: they manage the platform, not cases."""

    id: str
    operator: str | None
    email: str
    display_name: str
    role: Role
    active: bool
    created_at: datetime
    updated_at: datetime

    @property
    def is_manager(self) -> bool:
        return self.role in (Role.MANAGER, Role.ADMIN)


class AccessToken(msgspec.Struct, frozen=True, kw_only=True):
    """A personal access token as shown to its owner: never the secret, only its hint."""

    id: str
    user_id: str
    operator: str | None
    name: str
    hint: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    def usable(self, now: datetime) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > now


def normalise_email(email: str) -> str:
    """One spelling per address: trimmed, NFC, lower case (addresses are compared that way)."""
    return unicodedata.normalize("NFC", email.strip()).lower()


@cache
def common_passwords() -> frozenset[str]:
    text = resources.files("cep_core.data").joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def password_problems(password: str, *, email: str = "", display_name: str = "") -> list[str]:
    """Why `password` is refused, in French; empty when it is acceptable."""
    problems: list[str] = []
    length = len(password)
    if length < PASSWORD_MIN_LENGTH:
        problems.append(
            f"Le mot de passe doit compter au moins {PASSWORD_MIN_LENGTH} caractères "
            f"(il en compte {length}). Une phrase de passe facile à retenir convient très bien."
        )
    if length > PASSWORD_MAX_LENGTH:
        problems.append(f"Le mot de passe ne peut pas dépasser {PASSWORD_MAX_LENGTH} caractères.")
    lowered = password.strip().lower()
    if lowered in common_passwords():
        problems.append("Ce mot de passe fait partie des plus courants : choisissez-en un autre.")
    personal = {normalise_email(email), normalise_email(email).split("@")[0]} - {""}
    if display_name.strip():
        personal.add(display_name.strip().lower())
    if lowered in personal:
        problems.append("Le mot de passe ne doit pas reprendre votre nom ou votre adresse.")
    if len(set(password)) < 4 and length >= PASSWORD_MIN_LENGTH:
        problems.append("Le mot de passe répète trop peu de caractères différents.")
    return problems

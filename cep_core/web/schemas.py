"""Output Structs of the JSON API: the HTTP contract, kept apart from the domain Structs.

The domain may grow fields (ids, internal flags) without them leaking into the API: each
response is built explicitly from the domain value (ASVS 15.3.1, mass-assignment and
over-exposure). Field names here are the public contract; change them only with a new
API version.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from cep_core.domain.issues import Issue
from cep_core.domain.orientation import Contact, OperatorChoice, Orientation, Redirect

OperatorId = Annotated[
    str,
    msgspec.Meta(
        description="Identifiant de l'opérateur (apec, pole_emploi, mission_locale, cap_emploi, "
        "regional, ou celui d'un opérateur ajouté par un plugin).",
        examples=["apec"],
    ),
]


class ContactOut(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """How to reach an operator; absent keys are unknown, never empty strings."""

    url: str | None = None
    phone: str | None = None
    email: str | None = None

    @classmethod
    def from_domain(cls, contact: Contact) -> ContactOut:
        return cls(url=contact.url, phone=contact.phone, email=contact.email)


class OperatorOut(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """An operator that can serve the person, with the reason in French."""

    id: OperatorId
    name: str
    reason: str
    contact: ContactOut | None = None

    @classmethod
    def from_domain(cls, choice: OperatorChoice) -> OperatorOut:
        return cls(
            id=choice.id,
            name=choice.name,
            reason=choice.reason,
            contact=ContactOut.from_domain(choice.contact) if choice.contact else None,
        )


class RedirectOut(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A service outside the kit's operators that the person should contact instead."""

    name: str
    reason: str
    url: str | None = None

    @classmethod
    def from_domain(cls, redirect: Redirect) -> RedirectOut:
        return cls(name=redirect.name, reason=redirect.reason, url=redirect.url)


class OrientationResponse(msgspec.Struct, frozen=True, kw_only=True):
    """Answer to ``POST /api/v1/orientation``.

    ``redirect`` has no default so that it is always present, as ``null`` when there is none
    (clients test ``redirect === null``, not the key's presence).
    """

    eligible: bool
    reasons: list[str]
    operators: list[OperatorOut]
    redirect: RedirectOut | None

    @classmethod
    def from_domain(cls, orientation: Orientation) -> OrientationResponse:
        return cls(
            eligible=orientation.eligible,
            reasons=list(orientation.reasons),
            operators=[OperatorOut.from_domain(o) for o in orientation.operators],
            redirect=RedirectOut.from_domain(orientation.redirect)
            if orientation.redirect
            else None,
        )


class ProblemIssue(msgspec.Struct, frozen=True, kw_only=True):
    """One problem in the request: where (``path``, empty for the whole body) and what."""

    path: str
    message: str
    code: str

    @classmethod
    def from_domain(cls, issue: Issue) -> ProblemIssue:
        return cls(path=issue.path, message=issue.message, code=issue.code)


class Problem(msgspec.Struct, frozen=True, kw_only=True):
    """The one error body of the API (RFC 9457 problem details, in French)."""

    status: int
    title: str
    detail: str
    errors: list[ProblemIssue]

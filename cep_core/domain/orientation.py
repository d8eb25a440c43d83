"""Orientation: can this person get a CEP, and which operators can serve them.

Eligibility is the law's (C. trav. L6111-6 and the 2019 cahier des charges: every *actif*),
the same for every operator, so it lives here. Competence ("is this person in my public?") is
each operator's own rule and comes from plugins as `Competence` values; the policy that turns
them into an answer is itself a replaceable plugin (see `cep_core.defaults.orientation`).
"""

from __future__ import annotations

from datetime import date

import msgspec

from cep_core.domain.parameters import ParameterSet
from cep_core.domain.situation import STATUS_LABELS, Situation, Status


class Contact(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    url: str | None = None
    phone: str | None = None
    email: str | None = None

    @classmethod
    def from_parameters(
        cls, params: ParameterSet, when: date | None = None, *, prefix: str = "contact"
    ) -> Contact:
        """The contact in force on `when` (the latest one without a date) from the dated
        parameters ``<prefix>.url``, ``<prefix>.phone`` and ``<prefix>.email``, each optional."""
        found: dict[str, str | None] = {}
        for key in ("url", "phone", "email"):
            name = f"{prefix}.{key}"
            if name not in params:
                continue
            parameter = params[name]
            found[key] = parameter.latest.value if when is None else params.get_at(name, when)
        return cls(**found)


class Competence(msgspec.Struct, frozen=True, kw_only=True):
    """One operator's answer to "is this person in my public, and why" (in French).

    `name` is the operator's label on the situation's reference date (labels are dated).
    `covers_redirect` names an outside network (e.g. ``"cmc"``) that this operator serves in
    its place, so the policy stops pointing the person outside the kit.
    """

    operator: str
    competent: bool
    name: str
    reason: str
    contact: Contact | None = None
    covers_redirect: str | None = None


class Eligibility(msgspec.Struct, frozen=True, kw_only=True):
    eligible: bool
    reasons: tuple[str, ...]


class OperatorChoice(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    reason: str
    contact: Contact | None = None


class Redirect(msgspec.Struct, frozen=True, kw_only=True):
    """Where to go when the right service is outside the kit's operators."""

    id: str
    name: str
    reason: str
    url: str | None = None


class Orientation(msgspec.Struct, frozen=True, kw_only=True):
    eligible: bool
    reasons: tuple[str, ...]
    operators: tuple[OperatorChoice, ...]
    redirect: Redirect | None = None


# Statuses open to the CEP only when the person works or seeks a job (cahier des charges 2019:
# "étudiants et retraités ... dès lors qu'ils occupent ou recherchent un emploi").
CONDITIONAL_STATUSES = frozenset({Status.STUDENT, Status.RETIRED, Status.INACTIVE})


def assess_eligibility(situation: Situation) -> Eligibility:
    """The CEP is open to every *actif*: whoever works or seeks a job, whatever their status."""
    label = STATUS_LABELS[situation.status]
    if situation.status not in CONDITIONAL_STATUSES:
        return Eligibility(
            eligible=True,
            reasons=(
                f"Vous êtes {label} : le conseil en évolution professionnelle est ouvert à "
                "toute personne active, gratuitement et en toute confidentialité.",
            ),
        )
    if situation.working or situation.job_seeking:
        doing = (
            "exercez une activité professionnelle"
            if situation.working
            else ("recherchez un emploi")
        )
        return Eligibility(
            eligible=True,
            reasons=(
                f"Vous êtes {label} et vous {doing} : le conseil en évolution professionnelle "
                "vous est ouvert, gratuitement et en toute confidentialité.",
            ),
        )
    return Eligibility(
        eligible=False,
        reasons=(
            f"Vous êtes {label} sans exercer ni rechercher d'emploi : le conseil en évolution "
            "professionnelle est réservé aux personnes actives (en emploi ou en recherche "
            "d'emploi). Si vous reprenez une activité ou cherchez un emploi, il vous sera ouvert.",
        ),
    )

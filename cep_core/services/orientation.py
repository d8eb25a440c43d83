"""Orientation use case: from what a person says to the operators that can serve them."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import msgspec

from cep_core.domain.issues import InvalidInput
from cep_core.domain.orientation import Orientation, assess_eligibility
from cep_core.domain.regions import regions
from cep_core.domain.situation import Situation, Status
from cep_core.plugins import Hooks

# Checked against the region list by the domain, which gives the better message; the
# OpenAPI document lists the codes (Litestar reads ``extra``), so that no client, and no
# fuzzer, takes an unknown code for a valid one. ``None`` is listed too: the enum applies to
# the optional field as a whole.
RegionCode = Annotated[
    str,
    msgspec.Meta(max_length=3, extra_json_schema={"extra": {"enum": [*sorted(regions()), None]}}),
]


class OrientationQuery(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The question as asked over HTTP or the CLI; ``as_of`` defaults to today in France."""

    birth_date: date
    status: Status
    as_of: date | None = None
    cadre: bool = False
    registered_jobseeker: bool = False
    disability_recognition: bool = False
    working: bool = False
    seeking_job: bool = False
    region: RegionCode | None = None

    def to_situation(self, today: date) -> Situation:
        return Situation(
            birth_date=self.birth_date,
            as_of=self.as_of or today,
            status=self.status,
            cadre=self.cadre,
            registered_jobseeker=self.registered_jobseeker,
            disability_recognition=self.disability_recognition,
            working=self.working,
            seeking_job=self.seeking_job,
            region=self.region,
        )


class OrientationService:
    def __init__(self, hooks: Hooks) -> None:
        self._hooks = hooks

    def orient(self, situation: Situation) -> Orientation:
        """Eligibility (the law), competences (each operator), then the policy's answer.

        Raises `InvalidInput` when the situation cannot be true (born after the reference date,
        an age over 120, an unknown region). An operator whose plugin fails is left out and
        the answer says so; the others still answer.
        """
        problems = situation.problems()
        if problems:
            raise InvalidInput(problems)
        eligibility = assess_eligibility(situation)
        competences, failures = (
            self._hooks.assess_competences(situation) if eligibility.eligible else ([], [])
        )
        orientation = self._hooks.choose_orientation(situation, eligibility, competences)
        if failures:
            names = ", ".join(f"« {f.plugin} »" for f in failures)
            notice = (
                f"Le service de l'opérateur {names} est momentanément indisponible : il n'a pas "
                "pu être consulté. Les autres opérateurs ci-dessous ont répondu normalement."
            )
            orientation = msgspec.structs.replace(
                orientation, reasons=(*orientation.reasons, notice)
            )
        return orientation

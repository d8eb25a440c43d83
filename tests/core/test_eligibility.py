"""Legal eligibility (every *actif*) and situation checks, independent of any operator."""

from __future__ import annotations

from datetime import date

import pytest

from cep_core import Situation, Status, age_on
from cep_core.domain.orientation import assess_eligibility

AS_OF = date(2026, 3, 1)


def situation(status: Status, **flags: object) -> Situation:
    return Situation(birth_date=date(1990, 1, 1), as_of=AS_OF, status=status, **flags)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "status",
    [
        Status.EMPLOYEE,
        Status.PUBLIC_AGENT,
        Status.SELF_EMPLOYED,
        Status.JOBSEEKER,
        Status.APPRENTICE,
    ],
)
def test_active_statuses_are_eligible(status: Status) -> None:
    result = assess_eligibility(situation(status))
    assert result.eligible
    assert "ouvert" in result.reasons[0]


@pytest.mark.parametrize("status", [Status.STUDENT, Status.RETIRED, Status.INACTIVE])
def test_others_only_when_working_or_seeking(status: Status) -> None:
    refused = assess_eligibility(situation(status))
    assert not refused.eligible
    assert "réservé aux personnes actives" in refused.reasons[0]
    assert assess_eligibility(situation(status, working=True)).eligible
    assert assess_eligibility(situation(status, seeking_job=True)).eligible
    assert assess_eligibility(situation(status, registered_jobseeker=True)).eligible


def test_age_on_birthdays() -> None:
    assert age_on(date(2000, 2, 29), date(2026, 2, 28)) == 25
    assert age_on(date(2000, 2, 29), date(2026, 3, 1)) == 26
    assert age_on(date(2000, 6, 15), date(2026, 6, 14)) == 25
    assert age_on(date(2000, 6, 15), date(2026, 6, 15)) == 26


def test_impossible_situations_are_reported_by_field() -> None:
    born_later = Situation(birth_date=date(2027, 1, 1), as_of=AS_OF, status=Status.EMPLOYEE)
    assert [(i.path, i.code) for i in born_later.problems()] == [
        ("birth_date", "after_reference_date")
    ]
    too_old = Situation(birth_date=date(1905, 2, 28), as_of=AS_OF, status=Status.RETIRED)
    assert [(i.path, i.code) for i in too_old.problems()] == [("birth_date", "too_old")]
    exactly_120 = Situation(birth_date=date(1906, 3, 1), as_of=AS_OF, status=Status.RETIRED)
    assert exactly_120.problems() == []
    bad_region = situation(Status.EMPLOYEE, region="99")
    [issue] = bad_region.problems()
    assert issue.path == "region" and "« 99 »" in issue.message
    assert situation(Status.EMPLOYEE, region="53").problems() == []

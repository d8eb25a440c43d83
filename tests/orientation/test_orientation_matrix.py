"""Every status and flag combination, through a real kit, against an oracle written here.

The oracle restates the routing rules from the raw answers (not from `Situation`'s derived
properties), so a change in either the plugins or the core's derivations shows up here.
"""

from __future__ import annotations

import itertools
from datetime import date

import pytest

from cep_core import Kit, Situation, Status

AS_OF = date(2025, 6, 1)
BIRTH_DATES = {20: date(2005, 1, 1), 40: date(1985, 1, 1)}
FLAGS = ("cadre", "registered_jobseeker", "disability_recognition", "working", "seeking_job")
WORK_STATUSES = {"employee", "public_agent", "self_employed", "apprentice"}
CONDITIONAL_STATUSES = {"student", "retired", "inactive"}


def oracle(status: str, flags: dict[str, bool], age: int) -> tuple[bool, set[str], bool]:
    """(eligible, competent operator ids, CMC redirect expected) by the rules of the issue."""
    in_work = status in WORK_STATUSES or flags["working"]
    seeking = status == "jobseeker" or flags["seeking_job"] or flags["registered_jobseeker"]
    eligible = status not in CONDITIONAL_STATUSES or flags["working"] or seeking
    if not eligible:
        return False, set(), False
    public_agent = status == "public_agent"
    operators = set()
    if in_work and not public_agent:
        operators.add("regional")
    if flags["cadre"] and (seeking or (in_work and not public_agent)):
        operators.add("apec")
    if (
        status == "jobseeker"
        or flags["registered_jobseeker"]
        or (flags["seeking_job"] and not in_work)
    ):
        operators.add("pole_emploi")
    if age < 26 and not flags["registered_jobseeker"]:
        operators.add("mission_locale")
    if flags["disability_recognition"] and (in_work or seeking):
        operators.add("cap_emploi")
    return True, operators, public_agent


def case_id(status: Status, flags: dict[str, bool], age: int, region: str | None) -> str:
    return "-".join([status.value, *(f for f in FLAGS if flags[f]), str(age), region or "nowhere"])


CASES = [
    pytest.param(status, flags, age, region, id=case_id(status, flags, age, region))
    for status in Status
    for flags in (
        dict(zip(FLAGS, values, strict=True))
        for values in itertools.product((False, True), repeat=len(FLAGS))
    )
    for age in BIRTH_DATES
    for region in (None, "53")
]


def test_the_matrix_is_complete() -> None:
    assert len(CASES) == 8 * 2**5 * 2 * 2


@pytest.mark.parametrize(("status", "flags", "age", "region"), CASES)
def test_orientation_matches_the_oracle(
    kit: Kit, status: Status, flags: dict[str, bool], age: int, region: str | None
) -> None:
    situation = Situation(
        birth_date=BIRTH_DATES[age], as_of=AS_OF, status=status, region=region, **flags
    )
    assert situation.age == age
    eligible, expected, redirect = oracle(status.value, flags, age)

    orientation = kit.orientation.orient(situation)

    assert orientation.eligible is eligible
    assert orientation.reasons
    ids = [choice.id for choice in orientation.operators]
    assert ids == sorted(expected)
    assert (orientation.redirect is not None) is redirect
    if redirect:
        assert orientation.redirect is not None
        assert orientation.redirect.id == "cmc"
    names = {choice.id: choice.name for choice in orientation.operators}
    if "pole_emploi" in names:
        assert names["pole_emploi"] == "France Travail"
    if "regional" in names:
        suffix = " – Bretagne" if region else ""
        assert names["regional"] == f"Opérateur régional du CEP « Avenir(s) Actifs »{suffix}"

"""Every indicator's value on the known set of cases (see conftest.py), and its scoping."""

from __future__ import annotations

from datetime import date

import pytest

from cep_core.domain.reporting import IndicatorResult
from cep_core.services.indicators import Period, Scope, UnknownStaff

MARCH_APRIL = Period(start=date(2026, 3, 1), end=date(2026, 4, 30))


def by_id(results: list[IndicatorResult]) -> dict[str, IndicatorResult]:
    return {result.id: result for result in results}


def series(result: IndicatorResult) -> dict[str, float | None]:
    return {point.label: point.value for point in result.points}


def test_every_core_indicator_has_its_known_value(built_world) -> None:
    """On each backend: the JSON functions differ between SQLite and PostgreSQL."""
    world = built_world
    world.answer_surveys()
    found = by_id(world.kit.indicators.compute(Scope(operator="apec"), MARCH_APRIL))
    assert series(found["entries_by_month"]) == {"mars 2026": 4, "avr. 2026": 1}
    assert series(found["entries_by_level"]) == {
        "Niveau 1": 2,
        "Niveau 2": 2,
        "Pas encore au niveau 1": 1,
    }
    assert series(found["entries_by_channel"]) == {
        "Présentiel": 2,
        "Téléphone": 1,
        "Visioconférence": 1,
    }
    assert series(found["entries_by_agency"]) == {"Rennes": 3, "Nantes": 2}
    assert series(found["entries_by_counsellor"]) == {"Claire Martin": 3, "Hugo Petit": 2}
    assert (found["level_two_share"].value, found["level_two_share"].base) == (50.0, 4)
    assert (found["days_to_level_two"].value, found["days_to_level_two"].base) == (15.0, 2)
    assert (found["level_two_days"].value, found["level_two_days"].base) == (40.0, 1)
    referrals = found["referrals_by_operator"]
    assert [(p.key, p.value) for p in referrals.points] == [("regional", 1)]
    assert series(found["projects_by_objective"]) == {"Évolution professionnelle": 1}
    # The funding lines, read back from the case through the domain, are what SQL summed.
    plan = world.kit.cases.get_case("apec", world.cases["A"]).funding_plan
    assert plan is not None
    expected: dict[str, float] = {}
    for line in plan.lines:
        if line.status != "refused":
            expected[line.label] = expected.get(line.label, 0) + line.amount / 100
    assert expected and all(expected.values())  # something was mobilised
    assert series(found["funding_by_funder"]) == expected
    assert found["funding_by_funder"].value == sum(expected.values())
    assert (found["satisfaction_mean"].value, found["satisfaction_mean"].base) == (4.0, 3)
    # Sent: A (levels 1 and 2), B, C; E has no address. Answered: A twice, B.
    assert (found["survey_response_rate"].value, found["survey_response_rate"].base) == (75.0, 4)
    assert found["follow_up_results"].points == ()
    assert all(result.computed for result in found.values())


def test_filters_narrow_to_an_agency_or_a_counsellor(world) -> None:
    world.answer_surveys()
    indicators = world.kit.indicators
    nantes = by_id(indicators.compute(Scope(operator="apec", agency="Nantes"), MARCH_APRIL))
    assert series(nantes["entries_by_month"]) == {"mars 2026": 2, "avr. 2026": 0}
    assert nantes["satisfaction_mean"].value == 3.0
    claire = world.counsellors["c1"].id
    mine = by_id(indicators.compute(Scope(operator="apec", counsellor=claire), MARCH_APRIL))
    assert series(mine["entries_by_counsellor"]) == {"Claire Martin": 3}
    assert mine["satisfaction_mean"].value == 4.5


def test_never_another_operators_data(world) -> None:
    found = by_id(world.kit.indicators.compute(Scope(operator="regional"), MARCH_APRIL))
    assert series(found["entries_by_month"]) == {"mars 2026": 1, "avr. 2026": 0}
    assert found["referrals_by_operator"].points == ()
    # A filter naming another operator's counsellor finds nothing.
    claire = world.counsellors["c1"].id
    other = by_id(
        world.kit.indicators.compute(Scope(operator="regional", counsellor=claire), MARCH_APRIL)
    )
    assert sum(p.value or 0 for p in other["entries_by_month"].points) == 0
    with pytest.raises(UnknownStaff):
        world.kit.indicators.set_agency("regional", claire, "Ailleurs")


def test_operator_indicators_only_for_their_operator(world) -> None:
    world.answer_surveys()
    apec_ids = [d.id for d in world.kit.indicators.definitions("apec")]
    regional_ids = [d.id for d in world.kit.indicators.definitions("regional")]
    assert "regional.satisfied_share" in regional_ids
    assert "regional.satisfied_share" not in apec_ids
    assert set(apec_ids) < set(regional_ids)


def test_the_follow_up_feeds_the_six_month_indicator(world) -> None:
    from cep_core.domain.reporting import FollowUpAnswer, FollowUpSituation

    world.move("2026-09-12", 10)  # six months after A's last session (03-12)
    run = world.kit.surveys.run()
    assert (run.sent, run.skipped) == (1, 0)
    secret = world.link_for("a.roussel")
    answer = FollowUpAnswer(
        situation=FollowUpSituation.NEW_JOB, satisfaction=4, cep_helped=True, comment=None
    )
    assert world.kit.surveys.answer(secret, answer)
    period = Period(start=date(2026, 9, 1), end=date(2026, 9, 30))
    found = by_id(world.kit.indicators.compute(Scope(operator="regional"), period))
    assert found["follow_up_results"].points == ()  # Apec's answer, not regional's
    apec = by_id(world.kit.indicators.compute(Scope(operator="apec"), period))
    assert series(apec["follow_up_results"]) == {"J'ai un nouvel emploi ou un nouveau poste": 1}

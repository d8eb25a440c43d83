"""Properties of the orientation over random situations, dates and plugin orders."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date
from types import ModuleType

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cep_core import Kit, Orientation, Situation, Status, regions

# The regional network exists from 2020-01-01; earlier dates have their own plugin test.
FIRST_DAY = date(2020, 1, 1)
LAST_DAY = date(2030, 12, 31)
FRANCE_TRAVAIL = date(2024, 1, 1)
AVENIRS_ACTIFS = date(2024, 1, 2)
OPERATOR_IDS = frozenset({"apec", "cap_emploi", "mission_locale", "pole_emploi", "regional"})
ANY_STATUS = st.sampled_from(Status)
ENGLISH = re.compile(r"\b(the|and|you|your|with|is)\b", re.IGNORECASE)
property_settings = settings(
    deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow]
)


@st.composite
def situations(
    draw: st.DrawFn,
    first: date = FIRST_DAY,
    last: date = LAST_DAY,
    statuses: st.SearchStrategy[Status] = ANY_STATUS,
) -> Situation:
    as_of = draw(st.dates(first, last))
    birth_date = draw(st.dates(date(as_of.year - 90, 1, 1), date(as_of.year - 15, 12, 31)))
    return Situation(
        birth_date=birth_date,
        as_of=as_of,
        status=draw(statuses),
        cadre=draw(st.booleans()),
        registered_jobseeker=draw(st.booleans()),
        disability_recognition=draw(st.booleans()),
        working=draw(st.booleans()),
        seeking_job=draw(st.booleans()),
        region=draw(st.none() | st.sampled_from(sorted(regions()))),
    )


def assert_french_for_the_person(text: str) -> None:
    assert text.strip() == text
    assert text[0].isupper()
    assert text.endswith(".")
    assert re.search(r"\b[Vv]ous\b", text), text
    assert not ENGLISH.search(text), text


def all_reasons(orientation: Orientation) -> list[str]:
    reasons = [*orientation.reasons, *(o.reason for o in orientation.operators)]
    if orientation.redirect is not None:
        reasons.append(orientation.redirect.reason)
    return reasons


@property_settings
@given(situations())
def test_an_eligible_person_always_has_somewhere_to_go(kit: Kit, situation: Situation) -> None:
    orientation = kit.orientation.orient(situation)
    if orientation.eligible:
        assert orientation.operators or orientation.redirect is not None


@property_settings
@given(situations())
def test_an_ineligible_person_gets_no_operator_and_no_redirect(
    kit: Kit, situation: Situation
) -> None:
    orientation = kit.orientation.orient(situation)
    if not orientation.eligible:
        assert orientation.operators == ()
        assert orientation.redirect is None
        assert orientation.reasons


@property_settings
@given(situations(statuses=st.just(Status.PUBLIC_AGENT)))
def test_a_public_agent_is_never_sent_to_the_regional_operator(
    kit: Kit, operator_modules: dict[str, ModuleType], situation: Situation
) -> None:
    orientation = kit.orientation.orient(situation)
    assert "regional" not in {o.id for o in orientation.operators}
    assert orientation.redirect is not None
    assert orientation.redirect.id == "cmc"
    assert operator_modules["regional"].cep_assess_competence(situation).competent is False


@property_settings
@given(situations())
def test_operators_are_known_sorted_and_unique(kit: Kit, situation: Situation) -> None:
    ids = [o.id for o in kit.orientation.orient(situation).operators]
    assert ids == sorted(set(ids))
    assert set(ids) <= OPERATOR_IDS


@property_settings
@given(situations(), st.permutations(sorted(OPERATOR_IDS)))
def test_the_answer_does_not_depend_on_registration_order(
    kit: Kit,
    make_kit: Callable[[Sequence[ModuleType]], Kit],
    operator_modules: dict[str, ModuleType],
    situation: Situation,
    order: list[str],
) -> None:
    shuffled = make_kit([operator_modules[operator] for operator in order])
    assert shuffled.orientation.orient(situation) == kit.orientation.orient(situation)


@property_settings
@given(situations())
def test_every_reason_is_french_addressed_to_the_person(
    kit: Kit, operator_modules: dict[str, ModuleType], situation: Situation
) -> None:
    for reason in all_reasons(kit.orientation.orient(situation)):
        assert_french_for_the_person(reason)
    for module in operator_modules.values():  # the plugins' "no" answers too
        assert_french_for_the_person(module.cep_assess_competence(situation).reason)


def registered_young_jobseeker(as_of: date) -> Situation:
    return Situation(
        birth_date=date(2003, 5, 5),
        as_of=as_of,
        status=Status.JOBSEEKER,
        registered_jobseeker=True,
        working=True,
        region="53",
    )


@property_settings
@given(situations(date(2023, 11, 1), date(2024, 2, 29)))
@example(registered_young_jobseeker(date(2023, 12, 31)))
@example(registered_young_jobseeker(FRANCE_TRAVAIL))
@example(registered_young_jobseeker(AVENIRS_ACTIFS))
def test_labels_are_dated_around_2024(
    kit: Kit, operator_modules: dict[str, ModuleType], situation: Situation
) -> None:
    public_service = "France Travail" if situation.as_of >= FRANCE_TRAVAIL else "Pôle emploi"
    former = "Pôle emploi" if public_service == "France Travail" else "France Travail"
    infos = {i: m.cep_plugin_info() for i, m in operator_modules.items()}
    for module in operator_modules.values():
        competence = module.cep_assess_competence(situation)
        assert former not in competence.reason
        if competence.operator == "pole_emploi":
            assert competence.name == public_service
        if competence.operator != "regional" or not situation.region:
            assert competence.name == infos[competence.operator].label(situation.as_of)
    regional_label = infos["regional"].label(situation.as_of)
    assert ("Avenir(s) Actifs" in regional_label) is (situation.as_of >= AVENIRS_ACTIFS)
    for choice in kit.orientation.orient(situation).operators:
        assert former not in choice.name
        assert former not in choice.reason

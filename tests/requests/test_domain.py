"""The request's domain: references, the public situation, the inputs' rules and bounds."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import msgspec
import pytest

from cep_core.domain.forms import SessionChannel, unbounded_fields
from cep_core.domain.requests import (
    EMAIL_PATTERN,
    REFERENCE_ALPHABET,
    AppointmentInput,
    DeclineInput,
    DeclineReason,
    OperatorSettingsInput,
    PublicSituation,
    RequestSubmission,
    new_reference,
    normalise_reference,
)
from cep_core.domain.situation import Status
from cep_core.mail.message import ADDRESS_PATTERN
from cep_core.services.cases import NewBeneficiary

REFERENCE = re.compile(r"^CEP-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")


def test_references_are_short_unambiguous_and_random() -> None:
    references = {new_reference() for _ in range(2000)}
    assert len(references) == 2000
    for reference in references:
        assert REFERENCE.match(reference), reference
    assert not set("ILOU") & set(REFERENCE_ALPHABET)
    assert len(REFERENCE_ALPHABET) == 32


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("CEP-7K3M-Q9TX", "CEP-7K3M-Q9TX"),
        ("cep 7k3m q9tx", "CEP-7K3M-Q9TX"),
        ("7K3MQ9TX", "CEP-7K3M-Q9TX"),
        ("CEP-7K3M-Q9TO", "CEP-7K3M-Q9T0"),  # O read as zero
        ("CEP-IK3M-L9TX", "CEP-1K3M-19TX"),  # I and L read as one
        ("CEP-123", None),
        ("CEP-7K3M-Q9TU", None),  # U is not in the alphabet
        ("", None),
        ("x" * 500, None),
    ],
)
def test_a_reference_is_read_as_a_person_types_it(typed: str, expected: str | None) -> None:
    assert normalise_reference(typed) == expected


def test_a_reference_without_its_prefix_may_start_with_the_prefix_letters() -> None:
    assert normalise_reference("CEP1ABCD") == "CEP-CEP1-ABCD"


def test_an_age_alone_gives_a_birth_date_of_exactly_that_age() -> None:
    public = PublicSituation(status=Status.EMPLOYEE, age=41)
    situation = public.to_situation(date(2026, 3, 2))
    assert situation.age == 41 and situation.as_of == date(2026, 3, 2)
    assert public.age_only
    leap = PublicSituation(status=Status.JOBSEEKER, age=20).to_situation(date(2028, 2, 29))
    assert leap.age == 20


def test_a_birth_date_wins_over_an_age() -> None:
    public = PublicSituation(status=Status.EMPLOYEE, birth_date=date(1990, 4, 23), age=20)
    assert public.to_situation(date(2026, 3, 2)).birth_date == date(1990, 4, 23)
    assert not public.age_only


def test_the_situation_needs_a_birth_date_or_an_age() -> None:
    [issue] = PublicSituation(status=Status.EMPLOYEE).problems()
    assert issue.path == "birth_date" and "âge" in issue.message


def test_consent_is_required() -> None:
    data = {
        "operator": "apec",
        "situation": {"status": "employee", "age": 30},
        "first_name": "A",
        "last_name": "B",
        "email": "a@b.fr",
        "preferred_channel": "telephone",
    }
    refused = msgspec.convert(data, RequestSubmission)
    assert [issue.path for issue in refused.problems()] == ["consent"]
    given = msgspec.convert({**data, "consent": True}, RequestSubmission)
    assert given.problems() == []


@pytest.mark.parametrize(
    "model", [RequestSubmission, DeclineInput, AppointmentInput, OperatorSettingsInput]
)
def test_inputs_are_bounded_and_strict(model: type[msgspec.Struct]) -> None:
    assert unbounded_fields(model) == []
    assert model.__struct_config__.forbid_unknown_fields


@pytest.mark.parametrize(
    "address",
    ["prenom.nom@exemple.fr", "a+b@sous.domaine.example", "Maelle.R@EXEMPLE.FR"],
)
def test_an_accepted_address_is_accepted_by_the_case_and_the_outbox(address: str) -> None:
    assert re.match(EMAIL_PATTERN, address)
    assert re.match(ADDRESS_PATTERN, address)
    msgspec.convert({"first_name": "A", "last_name": "B", "email": address}, NewBeneficiary)


@pytest.mark.parametrize(
    "address",
    ["sans-arobase", "a@localhost", "a b@exemple.fr", "a@exemple.fr\nBcc: x@y.fr", "<a@b.fr>"],
)
def test_addresses_the_outbox_or_the_case_would_refuse_are_refused(address: str) -> None:
    assert not re.match(EMAIL_PATTERN, address)


def test_declining_for_another_reason_needs_a_text() -> None:
    assert DeclineInput(reason=DeclineReason.DUPLICATE).problems() == []
    [issue] = DeclineInput(reason=DeclineReason.OTHER, text="  ").problems()
    assert issue.path == "text"
    assert DeclineInput(reason=DeclineReason.OTHER, text="Hors zone").problems() == []


def test_an_appointment_is_in_the_future_and_in_person_has_a_place() -> None:
    now = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    past = AppointmentInput(starts_at=now, channel=SessionChannel.PHONE)
    assert [issue.path for issue in past.problems(now)] == ["starts_at"]
    in_person = AppointmentInput(
        starts_at=now + timedelta(days=2), channel=SessionChannel.IN_PERSON
    )
    assert [issue.path for issue in in_person.problems(now)] == ["location"]
    placed = msgspec.structs.replace(in_person, location="12 rue de Brest, Rennes")
    assert placed.problems(now) == []

"""Name search finds the same cases, in the same order, whichever way it goes (issue #8).

`CaseRepository.find` has three ways to a page: the people matching every word, taken from
the rarest word's index range, then their cases (few people); the list index walked newest
first, checking the copy of the name it carries (a common name); the same walk when every
word is too common to list who carries them all. Each test runs under the three, forced by
lowering the thresholds, against a brute-force reading of the rule ("each typed word
begins a word of the first or last name"). The copies of the name (`cases.search_name`,
`beneficiary_words.search_name`) must follow a rectification and go with an erasure or an
anonymisation.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from cep_core.domain.case import search_key
from cep_core.services.cases import NewBeneficiary
from cep_core.storage import repositories
from cep_core.storage.database import Database
from cep_core.storage.tables import beneficiaries, beneficiary_words, cases

from .test_cases_service import situation

if TYPE_CHECKING:
    from cep_core.kit import Kit

    from .conftest import FakeClock, KitFactory

NAMES = [
    ("Camille", "Martin"),
    ("Marie", "Martin"),
    ("Martine", "Dubois"),
    ("Camille", "Dubois"),
    ("Jean-Pierre", "Le Gall"),
    ("Élodie", "Lefèvre"),
    ("Omar", "Sy"),
    ("Marc", "Valmorin-Kerdoret"),
    ("Léa", "Marchand"),
    ("Camille", "Martinez"),
]


@pytest.fixture(params=["candidates", "walk", "walk_many_words"])
def strategy(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Force one of `find`'s three ways (the defaults choose the first on a small base)."""
    if request.param == "walk":
        monkeypatch.setattr(repositories, "WORD_CANDIDATES_MAX", 1)
    elif request.param == "walk_many_words":
        monkeypatch.setattr(repositories, "WORD_SCAN_MAX", 1)
    return str(request.param)


@pytest.fixture
def kit(kit_factory: KitFactory, database: Database, clock: FakeClock) -> Kit:
    """Three cases per name at op_a, some sharing a timestamp; the same names at op_b."""
    kit = kit_factory(database.engine.url.render_as_string(hide_password=False))
    for round_ in range(3):
        for n, (first, last) in enumerate(NAMES):
            for operator in ("op_a", "op_b"):
                kit.cases.open_case(
                    operator,
                    NewBeneficiary(first_name=first, last_name=last),
                    situation(),
                    counsellor_id=f"c-{n % 2}",
                )
            if (round_ + n) % 3:  # the others share the previous case's timestamp
                clock.advance(seconds=1)
    return kit


def expected(kit: Kit, typed: str, counsellor: str | None = None) -> list[str]:
    """The rule read by brute force on the people's own names: op_a cases, newest first."""
    terms = search_key(typed).split()
    query = (
        select(cases.c.id, cases.c.updated_at, beneficiaries.c.search_name)
        .join(beneficiaries, beneficiaries.c.id == cases.c.beneficiary_id)
        .where(cases.c.operator == "op_a")
    )
    if counsellor is not None:
        query = query.where(cases.c.counsellor_id == counsellor)
    with kit.database.read() as connection:
        rows = connection.execute(query).all()
    matching = [
        (row.updated_at, row.id)
        for row in rows
        if row.search_name is not None
        and all(any(w.startswith(t) for w in row.search_name.split()) for t in terms)
    ]
    return [case_id for _, case_id in sorted(matching, reverse=True)]


def searched(kit: Kit, typed: str, *, limit: int = 4, counsellor: str | None = None) -> list[str]:
    """Every page of the search, followed by cursor."""
    found: list[str] = []
    cursor = None
    while True:
        page = kit.cases.list_cases(
            "op_a", name=typed, limit=limit, cursor=cursor, counsellor_id=counsellor
        )
        found += [case.id for case in page.items]
        assert {case.operator for case in page.items} <= {"op_a"}
        assert set(page.beneficiaries) == {case.beneficiary_id for case in page.items}
        if page.next_cursor is None:
            return found
        cursor = page.next_cursor


TYPED = {
    # what is typed: how many cases at least it finds (0: exactly none)
    "martin": 12,  # Martin, Martine, Martinez
    "MARTIN": 12,
    "mar": 18,  # Martin, Marie, Martine, Marc, Marchand; not Omar
    "camille martin": 6,  # Martin and Martinez
    "martin camille": 6,
    "marie mar": 3,  # "mar" may be the same word as "marie"
    "camille dubois": 3,
    "gall": 3,  # Le Gall
    "jean pierre": 3,
    "elodie lef": 3,
    "kerdoret": 3,  # second part of a composed name
    "tin": 0,  # inside a word: nothing
    "camille sy": 0,  # each word matches someone, not the same person: nothing
    "zzz": 0,
}


def test_every_way_finds_the_rule_in_order_over_pages(kit: Kit, strategy: str) -> None:
    for typed, at_least in TYPED.items():
        want = expected(kit, typed)
        assert searched(kit, typed) == want, (strategy, typed)
        assert searched(kit, typed, limit=200) == want, (strategy, typed)
        assert len(want) >= at_least if at_least else want == [], (strategy, typed)


def test_a_search_among_one_counsellors_cases(kit: Kit, strategy: str) -> None:
    for typed in ("martin", "camille mar", "le gall"):
        want = expected(kit, typed, counsellor="c-0")
        assert want and searched(kit, typed, counsellor="c-0") == want


def test_a_rectified_name_is_found_under_the_new_name_only(kit: Kit, strategy: str) -> None:
    case_id = expected(kit, "elodie lefevre")[0]
    case = kit.cases.get_case("op_a", case_id)
    kit.gdpr.rectify(
        "op_a",
        case.beneficiary_id,
        {"last_name": "Valmorin"},
        actor="conseiller-1",
        reason="Nom d'usage",
    )
    assert case_id in searched(kit, "elodie valmorin")
    assert case_id in searched(kit, "valm")
    assert case_id not in searched(kit, "lefevre")
    assert searched(kit, "lefevre") == expected(kit, "lefevre")
    assert len(searched(kit, "lefevre")) == 2
    with kit.database.read() as connection:
        copies = (
            connection.execute(
                select(cases.c.search_name).where(cases.c.beneficiary_id == case.beneficiary_id)
            )
            .scalars()
            .all()
        )
        words = connection.execute(
            select(beneficiary_words.c.word, beneficiary_words.c.search_name).where(
                beneficiary_words.c.beneficiary_id == case.beneficiary_id
            )
        ).all()
    assert copies == ["elodie valmorin"]
    assert sorted(words) == [("elodie", "elodie valmorin"), ("valmorin", "elodie valmorin")]


def test_erased_and_anonymised_people_are_no_longer_found(kit: Kit, strategy: str) -> None:
    erased, anonymised, *kept = expected(kit, "camille dubois")
    for case_id in (erased, anonymised):
        assert case_id in searched(kit, "dubois")
    person = kit.cases.get_case("op_a", erased).beneficiary_id
    kit.gdpr.erase("op_a", person)
    other = kit.cases.get_case("op_a", anonymised).beneficiary_id
    kit.retention.anonymise_person("op_a", other, kit.clock())
    for typed in ("dubois", "camille dubois", "camille", "dub"):
        found = searched(kit, typed)
        assert erased not in found and anonymised not in found
    assert searched(kit, "camille dubois") == kept
    with kit.database.read() as connection:
        for person_id in (person, other):
            assert connection.execute(
                select(cases.c.search_name).where(cases.c.beneficiary_id == person_id)
            ).scalars().all() == [None]
            assert (
                connection.execute(
                    select(beneficiary_words.c.word).where(
                        beneficiary_words.c.beneficiary_id == person_id
                    )
                ).all()
                == []
            )


def test_a_case_opened_carries_its_persons_name(kit: Kit) -> None:
    with kit.database.read() as connection:
        names = connection.execute(select(cases.c.search_name)).scalars().all()
    assert len(names) == 2 * 3 * len(NAMES)
    assert all(name and re.fullmatch(r"[0-9a-z ]+", name) for name in names)
    assert "jean pierre le gall jeanpierre legall" in names

"""Repositories: the only code that reads and writes the tables, always for ONE operator.

Each repository is built with a connection (from `Database.read()` / `write()`) and the
operator it acts for; every statement it runs filters on that operator, so another
operator's record is simply "not found" — its existence is not revealed (SEC-01). Writing a
record that names another operator is a programming error and raises `TenantMismatch`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import (
    ColumnElement,
    Connection,
    FromClause,
    and_,
    bindparam,
    func,
    literal,
    select,
    true,
    tuple_,
)

from cep_core.domain.case import (
    Beneficiary,
    Case,
    CaseEvent,
    CaseStatus,
    Level,
    beneficiary_search_key,
)
from cep_core.errors import CaseNotFound, VersionConflict
from cep_core.storage.ids import new_id
from cep_core.storage.tables import (
    NAME_WORD_LENGTH,
    SEARCH_NAME_LENGTH,
    beneficiaries,
    beneficiary_words,
    case_events,
    cases,
)

_encoder = msgspec.json.Encoder()
_case_decoder = msgspec.json.Decoder(Case)
_beneficiary_decoder = msgspec.json.Decoder(Beneficiary)


class TenantMismatch(ValueError):
    """A repository was asked to write a record of another operator (a bug, never input)."""


class _Scoped:
    def __init__(self, connection: Connection, operator: str) -> None:
        if not operator:
            raise ValueError("a repository needs an operator")
        self.connection = connection
        self.operator = operator

    def _own(self, operator: str, what: str) -> None:
        if operator != self.operator:
            raise TenantMismatch(
                f"{what} belongs to operator {operator!r}, repository acts for {self.operator!r}"
            )


class BeneficiaryRepository(_Scoped):
    """People as known to one operator (no sharing across operators, SEC-22)."""

    def add(self, beneficiary: Beneficiary) -> None:
        self._own(beneficiary.operator, "beneficiary")
        search_name = beneficiary_search_key(beneficiary.first_name, beneficiary.last_name)[
            :SEARCH_NAME_LENGTH
        ]
        self.connection.execute(
            beneficiaries.insert().values(
                id=beneficiary.id,
                operator=beneficiary.operator,
                doc=_encoder.encode(beneficiary).decode(),
                created_at=beneficiary.created_at,
                updated_at=beneficiary.created_at,
                search_name=search_name,
            )
        )
        self._insert_words(beneficiary.id, search_name)

    def index_name(self, beneficiary_id: str, search_name: str | None) -> None:
        """Make name search see `search_name` (None: the person is no longer findable).

        Whoever changes ``beneficiaries.search_name`` (a rectified name, an anonymised
        person) calls this in the same transaction: search reads the copies of the name
        made here (the person's words, and their cases' ``search_name``), never the person.
        """
        self.connection.execute(
            beneficiary_words.delete().where(
                beneficiary_words.c.operator == self.operator,
                beneficiary_words.c.beneficiary_id == beneficiary_id,
            )
        )
        if search_name:
            self._insert_words(beneficiary_id, search_name)
        self.connection.execute(
            cases.update()
            .where(cases.c.operator == self.operator, cases.c.beneficiary_id == beneficiary_id)
            .values(search_name=search_name or None)
        )

    def _insert_words(self, beneficiary_id: str, search_name: str) -> None:
        rows = [
            {
                "operator": self.operator,
                "word": word,
                "beneficiary_id": beneficiary_id,
                "search_name": search_name,
            }
            for word in name_words(search_name)
        ]
        if rows:
            self.connection.execute(beneficiary_words.insert(), rows)

    def get(self, beneficiary_id: str) -> Beneficiary | None:
        doc = self.connection.execute(
            _GET_BENEFICIARY, {"b_id": beneficiary_id, "b_operator": self.operator}
        ).scalar_one_or_none()
        return None if doc is None else _beneficiary_decoder.decode(doc)

    def get_many(self, beneficiary_ids: Sequence[str]) -> dict[str, Beneficiary]:
        """The people among `beneficiary_ids` this operator has, by id (a page's worth)."""
        if not beneficiary_ids:
            return {}
        docs = self.connection.execute(
            select(beneficiaries.c.doc).where(
                beneficiaries.c.id.in_(sorted(set(beneficiary_ids))),
                beneficiaries.c.operator == self.operator,
            )
        ).scalars()
        found = [_beneficiary_decoder.decode(doc) for doc in docs]
        return {person.id: person for person in found}

    def count(self) -> int:
        return int(
            self.connection.execute(
                select(func.count())
                .select_from(beneficiaries)
                .where(beneficiaries.c.operator == self.operator)
            ).scalar_one()
        )


class CaseRepository(_Scoped):
    """Cases as JSON documents plus indexed columns; `version` guards concurrent edits."""

    @property
    def _dialect(self) -> str:
        return self.connection.dialect.name

    def add(self, case: Case) -> None:
        """Insert `case`, with a copy of its person's current ``search_name`` (name search)."""
        self._own(case.operator, "case")
        self.connection.execute(
            cases.insert().values(**_case_row(case), search_name=_person_search_name(case))
        )

    def get(self, case_id: str) -> Case | None:
        row = self.connection.execute(
            _GET_CASE, {"b_id": case_id, "b_operator": self.operator}
        ).one_or_none()
        return None if row is None else _case_from_row(row)

    def update(self, case: Case) -> Case:
        """Store `case`, read at ``case.version``; return it at the next version.

        ``UPDATE ... WHERE id = ? AND operator = ? AND version = ?``: when another edit came
        first, nothing is written and `VersionConflict` is raised (REL-11); a case this
        operator does not have raises `CaseNotFound`.
        """
        self._own(case.operator, "case")
        stored = msgspec.structs.replace(case, version=case.version + 1)
        row = _case_row(stored)
        del row["id"], row["operator"], row["created_at"]
        result = self.connection.execute(
            _UPDATE_CASE,
            {**row, "b_id": case.id, "b_operator": self.operator, "b_version": case.version},
        )
        if result.rowcount == 1:
            return stored
        actual = self.connection.execute(
            select(cases.c.version).where(cases.c.id == case.id, cases.c.operator == self.operator)
        ).scalar_one_or_none()
        if actual is None:
            raise CaseNotFound(case.id)
        raise VersionConflict(case.id, expected=case.version, actual=int(actual))

    def find(
        self,
        *,
        status: CaseStatus | None = None,
        level: Level | None = None,
        counsellor_id: str | None = None,
        beneficiary_id: str | None = None,
        name_terms: Sequence[str] = (),
        after: tuple[datetime, str] | None = None,
        limit: int = 50,
    ) -> list[Case]:
        """Newest first, by (updated_at, id) descending; `after` is the last row of a page.

        `name_terms` are `search_key` words: a case matches when each of them begins a word
        of its beneficiary's `search_name` (see `name_matches`).

        The cost must not grow with the base (a million cases): the page's ids come from an
        index alone (keyset range on the row value (updated_at, id), LIMIT), then only those
        rows and their documents are read; nothing is counted. With a name, the people who
        match every term come from the rarest term's words (`_name_people`, at most
        `WORD_SCAN_MAX` index entries read); when fewer than `WORD_CANDIDATES_MAX`, only
        their cases are looked up and sorted. Otherwise the name is common: the list index,
        which carries the name, is walked newest first and a page fills after about
        50 x (the operator's cases) / `WORD_CANDIDATES_MAX` entries at worst, without
        reading a row. A search among one counsellor's cases (a few hundred) always walks.
        """
        page = _PAGE
        conditions = [
            page.c.operator == self.operator,
            *_filters(page, status, counsellor_id, beneficiary_id, level),
        ]
        if after is not None:
            conditions.append(tuple_(page.c.updated_at, page.c.id) < after)
        people = None
        if name_terms and counsellor_id is None and beneficiary_id is None:
            people = self._name_people(name_terms)
        if name_terms and people is None:
            conditions.append(name_matches(page, name_terms, self._dialect))
        candidates: Any = page
        if people is not None:
            # Few people: their cases fetched by person, sorted among themselves, in the
            # database. MATERIALIZED, because with ORDER BY and LIMIT on the table itself
            # SQLite's planner (no statistics) would rather walk the whole list index in
            # order, checking each case against the candidates.
            candidates = (
                select(page.c.updated_at, page.c.id)
                .where(*conditions, page.c.beneficiary_id.in_(people))
                .cte("candidates")
                .prefix_with("MATERIALIZED")
            )
            conditions = []
        ids = (
            select(candidates.c.id)
            .where(*conditions)
            .order_by(candidates.c.updated_at.desc(), candidates.c.id.desc())
            .limit(limit)
        )
        rows = self.connection.execute(
            select(*_CASE_COLUMNS).where(cases.c.operator == self.operator, cases.c.id.in_(ids))
        )
        found = [_case_from_row(row) for row in rows]
        # The page's order, restored here: an ORDER BY would lead SQLite to walk the list
        # index again instead of fetching the page's rows by id.
        found.sort(key=lambda case: (case.updated_at, case.id), reverse=True)
        return found

    def _name_people(self, name_terms: Sequence[str]) -> Any | None:
        """The ids of the people matching every term (a subquery), if they are fewer than
        `WORD_CANDIDATES_MAX`.

        None when they are more (a common name: walking the list finds a page sooner), or
        when every term begins the words of at least `WORD_SCAN_MAX` people (finding who
        matches them all would read too many words). Reads the rarest term's index range
        only, checking the other terms on the name each word row carries: at most
        `WORD_SCAN_MAX` entries, whatever the base size. Only counts are sent back: the
        page's statement reads the same range again (cheaper than shipping the ids).
        """
        terms = list(dict.fromkeys(name_terms))
        rarest = terms[0]
        if len(terms) > 1:
            # Usually one word is rare enough to be told apart after a few entries; reading
            # up to `WORD_SCAN_MAX` entries of each word only when none is.
            for cap in (min(2 * WORD_CANDIDATES_MAX, WORD_SCAN_MAX), WORD_SCAN_MAX):
                count, rarest = self._rarest(terms, cap)
                if count < cap:
                    break
            else:
                return None
        others = [term for term in terms if term != rarest]
        conditions = _word_range(self.operator, rarest)
        if others:  # checked on the whole name each word row carries
            conditions.append(name_matches(beneficiary_words, others, self._dialect))
        people = select(beneficiary_words.c.beneficiary_id).where(*conditions)
        found = self.connection.execute(
            select(func.count()).select_from(
                people.order_by(beneficiary_words.c.word, beneficiary_words.c.beneficiary_id)
                .limit(WORD_CANDIDATES_MAX)
                .subquery()
            )
        ).scalar_one()
        return people if found < WORD_CANDIDATES_MAX else None

    def _rarest(self, terms: Sequence[str], cap: int) -> tuple[int, str]:
        """The term with the fewest word entries, and that count, each counted up to `cap`
        (one statement, one round trip)."""
        counts = [
            select(func.count())
            .select_from(
                select(literal(1))
                .select_from(beneficiary_words)
                .where(*_word_range(self.operator, term))
                .order_by(beneficiary_words.c.word)  # the index's order: never a scan
                .limit(cap)
                .subquery()
            )
            .scalar_subquery()
            for term in terms
        ]
        found = self.connection.execute(select(*counts)).one()
        return min(zip((int(count) for count in found), terms, strict=True))

    def count(
        self,
        *,
        status: CaseStatus | None = None,
        level: Level | None = None,
        counsellor_id: str | None = None,
        beneficiary_id: str | None = None,
        name_terms: Sequence[str] = (),
    ) -> int:
        """How many cases match: reads every matching row, so not for pages of a list."""
        conditions = [
            cases.c.operator == self.operator,
            *_filters(cases, status, counsellor_id, beneficiary_id, level),
        ]
        if name_terms:
            conditions.append(name_matches(cases, name_terms, self._dialect))
        return int(
            self.connection.execute(
                select(func.count()).select_from(cases).where(*conditions)
            ).scalar_one()
        )


class CaseEventRepository(_Scoped):
    """The append-only journal: lines are added, never changed (triggers refuse it too)."""

    def append(
        self,
        *,
        case_id: str,
        at: datetime,
        kind: str,
        actor: str | None = None,
        from_status: CaseStatus | None = None,
        to_status: CaseStatus | None = None,
        reason: str | None = None,
    ) -> CaseEvent:
        """Add the case's next line (``seq`` counts from 1 within the case).

        Appending runs in the transaction that changed the case, whose version check already
        serialises writers; the unique (case_id, seq) constraint is the last line of defence.
        """
        seq = self.connection.execute(
            _NEXT_SEQ, {"b_case_id": case_id, "b_operator": self.operator}
        ).scalar_one()
        event = CaseEvent(
            id=new_id(),
            case_id=case_id,
            operator=self.operator,
            seq=int(seq),
            at=at,
            kind=kind,
            actor=actor,
            from_status=from_status,
            to_status=to_status,
            reason=reason,
        )
        self.connection.execute(
            _INSERT_EVENT,
            {
                "id": event.id,
                "case_id": event.case_id,
                "operator": event.operator,
                "seq": event.seq,
                "at": event.at,
                "kind": event.kind,
                "actor": event.actor,
                "from_status": None if from_status is None else from_status.value,
                "to_status": None if to_status is None else to_status.value,
                "reason": event.reason,
            },
        )
        return event

    def for_case(self, case_id: str) -> list[CaseEvent]:
        rows = self.connection.execute(
            select(
                case_events.c.id,
                case_events.c.case_id,
                case_events.c.seq,
                case_events.c.at,
                case_events.c.kind,
                case_events.c.actor,
                case_events.c.from_status,
                case_events.c.to_status,
                case_events.c.reason,
            )
            .where(case_events.c.case_id == case_id, case_events.c.operator == self.operator)
            .order_by(case_events.c.seq)
        )
        return [
            CaseEvent(
                id=row.id,
                case_id=row.case_id,
                operator=self.operator,
                seq=row.seq,
                at=row.at,
                kind=row.kind,
                actor=row.actor,
                from_status=None if row.from_status is None else CaseStatus(row.from_status),
                to_status=None if row.to_status is None else CaseStatus(row.to_status),
                reason=row.reason,
            )
            for row in rows
        ]

    def count(self, *, kind: str | None = None, actor: str | None = None) -> int:
        conditions: list[ColumnElement[bool]] = [case_events.c.operator == self.operator]
        if kind is not None:
            conditions.append(case_events.c.kind == kind)
        if actor is not None:
            conditions.append(case_events.c.actor == actor)
        return int(
            self.connection.execute(
                select(func.count()).select_from(case_events).where(*conditions)
            ).scalar_one()
        )


# The inner query's own name for the table (built once: an alias costs ~0.1 ms to set up).
_PAGE = cases.alias("page")

_CASE_COLUMNS = (
    cases.c.doc,
    cases.c.status,
    cases.c.level,
    cases.c.counsellor_id,
    cases.c.updated_at,
    cases.c.version,
)


# The statements of every case read and write, built once: building one costs more than
# running it (about 50 µs of SQLAlchemy per statement, against 30 µs to run it).
_GET_CASE = select(*_CASE_COLUMNS).where(
    cases.c.id == bindparam("b_id"), cases.c.operator == bindparam("b_operator")
)
_UPDATE_CASE = cases.update().where(
    cases.c.id == bindparam("b_id"),
    cases.c.operator == bindparam("b_operator"),
    cases.c.version == bindparam("b_version"),
)
_NEXT_SEQ = select(func.coalesce(func.max(case_events.c.seq), 0) + 1).where(
    case_events.c.case_id == bindparam("b_case_id"),
    case_events.c.operator == bindparam("b_operator"),
)
_INSERT_EVENT = case_events.insert()
_GET_BENEFICIARY = select(beneficiaries.c.doc).where(
    beneficiaries.c.id == bindparam("b_id"), beneficiaries.c.operator == bindparam("b_operator")
)


def _case_row(case: Case) -> dict[str, Any]:
    return {
        "id": case.id,
        "operator": case.operator,
        "beneficiary_id": case.beneficiary_id,
        "status": case.status.value,
        "level": None if case.level is None else int(case.level),
        "counsellor_id": case.counsellor_id,
        "created_at": case.created_at,
        "updated_at": case.updated_at,
        "version": case.version,
        "doc": _encoder.encode(case).decode(),
    }


def _case_from_row(row: Any) -> Case:
    """The document, with the indexed columns as the source of truth for what they hold."""
    case = _case_decoder.decode(row.doc)
    return msgspec.structs.replace(
        case,
        status=CaseStatus(row.status),
        level=None if row.level is None else Level(row.level),
        counsellor_id=row.counsellor_id,
        updated_at=row.updated_at,
        version=row.version,
    )


def _filters(
    table: FromClause,
    status: CaseStatus | None,
    counsellor_id: str | None,
    beneficiary_id: str | None,
    level: Level | None = None,
) -> Sequence[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if status is not None:
        conditions.append(table.c.status == status.value)
    if level is not None:
        conditions.append(table.c.level == int(level))
    if counsellor_id is not None:
        conditions.append(table.c.counsellor_id == counsellor_id)
    if beneficiary_id is not None:
        conditions.append(table.c.beneficiary_id == beneficiary_id)
    return conditions


# -- name search -----------------------------------------------------------------------------

WORD_CANDIDATES_MAX = 1000
"""From this many people matching a name, it is "common": walking the list index newest first
(about 50 x cases / this many entries, read from the index alone) finds a page sooner than
looking up and sorting every candidate's cases (one index probe per person; see `find`)."""

WORD_SCAN_MAX = 20_000
"""At most this many word entries are read to find the people matching every typed word."""

_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


def name_words(search_name: str) -> list[str]:
    """The words `beneficiary_words` holds for a `search_name` (distinct, in order)."""
    return [word[:NAME_WORD_LENGTH] for word in dict.fromkeys(search_name.split())]


def _checked(term: str) -> str:
    # Terms are search keys: [0-9a-z] words only, so no LIKE wildcard can slip in.
    if not _TERM.match(term):
        raise ValueError("name terms must be search_key words")
    return term


def _prefix_end(term: str) -> str | None:
    """The smallest [0-9a-z] string after every word that starts with `term` (None: none)."""
    kept = term.rstrip(_ALPHABET[-1])
    if not kept:
        return None
    return kept[:-1] + _ALPHABET[_ALPHABET.index(kept[-1]) + 1]


def _word_range(operator: str, term: str) -> list[ColumnElement[bool]]:
    """Words starting with `term`, as an index range (no LIKE: no collation question)."""
    conditions = [
        beneficiary_words.c.operator == operator,
        beneficiary_words.c.word >= _checked(term)[:NAME_WORD_LENGTH],
    ]
    end = _prefix_end(term[:NAME_WORD_LENGTH])
    if end is not None:
        conditions.append(beneficiary_words.c.word < end)
    return conditions


def name_matches(table: FromClause, name_terms: Sequence[str], dialect: str) -> ColumnElement[bool]:
    """Each term begins a word of the ``search_name`` copy in `table` (cases or words).

    ``' ' || search_name`` contains ``' ' || term``: the same rule as the word rows. The
    list indexes carry the copy, so a walk newest first reads no row and no person; an
    anonymised person's copy is NULL, which matches nothing. On PostgreSQL as ``strpos(…)
    > 0``, not ``LIKE '% term%'``: the planner guesses a LIKE with a long fixed part almost
    never matches and would then sort the whole operator rather than walk the index, where
    an inequality gets its default third and the walk (a common name) is chosen.
    """
    spaced = literal(" ") + table.c.search_name
    if dialect == "postgresql":
        return and_(true(), *(func.strpos(spaced, f" {_checked(term)}") > 0 for term in name_terms))
    return and_(true(), *(spaced.like(f"% {_checked(term)}%") for term in name_terms))


def _person_search_name(case: Case) -> Any:
    """The current ``search_name`` of `case`'s person (a scalar subquery)."""
    return (
        select(beneficiaries.c.search_name)
        .where(
            beneficiaries.c.id == case.beneficiary_id,
            beneficiaries.c.operator == case.operator,
        )
        .scalar_subquery()
    )


_TERM = re.compile(r"^[0-9a-z]+$")

"""Cases use case: open a case for a person with one operator, read it, list an operator's cases.

Every method takes the operator first and checks it is installed; repositories then filter
every query on it, so an operator never sees, counts or pages into another's cases (SEC-01).
Writes are one transaction (beneficiary + case + journal line together or nothing), and
plugins hear of an event only after it is committed.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime
from typing import Annotated

import msgspec

from cep_core.clock import Clock, today_in_france
from cep_core.domain.case import Beneficiary, Case, CaseEvent, CaseStatus, Level
from cep_core.domain.context import OperatorContext, Role
from cep_core.domain.issues import InvalidInput, Issue
from cep_core.domain.situation import Situation
from cep_core.errors import CaseNotFound
from cep_core.plugins import Hooks
from cep_core.storage.database import Database
from cep_core.storage.ids import new_id
from cep_core.storage.repositories import (
    BeneficiaryRepository,
    CaseEventRepository,
    CaseRepository,
)
from cep_core.storage.tables import ACTOR_LENGTH, ID_LENGTH

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50

# A name: 1 to 100 characters, at least one visible, no control characters.
Name = Annotated[
    str, msgspec.Meta(min_length=1, max_length=100, pattern=r"^(?=.*\S)[^\x00-\x1f\x7f]+$")
]
Email = Annotated[str, msgspec.Meta(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Phone = Annotated[str, msgspec.Meta(max_length=30, pattern=r"^\+?[0-9][0-9 .()\-]{5,29}$")]

_FIELD_MESSAGES = {
    "first_name": "Le prénom est obligatoire (100 caractères au plus).",
    "last_name": "Le nom est obligatoire (100 caractères au plus).",
    "email": "L'adresse électronique n'est pas valide (exemple : prenom.nom@exemple.fr).",
    "phone": "Le numéro de téléphone n'est pas valide (exemple : 06 12 34 56 78).",
}
_PATH = re.compile(r"at `\$\.(\w+)")

STATUS_ON_OPEN: dict[Level | None, CaseStatus] = {
    None: CaseStatus.OPENED,
    Level.ONE: CaseStatus.LEVEL_ONE,
    Level.TWO: CaseStatus.LEVEL_TWO,
}


class NewBeneficiary(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The person a new case is opened for, as typed by a counsellor or the person."""

    first_name: Name
    last_name: Name
    email: Email | None = None
    phone: Phone | None = None


class CasePage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of cases, newest first; pass `next_cursor` back to get the next one."""

    items: tuple[Case, ...]
    next_cursor: str | None = None


class CaseService:
    def __init__(self, database: Database, hooks: Hooks, *, clock: Clock) -> None:
        self._database = database
        self._hooks = hooks
        self._clock = clock

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the clock must return timezone-aware datetimes")
        return now.astimezone(UTC)

    def open_case(
        self,
        operator: str,
        beneficiary: NewBeneficiary,
        situation: Situation,
        *,
        level: Level | None = None,
        counsellor_id: str | None = None,
        actor: str | None = None,
    ) -> Case:
        """Create the person, their case and the journal's "opened" line in one transaction.

        Raises `UnknownOperator` for an operator that is not installed and `InvalidInput`
        (every problem at once) for an impossible situation or a malformed person. A case
        opened at a level starts in that level's status (levels are independent).
        """
        self._hooks.operator(operator)
        person = _checked_beneficiary(beneficiary)
        issues = list(situation.problems())
        issues += _bounded("counsellor_id", counsellor_id) + _bounded("actor", actor)
        if issues:
            raise InvalidInput(issues)
        now = self._now()
        status = STATUS_ON_OPEN[level]
        stored_person = Beneficiary(
            id=new_id(),
            operator=operator,
            first_name=person.first_name,
            last_name=person.last_name,
            email=person.email,
            phone=person.phone,
            created_at=now,
        )
        case = Case(
            id=new_id(),
            operator=operator,
            beneficiary_id=stored_person.id,
            status=status,
            level=level,
            situation=situation,
            counsellor_id=counsellor_id,
            created_at=now,
            updated_at=now,
            version=1,
        )
        with self._database.write() as connection:
            BeneficiaryRepository(connection, operator).add(stored_person)
            CaseRepository(connection, operator).add(case)
            event = CaseEventRepository(connection, operator).append(
                case_id=case.id, at=now, kind="opened", actor=actor, to_status=status
            )
        self._hooks.case_event(self._context(operator, actor), event)
        return case

    def get_case(self, operator: str, case_id: str) -> Case:
        """The case, or `CaseNotFound` — also for a case that belongs to another operator."""
        self._hooks.operator(operator)
        if not _plausible_id(case_id):
            raise CaseNotFound(case_id)
        with self._database.read() as connection:
            case = CaseRepository(connection, operator).get(case_id)
        if case is None:
            raise CaseNotFound(case_id)
        return case

    def get_beneficiary(self, operator: str, beneficiary_id: str) -> Beneficiary | None:
        self._hooks.operator(operator)
        if not _plausible_id(beneficiary_id):
            return None
        with self._database.read() as connection:
            return BeneficiaryRepository(connection, operator).get(beneficiary_id)

    def list_cases(
        self,
        operator: str,
        *,
        status: CaseStatus | None = None,
        counsellor_id: str | None = None,
        beneficiary_id: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> CasePage:
        """The operator's cases, most recently updated first, `limit` (1 to 200) at a time.

        Keyset pagination on (updated_at, id): no duplicates and no gaps between pages even
        when many cases share a timestamp. The cursor only says where the last page ended;
        the operator filter applies to every page, so a cursor cannot reach other tenants.
        """
        self._hooks.operator(operator)
        if isinstance(limit, bool) or not 1 <= limit <= MAX_PAGE_SIZE:
            raise InvalidInput(
                [
                    Issue(
                        path="limit",
                        code="out_of_range",
                        message=f"La taille de page doit être comprise entre 1 et {MAX_PAGE_SIZE}.",
                    )
                ]
            )
        if status is not None:
            status = _status(status)
        after = None if cursor is None else decode_cursor(cursor)
        with self._database.read() as connection:
            found = CaseRepository(connection, operator).find(
                status=status,
                counsellor_id=counsellor_id,
                beneficiary_id=beneficiary_id,
                after=after,
                limit=limit + 1,
            )
        items = tuple(found[:limit])
        next_cursor = encode_cursor(items[-1]) if len(found) > limit else None
        return CasePage(items=items, next_cursor=next_cursor)

    def case_events(self, operator: str, case_id: str) -> list[CaseEvent]:
        """The case's journal in order; `CaseNotFound` when the operator has no such case."""
        self._hooks.operator(operator)
        if not _plausible_id(case_id):
            raise CaseNotFound(case_id)
        with self._database.read() as connection:
            if CaseRepository(connection, operator).get(case_id) is None:
                raise CaseNotFound(case_id)
            return CaseEventRepository(connection, operator).for_case(case_id)

    def _context(self, operator: str, actor: str | None) -> OperatorContext:
        return OperatorContext(
            operator=operator,
            today=today_in_france(self._clock),
            actor=actor,
            role=Role.SYSTEM if actor is None else Role.COUNSELLOR,
        )


# -- input checks ----------------------------------------------------------------------------


def _checked_beneficiary(beneficiary: NewBeneficiary) -> NewBeneficiary:
    """Enforce the Struct's bounds (msgspec checks them on decode, not on construction)."""
    raw = msgspec.to_builtins(beneficiary)
    for name in ("first_name", "last_name"):
        raw[name] = raw[name].strip()
    for name in ("email", "phone"):
        if isinstance(raw.get(name), str):
            raw[name] = raw[name].strip() or None
    try:
        return msgspec.convert(raw, NewBeneficiary)
    except msgspec.ValidationError as exc:
        match = _PATH.search(str(exc))
        field = match.group(1) if match else "beneficiary"
        message = _FIELD_MESSAGES.get(field, "Les informations sur la personne sont invalides.")
        raise InvalidInput([Issue(path=field, code="invalid", message=message)]) from exc


def _bounded(path: str, value: str | None) -> list[Issue]:
    if value is None or 0 < len(value) <= ACTOR_LENGTH:
        return []
    return [
        Issue(
            path=path,
            code="invalid",
            message=f"Identifiant invalide (1 à {ACTOR_LENGTH} caractères).",
        )
    ]


def _status(value: CaseStatus | str) -> CaseStatus:
    try:
        return CaseStatus(value)
    except ValueError as exc:
        known = ", ".join(s.value for s in CaseStatus)
        raise InvalidInput(
            [Issue(path="status", code="invalid", message=f"Statut inconnu (statuts : {known}).")]
        ) from exc


def _plausible_id(value: str) -> bool:
    return 0 < len(value) <= ID_LENGTH


# -- cursors ---------------------------------------------------------------------------------

_cursor_decoder = msgspec.json.Decoder(tuple[datetime, str])


def encode_cursor(case: Case) -> str:
    """Opaque to callers: where a page ended, as base64url JSON ``[updated_at, id]``."""
    raw = msgspec.json.encode((case.updated_at, case.id))
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        if len(cursor) > 200:
            raise ValueError("cursor too long")
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        updated_at, case_id = _cursor_decoder.decode(raw)
        if updated_at.tzinfo is None or not _plausible_id(case_id):
            raise ValueError("bad cursor content")
    except (ValueError, binascii.Error, msgspec.DecodeError) as exc:
        raise InvalidInput(
            [
                Issue(
                    path="cursor",
                    code="invalid_cursor",
                    message="Le curseur de pagination est invalide : reprenez depuis la "
                    "première page.",
                )
            ]
        ) from exc
    return updated_at.astimezone(UTC), case_id

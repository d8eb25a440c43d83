"""Data-subject rights (GDPR art. 15, 16, 17, 20; SEC-18, SEC-19, SEC-22) for ONE beneficiary.

Which rows refer to a person is read from the schema, not hand-written per table: starting
from their ``beneficiaries`` row, every table whose foreign key points to a selected row is
selected in turn (cases, then journal lines, syntheses, links, requests, surveys...), then the
tables that name records by id without a foreign key (``case_id``, ``beneficiary_id`` or
``record_id`` columns, e.g. the audit journal), then the pending e-mails addressed to the
person. `POLICIES` says, for every table of the schema, what erasure and the retention purge
do with those rows — delete, anonymise, or keep (with the reason) — and `UNLINKED` why a table
holds nothing about a beneficiary; a test walks the schema and fails on any table in neither,
so a new table cannot be forgotten. Every statement filters on the operator (SEC-22).

The export is the selected rows as JSON (documents decoded, PDFs in base64, secrets' digests
left out) plus a readable French PDF (`cep_core.documents.gdpr`). Erasure and anonymisation run
in one transaction: a failure leaves the file as it was.
"""

from __future__ import annotations

import base64
import enum
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from email import policy as email_policy
from email.parser import BytesParser
from email.utils import getaddresses
from typing import Any

import msgspec
from sqlalchemy import Column, Connection, Table, and_, delete, or_, select, update

from cep_core.clock import Clock
from cep_core.domain.case import Beneficiary, Case, beneficiary_search_key
from cep_core.domain.issues import InvalidInput, Issue
from cep_core.domain.requests import AppointmentRequest
from cep_core.domain.retention import (
    anonymised_beneficiary,
    anonymised_case,
    anonymised_request,
)
from cep_core.errors import CepError
from cep_core.plugins import Hooks
from cep_core.storage import tables
from cep_core.storage.database import Database
from cep_core.storage.ids import is_id, new_id
from cep_core.storage.repositories import BeneficiaryRepository

EXPORT_FORMAT = "cep-kit/export-rgpd"
EXPORT_VERSION = 1

# Columns that name a record of the person without a foreign key.
LINK_COLUMNS = ("beneficiary_id", "case_id", "record_id")
# Columns never exported: digests of secrets (links, invitations), claims and leases.
BINARY_MEDIA = {"pdf": "application/pdf", "message": "message/rfc822", "body": "application/json"}
SECRET_COLUMNS = frozenset({"digest", "claim", "lease", "csrf_secret", "password_hash"})
MAIL_TABLE = "mail_outbox"
# Stored answers of creating POSTs (REL-10), kept 24 h for replays: a case opened through the
# API is in its answer, so the person is found by the ids the answer names.
REPLAY_TABLE = "idempotency_keys"


class Action(enum.StrEnum):
    DELETE = "delete"
    ANONYMISE = "anonymise"
    KEEP = "keep"


ACTION_LABELS = {
    Action.DELETE: "supprimé(s)",
    Action.ANONYMISE: "anonymisé(s)",
    Action.KEEP: "conservé(s)",
}


class TablePolicy(msgspec.Struct, frozen=True, kw_only=True):
    """What happens to a table's rows about one person: on erasure (art. 17) and once the
    retention period is over; ``why`` explains it (in French, it is shown to operators)."""

    label: str
    erase: Action
    retention: Action
    why: str


# Every table that can hold data about a beneficiary. Anonymisers are in `_ANONYMISERS`.
POLICIES: Mapping[str, TablePolicy] = {
    "beneficiaries": TablePolicy(
        label="Identité et coordonnées",
        erase=Action.ANONYMISE,
        retention=Action.ANONYMISE,
        why="La ligne reste, sans nom ni coordonnées, car les dossiers anonymisés s'y rattachent.",
    ),
    "beneficiary_words": TablePolicy(
        label="Index de recherche par nom",
        erase=Action.DELETE,
        retention=Action.DELETE,
        why="Les mots du nom, pour la recherche : ils disparaissent avec le nom.",
    ),
    "cases": TablePolicy(
        label="Dossiers",
        erase=Action.ANONYMISE,
        retention=Action.ANONYMISE,
        why="Restent les faits structurés nécessaires aux statistiques (statut, niveau, "
        "dates, tranche d'âge, objectif, modalités, financements) ; réponses libres, "
        "notes et date de naissance exacte disparaissent.",
    ),
    "case_events": TablePolicy(
        label="Journal des dossiers",
        erase=Action.KEEP,
        retention=Action.KEEP,
        why="Journal en ajout seul : des codes (étape, motif, état) et des identifiants de "
        "conseillers, aucun contenu ni donnée d'identité.",
    ),
    "syntheses": TablePolicy(
        label="Documents de synthèse",
        erase=Action.DELETE,
        retention=Action.DELETE,
        why="Le PDF contient l'identité et le contenu du dossier.",
    ),
    "download_links": TablePolicy(
        label="Liens de téléchargement",
        erase=Action.DELETE,
        retention=Action.DELETE,
        why="Ils donnent accès aux documents de synthèse.",
    ),
    "appointment_requests": TablePolicy(
        label="Demandes de rendez-vous",
        erase=Action.ANONYMISE,
        retention=Action.ANONYMISE,
        why="Identité, coordonnées, message et date de naissance exacte disparaissent ; "
        "restent la référence, les dates, les préférences et la décision.",
    ),
    "rectifications": TablePolicy(
        label="Rectifications",
        erase=Action.ANONYMISE,
        retention=Action.ANONYMISE,
        why="La trace (quand, par qui, quels champs) reste ; le motif, texte libre, disparaît.",
    ),
    "audit_events": TablePolicy(
        label="Journal d'audit",
        erase=Action.KEEP,
        retention=Action.KEEP,
        why="Trace de responsabilité (qui a fait quoi, quand) sans aucun contenu ; purgée "
        "à l'échéance du journal d'audit.",
    ),
    "survey_invitations": TablePolicy(
        label="Invitations aux enquêtes",
        erase=Action.DELETE,
        retention=Action.KEEP,
        why="Des dates et un état, sans contenu : conservées pour les taux de réponse, "
        "supprimées sur demande d'effacement.",
    ),
    "survey_answers": TablePolicy(
        label="Réponses aux enquêtes",
        erase=Action.DELETE,
        retention=Action.ANONYMISE,
        why="Les notes restent pour les indicateurs, le commentaire libre disparaît ; tout "
        "est supprimé sur demande d'effacement.",
    ),
    REPLAY_TABLE: TablePolicy(
        label="Réponses rejouables de l'API",
        erase=Action.DELETE,
        retention=Action.DELETE,
        why="Copie, gardée 24 h au plus, de la réponse à une création (dossier, entretien) "
        "pour qu'un client puisse renvoyer sa requête sans rien créer deux fois.",
    ),
    MAIL_TABLE: TablePolicy(
        label="Messages électroniques en attente",
        erase=Action.DELETE,
        retention=Action.DELETE,
        why="Un message non encore envoyé contient l'adresse et le contenu ; une fois envoyé, "
        "son contenu est déjà vidé (reste le type et les dates).",
    ),
}

# Tables that hold nothing about a beneficiary, and why (the schema test reads this too).
UNLINKED: Mapping[str, str] = {
    "staff_users": "comptes des professionnels, pas des bénéficiaires",
    "staff_sessions": "sessions des professionnels",
    "access_tokens": "jetons d'accès des professionnels",
    "rate_limits": "compteurs techniques, clés hachées, quelques minutes",
    "operator_settings": "réglages de l'opérateur",
    "audit_purge_horizon": "ligne technique de la purge du journal d'audit",
    "staff_agencies": "antennes des professionnels",
    "report_exports": "dates et volumes des exports statistiques, sans donnée personnelle",
}


class BeneficiaryNotFound(CepError):
    def __init__(self, beneficiary_id: str) -> None:
        super().__init__(f"Aucune personne d'identifiant « {beneficiary_id} » chez cet opérateur.")
        self.beneficiary_id = beneficiary_id


class UndeclaredTable(CepError):
    """A table refers to the person but says nothing of erasure: refuse to half-erase."""

    def __init__(self, names: Sequence[str]) -> None:
        super().__init__(
            "Tables sans règle d'effacement : " + ", ".join(names) + " (voir "
            "cep_core.services.gdpr.POLICIES)."
        )


class Selection(msgspec.Struct, kw_only=True):
    """Every row about one person, by table, in dependency order (parents first)."""

    operator: str
    beneficiary_id: str
    rows: dict[str, list[dict[str, Any]]]

    def ids(self, table: str) -> list[str]:
        return [str(row["id"]) for row in self.rows.get(table, ())]


class TableOutcome(msgspec.Struct, frozen=True, kw_only=True):
    table: str
    label: str
    action: Action
    rows: int


class ErasureReport(msgspec.Struct, frozen=True, kw_only=True):
    beneficiary_id: str
    operator: str
    at: datetime
    outcomes: tuple[TableOutcome, ...]

    def count(self, table: str) -> int:
        return sum(o.rows for o in self.outcomes if o.table == table)


class Export(msgspec.Struct, frozen=True, kw_only=True):
    document: dict[str, Any]
    json: bytes
    pdf: bytes


# -- the schema walk ------------------------------------------------------------------------


def linked_tables(metadata_tables: Iterable[Table] | None = None) -> list[Table]:
    """Tables that can hold rows about a beneficiary, parents first.

    A table is linked when it is ``beneficiaries``, has a foreign key to a linked table, or a
    column named like `LINK_COLUMNS`; the mail outbox is linked by its recipients.
    """
    ordered = list(metadata_tables or tables.metadata.sorted_tables)
    linked: list[Table] = []
    names: set[str] = set()
    for table in ordered:
        by_column = any(name in table.c for name in LINK_COLUMNS)
        special = table.name in ("beneficiaries", MAIL_TABLE, REPLAY_TABLE)
        if special or _has_link_key(table, names) or by_column:
            linked.append(table)
            names.add(table.name)
    # Tables linked only by a loose id column go last: they may name any record selected.
    return sorted(linked, key=lambda t: not _has_link_key(t, names) and t.name != "beneficiaries")


def _has_link_key(table: Table, names: set[str]) -> bool:
    return any(fk.referred_table.name in names for fk in table.foreign_key_constraints)


def undeclared_tables() -> list[str]:
    """Tables of the schema in neither `POLICIES` nor `UNLINKED` (the test wants none)."""
    return sorted(
        t.name
        for t in tables.metadata.sorted_tables
        if t.name not in POLICIES and t.name not in UNLINKED
    )


def linked_without_policy() -> list[str]:
    return sorted(t.name for t in linked_tables() if t.name not in POLICIES)


def select_person(connection: Connection, operator: str, beneficiary_id: str) -> Selection:
    """Every row about the person, walking the foreign keys from their ``beneficiaries`` row."""
    rows: dict[str, list[dict[str, Any]]] = {}
    for table in linked_tables():
        if table.name in (MAIL_TABLE, REPLAY_TABLE):
            continue
        conditions = _conditions(table, rows, beneficiary_id)
        if not conditions:
            rows[table.name] = []
            continue
        statement = select(table).where(or_(*conditions))
        if "operator" in table.c:
            statement = statement.where(table.c.operator == operator)
        order = [c for c in (table.c.get("created_at"), table.c.get("at")) if c is not None]
        statement = statement.order_by(*order, *table.primary_key.columns)
        rows[table.name] = [dict(row._mapping) for row in connection.execute(statement)]
    rows[MAIL_TABLE] = _pending_mail(connection, operator, _addresses(rows))
    rows[REPLAY_TABLE] = _replayable_answers(
        connection, operator, {beneficiary_id, *_ids(rows, "cases"), *_ids(rows, "syntheses")}
    )
    return Selection(operator=operator, beneficiary_id=beneficiary_id, rows=rows)


def _select_known(connection: Connection, operator: str, beneficiary_id: str) -> Selection:
    """`select_person`, or `BeneficiaryNotFound` when the operator has no such person."""
    selection = select_person(connection, operator, beneficiary_id)
    if not selection.rows.get("beneficiaries"):
        raise BeneficiaryNotFound(beneficiary_id)
    return selection


def _conditions(
    table: Table, rows: Mapping[str, list[dict[str, Any]]], beneficiary_id: str
) -> list[Any]:
    if table.name == "beneficiaries":
        return [table.c.id == beneficiary_id]
    conditions: list[Any] = []
    for fk in table.foreign_key_constraints:
        parent = rows.get(fk.referred_table.name)
        if not parent:
            continue
        pairs = [
            (element.parent, element.column)
            for element in fk.elements
            if element.column.name != "operator"
        ]
        for column, referred in pairs:
            values = sorted({row[referred.name] for row in parent if row[referred.name]})
            if values:
                conditions.append(column.in_(values))
    known = {
        "beneficiary_id": [beneficiary_id],
        "case_id": _ids(rows, "cases"),
        "record_id": [
            beneficiary_id,
            *_ids(rows, "cases"),
            *_ids(rows, "syntheses"),
            *_ids(rows, "appointment_requests"),
        ],
    }
    for name in LINK_COLUMNS:
        loose: Column[Any] | None = table.c.get(name)
        if loose is not None and known[name] and not loose.foreign_keys:
            conditions.append(loose.in_(known[name]))
    return conditions


def _ids(rows: Mapping[str, list[dict[str, Any]]], table: str) -> list[str]:
    return [str(row["id"]) for row in rows.get(table, ())]


def _addresses(rows: Mapping[str, list[dict[str, Any]]]) -> set[str]:
    found: set[str] = set()
    for row in rows.get("beneficiaries", ()):
        email = json.loads(row["doc"]).get("email")
        if email:
            found.add(email.casefold())
    for row in rows.get("appointment_requests", ()):
        email = json.loads(row["doc"]).get("contact", {}).get("email")
        if email:
            found.add(email.casefold())
    return found


def recipients(message: bytes) -> set[str]:
    """The addresses a queued MIME message goes to (To, Cc, Bcc), case-folded."""
    if not message:
        return set()
    headers = BytesParser(policy=email_policy.default).parsebytes(message, headersonly=True)
    values = [str(headers.get(name, "")) for name in ("To", "Cc", "Bcc")]
    return {address.casefold() for _, address in getaddresses(values) if address}


def _replayable_answers(
    connection: Connection, operator: str, ids: set[str]
) -> list[dict[str, Any]]:
    """Stored API answers of the operator that name one of `ids` (at most a day of them)."""
    keys = tables.idempotency_keys
    candidates = connection.execute(
        select(keys)
        .where(keys.c.operator == operator, keys.c.body.is_not(None))
        .order_by(keys.c.created_at, keys.c.scope, keys.c.key)
    )
    wanted = [identifier.encode() for identifier in ids if identifier]
    return [dict(r._mapping) for r in candidates if any(i in bytes(r.body) for i in wanted)]


def _pending_mail(
    connection: Connection, operator: str, addresses: set[str]
) -> list[dict[str, Any]]:
    """Unsent messages of the operator addressed to the person (sent ones are emptied)."""
    if not addresses:
        return []
    outbox = tables.mail_outbox
    candidates = connection.execute(
        select(outbox)
        .where(outbox.c.operator == operator, outbox.c.status != "sent")
        .order_by(outbox.c.created_at, outbox.c.id)
    )
    return [dict(r._mapping) for r in candidates if recipients(bytes(r.message)) & addresses]


# -- export ---------------------------------------------------------------------------------


def _plain(table: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """A row as JSON values: documents decoded, binaries in base64, secrets left out."""
    out: dict[str, Any] = {}
    for name, value in row.items():
        if name in SECRET_COLUMNS:
            continue
        if isinstance(value, datetime):
            out[name] = value.astimezone(UTC).isoformat()
        elif isinstance(value, date):
            out[name] = value.isoformat()
        elif isinstance(value, bytes | bytearray | memoryview):
            data = bytes(value)
            media = BINARY_MEDIA.get(name, "application/octet-stream")
            out[name] = {
                "media_type": media,
                "encoding": "base64",
                "size": len(data),
                "data": base64.b64encode(data).decode("ascii"),
            }
        elif name == "doc" and isinstance(value, str):
            out[name] = json.loads(value)
        else:
            out[name] = value
    return out


def export_document(selection: Selection, *, generated_at: datetime) -> dict[str, Any]:
    """The machine-readable export (documented in docs/gdpr.md)."""
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "generated_at": generated_at.astimezone(UTC).isoformat(),
        "operator": selection.operator,
        "beneficiary_id": selection.beneficiary_id,
        "tables": {
            name: {
                "label": POLICIES[name].label if name in POLICIES else name,
                "rows": [_plain(name, row) for row in rows],
            }
            for name, rows in selection.rows.items()
        },
    }


def export_json(document: Mapping[str, Any]) -> bytes:
    """The export file's bytes (UTF-8, indented: a person may read it too)."""
    return json.dumps(document, ensure_ascii=False, indent=2).encode()


# -- erasure and anonymisation --------------------------------------------------------------

_case_decoder = msgspec.json.Decoder(Case)
_person_decoder = msgspec.json.Decoder(Beneficiary)
_request_decoder = msgspec.json.Decoder(AppointmentRequest)
_encoder = msgspec.json.Encoder()


def _rewrite_docs(
    conn: Connection,
    table: Table,
    rows: list[dict[str, Any]],
    anonymised: Callable[[str], Any],
    now: datetime,
    **values: Any,
) -> int:
    """Replace each row's document by `anonymised` of it and stamp ``anonymised_at`` (the
    first time only), with the table's own extra `values`."""
    for row in rows:
        conn.execute(
            update(table)
            .where(table.c.id == row["id"], table.c.operator == row["operator"])
            .values(
                doc=_encoder.encode(anonymised(row["doc"])).decode(),
                anonymised_at=row["anonymised_at"] or now,
                **values,
            )
        )
    return len(rows)


def _anonymise_beneficiaries(conn: Connection, rows: list[dict[str, Any]], now: datetime) -> int:
    count = _rewrite_docs(
        conn,
        tables.beneficiaries,
        rows,
        lambda doc: anonymised_beneficiary(_person_decoder.decode(doc)),
        now,
        search_name=None,  # no longer findable by name
        updated_at=now,
    )
    for row in rows:
        BeneficiaryRepository(conn, row["operator"]).index_name(row["id"], None)
    return count


def _anonymise_cases(conn: Connection, rows: list[dict[str, Any]], now: datetime) -> int:
    """The case document loses its content; ``updated_at`` stays (indicators date by it)."""
    table = tables.cases
    return _rewrite_docs(
        conn,
        table,
        rows,
        lambda doc: anonymised_case(_case_decoder.decode(doc)),
        now,
        version=table.c.version + 1,
    )


def anonymise_request_rows(conn: Connection, rows: list[dict[str, Any]], now: datetime) -> int:
    table = tables.appointment_requests
    return _rewrite_docs(
        conn,
        table,
        rows,
        lambda doc: anonymised_request(_request_decoder.decode(doc)),
        now,
        version=table.c.version + 1,
    )


def _anonymise_rectifications(conn: Connection, rows: list[dict[str, Any]], now: datetime) -> int:
    table = tables.rectifications
    ids = [row["id"] for row in rows]
    if ids:
        conn.execute(update(table).where(table.c.id.in_(ids)).values(reason=None))
    return len(rows)


def _anonymise_survey_answers(conn: Connection, rows: list[dict[str, Any]], now: datetime) -> int:
    """Scores stay (indicators), the free comment goes."""
    table = tables.metadata.tables["survey_answers"]
    for row in rows:
        doc = json.loads(row["doc"])
        if isinstance(doc, dict) and doc.get("comment") is not None:
            doc["comment"] = None
            conn.execute(update(table).where(table.c.id == row["id"]).values(doc=json.dumps(doc)))
    return len(rows)


Anonymiser = Callable[[Connection, list[dict[str, Any]], datetime], int]
_ANONYMISERS: Mapping[str, Anonymiser] = {
    "beneficiaries": _anonymise_beneficiaries,
    "cases": _anonymise_cases,
    "appointment_requests": anonymise_request_rows,
    "rectifications": _anonymise_rectifications,
    "survey_answers": _anonymise_survey_answers,
}


def apply_policy(
    connection: Connection, selection: Selection, *, erase: bool, now: datetime
) -> list[TableOutcome]:
    """Erase (``erase=True``) or anonymise for retention every row of `selection`.

    Children go first (links before syntheses, answers before invitations), so foreign keys
    hold at every statement. Raises `UndeclaredTable` before writing anything when a table
    about the person has no policy.
    """
    missing = [name for name, rows in selection.rows.items() if rows and name not in POLICIES]
    if missing:
        raise UndeclaredTable(missing)
    outcomes: list[TableOutcome] = []
    for name in reversed(list(selection.rows)):
        rows = selection.rows[name]
        policy = POLICIES[name]
        action = policy.erase if erase else policy.retention
        if not rows:
            continue
        if action is Action.DELETE:
            table = tables.metadata.tables[name]
            keys = list(table.primary_key.columns)
            for row in rows:
                connection.execute(
                    delete(table).where(and_(*(key == row[key.name] for key in keys)))
                )
            count = len(rows)
        elif action is Action.ANONYMISE:
            count = _ANONYMISERS[name](connection, rows, now)
        else:
            count = len(rows)
        outcomes.append(TableOutcome(table=name, label=policy.label, action=action, rows=count))
    outcomes.reverse()
    return outcomes


# -- the service ----------------------------------------------------------------------------


class GdprService:
    """Export, rectification and erasure of one person's data, for their operator only."""

    def __init__(self, database: Database, hooks: Hooks, *, clock: Clock) -> None:
        self._database = database
        self._hooks = hooks
        self._clock = clock

    def _now(self) -> datetime:
        return self._clock().astimezone(UTC)

    def _check(self, operator: str, beneficiary_id: str) -> None:
        self._hooks.operator(operator)  # UnknownOperator when not installed
        if not is_id(beneficiary_id):
            raise BeneficiaryNotFound(beneficiary_id)

    def select(self, operator: str, beneficiary_id: str) -> Selection:
        """Every row about the person; `BeneficiaryNotFound` when this operator has none
        (another operator's person is "not found" too: their existence is not revealed)."""
        self._check(operator, beneficiary_id)
        with self._database.read() as connection:
            return _select_known(connection, operator, beneficiary_id)

    def export(self, operator: str, beneficiary_id: str) -> Export:
        """The JSON export and its readable PDF (art. 15 and 20)."""
        from cep_core.documents.gdpr import render_export

        selection = self.select(operator, beneficiary_id)
        now = self._now()
        document = export_document(selection, generated_at=now)
        operator_name = self._operator_name(operator, now.date())
        pdf = render_export(document, operator_name=operator_name)
        return Export(document=document, json=export_json(document), pdf=pdf)

    def _operator_name(self, operator: str, on: date) -> str:
        return self._hooks.operator(operator).label(on)

    def erase(self, operator: str, beneficiary_id: str) -> ErasureReport:
        """Erase the person (art. 17) in one transaction; what was done, table by table."""
        self._check(operator, beneficiary_id)
        now = self._now()
        with self._database.write() as connection:
            selection = _select_known(connection, operator, beneficiary_id)
            outcomes = apply_policy(connection, selection, erase=True, now=now)
        return ErasureReport(
            beneficiary_id=beneficiary_id, operator=operator, at=now, outcomes=tuple(outcomes)
        )

    def rectify(
        self,
        operator: str,
        beneficiary_id: str,
        changes: Mapping[str, str | None],
        *,
        actor: str | None,
        reason: str,
    ) -> Beneficiary:
        """Correct the person's identity or contact details (art. 16) and keep the trail:
        when, by whom, which fields, why — not the values."""
        self._check(operator, beneficiary_id)
        issues = _rectification_issues(changes, reason)
        if issues:
            raise InvalidInput(issues)
        now = self._now()
        table = tables.beneficiaries
        with self._database.write() as connection:
            doc = connection.execute(
                select(table.c.doc).where(
                    table.c.id == beneficiary_id,
                    table.c.operator == operator,
                    table.c.anonymised_at.is_(None),
                )
            ).scalar_one_or_none()
            if doc is None:
                raise BeneficiaryNotFound(beneficiary_id)
            person = _person_decoder.decode(doc)
            values = {
                k: (v.strip() or None) if isinstance(v, str) else v for k, v in changes.items()
            }
            changed = sorted(k for k, v in values.items() if getattr(person, k) != v)
            if not changed:
                return person
            corrected = msgspec.structs.replace(person, **values)
            search_name = beneficiary_search_key(corrected.first_name, corrected.last_name)[
                : tables.SEARCH_NAME_LENGTH
            ]
            connection.execute(
                update(table)
                .where(table.c.id == beneficiary_id, table.c.operator == operator)
                .values(
                    doc=_encoder.encode(corrected).decode(),
                    search_name=search_name,
                    updated_at=now,
                )
            )
            BeneficiaryRepository(connection, operator).index_name(beneficiary_id, search_name)
            record_rectification(
                connection,
                operator=operator,
                beneficiary_id=beneficiary_id,
                case_id=None,
                at=now,
                actor=actor,
                fields=changed,
                reason=reason.strip(),
            )
        return corrected

    def rectifications(self, operator: str, beneficiary_id: str) -> list[dict[str, Any]]:
        table = tables.rectifications
        with self._database.read() as connection:
            rows = connection.execute(
                select(table)
                .where(table.c.operator == operator, table.c.beneficiary_id == beneficiary_id)
                .order_by(table.c.at, table.c.id)
            )
            return [dict(row._mapping) for row in rows]


RECTIFIABLE = {"first_name": 100, "last_name": 100, "email": 254, "phone": 30}
REASON_MAX_LENGTH = 500


def _rectification_issues(changes: Mapping[str, str | None], reason: str) -> list[Issue]:
    issues: list[Issue] = []
    for name, value in changes.items():
        if name not in RECTIFIABLE:
            issues.append(
                Issue(path=name, code="unknown_field", message=f"Champ non rectifiable : {name}.")
            )
        elif value is not None and len(value.strip()) > RECTIFIABLE[name]:
            issues.append(
                Issue(
                    path=name,
                    code="too_long",
                    message=f"{RECTIFIABLE[name]} caractères au plus.",
                )
            )
        elif name in ("first_name", "last_name") and not (value or "").strip():
            issues.append(Issue(path=name, code="missing_field", message="Champ obligatoire."))
    if not changes:
        issues.append(
            Issue(path="", code="missing_field", message="Indiquez au moins un champ à corriger.")
        )
    if not reason.strip() or len(reason.strip()) > REASON_MAX_LENGTH:
        issues.append(
            Issue(
                path="reason",
                code="missing_field",
                message=f"Indiquez le motif de la rectification ({REASON_MAX_LENGTH} "
                "caractères au plus).",
            )
        )
    return issues


def record_rectification(
    connection: Connection,
    *,
    operator: str,
    beneficiary_id: str,
    case_id: str | None,
    at: datetime,
    actor: str | None,
    fields: Sequence[str],
    reason: str | None,
) -> None:
    """One line of the rectification trail, in the caller's transaction."""
    connection.execute(
        tables.rectifications.insert().values(
            id=new_id(),
            operator=operator,
            beneficiary_id=beneficiary_id,
            case_id=case_id,
            at=at,
            actor=actor,
            fields=",".join(fields)[: tables.REASON_LENGTH],
            reason=None if reason is None else reason[:REASON_MAX_LENGTH],
        )
    )

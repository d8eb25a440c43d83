"""The tables, as SQLAlchemy Core metadata (the migrations create exactly these).

Aggregates are msgspec JSON documents (``doc``) plus the columns queries filter and sort on.
Every table carries ``operator``: repositories filter on it, and composite foreign keys make
the database itself refuse a case pointing at another operator's beneficiary, or an event
filed under another operator's case (SEC-01, SEC-22).
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from cep_core.storage.types import UtcDateTime

ID_LENGTH = 36
OPERATOR_LENGTH = 64
ACTOR_LENGTH = 64
REASON_LENGTH = 500
SEARCH_NAME_LENGTH = 500

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

beneficiaries = Table(
    "beneficiaries",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("operator", String(OPERATOR_LENGTH), nullable=False),
    Column("doc", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # The name without accents or case (`domain.case.search_key`), for name search.
    Column("search_name", String(SEARCH_NAME_LENGTH), nullable=True),
    # Target of the composite foreign key from cases: same person, same operator.
    UniqueConstraint("id", "operator"),
    Index("ix_beneficiaries_operator_created", "operator", "created_at", "id"),
)

cases = Table(
    "cases",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("operator", String(OPERATOR_LENGTH), nullable=False),
    Column("beneficiary_id", String(ID_LENGTH), nullable=False),
    Column("status", String(20), nullable=False),
    Column("level", Integer, nullable=True),
    Column("counsellor_id", String(ACTOR_LENGTH), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
    Column("doc", Text, nullable=False),
    # Since 0012: the person's `beneficiaries.search_name`, copied so that a name search
    # checks names inside the list indexes below (see `BeneficiaryRepository.index_name`).
    Column("search_name", String(SEARCH_NAME_LENGTH), nullable=True),
    ForeignKeyConstraint(
        ["beneficiary_id", "operator"], ["beneficiaries.id", "beneficiaries.operator"]
    ),
    UniqueConstraint("id", "operator"),
    CheckConstraint("version >= 1", name="version_positive"),
    CheckConstraint("level IS NULL OR level IN (1, 2)", name="level_known"),
    # Listing: newest first, keyset on (updated_at, id), with or without one filter.
    # search_name last (0012): a name search walks these two newest first from the index alone.
    Index("ix_cases_operator_updated", "operator", "updated_at", "id", "search_name"),
    Index("ix_cases_operator_status", "operator", "status", "updated_at", "id"),
    Index(
        "ix_cases_operator_counsellor",
        "operator",
        "counsellor_id",
        "updated_at",
        "id",
        "search_name",
    ),
    Index("ix_cases_operator_level", "operator", "level", "updated_at", "id"),
    # (updated_at, id) too since 0011: a name search sorts its matches from the index alone.
    Index("ix_cases_operator_beneficiary", "operator", "beneficiary_id", "updated_at", "id"),
)

case_events = Table(
    "case_events",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("case_id", String(ID_LENGTH), nullable=False),
    Column("operator", String(OPERATOR_LENGTH), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("actor", String(ACTOR_LENGTH), nullable=True),
    Column("from_status", String(20), nullable=True),
    Column("to_status", String(20), nullable=True),
    Column("reason", String(REASON_LENGTH), nullable=True),
    ForeignKeyConstraint(["case_id", "operator"], ["cases.id", "cases.operator"]),
    UniqueConstraint("case_id", "seq"),
    CheckConstraint("seq >= 1", name="seq_positive"),
    Index("ix_case_events_operator_at", "operator", "at"),
)

# Documents de synthèse: one row per version, the PDF with it (see migration 0003).
syntheses = Table(
    "syntheses",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("case_id", String(ID_LENGTH), nullable=False),
    Column("operator", String(OPERATOR_LENGTH), nullable=False),
    Column("level", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("author", String(ACTOR_LENGTH), nullable=True),
    Column("size", Integer, nullable=False),
    Column("pdf", LargeBinary, nullable=False),
    ForeignKeyConstraint(["case_id", "operator"], ["cases.id", "cases.operator"]),
    UniqueConstraint("case_id", "level", "version"),
    CheckConstraint("level IN (1, 2)", name="level_known"),
    CheckConstraint("version >= 1", name="version_positive"),
    CheckConstraint("size >= 0", name="size_positive"),
    Index("ix_syntheses_operator_case", "operator", "case_id", "level", "version"),
)

# Staff accounts, their server-side sessions and personal access tokens (migration 0004).
# A user belongs to one operator, except platform admins (operator NULL): they manage plugins
# and accounts but see no beneficiary data.
staff_users = Table(
    "staff_users",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("operator", String(OPERATOR_LENGTH), nullable=True),
    Column("email", String(254), nullable=False),
    Column("display_name", String(120), nullable=False),
    Column("role", String(20), nullable=False),
    Column("password_hash", String(200), nullable=True),
    Column("active", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("email"),
    UniqueConstraint("id", "operator"),
    CheckConstraint("role IN ('counsellor', 'manager', 'admin')", name="role_known"),
    CheckConstraint("role = 'admin' OR operator IS NOT NULL", name="operator_required"),
    CheckConstraint("active IN (0, 1)", name="active_flag"),
    Index("ix_staff_users_operator_name", "operator", "display_name"),
)

# Only the SHA-256 of the cookie's token is stored: a leaked table opens no session.
staff_sessions = Table(
    "staff_sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("user_id", String(ID_LENGTH), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("csrf_secret", String(64), nullable=False),
    ForeignKeyConstraint(["user_id"], ["staff_users.id"], ondelete="CASCADE"),
    Index("ix_staff_sessions_user", "user_id"),
    Index("ix_staff_sessions_expires", "expires_at"),
)

access_tokens = Table(
    "access_tokens",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("user_id", String(ID_LENGTH), nullable=False),
    Column("operator", String(OPERATOR_LENGTH), nullable=True),
    Column("name", String(80), nullable=False),
    Column("digest", String(64), nullable=False),
    Column("hint", String(12), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=True),
    Column("last_used_at", UtcDateTime, nullable=True),
    Column("revoked_at", UtcDateTime, nullable=True),
    ForeignKeyConstraint(["user_id"], ["staff_users.id"], ondelete="CASCADE"),
    UniqueConstraint("digest"),
    Index("ix_access_tokens_operator_user", "operator", "user_id"),
)

# Fixed-window counters shared by every app instance (SEC-15): key, window start, hits.
rate_limits = Table(
    "rate_limits",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("window_start", Integer, primary_key=True),
    Column("hits", Integer, nullable=False),
    Index("ix_rate_limits_window", "window_start"),
)

# E-mail outbox (migration 0005): a message is written in the transaction of the change it
# announces, so a rollback sends nothing, and `cep_core.mail.outbox` sends it after commit,
# retrying with backoff. ``message`` holds the encoded MIME bytes until sent, then is emptied
# (no personal data kept longer than needed); ``last_error`` is short and names no person.
mail_outbox = Table(
    "mail_outbox",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("operator", String(OPERATOR_LENGTH), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("status", String(10), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("last_error", String(200), nullable=True),
    Column("sent_at", UtcDateTime, nullable=True),
    Column("message", LargeBinary, nullable=False),
    CheckConstraint("status IN ('pending', 'sent', 'failed')", name="status_known"),
    CheckConstraint("attempts >= 0", name="attempts_positive"),
    Index("ix_mail_outbox_status_due", "status", "next_attempt_at"),
    Index("ix_mail_outbox_operator_created", "operator", "created_at"),
)

# Single-use links to download a synthesis (migration 0005). Only the SHA-256 of the secret is
# stored: a leaked table opens no document. The links go with their case or synthesis.
download_links = Table(
    "download_links",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("digest", String(64), nullable=False),
    Column("operator", String(OPERATOR_LENGTH), nullable=False),
    Column("case_id", String(ID_LENGTH), nullable=False),
    Column("synthesis_id", String(ID_LENGTH), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("used_at", UtcDateTime, nullable=True),
    ForeignKeyConstraint(
        ["case_id", "operator"], ["cases.id", "cases.operator"], ondelete="CASCADE"
    ),
    ForeignKeyConstraint(["synthesis_id"], ["syntheses.id"], ondelete="CASCADE"),
    UniqueConstraint("digest"),
    CheckConstraint("expires_at > created_at", name="expiry_after_creation"),
    Index("ix_download_links_operator_case", "operator", "case_id"),
    Index("ix_download_links_synthesis", "synthesis_id"),
    Index("ix_download_links_expires", "expires_at"),
)

# Appointment requests from the public form (migration 0006): the operator's queue. ``claim``
# and ``claimed_at`` mark a request a counsellor is accepting (a case is being opened), so
# that two counsellors cannot both accept it; a claim older than the service's lease is void.
appointment_requests = Table(
    "appointment_requests",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("operator", String(OPERATOR_LENGTH), nullable=False),
    Column("reference", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
    Column("claim", String(ID_LENGTH), nullable=True),
    Column("claimed_at", UtcDateTime, nullable=True),
    Column("case_id", String(ID_LENGTH), nullable=True),
    Column("doc", Text, nullable=False),
    ForeignKeyConstraint(["case_id", "operator"], ["cases.id", "cases.operator"]),
    UniqueConstraint("reference"),
    CheckConstraint("status IN ('pending', 'accepted', 'declined')", name="status_known"),
    CheckConstraint("version >= 1", name="version_positive"),
    # The queue: one operator's requests of one status, in order of arrival.
    Index("ix_appointment_requests_operator_queue", "operator", "status", "created_at", "id"),
    Index("ix_appointment_requests_operator_created", "operator", "created_at", "id"),
)

# One row per operator that saved its settings (migration 0006); defaults otherwise.
operator_settings = Table(
    "operator_settings",
    metadata,
    Column("operator", String(OPERATOR_LENGTH), primary_key=True),
    Column("doc", Text, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
    CheckConstraint("version >= 1", name="version_positive"),
)

# Audit journal (migration 0007, SEC-12): one row per access to a beneficiary's data and per
# sign-in event: who (a pseudonymous account id, never an e-mail), what, on which record, with
# which outcome; never any case content. Append-only: database triggers refuse every UPDATE,
# and every DELETE of a row not older than the horizon `audit_purge_horizon` holds, which only
# the retention purge sets (and clears) inside its own transaction.
AUDIT_ACTION_LENGTH = 40
AUDIT_RECORD_TYPE_LENGTH = 40
AUDIT_RECORD_ID_LENGTH = 64
AUDIT_OUTCOME_LENGTH = 20

audit_events = Table(
    "audit_events",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("at", UtcDateTime, nullable=False),
    # NULL for events outside any operator (a failed sign-in with an unknown e-mail, admins).
    Column("operator", String(OPERATOR_LENGTH), nullable=True),
    Column("actor", String(ACTOR_LENGTH), nullable=False),
    Column("action", String(AUDIT_ACTION_LENGTH), nullable=False),
    Column("record_type", String(AUDIT_RECORD_TYPE_LENGTH), nullable=False),
    Column("record_id", String(AUDIT_RECORD_ID_LENGTH), nullable=True),
    Column("outcome", String(AUDIT_OUTCOME_LENGTH), nullable=False),
    # Managers browse their operator's journal, newest first (keyset on (at, id)).
    Index("ix_audit_events_operator_at", "operator", "at", "id"),
    # The retention purge deletes by age across operators.
    Index("ix_audit_events_at", "at"),
    # The GDPR export lists the events about one beneficiary's records.
    Index("ix_audit_events_record", "record_id", "at"),
)

# A single row: the purge horizon. NULL outside the purge's transaction, so the DELETE trigger
# on audit_events lets nothing go; the purge sets it, deletes, and clears it again.
audit_purge_horizon = Table(
    "audit_purge_horizon",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("horizon", UtcDateTime, nullable=True),
    CheckConstraint("id = 1", name="single_row"),
)

# Idempotency keys (migration 0008, REL-10): per caller (``scope``, a hash of operator and
# actor) and key, the fingerprint of the first request and, once it ended, its answer to
# replay. ``running`` rows hold a lease (``locked_until``) so a dead process cannot block a
# key forever; the purge deletes rows past ``expires_at`` (24 h after the first request).
IDEMPOTENCY_KEY_LENGTH = 255

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("scope", String(64), primary_key=True),
    Column("key", String(IDEMPOTENCY_KEY_LENGTH), primary_key=True),
    Column("operator", String(OPERATOR_LENGTH), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("state", String(10), nullable=False),
    Column("lease", String(32), nullable=True),
    Column("locked_until", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("status", Integer, nullable=True),
    Column("headers", Text, nullable=True),
    Column("body", LargeBinary, nullable=True),
    CheckConstraint("state IN ('running', 'done')", name="state_known"),
    Index("ix_idempotency_keys_expires_at", "expires_at"),
)

# Activity reporting (migration 0010). The indicators count a period's entries by month,
# level and counsellor from this index alone.
Index(
    "ix_cases_operator_created",
    cases.c.operator,
    cases.c.created_at,
    cases.c.level,
    cases.c.counsellor_id,
)

# Activity reporting (migration 0010). The agency (antenne) of a staff member, set by the
# operator's manager; a case's agency is its counsellor's.
staff_agencies = Table(
    "staff_agencies",
    metadata,
    Column("user_id", String(ID_LENGTH), primary_key=True),
    Column("operator", String(OPERATOR_LENGTH), nullable=False),
    Column("agency", String(80), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    ForeignKeyConstraint(
        ["user_id", "operator"], ["staff_users.id", "staff_users.operator"], ondelete="CASCADE"
    ),
    Index("ix_staff_agencies_operator_agency", "operator", "agency"),
)

# Satisfaction (one per case and level) and six-month follow-up surveys (one per case). Only
# the SHA-256 of the link's secret is stored, set when the invitation is sent.
survey_invitations = Table(
    "survey_invitations",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("operator", String(OPERATOR_LENGTH), nullable=False),
    Column("case_id", String(ID_LENGTH), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("level", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("due_at", UtcDateTime, nullable=False),
    Column("digest", String(64), nullable=True),
    Column("sent_at", UtcDateTime, nullable=True),
    Column("expires_at", UtcDateTime, nullable=True),
    Column("answered_at", UtcDateTime, nullable=True),
    ForeignKeyConstraint(
        ["case_id", "operator"], ["cases.id", "cases.operator"], ondelete="CASCADE"
    ),
    UniqueConstraint("digest"),
    UniqueConstraint("case_id", "kind", "level"),
    CheckConstraint("kind IN ('satisfaction', 'follow_up')", name="kind_known"),
    CheckConstraint("status IN ('scheduled', 'sent', 'answered', 'skipped')", name="status_known"),
    CheckConstraint("level IN (1, 2)", name="level_known"),
    Index("ix_survey_invitations_status_due", "status", "due_at"),
    Index("ix_survey_invitations_operator_case", "operator", "case_id"),
)

# The answers: scores and situation as columns (aggregated in SQL), the whole answer in doc.
survey_answers = Table(
    "survey_answers",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("invitation_id", String(ID_LENGTH), nullable=False),
    Column("operator", String(OPERATOR_LENGTH), nullable=False),
    Column("case_id", String(ID_LENGTH), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("level", Integer, nullable=False),
    Column("answered_at", UtcDateTime, nullable=False),
    Column("satisfaction", Integer, nullable=True),
    Column("situation", String(30), nullable=True),
    Column("doc", Text, nullable=False),
    ForeignKeyConstraint(["invitation_id"], ["survey_invitations.id"], ondelete="CASCADE"),
    ForeignKeyConstraint(
        ["case_id", "operator"], ["cases.id", "cases.operator"], ondelete="CASCADE"
    ),
    UniqueConstraint("invitation_id"),
    CheckConstraint(
        "satisfaction IS NULL OR satisfaction BETWEEN 1 AND 5", name="satisfaction_range"
    ),
    Index("ix_survey_answers_operator_answered", "operator", "answered_at"),
)

# When each statistical export was made (`cep report`, the dashboard): the five-month warning.
report_exports = Table(
    "report_exports",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("operator", String(OPERATOR_LENGTH), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("format", String(10), nullable=False),
    Column("period_from", Date, nullable=False),
    Column("period_to", Date, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("actor", String(ACTOR_LENGTH), nullable=True),
    Column("rows", Integer, nullable=False),
    Index("ix_report_exports_operator_created", "operator", "created_at"),
)

# Data-subject rights and retention (migration 0009): when a row was anonymised (retention
# or erasure), and the trail of rectifications — which fields, by whom, why; never values.
beneficiaries.append_column(Column("anonymised_at", UtcDateTime, nullable=True))
cases.append_column(Column("anonymised_at", UtcDateTime, nullable=True))
appointment_requests.append_column(Column("anonymised_at", UtcDateTime, nullable=True))

rectifications = Table(
    "rectifications",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("operator", String(OPERATOR_LENGTH), nullable=False),
    Column("beneficiary_id", String(ID_LENGTH), nullable=False),
    Column("case_id", String(ID_LENGTH), nullable=True),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(ACTOR_LENGTH), nullable=True),
    Column("fields", String(REASON_LENGTH), nullable=False),
    Column("reason", String(REASON_LENGTH), nullable=True),
    ForeignKeyConstraint(
        ["beneficiary_id", "operator"], ["beneficiaries.id", "beneficiaries.operator"]
    ),
    ForeignKeyConstraint(["case_id", "operator"], ["cases.id", "cases.operator"]),
    Index("ix_rectifications_operator_beneficiary", "operator", "beneficiary_id", "at"),
)

# Case lists and name search at scale (migration 0011). A counsellor's own cases filtered by
# status get their own index (the counsellor index alone would read every case they ever had).
# Name search looks words up in `beneficiary_words`: one row per word of `search_name`, so
# "words starting with mar" is a range of an index instead of a LIKE '%mar%' over every
# person. Whoever changes `search_name` calls `BeneficiaryRepository.index_name` in the same
# transaction (rectification, anonymisation); deleting a person deletes its words (CASCADE).
NAME_WORD_LENGTH = 200

Index(
    "ix_cases_operator_counsellor_status",
    cases.c.operator,
    cases.c.counsellor_id,
    cases.c.status,
    cases.c.updated_at,
    cases.c.id,
)

beneficiary_words = Table(
    "beneficiary_words",
    metadata,
    Column("operator", String(OPERATOR_LENGTH), primary_key=True),
    Column("word", String(NAME_WORD_LENGTH), primary_key=True),
    Column("beneficiary_id", String(ID_LENGTH), primary_key=True),
    ForeignKeyConstraint(
        ["beneficiary_id", "operator"],
        ["beneficiaries.id", "beneficiaries.operator"],
        ondelete="CASCADE",
    ),
    # Deleting or re-indexing one person's words.
    Index("ix_beneficiary_words_beneficiary", "beneficiary_id"),
    sqlite_with_rowid=False,
)

# Name search without a probe per person (migration 0012). Each word row carries its person's
# whole `search_name` (kept in step by `BeneficiaryRepository.index_name`), so the people
# matching EVERY typed word are found by reading the rarest word's index range alone; the
# cases also carry it (column above), so a common name is found by walking a list index.
beneficiary_words.append_column(Column("search_name", String(SEARCH_NAME_LENGTH), nullable=True))
Index(
    "ix_beneficiary_words_names",
    beneficiary_words.c.operator,
    beneficiary_words.c.word,
    beneficiary_words.c.beneficiary_id,
    beneficiary_words.c.search_name,
)

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
    ForeignKeyConstraint(
        ["beneficiary_id", "operator"], ["beneficiaries.id", "beneficiaries.operator"]
    ),
    UniqueConstraint("id", "operator"),
    CheckConstraint("version >= 1", name="version_positive"),
    CheckConstraint("level IS NULL OR level IN (1, 2)", name="level_known"),
    # Listing: newest first, keyset on (updated_at, id), with or without one filter.
    Index("ix_cases_operator_updated", "operator", "updated_at", "id"),
    Index("ix_cases_operator_status", "operator", "status", "updated_at", "id"),
    Index("ix_cases_operator_counsellor", "operator", "counsellor_id", "updated_at", "id"),
    Index("ix_cases_operator_level", "operator", "level", "updated_at", "id"),
    Index("ix_cases_operator_beneficiary", "operator", "beneficiary_id"),
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

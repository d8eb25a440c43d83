"""The schema walk: every table is either about beneficiaries, with a rule for erasure and
retention, or declared unrelated with a reason — so a new table cannot be forgotten."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKeyConstraint, MetaData, String, Table

from cep_core.services import gdpr
from cep_core.storage import tables


def test_every_table_of_the_schema_is_declared() -> None:
    assert gdpr.undeclared_tables() == []


def test_every_table_that_can_name_a_beneficiary_has_a_policy() -> None:
    linked = {t.name for t in gdpr.linked_tables()}
    assert {"beneficiaries", "cases", "case_events", "syntheses", "download_links"} <= linked
    assert {"appointment_requests", "mail_outbox", "rectifications"} <= linked
    assert gdpr.linked_without_policy() == []


def test_tables_declared_unrelated_really_have_no_path_to_a_beneficiary() -> None:
    linked = {t.name for t in gdpr.linked_tables()}
    assert linked.isdisjoint(gdpr.UNLINKED)
    assert set(gdpr.POLICIES).isdisjoint(gdpr.UNLINKED)
    for name, reason in gdpr.UNLINKED.items():
        assert len(reason) > 10, name


def test_policies_name_real_tables_and_say_why() -> None:
    for name, policy in gdpr.POLICIES.items():
        assert name in tables.metadata.tables, name
        assert policy.why and policy.label
        if policy.erase is gdpr.Action.ANONYMISE or policy.retention is gdpr.Action.ANONYMISE:
            assert name in gdpr._ANONYMISERS, name


def test_a_new_table_pointing_at_a_case_is_detected() -> None:
    """Foreign keys, even through another table, and loose id columns all count."""
    extra = MetaData()
    for table in tables.metadata.sorted_tables:
        table.to_metadata(extra)
    notes = Table(
        "extra_notes",
        extra,
        Column("id", String(36), primary_key=True),
        Column("operator", String(64)),
        Column("case_id", String(36)),
        ForeignKeyConstraint(["case_id", "operator"], ["cases.id", "cases.operator"]),
    )
    replies = Table(
        "extra_replies",
        extra,
        Column("id", String(36), primary_key=True),
        Column("note_id", String(36)),
        ForeignKeyConstraint(["note_id"], ["extra_notes.id"]),
    )
    loose = Table(
        "extra_loose",
        extra,
        Column("id", String(36), primary_key=True),
        Column("record_id", String(36)),
    )
    unrelated = Table("extra_unrelated", extra, Column("id", String(36), primary_key=True))
    linked = {t.name for t in gdpr.linked_tables(extra.sorted_tables)}
    assert {notes.name, replies.name, loose.name} <= linked
    assert unrelated.name not in linked

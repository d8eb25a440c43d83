"""Export (art. 15/20), erasure (art. 17) and rectification (art. 16) of one person, on SQLite
and PostgreSQL, with another person of another operator beside them who must stay untouched."""

from __future__ import annotations

import base64
import json
import subprocess
import time

import msgspec
import pytest
from sqlalchemy import func, select

from cep_core.domain.case import Beneficiary, Case
from cep_core.domain.forms import FormChannel
from cep_core.domain.issues import InvalidInput
from cep_core.domain.requests import AppointmentRequest
from cep_core.kit import Kit
from cep_core.services.gdpr import POLICIES, Action, BeneficiaryNotFound, export_document
from cep_core.storage import tables

from .conftest import FREE_TEXT, SECRET_NOTE, Seeded, seed_person


def count(kit: Kit, table: str, **where: str) -> int:
    t = tables.metadata.tables[table]
    with kit.database.read() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(t).where(*(t.c[k] == v for k, v in where.items()))
            ).scalar_one()
        )


def dump(kit: Kit, table: str, **where: str) -> str:
    t = tables.metadata.tables[table]
    with kit.database.read() as conn:
        rows = conn.execute(select(t).where(*(t.c[k] == v for k, v in where.items()))).all()
    return repr([tuple(row) for row in rows])


def test_the_export_holds_every_record_and_nothing_of_anyone_else(kit: Kit) -> None:
    person = seed_person(kit, "op_a")
    other = seed_person(kit, "op_b", first_name="Élodie", last_name="Lefèvre")
    # The JSON on both databases; the PDF (slow to render) in the sqlite-only test below.
    selection = kit.gdpr.select("op_a", person.beneficiary_id)
    document = json.loads(json.dumps(export_document(selection, generated_at=kit.clock())))
    assert document["format"] == "cep-kit/export-rgpd" and document["version"] == 1
    rows = {name: section["rows"] for name, section in document["tables"].items()}
    assert [r["doc"]["email"] for r in rows["beneficiaries"]] == [person.email]
    assert sorted(r["id"] for r in rows["cases"]) == sorted(person.case_ids)
    assert len(rows["case_events"]) == 2
    assert sorted(r["id"] for r in rows["syntheses"]) == sorted(person.synthesis_ids)
    for synthesis in rows["syntheses"]:
        assert synthesis["pdf"]["media_type"] == "application/pdf"
        assert base64.b64decode(synthesis["pdf"]["data"]) == person.pdf
    assert len(rows["download_links"]) == 2
    assert all("digest" not in link for link in rows["download_links"])
    assert [r["id"] for r in rows["appointment_requests"]] == [person.request_id]
    assert len(rows["mail_outbox"]) == 1
    assert len(rows["rectifications"]) == 1
    assert len(rows["survey_invitations"]) == 1 and len(rows["survey_answers"]) == 1
    assert sorted(r["record_id"] for r in rows["audit_events"]) == sorted(person.case_ids)
    # Documents are decoded, not strings; the confidential notes are the person's data too.
    case = rows["cases"][0]["doc"]
    assert case["sessions"][0]["notes"] == SECRET_NOTE
    # Nothing of the other operator's namesake.
    text = json.dumps(document, ensure_ascii=False)
    assert other.beneficiary_id not in text and other.email not in text
    assert all(other_id not in text for other_id in other.case_ids)


def test_another_operator_cannot_export_or_erase_the_person(kit: Kit) -> None:
    person = seed_person(kit, "op_a")
    for action in (kit.gdpr.export, kit.gdpr.erase, kit.gdpr.select):
        with pytest.raises(BeneficiaryNotFound):
            action("op_b", person.beneficiary_id)
    with pytest.raises(BeneficiaryNotFound):
        kit.gdpr.select("op_a", "not-an-id")
    assert count(kit, "syntheses", operator="op_a") == 4


def assert_nothing_personal_left(kit: Kit, person: Seeded, *, erased: bool) -> None:
    everything = "".join(
        dump(kit, name, operator=person.operator)
        for name in ("beneficiaries", "cases", "appointment_requests", "rectifications")
    ) + dump(kit, "survey_answers", operator=person.operator)
    for secret in ("Élodie", "Lefèvre", person.email, "06 12 34 56 78", SECRET_NOTE, FREE_TEXT):
        assert secret not in everything
    for secret in ("Menuiserie Durand", "Parti en formation", "Claire", "changer de métier"):
        assert secret not in everything
    assert count(kit, "syntheses", operator=person.operator) == 0
    assert count(kit, "download_links", operator=person.operator) == 0
    assert count(kit, "mail_outbox", operator=person.operator, status="pending") == 0
    assert count(kit, "survey_answers", operator=person.operator) == (0 if erased else 1)
    with kit.database.read() as conn:
        b = conn.execute(
            select(tables.beneficiaries).where(tables.beneficiaries.c.id == person.beneficiary_id)
        ).one()
        cases = conn.execute(
            select(tables.cases).where(tables.cases.c.beneficiary_id == person.beneficiary_id)
        ).all()
        r = tables.appointment_requests
        request = conn.execute(
            select(r.c.doc, r.c.anonymised_at).where(r.c.operator == person.operator)
        ).all()
    assert len(request) == 1
    assert b.anonymised_at is not None
    anonymous = msgspec.json.decode(b.doc, type=Beneficiary)
    assert anonymous.email is None and anonymous.phone is None
    for row in cases:
        assert row.anonymised_at is not None
        case = msgspec.json.decode(row.doc, type=Case)
        # Statistical facts stay: status, level, age on the reference date, objective...
        assert case.situation.age == 37 and case.situation.region == "53"
        assert case.steps["level2.project"].data == {"objective": "retraining"}
        assert case.steps["level2.action_plan"].data == {"services": [{"kind": "training"}]}
        assert case.intake is not None and case.intake.answers == {}
        assert len(case.sessions) == 1 and case.sessions[0].notes is None
        assert case.sessions[0].duration_minutes == 60
    assert len(cases) == 2 and {row.status for row in cases} == {"closed", "level_2"}
    for doc, anonymised_at in request:
        assert anonymised_at is not None
        assert msgspec.json.decode(doc, type=AppointmentRequest).contact.email == ""
    # The accountability trails stay.
    assert count(kit, "case_events", operator=person.operator) >= len(person.case_ids)
    assert count(kit, "rectifications", operator=person.operator) == 1


def test_erasure_leaves_nothing_personal_and_spares_the_neighbour(kit: Kit) -> None:
    person = seed_person(kit, "op_a")
    other = seed_person(kit, "op_b")
    before_other = {
        name: dump(kit, name, operator="op_b")
        for name in POLICIES
        if name not in ("audit_events", "mail_outbox")
    }
    report = kit.gdpr.erase("op_a", person.beneficiary_id)
    assert report.count("syntheses") == 4 and report.count("download_links") == 2
    assert report.count("mail_outbox") == 1 and report.count("survey_answers") == 1
    assert {o.table: o.action for o in report.outcomes}["case_events"] is Action.KEEP
    assert_nothing_personal_left(kit, person, erased=True)
    assert count(kit, "survey_invitations", operator="op_a") == 0
    # The audit journal keeps its lines (ids only), and the other operator is untouched.
    assert count(kit, "audit_events", operator="op_a") == 2
    after_other = {name: dump(kit, name, operator="op_b") for name in before_other}
    assert after_other == before_other
    assert other.email in dump(kit, "beneficiaries", operator="op_b")
    # Nobody finds the person by name any more.
    assert kit.cases.list_cases("op_a", name="Lefèvre").items == ()
    assert len(kit.cases.list_cases("op_b", name="Lefèvre").items) == 2
    # Erasing twice is harmless, and the export of an erased person says nothing of them.
    kit.gdpr.erase("op_a", person.beneficiary_id)
    selection = kit.gdpr.select("op_a", person.beneficiary_id)
    assert "Lefèvre" not in repr(export_document(selection, generated_at=kit.clock()))


def test_rectification_keeps_a_trail_without_the_values(kit: Kit, clock: object) -> None:
    person = seed_person(kit, "op_a")
    corrected = kit.gdpr.rectify(
        "op_a",
        person.beneficiary_id,
        {"last_name": "Lefebvre", "phone": "", "first_name": "Élodie"},
        actor="conseiller-2",
        reason="Orthographe du nom corrigée à la demande de la personne",
    )
    assert corrected.last_name == "Lefebvre" and corrected.phone is None
    trail = kit.gdpr.rectifications("op_a", person.beneficiary_id)
    assert len(trail) == 2
    latest = trail[-1]
    assert latest["fields"] == "last_name,phone"  # first_name did not change
    assert latest["actor"] == "conseiller-2"
    assert latest["reason"].startswith("Orthographe")
    assert "Lefebvre" not in repr(latest) and "Lefèvre" not in repr(latest)
    # Name search follows the correction.
    with kit.database.read() as conn:
        name = conn.execute(
            select(tables.beneficiaries.c.search_name).where(
                tables.beneficiaries.c.id == person.beneficiary_id
            )
        ).scalar_one()
    assert "lefebvre" in name
    assert len(kit.cases.list_cases("op_a", name="Lefebvre").items) == 2
    assert kit.cases.list_cases("op_a", name="Lefèvre").items == ()
    with pytest.raises(InvalidInput):
        kit.gdpr.rectify("op_a", person.beneficiary_id, {"last_name": "X"}, actor=None, reason="")
    with pytest.raises(InvalidInput):
        kit.gdpr.rectify("op_a", person.beneficiary_id, {"iban": "FR76"}, actor=None, reason="x")
    with pytest.raises(BeneficiaryNotFound):
        kit.gdpr.rectify("op_b", person.beneficiary_id, {"last_name": "Y"}, actor=None, reason="x")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_export_with_several_cases_is_quick_and_its_pdf_readable(kit: Kit) -> None:
    """3 cases, 9 syntheses of ~40 KB each: well under the required 60 s (~1-3 s here, the
    PDF render being most of it); the readable PDF names the person, in French."""
    pdf = b"%PDF-1.7\n" + bytes(range(256)) * 160
    person = seed_person(kit, "op_a", cases=3, syntheses_per_case=3, pdf=pdf)
    started = time.perf_counter()
    export = kit.gdpr.export("op_a", person.beneficiary_id)
    elapsed = time.perf_counter() - started
    assert len(json.loads(export.json)["tables"]["syntheses"]["rows"]) == 9
    assert elapsed < 60, elapsed
    assert export.pdf.startswith(b"%PDF")
    readable = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=export.pdf, capture_output=True, check=True
    ).stdout.decode()
    assert "Vos données personnelles" in readable
    assert "Lefèvre" in readable and person.email in readable
    assert "Documents de synthèse (9)" in readable and "Dossiers (3)" in readable
    assert SECRET_NOTE in readable  # the person's own file: notes included


def test_corrected_intake_answers_leave_a_trail_naming_the_fields(kit: Kit) -> None:
    person = seed_person(kit, "op_a")
    case = kit.cases.get_case("op_a", person.case_ids[1])  # the open one
    kit.cases.submit_intake(
        "op_a",
        case.id,
        FormChannel.COUNSELLOR,
        {"employer": "Menuiserie Durand", "hours": 28},
        expected_version=case.version,
        actor="conseiller-3",
    )
    latest = kit.gdpr.rectifications("op_a", person.beneficiary_id)[-1]
    assert latest["fields"] == "intake.hours"
    assert latest["case_id"] == case.id and latest["actor"] == "conseiller-3"
    assert latest["reason"] is None  # names of fields only, never the values


def test_stored_api_answers_naming_the_person_are_exported_and_erased(kit: Kit) -> None:
    """A case opened through the API sits, for 24 h, in the answer kept for replays (REL-10):
    it is part of the person's data, exported and erased with the rest; others' stay."""
    from cep_core.services.idempotency import (
        Claimed,
        StoredAnswer,
        caller_scope,
        fingerprint,
    )

    seeded = seed_person(kit)
    other = seed_person(kit, first_name="Paul", last_name="Girard")
    scope = caller_scope(seeded.operator, "conseillere-1")
    for key, case_id in (("cle-1", seeded.case_ids[0]), ("cle-2", other.case_ids[0])):
        body = json.dumps({"id": case_id, "status": "new"}).encode()
        claim = kit.idempotency.claim(
            scope, key, seeded.operator, fingerprint("POST", "/api/v1/cases", body)
        )
        assert isinstance(claim, Claimed)
        answer = StoredAnswer(status=201, headers=[("content-type", "application/json")], body=body)
        assert kit.idempotency.complete(scope, key, claim.lease, answer)

    exported = kit.gdpr.export(seeded.operator, seeded.beneficiary_id).document
    [row] = exported["tables"]["idempotency_keys"]["rows"]
    assert row["key"] == "cle-1" and row["body"]["media_type"] == "application/json"
    assert seeded.case_ids[0] in base64.b64decode(row["body"]["data"]).decode()

    kit.gdpr.erase(seeded.operator, seeded.beneficiary_id)
    with kit.database.read() as conn:
        keys = conn.execute(select(tables.idempotency_keys.c.key)).scalars().all()
    assert keys == ["cle-2"]

"""The survey job: one satisfaction survey per case and level, the follow-up six months after
the last session (not a day before), French e-mails with a single-use link."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from cep_core.domain.reporting import FollowUpAnswer, FollowUpSituation, SatisfactionAnswer
from cep_core.storage.tables import survey_invitations


def invitations(world) -> list[tuple[str, str, int, str]]:
    keys = {case_id: key for key, case_id in world.cases.items()}
    with world.kit.database.read() as conn:
        rows = conn.execute(select(survey_invitations)).all()
    return sorted((keys[r.case_id], r.kind, r.level, r.status) for r in rows)


def test_each_level_end_gets_one_survey(world) -> None:
    assert invitations(world) == [
        ("A", "follow_up", 2, "scheduled"),
        ("A", "satisfaction", 1, "sent"),
        ("A", "satisfaction", 2, "sent"),
        ("B", "satisfaction", 1, "sent"),
        ("C", "satisfaction", 1, "sent"),  # a referral ends level 1 here too
        ("E", "follow_up", 1, "scheduled"),
        ("E", "satisfaction", 1, "skipped"),  # no e-mail address
    ]
    before = invitations(world)
    run = world.kit.surveys.run()  # again: nothing new
    assert (run.scheduled, run.sent, run.skipped) == (0, 0, 0)
    assert invitations(world) == before


def test_the_e_mail_is_french_and_carries_only_a_link(world) -> None:
    from email import message_from_bytes

    from cep_core.storage.tables import mail_outbox

    with world.kit.database.read() as conn:
        raw = (
            conn.execute(
                select(mail_outbox.c.message).where(mail_outbox.c.kind == "survey_satisfaction")
            )
            .scalars()
            .first()
        )
    message = message_from_bytes(raw)
    assert message["Subject"] == "Votre avis sur votre accompagnement"
    text = message.get_payload()[0].get_payload(decode=True).decode()  # type: ignore[index, union-attr]
    assert "https://cep.example.fr/questionnaire/" in text
    assert "ne sert qu'une seule fois" in text
    assert "Roussel" not in text  # the message names nobody


def test_the_follow_up_waits_six_months_after_the_last_session(world) -> None:
    # A's last session was on 2026-03-12 at 09:00 UTC: due 2026-09-12 09:00 UTC.
    world.move("2026-09-11", 20)
    assert world.kit.surveys.run().sent == 0
    world.move("2026-09-12", 10)
    run = world.kit.surveys.run()
    assert (run.sent, run.skipped) == (1, 0)
    secret = world.link_for("a.roussel")
    link = world.kit.surveys.peek(secret)
    assert link is not None and link.kind == "follow_up"
    # A satisfaction answer cannot be posted to a follow-up link.
    wrong = SatisfactionAnswer(overall=5, listening=5, clarity=5, next_steps=5, recommend=True)
    assert not world.kit.surveys.answer(secret, wrong)
    right = FollowUpAnswer(
        situation=FollowUpSituation.TRAINING, satisfaction=5, cep_helped=True, comment="Merci"
    )
    assert world.kit.surveys.answer(secret, right)
    assert not world.kit.surveys.answer(secret, right)  # single use
    # E (closed 04-03, last session 04-02) has no address: skipped when due.
    world.move("2026-10-02", 10)
    assert world.kit.surveys.run().skipped == 1


def test_links_expire(world) -> None:
    secret = world.link_for("b.roussel")
    link = world.kit.surveys.peek(secret)
    assert link is not None
    answer = SatisfactionAnswer(overall=3, listening=3, clarity=3, next_steps=3, recommend=False)
    world.now[0] = link.expires_at + timedelta(seconds=1)
    assert world.kit.surveys.peek(secret).state == "expired"  # type: ignore[union-attr]
    assert not world.kit.surveys.answer(secret, answer)
    assert world.kit.surveys.peek("pas-un-secret") is None

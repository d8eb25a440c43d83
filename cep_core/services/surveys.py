"""Satisfaction surveys at the end of each level and the six-month follow-up (rule 23).

`run` is the job (``cep surveys send``, hourly from cron or a timer): it reads the journal
for levels that ended (a move to level 2 ends level 1; a closure or a referral ends the
current level) and schedules one satisfaction survey per case and level, due at once, and,
for a closure, one follow-up due six months after the last session (a dated parameter);
then it sends every due invitation. Nothing in the case workflow has to call it, so a
survey can never hold up or roll back a counsellor's action.

The person answers through a link without an account, modelled on the synthesis download
links: a 256-bit secret of which only the SHA-256 is stored, expiring (a dated parameter),
single use — ``UPDATE … WHERE digest = ? AND status = 'sent' AND expires_at > now`` so of two
submissions one wins. GET only shows the form (mail scanners pre-fetch links); the POST
answers. The e-mail is queued in the same transaction that marks the invitation sent.
"""

from __future__ import annotations

import enum
import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import Connection, select, update

from cep_core.clock import Clock, date_in_france, today_in_france
from cep_core.domain.case import CaseStatus
from cep_core.domain.reporting import (
    FollowUpAnswer,
    FollowUpSituation,
    SatisfactionAnswer,
    SurveyKind,
    follow_up_months,
    survey_link_days,
)
from cep_core.domain.rules import add_months
from cep_core.mail.message import OutgoingMail, build_message, encode
from cep_core.mail.outbox import enqueue
from cep_core.mail.rendering import MailTemplates
from cep_core.plugins import Hooks
from cep_core.services.download_links import SECRET_BYTES, LinkState, secret_digest
from cep_core.services.notifications import mail_domain
from cep_core.settings import Settings
from cep_core.storage.case_joins import with_case
from cep_core.storage.database import Database
from cep_core.storage.ids import new_id
from cep_core.storage.repositories import BeneficiaryRepository
from cep_core.storage.tables import case_events, cases, survey_answers, survey_invitations

SURVEY_PATH = "/questionnaire"
# token_urlsafe(SECRET_BYTES), as for the download links.
_SECRET = re.compile(r"[A-Za-z0-9_-]{43}")
# Level ends older than this are not surveyed any more (a job that was off for a long time
# does not mail people about an accompaniment they finished a year ago).
LOOKBACK = timedelta(days=30)
_ENDS = (CaseStatus.LEVEL_TWO, CaseStatus.CLOSED, CaseStatus.REFERRED)
_STARTED = (CaseStatus.LEVEL_ONE, CaseStatus.LEVEL_TWO, CaseStatus.PAUSED)


class InvitationStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    SENT = "sent"
    ANSWERED = "answered"
    SKIPPED = "skipped"  # no e-mail address: nobody to ask


class SurveyLink(msgspec.Struct, frozen=True, kw_only=True):
    """What a link is, seen without spending it."""

    state: LinkState
    operator: str
    kind: SurveyKind
    level: int
    expires_at: datetime


class SurveyRun(msgspec.Struct, frozen=True, kw_only=True):
    scheduled: int
    sent: int
    skipped: int


class SurveyService:
    def __init__(
        self,
        database: Database,
        hooks: Hooks,
        *,
        settings: Settings,
        clock: Clock,
        templates: MailTemplates | None = None,
    ) -> None:
        self._database = database
        self._hooks = hooks
        self._settings = settings
        self._clock = clock
        self._templates = templates or MailTemplates()

    def _now(self) -> datetime:
        return self._clock().astimezone(UTC)

    # -- the job ---------------------------------------------------------------------------

    def run(self, *, limit: int = 500) -> SurveyRun:
        scheduled = self.schedule()
        sent, skipped = self.send_due(limit=limit)
        return SurveyRun(scheduled=scheduled, sent=sent, skipped=skipped)

    def schedule(self) -> int:
        """Create the invitations for the levels that ended recently (idempotent)."""
        now = self._now()
        months = follow_up_months(today_in_france(self._clock))
        created = 0
        with self._database.write() as conn:
            rows = conn.execute(
                select(
                    case_events.c.case_id,
                    case_events.c.operator,
                    case_events.c.at,
                    case_events.c.from_status,
                    case_events.c.to_status,
                    cases.c.level,
                    cases.c.doc,
                )
                .select_from(with_case(case_events))
                .where(
                    case_events.c.kind == "transition",
                    case_events.c.to_status.in_([s.value for s in _ENDS]),
                    case_events.c.from_status.in_([s.value for s in _STARTED]),
                    case_events.c.at > now - LOOKBACK,
                    case_events.c.at <= now,
                )
                .order_by(case_events.c.at)
            ).all()
            for row in rows:
                ended = 1 if row.to_status == CaseStatus.LEVEL_TWO else int(row.level or 1)
                existing = conn.execute(
                    select(survey_invitations.c.kind, survey_invitations.c.level).where(
                        survey_invitations.c.case_id == row.case_id
                    )
                ).all()
                if (SurveyKind.SATISFACTION.value, ended) not in {tuple(e) for e in existing}:
                    self._insert(conn, row, SurveyKind.SATISFACTION, ended, row.at)
                    created += 1
                if row.to_status == CaseStatus.CLOSED and not any(
                    kind == SurveyKind.FOLLOW_UP.value for kind, _ in existing
                ):
                    sessions = msgspec.json.decode(row.doc, type=_Sessions).sessions
                    last = max((session.start for session in sessions), default=None)
                    if last is not None:
                        day = date_in_france(last)
                        due = last + (add_months(day, months) - day)
                        self._insert(conn, row, SurveyKind.FOLLOW_UP, ended, due)
                        created += 1
        return created

    def _insert(
        self, conn: Connection, row: Any, kind: SurveyKind, level: int, due: datetime
    ) -> None:
        conn.execute(
            survey_invitations.insert().values(
                id=new_id(),
                operator=row.operator,
                case_id=row.case_id,
                kind=kind.value,
                level=level,
                status=InvitationStatus.SCHEDULED.value,
                created_at=self._now(),
                due_at=due,
            )
        )

    def send_due(self, *, limit: int = 500) -> tuple[int, int]:
        """Send the invitations that are due; (sent, skipped for want of an address)."""
        now = self._now()
        with self._database.read() as conn:
            due = conn.execute(
                select(survey_invitations.c.id)
                .where(
                    survey_invitations.c.status == InvitationStatus.SCHEDULED.value,
                    survey_invitations.c.due_at <= now,
                )
                .order_by(survey_invitations.c.due_at)
                .limit(limit)
            ).all()
        sent = skipped = 0
        for (invitation_id,) in due:
            if self._send(invitation_id, now):
                sent += 1
            else:
                skipped += 1
        return sent, skipped

    def _send(self, invitation_id: str, now: datetime) -> bool:
        with self._database.write() as conn:
            row = conn.execute(
                select(survey_invitations, cases.c.beneficiary_id)
                .select_from(with_case(survey_invitations))
                .where(
                    survey_invitations.c.id == invitation_id,
                    survey_invitations.c.status == InvitationStatus.SCHEDULED.value,
                )
            ).first()
            if row is None:
                return False
            person = BeneficiaryRepository(conn, row.operator).get(row.beneficiary_id)
            email = person.email if person is not None else None
            if not email:
                conn.execute(
                    update(survey_invitations)
                    .where(survey_invitations.c.id == invitation_id)
                    .values(status=InvitationStatus.SKIPPED.value)
                )
                return False
            secret = secrets.token_urlsafe(SECRET_BYTES)
            expires = now + timedelta(days=survey_link_days(today_in_france(self._clock)))
            conn.execute(
                update(survey_invitations)
                .where(survey_invitations.c.id == invitation_id)
                .values(
                    status=InvitationStatus.SENT.value,
                    digest=secret_digest(secret),
                    sent_at=now,
                    expires_at=expires,
                )
            )
            template = f"survey_{row.kind}"
            rendered = self._templates.render(
                template,
                operator_label=self._operator_label(row.operator),
                link_url=f"{self._settings.public_url.rstrip('/')}{SURVEY_PATH}/{secret}",
                expires_at=expires,
            )
            mail = OutgoingMail(
                to=(email,), subject=rendered.subject, text=rendered.text, html=rendered.html
            )
            message = build_message(
                mail,
                sender=self._settings.mail.sender,
                now=now,
                domain=mail_domain(self._settings.public_url),
            )
            enqueue(conn, operator=row.operator, kind=template, message=encode(message), now=now)
        return True

    # -- the person's link -----------------------------------------------------------------

    def peek(self, secret: str) -> SurveyLink | None:
        """The link's state without spending it; None for a secret that is not one of ours."""
        if not _well_formed(secret):
            return None
        with self._database.read() as conn:
            row = conn.execute(
                select(survey_invitations).where(
                    survey_invitations.c.digest == secret_digest(secret)
                )
            ).first()
        if row is None or row.expires_at is None:
            return None
        if row.status == InvitationStatus.ANSWERED.value:
            state = LinkState.USED
        elif row.expires_at <= self._now():
            state = LinkState.EXPIRED
        else:
            state = LinkState.VALID
        return SurveyLink(
            state=state,
            operator=row.operator,
            kind=SurveyKind(row.kind),
            level=row.level,
            expires_at=row.expires_at,
        )

    def answer(self, secret: str, answer: SatisfactionAnswer | FollowUpAnswer) -> bool:
        """Record the answer and spend the link: True the first time, False ever after (or
        when expired, unknown, or an answer of the other survey's kind)."""
        if not _well_formed(secret):
            return False
        kind = (
            SurveyKind.SATISFACTION
            if isinstance(answer, SatisfactionAnswer)
            else SurveyKind.FOLLOW_UP
        )
        digest = secret_digest(secret)
        now = self._now()
        with self._database.write() as conn:
            spent = conn.execute(
                update(survey_invitations)
                .where(
                    survey_invitations.c.digest == digest,
                    survey_invitations.c.kind == kind.value,
                    survey_invitations.c.status == InvitationStatus.SENT.value,
                    survey_invitations.c.expires_at > now,
                )
                .values(status=InvitationStatus.ANSWERED.value, answered_at=now)
            )
            if spent.rowcount != 1:
                return False
            row = conn.execute(
                select(survey_invitations).where(survey_invitations.c.digest == digest)
            ).one()
            record_answer(conn, row, answer, now)
        return True

    def seed_demo(self) -> int:
        """Demo data: survey every demo level end now and answer three in four, without any
        e-mail (demo addresses are fictitious); follow-ups are answered at once too, so the
        dashboard has something to show. Idempotent: only scheduled invitations are touched.
        """
        import random

        self.schedule()
        now = self._now()
        situations = list(FollowUpSituation)
        answered = 0
        with self._database.write() as conn:
            rows = conn.execute(
                select(survey_invitations)
                .where(survey_invitations.c.status == InvitationStatus.SCHEDULED.value)
                .order_by(survey_invitations.c.case_id, survey_invitations.c.kind)
            ).all()
            for row in rows:
                rng = random.Random(f"{row.case_id}{row.kind}{row.level}")  # noqa: S311 - demo
                replied = rng.random() < 0.75
                conn.execute(
                    update(survey_invitations)
                    .where(survey_invitations.c.id == row.id)
                    .values(
                        status=(InvitationStatus.ANSWERED if replied else InvitationStatus.SENT),
                        sent_at=now,
                        expires_at=now + timedelta(days=survey_link_days(now.date())),
                        answered_at=now if replied else None,
                    )
                )
                if not replied:
                    continue
                score = rng.choices((2, 3, 4, 5), weights=(1, 2, 5, 4))[0]
                answer: SatisfactionAnswer | FollowUpAnswer
                if row.kind == SurveyKind.SATISFACTION.value:
                    answer = SatisfactionAnswer(
                        overall=score,
                        listening=min(5, score + 1),
                        clarity=score,
                        next_steps=max(1, score - 1),
                        recommend=score >= 4,
                    )
                else:
                    answer = FollowUpAnswer(
                        situation=rng.choice(situations), satisfaction=score, cep_helped=score >= 3
                    )
                record_answer(conn, row, answer, now)
                answered += 1
        return answered

    def _operator_label(self, operator: str) -> str:
        return self._hooks.operator_label(operator, today_in_france(self._clock))


def record_answer(
    conn: Connection, invitation: Any, answer: SatisfactionAnswer | FollowUpAnswer, now: datetime
) -> None:
    """The answer row: scores and situation as columns, everything in ``doc``."""
    if isinstance(answer, SatisfactionAnswer):
        satisfaction, situation = answer.overall, None
    else:
        satisfaction, situation = answer.satisfaction, answer.situation.value
    conn.execute(
        survey_answers.insert().values(
            id=new_id(),
            invitation_id=invitation.id,
            operator=invitation.operator,
            case_id=invitation.case_id,
            kind=invitation.kind,
            level=invitation.level,
            answered_at=now,
            satisfaction=satisfaction,
            situation=situation,
            doc=msgspec.json.encode(answer).decode(),
        )
    )


class _Start(msgspec.Struct, frozen=True):
    start: datetime


class _Sessions(msgspec.Struct, frozen=True):
    """Only what the follow-up needs from a case document (anonymised ones included)."""

    sessions: tuple[_Start, ...] = ()


def _well_formed(secret: str) -> bool:
    return isinstance(secret, str) and _SECRET.fullmatch(secret) is not None

"""« Journal des accès »: an operator's audit journal, for its managers only (SEC-12).

Filtered by period, action, staff member and record, newest first, by pages. Browsing it is
itself journaled (``audit.read``). Another operator's events are never read: the query is
filtered by the manager's operator.

The journal stores pseudonymous actors (account ids); this page shows the display name of
the operator's own staff instead, because the manager already manages those very accounts
(the « Équipe » page lists them with their names) and an id alone would make the journal
unusable for its purpose, checking who accessed what. Anything else (an API client, a
download link, ``anonymous``) is shown as stored.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Final

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from cep_core.clock import PARIS
from cep_core.domain.audit import ACTION_LABELS, OUTCOME_LABELS, AuditAction
from cep_core.domain.context import Role
from cep_core.domain.issues import InvalidInput
from cep_core.kit import Kit
from cep_core.services.audit import ANONYMOUS, CLI, SYSTEM, AuditEvent, AuditQuery
from cep_core.web.audit import audited
from cep_core.web.pages.case_support import actor_name, staff_names
from cep_core.web.pages.common import blocking, current_staff
from cep_core.web.pages.rendering import Pages

JOURNAL_PATH: Final = "/espace/journal"
PAGE_SIZE: Final = 50


def _day_start(day: date) -> datetime:
    """Midnight in France, in UTC: the manager's "from 3 March" means French days."""
    return datetime.combine(day, time(), tzinfo=PARIS).astimezone(UTC)


class AuditJournalController(Controller):
    path = JOURNAL_PATH

    @audited("audit.read", "audit")
    @get("/", name="audit-journal")
    async def journal(
        self,
        request: Request[Any, Any, Any],
        kit: NamedDependency[Kit],
        pages: NamedDependency[Pages],
        du: Annotated[date | None, QueryParameter(description="Premier jour")] = None,
        au: Annotated[date | None, QueryParameter(description="Dernier jour")] = None,
        action: Annotated[AuditAction | None, QueryParameter()] = None,
        acteur: Annotated[str | None, QueryParameter(max_length=64)] = None,
        dossier: Annotated[str | None, QueryParameter(max_length=64)] = None,
        suite: Annotated[str | None, QueryParameter(max_length=200)] = None,
    ) -> Response[Any]:
        manager = await current_staff(request, kit, Role.MANAGER)
        operator = manager.operator
        assert operator is not None  # managers belong to an operator
        query = AuditQuery(
            since=_day_start(du) if du else None,
            until=_day_start(au + timedelta(days=1)) if au else None,
            action=action.value if action else None,
            actor=acteur or None,
            record_id=dossier or None,
        )
        try:
            page = await blocking(kit.audit.browse, operator, query, cursor=suite, limit=PAGE_SIZE)
        except InvalidInput:  # a stale or edited cursor: back to the first page
            page = await blocking(kit.audit.browse, operator, query, limit=PAGE_SIZE)
            suite = None
        names = await staff_names(kit, operator)
        filters = {
            key: value
            for key, value in {
                "du": du.isoformat() if du else "",
                "au": au.isoformat() if au else "",
                "action": action.value if action else "",
                "acteur": acteur or "",
                "dossier": dossier or "",
            }.items()
            if value
        }
        return await pages.render(
            request,
            "audit/journal.html",
            title="Journal des accès",
            rows=[_row(event, names) for event in page.items],
            next_cursor=page.next_cursor,
            paged=suite is not None,
            filters=filters,
            actions=[(a.value, ACTION_LABELS[a]) for a in AuditAction],
            staff=sorted(names.items(), key=lambda item: item[1].casefold()),
            retention_months=kit.audit.retention_months,
        )


SPECIAL_ACTORS: Final = {
    ANONYMOUS: "personne non identifiée",
    SYSTEM: "le service",
    CLI: "ligne de commande",
}


def _row(event: AuditEvent, names: dict[str, str]) -> dict[str, Any]:
    return {
        "at": event.at,
        "action": ACTION_LABELS.get(event.action, event.action),
        "actor": SPECIAL_ACTORS.get(event.actor) or actor_name(event.actor, names),
        "actor_id": event.actor,
        "record_type": event.record_type,
        "record_id": event.record_id,
        "account": names.get(event.record_id or "", event.record_id)
        if event.record_type == "account"
        else None,
        "outcome": OUTCOME_LABELS.get(event.outcome, event.outcome),
        "ok": event.outcome == "success",
    }

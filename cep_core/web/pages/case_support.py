"""What the workspace's case pages share: path parameters, French labels, the staff names,
the case's version in every form, and the conflict shown when the case moved on meanwhile.

Every page acts for the signed-in staff member's operator (`operator_staff`): the services
only read that operator's cases, so another operator's case is "not found" everywhere (SEC-01).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any, Final

import msgspec
from litestar import Request
from litestar.exceptions import NotFoundException
from litestar.params import PathParameter

from cep_core.domain.accounts import StaffUser
from cep_core.domain.case import (
    CLOSE_REASON_LABELS,
    REFERRAL_REASON_LABELS,
    CaseEvent,
    CaseStatus,
    Level,
)
from cep_core.domain.context import Role
from cep_core.domain.forms import FormChannel
from cep_core.domain.funding import TrainingKind
from cep_core.domain.health_data import sees_health_data
from cep_core.domain.issues import Issue
from cep_core.errors import VersionConflict
from cep_core.kit import Kit
from cep_core.services.cases import SYNTHESIS_LINK_SENT
from cep_core.web.pages.case_forms import SESSION_CHANNEL_LABELS
from cep_core.web.pages.common import FormData, FormError, blocking, operator_staff

CASES_URL: Final = "/espace/dossiers"
ID_MAX_LENGTH: Final = 64
STEP_ID_MAX_LENGTH: Final = 100
VERSION_FIELD: Final = "version"
# The journal's actor when the person downloads their synthesis through a single-use link.
LINK_ACTOR_PREFIX: Final = "lien:"

CaseId = Annotated[
    str, PathParameter(max_length=ID_MAX_LENGTH, description="Identifiant du dossier.")
]
SynthesisId = Annotated[
    str, PathParameter(max_length=ID_MAX_LENGTH, description="Identifiant de la version.")
]
StepId = Annotated[
    str, PathParameter(max_length=STEP_ID_MAX_LENGTH, description="Identifiant de l'étape.")
]

STATUS_NAMES: Final[dict[CaseStatus, str]] = {
    CaseStatus.OPENED: "Ouvert",
    CaseStatus.LEVEL_ONE: "Niveau 1 en cours",
    CaseStatus.LEVEL_TWO: "Niveau 2 en cours",
    CaseStatus.PAUSED: "En pause",
    CaseStatus.CLOSED: "Clôturé",
    CaseStatus.REFERRED: "Orienté vers un autre opérateur",
}
STATUS_BADGES: Final[dict[CaseStatus, str]] = {
    CaseStatus.OPENED: "badge-open",
    CaseStatus.LEVEL_ONE: "badge-open",
    CaseStatus.LEVEL_TWO: "badge-open",
    CaseStatus.PAUSED: "badge-paused",
    CaseStatus.CLOSED: "badge-closed",
    CaseStatus.REFERRED: "badge-closed",
}
LEVEL_NAMES: Final[dict[Level, str]] = {
    Level.ONE: "Niveau 1 — accueil individualisé",
    Level.TWO: "Niveau 2 — accompagnement personnalisé",
}
EVENT_NAMES: Final[dict[str, str]] = {
    "opened": "Ouverture du dossier",
    "intake_submitted": "Informations d'accueil enregistrées",
    "session_recorded": "Entretien enregistré",
    "step_draft_saved": "Brouillon d'étape enregistré",
    "step_completed": "Étape terminée",
    "step_reopened": "Étape rouverte (brouillon)",
    "transition": "Changement de statut",
    "funding_plan_attached": "Plan de financement établi",
    "synthesis_generated": "Document de synthèse produit",
    "synthesis_downloaded": "Document de synthèse téléchargé",
    SYNTHESIS_LINK_SENT: "Lien du document de synthèse envoyé à la personne",
}
# Journal lines that do not change the case document (and so not its version).
UNVERSIONED_EVENTS: Final = frozenset(
    {"synthesis_generated", "synthesis_downloaded", SYNTHESIS_LINK_SENT}
)
CHANNEL_NAMES: Final[dict[str, str]] = {
    FormChannel.COUNSELLOR.value: "Saisie par un conseiller ou une conseillère",
    FormChannel.PUBLIC.value: "Formulaire public de demande de rendez-vous",
    FormChannel.API.value: "Application raccordée (API)",
}
TRAINING_KIND_LABELS: Final[dict[TrainingKind, str]] = {
    TrainingKind.CERTIFICATION: "Formation certifiante (RNCP ou RS)",
    TrainingKind.BILAN: "Bilan de compétences",
    TrainingKind.VAE: "Validation des acquis de l'expérience (VAE)",
    TrainingKind.PERMIS: "Permis de conduire",
    TrainingKind.CREATION: "Création ou reprise d'entreprise",
    TrainingKind.OTHER: "Autre action",
}
# Status messages after a redirect: ``?message=<code>`` (never free text in a URL).
NOTICES: Final[dict[str, str]] = {
    "dossier-ouvert": "Le dossier est ouvert.",
    "demande-acceptee": "La demande est acceptée : le dossier de la personne est ouvert et "
    "vous en êtes le conseiller ou la conseillère.",
    "entretien-enregistre": "L'entretien est enregistré.",
    "statut-modifie": "Le statut du dossier est modifié.",
    "dossier-cloture": "Le dossier est clôturé.",
    "personne-orientee": "La personne est orientée vers l'autre opérateur : le dossier est "
    "terminé ici.",
    "plan-financement": "Le plan de financement est enregistré.",
    "synthese-produite": "Le document de synthèse est produit.",
    "synthese-inchangee": "Le dossier n'a pas changé depuis la dernière version : le document "
    "de synthèse existant est conservé.",
    "lien-envoye": "Le lien de téléchargement est envoyé à la personne : il ne sert qu'une "
    "fois et expire dans 7 jours.",
}


def case_url(case_id: str) -> str:
    return f"{CASES_URL}/{case_id}"


def step_url(case_id: str, level: Level | int, step_id: str) -> str:
    return f"{CASES_URL}/{case_id}/niveau/{int(level)}/{step_id}"


def notice(code: str | None) -> str | None:
    return NOTICES.get(code or "")


async def workspace_user(request: Request[Any, Any, Any], kit: Kit) -> tuple[StaffUser, str]:
    """The counsellor or manager, and the operator every query of the page is filtered by."""
    return await operator_staff(request, kit)


def shows_health(user: StaffUser) -> bool:
    """Disability status, health answers and confidential notes: counsellors only (SEC-03)."""
    return sees_health_data(Role(user.role))


def submitted_version(form: FormData) -> int:
    """The case version the form was built on (0, matching no case, when unreadable)."""
    value = form.get(VERSION_FIELD)
    return int(value) if value.isdigit() and len(value) < 10 else 0


async def staff_names(kit: Kit, operator: str) -> dict[str, str]:
    """Display names of the operator's staff, by id (journal actors, counsellors)."""
    users = await blocking(kit.accounts.list_users, operator)
    return {user.id: user.display_name for user in users}


def actor_name(actor: str | None, names: Mapping[str, str]) -> str:
    """Who acted, for people: a staff member's name, the person through their download link,
    an API client's own identifier, or the service itself."""
    if actor is None:
        return "le service"
    if actor.startswith(LINK_ACTOR_PREFIX):
        return "la personne (lien de téléchargement)"
    return names.get(actor, actor)


class JournalLine(msgspec.Struct, frozen=True, kw_only=True):
    """A journal line as the case page shows it."""

    at: datetime
    what: str
    who: str
    detail: str


def reason_text(event: CaseEvent, step_titles: Mapping[str, str]) -> str:
    """The journal's reason code in French (a step, a channel, a level, a motive, the kind
    of action a funding plan is for): never the code itself when the kit knows it."""
    reason = event.reason or ""
    texts: dict[str, str] = {
        **{r.value: label for r, label in CLOSE_REASON_LABELS.items()},
        **{r.value: label for r, label in REFERRAL_REASON_LABELS.items()},
        **{c.value: label for c, label in SESSION_CHANNEL_LABELS.items()},
        **{k.value: label for k, label in TRAINING_KIND_LABELS.items()},
        **{f"level_{int(level)}": label for level, label in LEVEL_NAMES.items()},
        **CHANNEL_NAMES,
        "forced": "Ouvert malgré l'orientation vers un autre opérateur",
    }
    if reason in step_titles:
        return f"« {step_titles[reason]} »"
    return texts.get(reason, reason)


def journal(
    events: Sequence[CaseEvent], names: Mapping[str, str], step_titles: Mapping[str, str]
) -> list[JournalLine]:
    lines = []
    for event in events:
        detail = reason_text(event, step_titles)
        if event.from_status is not None and event.to_status is not None:
            moved = f"{STATUS_NAMES[event.from_status]} → {STATUS_NAMES[event.to_status]}"
            detail = f"{moved} ({detail})" if detail else moved
        lines.append(
            JournalLine(
                at=event.at,
                what=EVENT_NAMES.get(event.kind, event.kind.replace("_", " ").capitalize()),
                who=actor_name(event.actor, names),
                detail=detail,
            )
        )
    return lines


class Conflict(msgspec.Struct, frozen=True, kw_only=True):
    """The case moved on since the form was shown: who changed it, when, and what it is now."""

    message: str
    version: int
    status: str
    recent: tuple[JournalLine, ...]


async def conflict_for(
    kit: Kit, user: StaffUser, operator: str, case_id: str, exc: VersionConflict
) -> Conflict:
    """What to tell the person whose edit was refused: nothing they typed is lost."""
    case = await blocking(kit.cases.get_case, operator, case_id)
    events = await blocking(kit.cases.case_events, operator, case_id)
    names = await staff_names(kit, operator)
    writes = [event for event in events if event.kind not in UNVERSIONED_EVENTS]
    last = writes[-1] if writes else None
    if last is None or last.actor is None:
        who = "quelqu'un d'autre"
    elif last.actor == user.id:
        who = "vous-même (dans une autre fenêtre ou un autre onglet)"
    else:
        who = names.get(last.actor, last.actor)
    message = (
        f"Ce dossier a été modifié par {who} entre-temps : votre modification n'a pas été "
        "enregistrée. Vos saisies sont conservées ci-dessous. Vérifiez l'état actuel du "
        "dossier, puis réappliquez-les sur la nouvelle version."
    )
    return Conflict(
        message=message,
        version=case.version,
        status=STATUS_NAMES[case.status],
        recent=tuple(journal(events[-5:], names, {})[::-1]),
    )


def issue_errors(issues: Sequence[Issue], fields: Mapping[str, str]) -> list[FormError]:
    """Service issues as form errors: `fields` maps an issue path to its field id."""
    return [FormError(message=issue.message, field=fields.get(issue.path)) for issue in issues]


def not_found() -> NotFoundException:
    return NotFoundException()

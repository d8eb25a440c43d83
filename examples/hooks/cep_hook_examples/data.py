"""Data protection: who may receive a case, how long data is kept, who may read what."""

from __future__ import annotations

import logging

from cep_core import (
    Case,
    CaseEvent,
    DataRecipient,
    OperatorContext,
    Permission,
    PluginInfo,
    PluginKind,
    RetentionPhase,
    RetentionRule,
    Role,
    hookimpl,
)
from cep_hook_examples.info import example_info

log = logging.getLogger("cep_hook_examples")
HEALTH_READERS = frozenset({Role.COUNSELLOR, Role.MANAGER})
# How long this deployment keeps the journal of downloads: its own choice, not a legal duration.
DOWNLOADS_KEPT_DAYS = 365


@hookimpl
def cep_plugin_info() -> PluginInfo:
    return example_info("exemples.donnees", PluginKind.CAPABILITY, "Protection des données")


@hookimpl
def cep_data_recipients(ctx: OperatorContext, case: Case) -> list[DataRecipient]:
    return [
        DataRecipient(
            id="employer_hr",
            name="Service des ressources humaines de l'employeur",
            legal_basis="Consentement de la personne (RGPD, art. 6.1.a)",
            purpose="Transmission du document de synthèse, à la demande de la personne",
            requires_consent=True,
        )
    ]


@hookimpl
def cep_retention_rules() -> list[RetentionRule]:
    return [
        RetentionRule(
            operator=None,
            what="synthesis_downloads",
            phase=RetentionPhase.ACTIVE,
            days=DOWNLOADS_KEPT_DAYS,
            then="delete",
        )
    ]


@hookimpl
def cep_permission_check(ctx: OperatorContext, permission: Permission) -> bool | None:
    if permission.action == "health.read":
        return ctx.role in HEALTH_READERS
    return None  # no opinion on anything else


@hookimpl
def cep_case_event(ctx: OperatorContext, event: CaseEvent) -> None:
    log.info("dossier %s : %s (%s)", event.case_id, event.kind, ctx.operator)

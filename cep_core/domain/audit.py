"""The audit journal's vocabulary (SEC-12): actions and outcomes, with their French labels.

An event's action is a dotted lower-case string; the kit's own are listed here so managers
can filter on them. Workstreams and plugins may record others (``record`` only checks the
form): the journal page shows an unknown action as it is.
"""

from __future__ import annotations

import enum
from typing import Final


class AuditAction(enum.StrEnum):
    CASE_LIST = "case.list"
    CASE_SEARCH = "case.search"
    CASE_READ = "case.read"
    CASE_CREATE = "case.create"
    CASE_UPDATE = "case.update"
    SYNTHESIS_LIST = "synthesis.list"
    SYNTHESIS_READ = "synthesis.read"
    SYNTHESIS_GENERATE = "synthesis.generate"
    SYNTHESIS_DOWNLOAD = "synthesis.download"
    SYNTHESIS_SEND_LINK = "synthesis.send_link"
    REQUEST_CREATE = "request.create"
    REQUEST_LIST = "request.list"
    REQUEST_READ = "request.read"
    REQUEST_ACCEPT = "request.accept"
    REQUEST_DECLINE = "request.decline"
    REQUEST_UPDATE = "request.update"
    GDPR_VIEW = "gdpr.view"
    GDPR_EXPORT = "gdpr.export"
    GDPR_RECTIFY = "gdpr.rectify"
    GDPR_ERASE = "gdpr.erase"
    REPORT_EXPORT = "report.export"
    AUTH_SIGN_IN = "auth.sign_in"
    AUTH_SIGN_OUT = "auth.sign_out"
    AUTH_TOKEN = "auth.token"  # noqa: S105 (an action name, not a secret)
    AUDIT_READ = "audit.read"


ACTION_LABELS: Final[dict[str, str]] = {
    AuditAction.CASE_LIST: "Liste des dossiers",
    AuditAction.CASE_SEARCH: "Recherche de dossiers",
    AuditAction.CASE_READ: "Consultation d'un dossier",
    AuditAction.CASE_CREATE: "Ouverture d'un dossier",
    AuditAction.CASE_UPDATE: "Modification d'un dossier",
    AuditAction.SYNTHESIS_LIST: "Liste des documents de synthèse",
    AuditAction.SYNTHESIS_READ: "Suivi de la préparation d'un document de synthèse",
    AuditAction.SYNTHESIS_GENERATE: "Préparation d'un document de synthèse",
    AuditAction.SYNTHESIS_DOWNLOAD: "Téléchargement d'un document de synthèse",
    AuditAction.SYNTHESIS_SEND_LINK: "Envoi d'un lien de téléchargement",
    AuditAction.REQUEST_CREATE: "Demande de rendez-vous reçue",
    AuditAction.REQUEST_LIST: "Liste des demandes de rendez-vous",
    AuditAction.REQUEST_READ: "Consultation d'une demande de rendez-vous",
    AuditAction.REQUEST_ACCEPT: "Demande de rendez-vous acceptée",
    AuditAction.REQUEST_DECLINE: "Demande de rendez-vous refusée",
    AuditAction.REQUEST_UPDATE: "Proposition de rendez-vous",
    AuditAction.GDPR_VIEW: "Consultation des données d'une personne (RGPD)",
    AuditAction.GDPR_EXPORT: "Export des données d'une personne (RGPD)",
    AuditAction.GDPR_RECTIFY: "Rectification des données d'une personne (RGPD)",
    AuditAction.GDPR_ERASE: "Effacement des données d'une personne (RGPD)",
    AuditAction.REPORT_EXPORT: "Export statistique",
    AuditAction.AUTH_SIGN_IN: "Connexion",
    AuditAction.AUTH_SIGN_OUT: "Déconnexion",
    AuditAction.AUTH_TOKEN: "Jeton d'accès refusé",
    AuditAction.AUDIT_READ: "Consultation du journal des accès",
}

OUTCOME_LABELS: Final[dict[str, str]] = {
    "success": "Réussi",
    "denied": "Refusé",
    "not_found": "Introuvable",
    "invalid": "Saisie refusée",
    "conflict": "Conflit",
    "rate_limited": "Trop de tentatives",
    "locked": "Compte désactivé",
    "error": "Erreur",
    "failure": "Échec",
}

"""The readable PDF of a GDPR export: the JSON export's rows as French label/value tables.

Rendered with the documents machinery (autoescaped Jinja2, `render_pdf` and its locked URL
fetcher): the template loads nothing. Nested documents are flattened to one line per value
(``Situation › Date de naissance``) so that a person can read every field; PDFs and e-mails
are named, not dumped (their bytes are in the JSON).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from cep_core.clock import PARIS
from cep_core.documents.render import make_environment
from cep_core.documents.worker import render_pdf
from cep_core.domain.synthesis import RenderRequest

# French names of the fields found in the export (anything else is shown as named).
FIELD_LABELS: Mapping[str, str] = {
    "id": "Identifiant",
    "operator": "Opérateur",
    "created_at": "Créé le",
    "updated_at": "Modifié le",
    "anonymised_at": "Anonymisé le",
    "doc": "Contenu",
    "first_name": "Prénom",
    "last_name": "Nom",
    "email": "Adresse électronique",
    "phone": "Téléphone",
    "beneficiary_id": "Personne (identifiant)",
    "case_id": "Dossier (identifiant)",
    "synthesis_id": "Document de synthèse (identifiant)",
    "record_id": "Enregistrement (identifiant)",
    "record_type": "Type d'enregistrement",
    "status": "État",
    "level": "Niveau",
    "counsellor_id": "Conseiller ou conseillère (identifiant)",
    "version": "Version",
    "situation": "Situation",
    "birth_date": "Date de naissance",
    "as_of": "Situation au",
    "cadre": "Cadre",
    "registered_jobseeker": "Inscrit(e) à France Travail",
    "disability_recognition": "Reconnaissance de handicap",
    "working": "En activité",
    "seeking_job": "En recherche d'emploi",
    "region": "Région (code INSEE)",
    "intake": "Accueil",
    "channel": "Canal ou modalité",
    "answers": "Réponses",
    "submitted_at": "Saisi le",
    "submitted_by": "Saisi par (identifiant)",
    "steps": "Étapes",
    "data": "Réponses",
    "completed": "Terminée",
    "completed_at": "Terminée le",
    "updated_by": "Modifié par (identifiant)",
    "sessions": "Entretiens",
    "start": "Début",
    "duration_minutes": "Durée (minutes)",
    "outside_working_time": "Hors temps de travail",
    "notes": "Notes du conseiller ou de la conseillère",
    "recorded_at": "Enregistré le",
    "recorded_by": "Enregistré par (identifiant)",
    "closure": "Clôture",
    "referral": "Orientation vers un autre opérateur",
    "target_operator": "Opérateur cible",
    "note": "Précisions",
    "reason": "Motif",
    "at": "Date",
    "by": "Par (identifiant)",
    "funding_plan": "Plan de financement",
    "seq": "Numéro",
    "kind": "Type",
    "actor": "Auteur (identifiant)",
    "from_status": "État avant",
    "to_status": "État après",
    "content_hash": "Empreinte du contenu",
    "author": "Auteur (identifiant)",
    "size": "Taille (octets)",
    "pdf": "Document PDF",
    "expires_at": "Expire le",
    "used_at": "Utilisé le",
    "reference": "Référence",
    "claimed_at": "Pris en charge le",
    "identity": "Identité",
    "contact": "Coordonnées",
    "preferences": "Préférences",
    "message": "Message",
    "consent": "Consentement",
    "given_at": "Donné le",
    "notice_version": "Version de la notice",
    "decided_at": "Décidé le",
    "decided_by": "Décidé par (identifiant)",
    "decline_reason": "Motif du refus",
    "decline_text": "Précisions sur le refus",
    "appointment": "Rendez-vous",
    "fields": "Champs rectifiés",
    "action": "Action",
    "outcome": "Résultat",
    "attempts": "Tentatives",
    "sent_at": "Envoyé le",
    "answered_at": "Répondu le",
    "due_at": "Prévu le",
    "satisfaction": "Satisfaction (1 à 5)",
    "comment": "Commentaire",
}

_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
MAX_ROWS_PER_RECORD = 400


def _label(key: str) -> str:
    return FIELD_LABELS.get(key, key.replace("_", " "))


def _value(value: Any) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, str):
        if _ISO_DATETIME.match(value):
            try:
                moment = datetime.fromisoformat(value).astimezone(PARIS)
            except ValueError:
                return value
            return moment.strftime("%d/%m/%Y à %H:%M")
        found = _ISO_DATE.match(value)
        if found:
            return f"{found.group(3)}/{found.group(2)}/{found.group(1)}"
        return value
    return str(value)


def _flatten(value: Any, prefix: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        if {"media_type", "encoding", "data"} <= value.keys():
            kind = "Document PDF" if value["media_type"] == "application/pdf" else "Message"
            yield prefix, f"{kind} de {value.get('size', '?')} octets (dans le fichier JSON)"
            return
        if not value:
            yield prefix, "—"
        for key, item in value.items():
            yield from _flatten(item, f"{prefix} › {_label(key)}" if prefix else _label(key))
    elif isinstance(value, list) and any(isinstance(item, dict | list) for item in value):
        for index, item in enumerate(value, start=1):
            yield from _flatten(item, f"{prefix} › {index}")
    elif isinstance(value, list):
        yield prefix, ", ".join(_value(item) for item in value) or "—"
    else:
        yield prefix, _value(value)


def record_lines(row: Mapping[str, Any]) -> list[tuple[str, str]]:
    """One row as (label, value) lines, nested documents flattened."""
    lines: list[tuple[str, str]] = []
    for key, value in row.items():
        if key == "doc" and isinstance(value, dict):
            # The document repeats some columns (id, operator, dates): show them once.
            value = {k: v for k, v in value.items() if k not in row or row[k] != v}
        lines.extend(_flatten(value, "" if key == "doc" else _label(key)))
    if len(lines) > MAX_ROWS_PER_RECORD:
        hidden = len(lines) - MAX_ROWS_PER_RECORD
        lines = [*lines[:MAX_ROWS_PER_RECORD], ("…", f"{hidden} lignes de plus dans le JSON")]
    return lines


def export_html(document: Mapping[str, Any], *, operator_name: str) -> str:
    sections = [
        {
            "label": section["label"],
            "rows": [record_lines(row) for row in section["rows"]],
        }
        for section in document["tables"].values()
    ]
    template = make_environment().get_template("gdpr/export.html")
    return template.render(
        title="Vos données personnelles",
        operator_name=operator_name,
        beneficiary_id=document["beneficiary_id"],
        generated_at=_value(document["generated_at"]),
        sections=sections,
    )


def render_export(document: Mapping[str, Any], *, operator_name: str) -> bytes:
    """The PDF, rendered in this process (the CLI's, or a worker thread of the web app)."""
    html = export_html(document, operator_name=operator_name)
    return render_pdf(RenderRequest(html=html, title="Vos données personnelles", lang="fr"))

"""Answers a test can submit without knowing a form: the smallest valid ones, and the core's.

`minimal_answers` reads an input Struct's types and bounds (required fields only, first
choices, lower bounds, today's date), so a conformance run or a plugin's own test can fill any
operator's intake and steps; a field it cannot guess (a string with a pattern) is named in a
`NoMinimalAnswer`, and the caller gives that answer itself. `core_answers` are real answers to
the core's legal steps, whose rules ask for more than the smallest typed values.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import msgspec
from msgspec import inspect as mi

from cep_core.domain.steps import LEVEL_ONE_RECORD, LEVEL_TWO_ACTION_PLAN, LEVEL_TWO_PROJECT

SAMPLE_TEXT = "Réponse"


class NoMinimalAnswer(ValueError):
    """No answer can be guessed for the field at `path` (its string has a pattern)."""

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(
            f"aucune réponse minimale ne peut être devinée pour « {path} » (chaîne à motif) : "
            "donnez-la vous-même"
        )


def minimal_answers(model: type[msgspec.Struct], today: date) -> dict[str, Any]:
    """The smallest answers `model` accepts, as JSON-ready values (dates as ISO strings)."""
    value = _minimal(mi.type_info(model), today, "")
    assert isinstance(value, dict)
    return value


def _minimal(info: Any, today: date, path: str) -> Any:
    if isinstance(info, mi.Metadata):
        return _minimal(info.type, today, path)
    if isinstance(info, mi.UnionType):
        if any(isinstance(member, mi.NoneType) for member in info.types):
            return None
        return _minimal(info.types[0], today, path)
    if isinstance(info, mi.StrType):
        if info.pattern is not None:
            raise NoMinimalAnswer(path)
        text = SAMPLE_TEXT[: info.max_length] if info.max_length is not None else SAMPLE_TEXT
        return text.ljust(info.min_length or 0, "x")
    if isinstance(info, mi.BoolType):
        return True
    if isinstance(info, mi.IntType | mi.FloatType):
        low = info.ge if info.ge is not None else (info.gt + 1 if info.gt is not None else 0)
        high = info.le if info.le is not None else (info.lt - 1 if info.lt is not None else None)
        number = max(low, 1) if high is None or high >= 1 else low
        return float(number) if isinstance(info, mi.FloatType) else int(number)
    if isinstance(info, mi.EnumType):
        return next(iter(info.cls)).value
    if isinstance(info, mi.LiteralType):
        return info.values[0]
    if isinstance(info, mi.DateType):
        return today.isoformat()
    if isinstance(info, mi.DateTimeType):
        return datetime.combine(today, time(9, 0), tzinfo=UTC).isoformat()
    if isinstance(info, mi.ListType | mi.VarTupleType | mi.SetType | mi.FrozenSetType):
        return [_minimal(info.item_type, today, f"{path}[]") for _ in range(info.min_length or 0)]
    if isinstance(info, mi.DictType):
        return {}
    if isinstance(info, mi.StructType):
        prefix = f"{path}." if path else ""
        return {
            field.encode_name: _minimal(field.type, today, prefix + field.encode_name)
            for field in info.fields
            if field.required
        }
    raise NoMinimalAnswer(path or "(racine)")


def core_answers(today: date) -> dict[str, dict[str, Any]]:
    """Answers to the core's steps that its rules accept (a level-1 record that continues)."""
    return {
        LEVEL_ONE_RECORD: {
            "request": "Je souhaite faire le point sur mon parcours professionnel.",
            "clarified_need": "Construire un projet d'évolution réaliste.",
            "information_given": ["cep_service", "job_market", "funding"],
            "shared_review": "La personne souhaite être accompagnée pour formaliser son projet.",
            "continues": True,
        },
        LEVEL_TWO_PROJECT: {
            "objective": "career_development",
            "description": "Évoluer vers un poste de coordination.",
            "strategies": ["Formation courte certifiante", "Mobilité interne"],
            "rome_code": "M1302",
        },
        LEVEL_TWO_ACTION_PLAN: {
            "services": [
                {
                    "kind": "training",
                    "label": "Certificat de coordination d'équipe",
                    "provider": "Organisme de formation",
                    "provider_qualiopi": True,
                }
            ],
            "personal_steps": [{"description": "Rencontrer deux coordinateurs en poste"}],
            "milestones": [
                {"on": (today + timedelta(days=90)).isoformat(), "label": "Entrée en formation"}
            ],
        },
    }

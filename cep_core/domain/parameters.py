"""Dated parameters: every amount, threshold, label and date the rules use.

Rules change on known dates (Pôle emploi became France Travail on 2024-01-01, the CPF
participation is revalued every 1 January), so a rule never holds a literal: it asks a
`ParameterSet` for the value in force on the date that matters, and each value carries the
legal or documentary source it comes from. Files are TOML, one table per parameter::

    [pole_emploi.name]
    description = "Nom de l'opérateur public de l'emploi"
    values = [
      { valid_from = 2008-12-19, value = "Pôle emploi", source = "Loi n° 2008-126" },
      { valid_from = 2024-01-01, value = "France Travail", source = "Loi n° 2023-1196" },
    ]

A value may end with ``valid_until`` (inclusive) when nothing is known after that date.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from datetime import date
from importlib import resources
from typing import Any

import msgspec


class ParameterError(LookupError):
    """A parameter is missing, malformed, or not defined on the date asked."""


class DatedValue(msgspec.Struct, frozen=True, kw_only=True):
    valid_from: date
    value: Any
    source: str
    valid_until: date | None = None


class Parameter(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    description: str
    values: tuple[DatedValue, ...]
    unit: str | None = None

    def at(self, when: date) -> Any:
        """The value in force on `when`; raises `ParameterError` outside every period."""
        found = self.entry_at(when)
        if found is None:
            raise ParameterError(f"paramètre « {self.name} » non défini au {when.isoformat()}")
        return found.value

    @property
    def latest(self) -> DatedValue:
        """The newest value: what a plugin shows when no date is in question."""
        return self.values[-1]

    def entry_at(self, when: date) -> DatedValue | None:
        current: DatedValue | None = None
        for entry in self.values:
            if entry.valid_from <= when:
                current = entry
            else:
                break
        if current is None or (current.valid_until is not None and when > current.valid_until):
            return None
        return current


class ParameterSet(Mapping[str, Parameter]):
    """An immutable collection of dated parameters, usually loaded from one TOML file."""

    def __init__(self, parameters: Mapping[str, Parameter]) -> None:
        self._parameters = dict(parameters)

    def __getitem__(self, name: str) -> Parameter:
        try:
            return self._parameters[name]
        except KeyError:
            raise ParameterError(f"paramètre inconnu : « {name} »") from None

    def __contains__(self, name: object) -> bool:
        return name in self._parameters

    def __iter__(self) -> Iterator[str]:
        return iter(self._parameters)

    def __len__(self) -> int:
        return len(self._parameters)

    def at(self, name: str, when: date) -> Any:
        return self[name].at(when)

    def get_at(self, name: str, when: date, default: Any = None) -> Any:
        entry = self[name].entry_at(when)
        return default if entry is None else entry.value

    @classmethod
    def from_toml(cls, text: str, *, origin: str = "<texte>") -> ParameterSet:
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ParameterError(f"{origin} : TOML invalide ({exc})") from exc
        return cls(_parse_tables(raw, prefix="", origin=origin))

    @classmethod
    def from_package(cls, package: str, resource: str) -> ParameterSet:
        """Load a TOML file shipped inside a package (plugins keep their data this way)."""
        ref = resources.files(package).joinpath(resource)
        return cls.from_toml(ref.read_text(encoding="utf-8"), origin=f"{package}/{resource}")


def _parse_tables(raw: Mapping[str, Any], *, prefix: str, origin: str) -> dict[str, Parameter]:
    found: dict[str, Parameter] = {}
    for key, table in raw.items():
        name = f"{prefix}{key}"
        if not isinstance(table, dict):
            raise ParameterError(f"{origin} : « {name} » doit être une table")
        if "values" in table:
            found[name] = _parse_parameter(name, table, origin)
        else:
            found.update(_parse_tables(table, prefix=f"{name}.", origin=origin))
    return found


def _parse_parameter(name: str, table: Mapping[str, Any], origin: str) -> Parameter:
    try:
        parameter = msgspec.convert({"name": name, **table}, Parameter)
    except msgspec.ValidationError as exc:
        raise ParameterError(f"{origin} : paramètre « {name} » mal formé ({exc})") from exc
    if not parameter.values:
        raise ParameterError(f"{origin} : paramètre « {name} » sans valeur")
    dates = [v.valid_from for v in parameter.values]
    if dates != sorted(dates) or len(set(dates)) != len(dates):
        raise ParameterError(
            f"{origin} : les valeurs de « {name} » doivent être triées par valid_from, sans doublon"
        )
    for value in parameter.values:
        if not value.source.strip():
            raise ParameterError(f"{origin} : « {name} » au {value.valid_from} n'a pas de source")
        if value.valid_until is not None and value.valid_until < value.valid_from:
            raise ParameterError(f"{origin} : « {name} » : valid_until avant valid_from")
    return parameter

"""Activity indicators an operator reports on."""

from __future__ import annotations

import msgspec


class IndicatorDefinition(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    label: str
    unit: str = "nombre"
    description: str = ""
    operator: str | None = None  # None: a core indicator shared by every operator

"""What a plugin says about itself when it registers."""

from __future__ import annotations

import enum
from datetime import date

import msgspec

from cep_core.domain.orientation import Contact
from cep_core.domain.parameters import Parameter


class PluginKind(enum.StrEnum):
    OPERATOR = "operator"  # serves a public: its scoped hooks run only on its own cases
    CAPABILITY = "capability"  # adds behaviour to every operator (audit, renderer, ...)
    POLICY = "policy"  # answers "who decides" hooks for the whole deployment


class DatedLabel(msgspec.Struct, frozen=True, kw_only=True):
    valid_from: date
    value: str
    source: str


def dated_labels(parameter: Parameter) -> tuple[DatedLabel, ...]:
    """An operator's names over time, read from its dated ``label`` parameter."""
    return tuple(
        DatedLabel(valid_from=v.valid_from, value=v.value, source=v.source)
        for v in parameter.values
    )


class Theme(msgspec.Struct, frozen=True, kw_only=True):
    """Branding for pages and syntheses; colours are CSS hex values."""

    primary_color: str = "#1f4e79"
    accent_color: str = "#f2b705"
    logo: str | None = None  # path inside the plugin package


class PluginInfo(msgspec.Struct, frozen=True, kw_only=True):
    """Identity and contract of a plugin.

    `core_range` is a PEP 440 specifier the core version must satisfy (e.g. ``">=0.1,<0.2"``);
    a plugin outside its range is refused at start-up. `labels` are the operator's names over
    time, oldest first.
    """

    id: str
    kind: PluginKind
    labels: tuple[DatedLabel, ...]
    core_range: str
    description: str = ""
    contact: Contact | None = None
    theme: Theme | None = None
    templates: str | None = None  # package-relative folder of Jinja templates

    def label(self, when: date) -> str:
        current = self.labels[0].value if self.labels else self.id
        for entry in self.labels:
            if entry.valid_from <= when:
                current = entry.value
        return current

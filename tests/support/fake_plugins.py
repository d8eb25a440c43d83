"""Small plugins used to exercise the registry; each is a plain object, like a real plugin."""

from __future__ import annotations

from datetime import date
from typing import Any

from cep_core import (
    Competence,
    DatedLabel,
    PluginInfo,
    PluginKind,
    Situation,
    hookimpl,
)


def info(
    plugin_id: str, *, kind: PluginKind = PluginKind.OPERATOR, core_range: str = ">=0.1,<0.2"
) -> PluginInfo:
    return PluginInfo(
        id=plugin_id,
        kind=kind,
        labels=(DatedLabel(valid_from=date(2020, 1, 1), value=plugin_id.title(), source="test"),),
        core_range=core_range,
    )


class Operator:
    """An operator competent for everyone, or for nobody."""

    def __init__(self, plugin_id: str, *, competent: bool = True, **info_kwargs: Any) -> None:
        self.plugin_id = plugin_id
        self.competent = competent
        self.info_kwargs = info_kwargs

    @hookimpl
    def cep_plugin_info(self) -> PluginInfo:
        return info(self.plugin_id, **self.info_kwargs)

    @hookimpl
    def cep_assess_competence(self, situation: Situation) -> Competence:
        return Competence(
            operator=self.plugin_id,
            competent=self.competent,
            name=self.plugin_id.title(),
            reason=f"Raison de {self.plugin_id}.",
        )


class Raising(Operator):
    @hookimpl
    def cep_assess_competence(self, situation: Situation) -> Competence:
        raise RuntimeError("panne du plugin")


class UnknownHook(Operator):
    @hookimpl
    def cep_does_not_exist(self) -> None:
        """A hook no spec declares (a typo in a real plugin)."""


class Unmarked(Operator):
    def cep_intake_form(self, ctx: object, channel: object) -> None:
        """Forgot the @hookimpl marker."""


class BadSignature(Operator):
    @hookimpl
    def cep_assess_competence(self, person: Situation) -> Competence:  # type: ignore[override]
        raise AssertionError("never registered")


class NoInfo:
    @hookimpl
    def cep_indicators(self) -> list[object]:
        return []


class WrongOperatorAnswer(Operator):
    @hookimpl
    def cep_assess_competence(self, situation: Situation) -> Competence:
        return Competence(operator="someone_else", competent=True, name="X", reason="X")

"""A rule on case transitions: no case is closed as completed without a single session."""

from __future__ import annotations

from cep_core import (
    Case,
    CaseStatus,
    CloseReason,
    Issue,
    OperatorContext,
    PluginInfo,
    PluginKind,
    Transition,
    hookimpl,
    issue,
)
from cep_hook_examples.info import example_info


@hookimpl
def cep_plugin_info() -> PluginInfo:
    return example_info("exemples.cloture", PluginKind.CAPABILITY, "Clôture avec entretien")


@hookimpl
def cep_case_transition(ctx: OperatorContext, case: Case, transition: Transition) -> list[Issue]:
    completed = transition.reason == CloseReason.COMPLETED
    if transition.to_status is CaseStatus.CLOSED and completed and not case.sessions:
        return [
            issue(
                "status",
                "no_session",
                "Un accompagnement ne peut être clôturé comme terminé sans aucun entretien "
                "enregistré.",
            )
        ]
    return []

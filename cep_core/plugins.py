"""One plugin manager per `Kit`: loading, checking, scoping and the typed hook facade.

Nothing here runs at import time. A `PluginRegistry` owns a private pluggy manager; it admits
a plugin only after checking it (importable, has `cep_plugin_info`, core version in range,
every ``cep_`` function marked and matching a spec) and records why it refused the others, so
``cep plugins`` can say it and ``cep serve`` can stop with a message that names them.

`Hooks` is the only caller of hooks: one typed method per hook, the one place that scopes
operator hooks to the case's operator (plus capability and policy plugins) and that turns a
plugin's exception into a `PluginFailure` for that operator alone.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from importlib import metadata
from types import ModuleType
from typing import TYPE_CHECKING, Any

import msgspec
import pluggy
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from cep_core import hookspecs
from cep_core._version import __version__
from cep_core.commands import CommandRegistry
from cep_core.domain.case import Case, CaseEvent, Level, Transition
from cep_core.domain.context import OperatorContext
from cep_core.domain.data import DataRecipient, Permission, RetentionRule
from cep_core.domain.forms import FormChannel, IntakeForm, StepDefinition
from cep_core.domain.funding import (
    FundingOption,
    FundingPlan,
    FundingRequest,
    FundingSituation,
    Project,
)
from cep_core.domain.issues import Issue
from cep_core.domain.orientation import Competence, Eligibility, Orientation
from cep_core.domain.plugin_info import PluginInfo, PluginKind
from cep_core.domain.reporting import IndicatorDefinition
from cep_core.domain.situation import Situation
from cep_core.domain.synthesis import RenderRequest, SynthesisSection, TemplateRef
from cep_core.errors import PluginFailure, UnknownOperator

if TYPE_CHECKING:
    from cep_core.kit import Kit

ENTRY_POINT_GROUP = "cep"
HOOK_PREFIX = "cep_"
log = logging.getLogger("cep_core.plugins")
trace_log = logging.getLogger("cep_core.hooks")


@dataclass(frozen=True)
class PluginRecord:
    """A plugin admitted into the kit."""

    name: str
    info: PluginInfo
    plugin: object = field(repr=False)
    hooks: tuple[str, ...]
    distribution: str | None = None
    version: str | None = None
    builtin: bool = False


@dataclass(frozen=True)
class RefusedPlugin:
    name: str
    reason: str
    distribution: str | None = None
    version: str | None = None


@dataclass(frozen=True)
class DisabledPlugin:
    name: str
    why: str
    distribution: str | None = None


class PluginRegistry:
    def __init__(self, *, trace: bool = False, core_version: str = __version__) -> None:
        self._pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self._pm.add_hookspecs(hookspecs)
        self._core_version = Version(core_version)
        self.records: dict[str, PluginRecord] = {}
        self.refused: list[RefusedPlugin] = []
        self.disabled: list[DisabledPlugin] = []
        self._blocked: set[str] = set()
        self._scoped_cache: dict[tuple[str, str], Any] = {}
        if trace:
            self._pm.trace.root.setwriter(lambda message: trace_log.info(message.rstrip()))
            self._pm.enable_tracing()

    # -- admission -------------------------------------------------------------------------

    def block(self, names: Iterable[str], why: str) -> None:
        for name in names:
            self._blocked.add(name)
            self._pm.set_blocked(name)
            self.disabled.append(DisabledPlugin(name=name, why=why))

    def register(
        self,
        plugin: object,
        name: str | None = None,
        *,
        distribution: str | None = None,
        version: str | None = None,
        builtin: bool = False,
    ) -> PluginRecord | RefusedPlugin | None:
        """Admit `plugin` after every check; return its record, its refusal, or None if blocked."""
        if name is not None and name in self._blocked:
            return None
        label = name or _default_name(plugin)

        def refuse(reason: str) -> RefusedPlugin:
            refusal = RefusedPlugin(label, reason, distribution, version)
            self.refused.append(refusal)
            log.error("plugin %r refused: %s", label, reason)
            return refusal

        if inspect.isclass(plugin):
            return refuse(
                "l'entrée désigne une classe ; elle doit désigner un module ou une instance"
            )
        unmarked = _unmarked_hook_functions(plugin)
        if unmarked:
            return refuse("fonctions sans le marqueur @hookimpl : " + ", ".join(sorted(unmarked)))
        info_impl = getattr(plugin, "cep_plugin_info", None)
        if info_impl is None:
            return refuse("n'implémente pas cep_plugin_info (identité et version du noyau)")
        try:
            info = info_impl()
        except Exception as exc:  # a plugin's bug must not stop the others
            return refuse(f"cep_plugin_info a levé {type(exc).__name__} : {exc}")
        if not isinstance(info, PluginInfo):
            return refuse("cep_plugin_info doit renvoyer un PluginInfo")
        # Modules register under their import name, instances under their plugin id.
        name = name or (plugin.__name__ if isinstance(plugin, ModuleType) else info.id)
        label = name
        if name in self._blocked:
            return None
        try:
            accepted = SpecifierSet(info.core_range)
        except InvalidSpecifier:
            return refuse(f"plage de versions du noyau invalide : « {info.core_range} »")
        if not accepted.contains(self._core_version, prereleases=True):
            return refuse(
                f"demande le noyau {info.core_range}, or le noyau installé est {__version__}"
            )
        if any(r.info.id == info.id for r in self.records.values()):
            return refuse(f"l'identifiant « {info.id} » est déjà utilisé par un autre plugin")
        try:
            self._pm.register(plugin, name=name)
        except (pluggy.PluginValidationError, ValueError) as exc:
            return refuse(f"implémentation de hook invalide : {exc}")
        callers = self._pm.get_hookcallers(plugin) or []
        unknown = sorted(c.name for c in callers if not c.has_spec())
        if unknown:
            self._pm.unregister(plugin)
            return refuse("implémente des hooks inconnus : " + ", ".join(unknown))
        record = PluginRecord(
            name=name,
            info=info,
            plugin=plugin,
            hooks=tuple(sorted(c.name for c in callers)),
            distribution=distribution,
            version=version,
            builtin=builtin,
        )
        self.records[name] = record
        self._scoped_cache.clear()
        return record

    def unregister(self, name: str) -> None:
        record = self.records.pop(name)
        self._pm.unregister(record.plugin)
        self._scoped_cache.clear()

    def load_entrypoints(
        self, group: str = ENTRY_POINT_GROUP, *, allow: Sequence[str] | None = None
    ) -> None:
        """Load installed plugins; `allow`, when given, is the only set of names admitted."""
        for ep in sorted(metadata.entry_points(group=group), key=lambda e: e.name):
            dist = ep.dist.name if ep.dist else None
            version = ep.dist.version if ep.dist else None
            if allow is not None and ep.name not in allow:
                self.disabled.append(DisabledPlugin(ep.name, "absent de CEP_PLUGINS", dist))
                continue
            if ep.name in self._blocked:
                self.disabled = [
                    d if d.name != ep.name else DisabledPlugin(d.name, d.why, dist)
                    for d in self.disabled
                ]
                continue
            if ep.name in self.records:
                continue
            try:
                plugin = ep.load()
            except Exception as exc:  # report, never crash the other plugins
                self.refused.append(
                    RefusedPlugin(
                        ep.name, f"échec de l'import ({type(exc).__name__} : {exc})", dist, version
                    )
                )
                log.error("plugin %r failed to import: %s", ep.name, exc)
                continue
            self.register(plugin, ep.name, distribution=dist, version=version)

    def check_pending(self) -> None:
        """pluggy's own safety net: no hook implementation left without a spec."""
        self._pm.check_pending()

    # -- lookup ----------------------------------------------------------------------------

    def operators(self) -> list[PluginRecord]:
        # Asked on every orientation and case request: kept until a plugin comes or goes.
        found = self._scoped_cache.get(("", "operators"))
        if found is None:
            records = [r for r in self.records.values() if r.info.kind is PluginKind.OPERATOR]
            found = self._scoped_cache[("", "operators")] = sorted(records, key=lambda r: r.info.id)
        return list(found)

    def operator(self, operator_id: str) -> PluginRecord:
        for record in self.records.values():
            if record.info.kind is PluginKind.OPERATOR and record.info.id == operator_id:
                return record
        raise UnknownOperator(operator_id)

    @property
    def relay(self) -> Any:
        return self._pm.hook

    def scoped(self, hook_name: str, operator_id: str) -> Any:
        """A caller of `hook_name` that sees only `operator_id`'s plugin among operators."""
        key = (hook_name, operator_id)
        caller = self._scoped_cache.get(key)
        if caller is None:
            self.operator(operator_id)  # raises UnknownOperator
            others = [
                r.plugin
                for r in self.records.values()
                if r.info.kind is PluginKind.OPERATOR and r.info.id != operator_id
            ]
            caller = self._pm.subset_hook_caller(hook_name, remove_plugins=others)
            self._scoped_cache[key] = caller
        return caller


def _default_name(plugin: object) -> str:
    """A name for messages about a plugin refused before it could say its id."""
    if isinstance(plugin, ModuleType):
        return plugin.__name__
    if inspect.isclass(plugin):
        return f"{plugin.__module__}.{plugin.__qualname__}"
    return f"{type(plugin).__module__}.{type(plugin).__qualname__}"


def _unmarked_hook_functions(plugin: object) -> list[str]:
    """``cep_`` functions a plugin defines without @hookimpl: almost always a forgotten marker."""
    marker_attr = f"{hookspecs.PROJECT_NAME}_impl"
    found = []
    for attr in dir(plugin):
        if not attr.startswith(HOOK_PREFIX):
            continue
        value = getattr(plugin, attr, None)
        if (inspect.isfunction(value) or inspect.ismethod(value)) and not hasattr(
            value, marker_attr
        ):
            if isinstance(plugin, ModuleType) and value.__module__ != plugin.__name__:
                continue  # imported helpers are not the plugin's own hooks
            found.append(attr)
    return found


class Hooks:
    """The typed facade over the hook relay: the only code that calls hooks."""

    def __init__(self, registry: PluginRegistry) -> None:
        self._registry = registry

    def _scoped_call(self, hook: str, ctx: OperatorContext, **kwargs: Any) -> Any:
        caller = self._registry.scoped(hook, ctx.operator)
        try:
            return caller(ctx=ctx, **kwargs)
        except PluginFailure:
            raise
        except Exception as exc:
            raise PluginFailure(self._registry.operator(ctx.operator).info.id, hook, exc) from exc

    def _collect_scoped(self, hook: str, ctx: OperatorContext, **kwargs: Any) -> list[Any]:
        results = self._scoped_call(hook, ctx, **kwargs)
        return [item for result in results if result for item in result]

    def _call_all(self, hook: str, **kwargs: Any) -> Any:
        caller = getattr(self._registry.relay, hook)
        try:
            return caller(**kwargs)
        except Exception as exc:
            raise PluginFailure(_culprit(caller, exc), hook, exc) from exc

    # -- plugin metadata -------------------------------------------------------------------

    def operators(self) -> list[PluginInfo]:
        """Installed operators, sorted by id."""
        return [record.info for record in self._registry.operators()]

    def operator(self, operator_id: str) -> PluginInfo:
        """The operator's information; raises `UnknownOperator` when it is not installed."""
        return self._registry.operator(operator_id).info

    def operator_label(self, operator_id: str, on: date) -> str:
        """The operator's name on `on`; its id when it is not installed (old records of an
        operator removed since still need a name to show)."""
        try:
            return self.operator(operator_id).label(on)
        except UnknownOperator:
            return operator_id

    # -- registration ----------------------------------------------------------------------

    def register_routes(self) -> list[Any]:
        return [h for result in self._call_all("cep_register_routes") if result for h in result]

    def register_commands(self, commands: CommandRegistry) -> None:
        self._call_all("cep_register_commands", commands=commands)

    def startup(self, kit: Kit) -> None:
        self._call_all("cep_startup", kit=kit)

    # -- orientation -----------------------------------------------------------------------

    def assess_competences(
        self, situation: Situation
    ) -> tuple[list[Competence], list[PluginFailure]]:
        """Ask every operator on its own; a failing operator is reported, not fatal."""
        competences: list[Competence] = []
        failures: list[PluginFailure] = []
        for record in self._registry.operators():
            operator_id = record.info.id
            caller = self._registry.scoped("cep_assess_competence", operator_id)
            try:
                answers = [a for a in caller(situation=situation) if a is not None]
                mine = [a for a in answers if isinstance(a, Competence)]
                if len(mine) != len(answers):
                    raise TypeError("cep_assess_competence doit renvoyer une Competence ou None")
                for answer in mine:
                    if answer.operator != operator_id:
                        raise ValueError(
                            f"Competence pour « {answer.operator} » renvoyée par « {operator_id} »"
                        )
            except Exception as exc:
                log.exception("operator %r failed in cep_assess_competence", operator_id)
                failures.append(PluginFailure(operator_id, "cep_assess_competence", exc))
                continue
            competences.extend(mine)
        competences.sort(key=lambda c: c.operator)
        return competences, failures

    def choose_orientation(
        self, situation: Situation, eligibility: Eligibility, competences: Sequence[Competence]
    ) -> Orientation:
        result = self._call_all(
            "cep_choose_orientation",
            situation=situation,
            eligibility=eligibility,
            competences=tuple(competences),
        )
        if not isinstance(result, Orientation):
            raise PluginFailure("?", "cep_choose_orientation", "aucune politique d'orientation")
        return result

    # -- intake ----------------------------------------------------------------------------

    def intake_form(self, ctx: OperatorContext, channel: FormChannel) -> IntakeForm | None:
        form = self._scoped_call("cep_intake_form", ctx, channel=channel)
        return form if isinstance(form, IntakeForm) else None

    def validate_intake(self, ctx: OperatorContext, data: Mapping[str, Any]) -> list[Issue]:
        return self._collect_scoped("cep_validate_intake", ctx, data=data)

    # -- session steps ---------------------------------------------------------------------

    def session_steps(self, ctx: OperatorContext, level: Level, case: Case) -> list[StepDefinition]:
        steps: list[StepDefinition] = self._collect_scoped(
            "cep_session_steps", ctx, level=level, case=case
        )
        return sorted(steps, key=lambda s: (s.order, s.id))

    def validate_step(
        self, ctx: OperatorContext, case: Case, step_id: str, data: Mapping[str, Any]
    ) -> list[Issue]:
        return self._collect_scoped("cep_validate_step", ctx, case=case, step_id=step_id, data=data)

    def case_transition(
        self, ctx: OperatorContext, case: Case, transition: Transition
    ) -> list[Issue]:
        return self._collect_scoped("cep_case_transition", ctx, case=case, transition=transition)

    # -- funding ---------------------------------------------------------------------------

    def funding_options(
        self, ctx: OperatorContext, project: Project, situation: FundingSituation
    ) -> list[FundingOption]:
        return self._collect_scoped(
            "cep_funding_options", ctx, project=project, situation=situation
        )

    def build_funding_plan(
        self, ctx: OperatorContext, request: FundingRequest
    ) -> FundingPlan | None:
        plan = self._scoped_call("cep_build_funding_plan", ctx, request=request)
        return plan if isinstance(plan, FundingPlan) else None

    def check_funding_plan(self, ctx: OperatorContext, plan: FundingPlan) -> list[Issue]:
        return self._collect_scoped("cep_check_funding_plan", ctx, plan=plan)

    # -- synthesis -------------------------------------------------------------------------

    def synthesis_sections(
        self, ctx: OperatorContext, case: Case, level: Level
    ) -> list[SynthesisSection]:
        sections: list[SynthesisSection] = self._collect_scoped(
            "cep_synthesis_sections", ctx, case=case, level=level
        )
        return sorted(sections, key=lambda s: (s.order, s.id))

    def synthesis_template(self, ctx: OperatorContext, level: Level) -> TemplateRef | None:
        ref = self._scoped_call("cep_synthesis_template", ctx, level=level)
        return ref if isinstance(ref, TemplateRef) else None

    def render_pdf(self, request: RenderRequest) -> bytes | None:
        pdf = self._call_all("cep_render_pdf", request=request)
        return pdf if isinstance(pdf, bytes) else None

    # -- data protection -------------------------------------------------------------------

    def data_recipients(self, ctx: OperatorContext, case: Case) -> list[DataRecipient]:
        return self._collect_scoped("cep_data_recipients", ctx, case=case)

    def retention_rules(self) -> list[RetentionRule]:
        return [r for result in self._call_all("cep_retention_rules") if result for r in result]

    def permission_check(self, ctx: OperatorContext, permission: Permission) -> bool:
        """Deny wins; with no opinion at all, the answer is deny (deny by default)."""
        try:
            answers = self._scoped_call("cep_permission_check", ctx, permission=permission)
        except PluginFailure:
            return False
        return bool(answers) and all(answer is not False for answer in answers) and any(answers)

    def case_event(self, ctx: OperatorContext, event: CaseEvent) -> None:
        """Notify after commit: a failing listener is logged, never undoes the event."""
        try:
            self._scoped_call("cep_case_event", ctx, event=event)
        except PluginFailure:
            log.exception("case event listener failed for %s", ctx.operator)

    # -- reporting -------------------------------------------------------------------------

    def indicators(self) -> list[IndicatorDefinition]:
        return [i for result in self._call_all("cep_indicators") if result for i in result]


def _culprit(caller: Any, exc: BaseException) -> str:
    """The plugin whose hook implementation raised, found in the traceback (only on failure)."""
    by_code = {impl.function.__code__: impl.plugin_name for impl in caller.get_hookimpls()}
    culprit = "?"
    tb = exc.__traceback__
    while tb is not None:
        culprit = by_code.get(tb.tb_frame.f_code, culprit)
        tb = tb.tb_next
    return culprit


def describe(record: PluginRecord) -> dict[str, Any]:
    """A plain description of an admitted plugin (used by ``cep plugins --json``)."""
    return {
        "name": record.name,
        "id": record.info.id,
        "kind": str(record.info.kind),
        "distribution": record.distribution,
        "version": record.version,
        "builtin": record.builtin,
        "core_range": record.info.core_range,
        "hooks": list(record.hooks),
        "info": msgspec.to_builtins(record.info),
    }

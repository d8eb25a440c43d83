# mypy: disable-error-code="empty-body"
"""Every hook of cep-kit, grouped by phase.

Each spec's docstring has the same shape, checked by a test and rendered in the plugin
reference: a purpose line, then ``:arguments:``, ``:returns:``, ``:none:`` (what returning
None means), ``:raising:`` (what raising means), ``:firstresult:``, ``:scope:`` and
``.. versionadded::``.

Hooks are synchronous and pure: no I/O, inputs and outputs are msgspec Structs. Scopes:

- *every plugin*: all registered plugins are called;
- *operators*: every operator plugin is called, each for its own public;
- *operator-scoped*: only the plugin of the operator in ``ctx.operator``, plus capability and
  policy plugins, are called; an Apec rule never runs on a Mission locale case.

Core code never calls these directly: `cep_core.plugins.Hooks` has one typed method per hook.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pluggy

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
from cep_core.domain.plugin_info import PluginInfo
from cep_core.domain.reporting import IndicatorDefinition
from cep_core.domain.situation import Situation
from cep_core.domain.synthesis import RenderRequest, SynthesisSection, TemplateRef

if TYPE_CHECKING:
    from cep_core.kit import Kit

PROJECT_NAME = "cep"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)


# --- registration -------------------------------------------------------------------------


@hookspec
def cep_plugin_info() -> PluginInfo:
    """Say who the plugin is: id, kind, dated labels, contact, theme and core range.

    :arguments: none.
    :returns: the plugin's `PluginInfo`; the core reads it once, at registration.
    :none: not allowed: a plugin without information is refused at start-up.
    :raising: the plugin is refused at start-up, with the error in `cep plugins`.
    :firstresult: no (the core calls each plugin's implementation on its own).
    :scope: every plugin.

    .. versionadded:: 0.1
    """


@hookspec
def cep_register_routes() -> Sequence[Any]:
    """Add HTTP routes (Litestar handlers, controllers or routers) to the web app.

    :arguments: none.
    :returns: route handlers to mount; paths should start with ``/plugins/<id>/``.
    :none: the plugin adds no route.
    :raising: the app refuses to start, naming the plugin.
    :firstresult: no.
    :scope: every plugin.

    .. versionadded:: 0.1
    """


@hookspec
def cep_register_commands(commands: CommandRegistry) -> None:
    """Add sub-commands to the ``cep`` command line.

    :arguments: ``commands``: the registry to call ``add(name, help, handler, configure)`` on.
    :returns: nothing.
    :none: always (the registry is the output).
    :raising: the CLI stops with a message naming the plugin.
    :firstresult: no.
    :scope: every plugin.

    .. versionadded:: 0.1
    """


@hookspec
def cep_startup(kit: Kit) -> None:
    """Run once when a `Kit` is ready (after plugins are loaded and checked).

    :arguments: ``kit``: the kit being started; read its settings, do not keep global state.
    :returns: nothing.
    :none: always.
    :raising: start-up fails with a message naming the plugin.
    :firstresult: no.
    :scope: every plugin.

    .. versionadded:: 0.1
    """


# --- orientation --------------------------------------------------------------------------


@hookspec
def cep_assess_competence(situation: Situation) -> Competence | None:
    """Say whether the person is in this operator's public, and why, in French.

    :arguments: ``situation``: the person's stated situation; ``situation.as_of`` is the date
        every dated label and rule must be read at.
    :returns: a `Competence` with ``competent`` true or false and a French ``reason``.
    :none: the plugin is not an operator and has no public (capability plugins).
    :raising: that operator is left out of the answer and reported unavailable; the other
        operators still answer.
    :firstresult: no.
    :scope: operators (each is called on its own, so one failure stays contained).

    .. versionadded:: 0.1
    """


@hookspec(firstresult=True)
def cep_choose_orientation(
    situation: Situation, eligibility: Eligibility, competences: Sequence[Competence]
) -> Orientation | None:
    """Turn the eligibility and the operators' competences into the answer given to the person.

    The default policy (``trylast``) lists every competent operator with its reason and lets
    the person choose; a deployment may register a policy plugin to rank or restrict them.

    :arguments: ``situation``; ``eligibility``: the legal eligibility, computed by the core;
        ``competences``: every operator's answer, in a stable order.
    :returns: the `Orientation`.
    :none: this policy does not decide; the next one (finally the default) does.
    :raising: the orientation request fails with a server error naming the plugin.
    :firstresult: yes.
    :scope: every plugin (policies).

    .. versionadded:: 0.1
    """


# --- intake -------------------------------------------------------------------------------


@hookspec(firstresult=True)
def cep_intake_form(ctx: OperatorContext, channel: FormChannel) -> IntakeForm | None:
    """Describe what the operator collects when a case is opened, beyond identity and situation.

    :arguments: ``ctx``: the operator context; ``channel``: who fills the form in.
    :returns: the `IntakeForm` for that channel.
    :none: the operator has no form of its own for that channel (the core's common form only).
    :raising: opening a case for that operator fails with a clear error; others are unaffected.
    :firstresult: yes.
    :scope: operator-scoped.

    .. versionadded:: 0.1
    """


@hookspec
def cep_validate_intake(ctx: OperatorContext, data: Mapping[str, Any]) -> list[Issue]:
    """Check intake answers against the operator's rules, beyond the form's own bounds.

    :arguments: ``ctx``; ``data``: the answers, already checked against the form's types.
    :returns: the problems found, in French; an empty list when the answers are acceptable.
    :none: same as an empty list.
    :raising: the request fails with a clear error for that operator only.
    :firstresult: no (every problem from every plugin is shown).
    :scope: operator-scoped.

    .. versionadded:: 0.1
    """


# --- session steps ------------------------------------------------------------------------


@hookspec
def cep_session_steps(ctx: OperatorContext, level: Level, case: Case) -> list[StepDefinition]:
    """List the steps of a level for this case, in the operator's own flow.

    :arguments: ``ctx``; ``level``: level 1 (accueil) or 2 (accompagnement); ``case``.
    :returns: step definitions; the core sorts them by ``order`` then id.
    :none: same as an empty list.
    :raising: the case page fails with a clear error for that operator only.
    :firstresult: no.
    :scope: operator-scoped.

    .. versionadded:: 0.1
    """


@hookspec
def cep_validate_step(
    ctx: OperatorContext, case: Case, step_id: str, data: Mapping[str, Any]
) -> list[Issue]:
    """Check a step's answers against the operator's rules.

    :arguments: ``ctx``; ``case``; ``step_id``; ``data``: answers already bound-checked.
    :returns: the problems found, in French.
    :none: same as an empty list.
    :raising: the step is not saved; a clear error for that operator only.
    :firstresult: no.
    :scope: operator-scoped.

    .. versionadded:: 0.1
    """


@hookspec
def cep_case_transition(ctx: OperatorContext, case: Case, transition: Transition) -> list[Issue]:
    """Veto a status change (pause, resume, close, refer, change of level) with French reasons.

    :arguments: ``ctx``; ``case``: the case before the change; ``transition``.
    :returns: reasons to refuse; any reason from any plugin refuses the transition.
    :none: no objection.
    :raising: the transition is refused and nothing is written.
    :firstresult: no.
    :scope: operator-scoped.

    .. versionadded:: 0.1
    """


# --- funding ------------------------------------------------------------------------------


@hookspec
def cep_funding_options(
    ctx: OperatorContext, project: Project, situation: FundingSituation
) -> list[FundingOption]:
    """List the funders and schemes that may pay for a project, with their rule references.

    :arguments: ``ctx``: ``ctx.today`` is the date the options are read at (the simulator
        sets it to the purchase date); ``project``: what is to be funded; ``situation``: the
        career facts funding needs (`FundingSituation`).
    :returns: the options this plugin knows of, each with its conditions, documents and
        amount or ceiling; only those that apply to this person and project.
    :none: same as an empty list.
    :raising: the funding page fails with a clear error for that operator only.
    :firstresult: no.
    :scope: operator-scoped.

    .. versionadded:: 0.1
    """


@hookspec(firstresult=True)
def cep_build_funding_plan(ctx: OperatorContext, request: FundingRequest) -> FundingPlan | None:
    """Build the funding plan (funders, amounts, CPF participation, reste à charge).

    :arguments: ``ctx``; ``request``: the project, the chosen options and the CPF balance.
    :returns: the `FundingPlan`; amounts in integer cents.
    :none: this plugin does not build plans; the default builder (``trylast``) does.
    :raising: the plan is not built; a clear error for that operator only.
    :firstresult: yes.
    :scope: operator-scoped.

    .. versionadded:: 0.1
    """


@hookspec
def cep_check_funding_plan(ctx: OperatorContext, plan: FundingPlan) -> list[Issue]:
    """Check a funding plan against funding rules (e.g. who may pay the CPF participation).

    :arguments: ``ctx``; ``plan``.
    :returns: the problems found, in French; a plan with problems is refused.
    :none: same as an empty list.
    :raising: the plan is refused; a clear error for that operator only.
    :firstresult: no.
    :scope: operator-scoped.

    .. versionadded:: 0.1
    """


# --- synthesis ----------------------------------------------------------------------------


@hookspec
def cep_synthesis_sections(
    ctx: OperatorContext, case: Case, level: Level
) -> list[SynthesisSection]:
    """Add sections to the document de synthèse of a level.

    :arguments: ``ctx``; ``case``; ``level``.
    :returns: sections; the core orders them by ``order`` then id.
    :none: same as an empty list.
    :raising: the synthesis is not produced; a clear error for that operator only.
    :firstresult: no.
    :scope: operator-scoped.

    .. versionadded:: 0.1
    """


@hookspec(firstresult=True)
def cep_synthesis_template(ctx: OperatorContext, level: Level) -> TemplateRef | None:
    """Choose the page template of the synthesis (the operator's layout and branding).

    :arguments: ``ctx``; ``level``.
    :returns: a reference to a template shipped in a package.
    :none: use the core's template.
    :raising: the synthesis is not produced; a clear error for that operator only.
    :firstresult: yes.
    :scope: operator-scoped.

    .. versionadded:: 0.1
    """


@hookspec(firstresult=True)
def cep_render_pdf(request: RenderRequest) -> bytes | None:
    """Render HTML to PDF; the default renderer (``trylast``) is WeasyPrint in a worker.

    :arguments: ``request``: the HTML and the only assets it may load.
    :returns: the PDF bytes.
    :none: this renderer declines; the next one is tried.
    :raising: the synthesis is not produced and the error is reported.
    :firstresult: yes.
    :scope: every plugin.

    .. versionadded:: 0.1
    """


# --- data protection ----------------------------------------------------------------------


@hookspec
def cep_data_recipients(ctx: OperatorContext, case: Case) -> list[DataRecipient]:
    """Declare who may receive this case's data, on which legal basis (L6353-10, consent...).

    :arguments: ``ctx``; ``case``.
    :returns: the allowed recipients; anything not listed is blocked.
    :none: same as an empty list.
    :raising: no data leaves the operator for that request.
    :firstresult: no.
    :scope: operator-scoped.

    .. versionadded:: 0.1
    """


@hookspec
def cep_retention_rules() -> list[RetentionRule]:
    """Declare how long each kind of data is kept, per operator.

    :arguments: none.
    :returns: retention rules; the shortest applicable rule wins.
    :none: same as an empty list.
    :raising: the purge job stops without deleting anything and reports the plugin.
    :firstresult: no.
    :scope: every plugin.

    .. versionadded:: 0.1
    """


@hookspec
def cep_permission_check(ctx: OperatorContext, permission: Permission) -> bool | None:
    """Allow or deny an action; a single deny wins over any number of allows.

    :arguments: ``ctx``: who acts, with which role; ``permission``: the action and resource.
    :returns: ``True`` to allow, ``False`` to deny.
    :none: no opinion.
    :raising: the action is denied.
    :firstresult: no (every answer is read; deny wins).
    :scope: operator-scoped.

    .. versionadded:: 0.1
    """


@hookspec
def cep_case_event(ctx: OperatorContext, event: CaseEvent) -> None:
    """Be told of a case event after it is committed (journal line, notification, counter).

    :arguments: ``ctx``; ``event``: the journal line, which holds no case content.
    :returns: nothing.
    :none: always.
    :raising: the error is logged with the plugin's name; the event stays committed.
    :firstresult: no.
    :scope: operator-scoped.

    .. versionadded:: 0.1
    """


# --- reporting ----------------------------------------------------------------------------


@hookspec
def cep_indicators() -> list[IndicatorDefinition]:
    """Declare activity indicators (the core's defaults plus operator additions).

    :arguments: none.
    :returns: indicator definitions.
    :none: same as an empty list.
    :raising: the dashboard shows the other indicators and reports the plugin.
    :firstresult: no.
    :scope: every plugin.

    .. versionadded:: 0.1
    """

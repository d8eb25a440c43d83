"""cep-kit core: the public surface plugins and portals may import.

Importing `cep_core` loads no plugin and opens nothing; `Kit` and `create_app` are imported on
first use so ``cep --help`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cep_core._version import __version__
from cep_core.commands import CommandRegistry
from cep_core.domain.case import (
    Case,
    CaseEvent,
    CaseStatus,
    CloseReason,
    IntakeRecord,
    Level,
    ReferralReason,
    SessionRecord,
    StepRecord,
    Transition,
)
from cep_core.domain.context import OperatorContext, Role
from cep_core.domain.data import DataRecipient, Permission, RetentionPhase, RetentionRule
from cep_core.domain.forms import (
    Choice,
    FieldDefinition,
    FieldKind,
    FormChannel,
    IntakeForm,
    SessionChannel,
    StepDefinition,
)
from cep_core.domain.funding import (
    CostKind,
    FunderKind,
    FundingOption,
    FundingPlan,
    FundingRequest,
    FundingSituation,
    FundingStatus,
    Project,
    TrainingKind,
)
from cep_core.domain.issues import Issue
from cep_core.domain.money import format_euros, parse_euros
from cep_core.domain.orientation import (
    Competence,
    Contact,
    Eligibility,
    OperatorChoice,
    Orientation,
    Redirect,
)
from cep_core.domain.parameters import DatedValue, Parameter, ParameterError, ParameterSet
from cep_core.domain.plugin_info import DatedLabel, PluginInfo, PluginKind, Theme, dated_labels
from cep_core.domain.regions import Region, region, regions
from cep_core.domain.reporting import Chart as IndicatorChart
from cep_core.domain.reporting import IndicatorDefinition
from cep_core.domain.reporting import Measure as IndicatorMeasure
from cep_core.domain.rules import (
    FundingParameters,
    add_months,
    build_plan,
    funding_parameters,
    ptp_eligibility,
)
from cep_core.domain.situation import Situation, Status, age_on
from cep_core.domain.steps import (
    LEVEL_ONE_RECORD,
    LEVEL_TWO_ACTION_PLAN,
    LEVEL_TWO_PROJECT,
    ActionPlan,
    CareerProject,
    InformationKind,
    Level1Record,
    Level1Referral,
    Milestone,
    PersonalStep,
    PlannedService,
    ProjectObjective,
    ServiceKind,
)
from cep_core.domain.synthesis import RenderRequest, SynthesisSection, TemplateRef
from cep_core.flows import (
    LabelledChoice,
    StepCheck,
    date_in_future,
    duplicate_choices,
    french_date,
    intake_as,
    issue,
    load_answers,
    stored_intake,
    unreadable_answers,
    validate_intake_with,
    validate_step_with,
)
from cep_core.markers import hookimpl
from cep_core.settings import Settings

if TYPE_CHECKING:
    from cep_core.kit import Kit
    from cep_core.services.cases import NewBeneficiary, NewSession
    from cep_core.services.funding import SimulationQuery
    from cep_core.web.app import create_app

# Bumped on any incompatible change to a hook's name, arguments or meaning.
HOOK_API_VERSION = "1.0"


class HookDeprecationWarning(DeprecationWarning):
    """A plugin implements a hook, or a hook argument, that a later hook API will drop.

    Specs marked ``@hookspec(warn_on_impl=HookDeprecationWarning(...))`` (or
    ``warn_on_impl_args``) make pluggy emit it when such a plugin registers, pointing at the
    plugin's function; docs/plugins.md gives the deprecation policy.
    """


__all__ = [
    "HOOK_API_VERSION",
    "LEVEL_ONE_RECORD",
    "LEVEL_TWO_ACTION_PLAN",
    "LEVEL_TWO_PROJECT",
    "ActionPlan",
    "CareerProject",
    "Case",
    "CaseEvent",
    "CaseStatus",
    "Choice",
    "CloseReason",
    "CommandRegistry",
    "Competence",
    "Contact",
    "CostKind",
    "DataRecipient",
    "DatedLabel",
    "DatedValue",
    "Eligibility",
    "FieldDefinition",
    "FieldKind",
    "FormChannel",
    "FunderKind",
    "FundingOption",
    "FundingParameters",
    "FundingPlan",
    "FundingRequest",
    "FundingSituation",
    "FundingStatus",
    "HookDeprecationWarning",
    "IndicatorChart",
    "IndicatorDefinition",
    "IndicatorMeasure",
    "InformationKind",
    "IntakeForm",
    "IntakeRecord",
    "Issue",
    "Kit",
    "LabelledChoice",
    "Level",
    "Level1Record",
    "Level1Referral",
    "Milestone",
    "NewBeneficiary",
    "NewSession",
    "OperatorChoice",
    "OperatorContext",
    "Orientation",
    "Parameter",
    "ParameterError",
    "ParameterSet",
    "Permission",
    "PersonalStep",
    "PlannedService",
    "PluginInfo",
    "PluginKind",
    "Project",
    "ProjectObjective",
    "Redirect",
    "ReferralReason",
    "Region",
    "RenderRequest",
    "RetentionPhase",
    "RetentionRule",
    "Role",
    "ServiceKind",
    "SessionChannel",
    "SessionRecord",
    "Settings",
    "SimulationQuery",
    "Situation",
    "Status",
    "StepCheck",
    "StepDefinition",
    "StepRecord",
    "SynthesisSection",
    "TemplateRef",
    "Theme",
    "TrainingKind",
    "Transition",
    "__version__",
    "add_months",
    "age_on",
    "build_plan",
    "create_app",
    "date_in_future",
    "dated_labels",
    "duplicate_choices",
    "format_euros",
    "french_date",
    "funding_parameters",
    "hookimpl",
    "intake_as",
    "issue",
    "load_answers",
    "parse_euros",
    "ptp_eligibility",
    "region",
    "regions",
    "stored_intake",
    "unreadable_answers",
    "validate_intake_with",
    "validate_step_with",
]


# Use-case inputs, imported on first use (their modules load the storage layer).
_LAZY = {
    "NewBeneficiary": "cep_core.services.cases",
    "NewSession": "cep_core.services.cases",
    "SimulationQuery": "cep_core.services.funding",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    if name == "Kit":
        from cep_core.kit import Kit

        return Kit
    if name == "create_app":
        from cep_core.web.app import create_app

        return create_app
    raise AttributeError(f"module 'cep_core' has no attribute {name!r}")

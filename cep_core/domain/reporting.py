"""Activity indicators an operator reports on, and the surveys that feed them.

An indicator is declared by a plugin (`IndicatorDefinition`, hook ``cep_indicators``) and
computed by the core: ``measure`` names one of the core's computations (`MEASURES`), so an
operator adds indicators by choosing and labelling measures, never by running SQL of its own.
The questionnaires are fixed French texts (the indicators compare answers across operators);
the thresholds and delays are dated parameters (``cep_core/data/reporting.toml``).
"""

from __future__ import annotations

import enum
from datetime import date
from functools import cache
from typing import Annotated

import msgspec

from cep_core.domain.parameters import ParameterSet


class Chart(enum.StrEnum):
    BAR = "bar"
    LINE = "line"
    VALUE = "value"  # a single figure, no chart


class Measure(enum.StrEnum):
    """The computations the core knows (see `cep_core.services.indicators`)."""

    ENTRIES_BY_LEVEL = "entries_by_level"
    ENTRIES_BY_MONTH = "entries_by_month"
    ENTRIES_BY_CHANNEL = "entries_by_channel"
    ENTRIES_BY_AGENCY = "entries_by_agency"
    ENTRIES_BY_COUNSELLOR = "entries_by_counsellor"
    LEVEL_TWO_SHARE = "level_two_share"
    DAYS_TO_LEVEL_TWO = "days_to_level_two"
    LEVEL_TWO_DAYS = "level_two_days"
    REFERRALS_BY_OPERATOR = "referrals_by_operator"
    PROJECTS_BY_OBJECTIVE = "projects_by_objective"
    FUNDING_BY_FUNDER = "funding_by_funder"
    SATISFACTION_MEAN = "satisfaction_mean"
    SATISFIED_SHARE = "satisfied_share"
    SURVEY_RESPONSE_RATE = "survey_response_rate"
    FOLLOW_UP_RESULTS = "follow_up_results"
    FOLLOW_UP_RESPONSE_RATE = "follow_up_response_rate"


class IndicatorDefinition(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    label: str
    unit: str = "nombre"
    description: str = ""
    operator: str | None = None  # None: a core indicator shared by every operator
    measure: Measure | None = None  # None: declared only (shown as "not computed")
    chart: Chart = Chart.BAR
    order: int = 100


class SeriesPoint(msgspec.Struct, frozen=True, kw_only=True):
    key: str
    label: str
    value: float | None


class IndicatorResult(msgspec.Struct, frozen=True, kw_only=True):
    """One indicator for one period: a figure (``value``) or a series (``points``)."""

    id: str
    label: str
    unit: str
    description: str
    chart: Chart
    value: float | None = None
    points: tuple[SeriesPoint, ...] = ()
    computed: bool = True
    base: int | None = None  # how many cases or answers the figure rests on


# -- questionnaires --------------------------------------------------------------------------


class SurveyKind(enum.StrEnum):
    SATISFACTION = "satisfaction"
    FOLLOW_UP = "follow_up"


LIKERT_LABELS: dict[int, str] = {
    1: "Pas du tout satisfait(e)",
    2: "Peu satisfait(e)",
    3: "Moyennement satisfait(e)",
    4: "Satisfait(e)",
    5: "Très satisfait(e)",
}

# Agreement, for the questions that are not about satisfaction.
AGREEMENT_LABELS: dict[int, str] = {
    1: "Pas du tout",
    2: "Plutôt non",
    3: "Moyennement",
    4: "Plutôt oui",
    5: "Tout à fait",
}

# Likert questions of the satisfaction survey (1 to 5); the first is the overall score the
# indicators use (on the satisfaction scale), so its id never changes; the others use the
# agreement scale.
SATISFACTION_QUESTIONS: tuple[tuple[str, str], ...] = (
    ("overall", "Dans l'ensemble, êtes-vous satisfait(e) de votre accompagnement ?"),
    ("listening", "Votre conseiller ou conseillère vous a-t-il (elle) bien écouté(e) ?"),
    ("clarity", "Les informations données étaient-elles claires et utiles ?"),
    ("next_steps", "Savez-vous mieux quelles sont les prochaines étapes de votre projet ?"),
)


class FollowUpSituation(enum.StrEnum):
    TRAINING = "training"
    NEW_JOB = "new_job"
    PROJECT_UNDER_WAY = "project_under_way"
    SAME_SITUATION = "same_situation"
    ABANDONED = "abandoned"
    OTHER = "other"


FOLLOW_UP_LABELS: dict[FollowUpSituation, str] = {
    FollowUpSituation.TRAINING: "Je suis en formation",
    FollowUpSituation.NEW_JOB: "J'ai un nouvel emploi ou un nouveau poste",
    FollowUpSituation.PROJECT_UNDER_WAY: "Mon projet est en cours de réalisation",
    FollowUpSituation.SAME_SITUATION: "Ma situation n'a pas changé",
    FollowUpSituation.ABANDONED: "J'ai abandonné mon projet",
    FollowUpSituation.OTHER: "Autre situation",
}

COMMENT_MAX_LENGTH = 1000
Likert = Annotated[int, msgspec.Meta(ge=1, le=5)]
Comment = Annotated[str, msgspec.Meta(max_length=COMMENT_MAX_LENGTH)]


class SatisfactionAnswer(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    overall: Likert
    listening: Likert
    clarity: Likert
    next_steps: Likert
    recommend: bool
    comment: Comment | None = None


class FollowUpAnswer(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    situation: FollowUpSituation
    satisfaction: Likert
    cep_helped: bool
    comment: Comment | None = None


# -- age bands (the finest age an export may carry) ------------------------------------------

AGE_BANDS: tuple[tuple[int, int | None, str], ...] = (
    (0, 25, "moins de 26 ans"),
    (26, 34, "26-34 ans"),
    (35, 44, "35-44 ans"),
    (45, 54, "45-54 ans"),
    (55, None, "55 ans et plus"),
)


def age_band(birth_date: date | None, on: date) -> str | None:
    if birth_date is None:
        return None
    age = on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))
    for low, high, label in AGE_BANDS:
        if age >= low and (high is None or age <= high):
            return label
    return None


# -- dated parameters ------------------------------------------------------------------------


@cache
def reporting_parameters() -> ParameterSet:
    return ParameterSet.from_package("cep_core.data", "reporting.toml")


def export_alert_months(on: date) -> int:
    """Months without an export after which the dashboard warns (ahead of L6111-6-1's six)."""
    return int(reporting_parameters().at("reporting.export_alert_months", on))


def follow_up_months(on: date) -> int:
    return int(reporting_parameters().at("reporting.follow_up_months", on))


def survey_link_days(on: date) -> int:
    return int(reporting_parameters().at("reporting.survey_link_days", on))

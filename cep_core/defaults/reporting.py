"""The core's activity indicators: the common set every operator reports (domain.md §1.7).

Operators add their own through ``cep_indicators`` (the regional plugin adds the market's
uptake and satisfaction indicators); all are computed by `cep_core.services.indicators`.
"""

from __future__ import annotations

from cep_core.defaults.info import builtin_info
from cep_core.domain.plugin_info import PluginInfo, PluginKind
from cep_core.domain.reporting import Chart, IndicatorDefinition, Measure
from cep_core.markers import hookimpl

PLUGIN_ID = "core.reporting"

CORE_INDICATORS = (
    IndicatorDefinition(
        id="entries_by_month",
        label="Entrées par mois",
        description="Dossiers ouverts chaque mois de la période.",
        measure=Measure.ENTRIES_BY_MONTH,
        chart=Chart.LINE,
        order=10,
    ),
    IndicatorDefinition(
        id="entries_by_level",
        label="Entrées par niveau atteint",
        description="Dossiers ouverts dans la période, selon le niveau où ils en sont.",
        measure=Measure.ENTRIES_BY_LEVEL,
        order=20,
    ),
    IndicatorDefinition(
        id="entries_by_channel",
        label="Entrées par modalité du premier entretien",
        description="Présentiel, téléphone ou visioconférence, au premier entretien.",
        measure=Measure.ENTRIES_BY_CHANNEL,
        order=30,
    ),
    IndicatorDefinition(
        id="entries_by_agency",
        label="Entrées par agence",
        description="L'agence du conseiller ou de la conseillère du dossier.",
        measure=Measure.ENTRIES_BY_AGENCY,
        order=40,
    ),
    IndicatorDefinition(
        id="entries_by_counsellor",
        label="Entrées par conseiller ou conseillère",
        measure=Measure.ENTRIES_BY_COUNSELLOR,
        order=50,
    ),
    IndicatorDefinition(
        id="level_two_share",
        label="Part des entrées au niveau 1 poursuivies au niveau 2",
        unit="%",
        description="Parmi les dossiers de la période passés au niveau 1, ceux passés au niveau 2.",
        measure=Measure.LEVEL_TWO_SHARE,
        chart=Chart.VALUE,
        order=60,
    ),
    IndicatorDefinition(
        id="days_to_level_two",
        label="Délai médian du niveau 1 au niveau 2",
        unit="jours",
        description="Du début du niveau 1 au début du niveau 2, pour les passages de la période.",
        measure=Measure.DAYS_TO_LEVEL_TWO,
        chart=Chart.VALUE,
        order=70,
    ),
    IndicatorDefinition(
        id="level_two_days",
        label="Durée médiane du niveau 2",
        unit="jours",
        description="Du début du niveau 2 à la clôture, pour les dossiers clos dans la période.",
        measure=Measure.LEVEL_TWO_DAYS,
        chart=Chart.VALUE,
        order=80,
    ),
    IndicatorDefinition(
        id="referrals_by_operator",
        label="Orientations vers un autre opérateur",
        description="Dossiers orientés dans la période, par opérateur destinataire.",
        measure=Measure.REFERRALS_BY_OPERATOR,
        order=90,
    ),
    IndicatorDefinition(
        id="projects_by_objective",
        label="Projets par objectif",
        description="Objectif du projet professionnel des dossiers de la période.",
        measure=Measure.PROJECTS_BY_OBJECTIVE,
        order=100,
    ),
    IndicatorDefinition(
        id="funding_by_funder",
        label="Financements mobilisés par financeur",
        unit="€",
        description="Montants des plans de financement des dossiers de la période.",
        measure=Measure.FUNDING_BY_FUNDER,
        order=110,
    ),
    IndicatorDefinition(
        id="satisfaction_mean",
        label="Satisfaction moyenne",
        unit="sur 5",
        description="Note globale des questionnaires de fin de niveau reçus dans la période.",
        measure=Measure.SATISFACTION_MEAN,
        chart=Chart.VALUE,
        order=120,
    ),
    IndicatorDefinition(
        id="survey_response_rate",
        label="Taux de réponse aux questionnaires de satisfaction",
        unit="%",
        description="Réponses reçues parmi les questionnaires envoyés dans la période.",
        measure=Measure.SURVEY_RESPONSE_RATE,
        chart=Chart.VALUE,
        order=130,
    ),
    IndicatorDefinition(
        id="follow_up_results",
        label="Situation six mois après le dernier entretien",
        description="Réponses à l'enquête de suivi reçues dans la période.",
        measure=Measure.FOLLOW_UP_RESULTS,
        order=140,
    ),
)


@hookimpl
def cep_plugin_info() -> PluginInfo:
    return builtin_info(
        PLUGIN_ID,
        PluginKind.CAPABILITY,
        "Indicateurs d'activité",
        "Indicateurs communs d'activité et de résultats du CEP.",
    )


@hookimpl(trylast=True)
def cep_indicators() -> list[IndicatorDefinition]:
    return list(CORE_INDICATORS)

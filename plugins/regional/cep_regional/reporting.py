"""The regional market's own indicators: uptake and satisfaction drive the variable part of
the 2024–2027 price (domain.md §1.7), so a regional operator watches them on its dashboard."""

from __future__ import annotations

from cep_core import IndicatorChart, IndicatorDefinition, IndicatorMeasure, hookimpl


@hookimpl
def cep_indicators() -> list[IndicatorDefinition]:
    return [
        IndicatorDefinition(
            id="regional.satisfied_share",
            label="Part des personnes satisfaites ou très satisfaites",
            unit="%",
            description="Note globale de 4 ou 5 sur 5 aux questionnaires de fin de niveau "
            "(part variable du marché 2024-2027).",
            operator="regional",
            measure=IndicatorMeasure.SATISFIED_SHARE,
            chart=IndicatorChart.VALUE,
            order=125,
        ),
        IndicatorDefinition(
            id="regional.follow_up_response_rate",
            label="Taux de réponse à l'enquête à six mois",
            unit="%",
            description="Réponses reçues parmi les enquêtes de suivi envoyées dans la période.",
            operator="regional",
            measure=IndicatorMeasure.FOLLOW_UP_RESPONSE_RATE,
            chart=IndicatorChart.VALUE,
            order=145,
        ),
    ]

"""Apec: its mark on the syntheses, and a section of its own per level.

The page is the core's, with the operator's initials as its mark (in ``templates/``); the
section says what the operator offers next, with the core's ``paragraphs`` section template.
"""

from __future__ import annotations

from cep_core import Case, Level, OperatorContext, SynthesisSection, TemplateRef, hookimpl

PACKAGE = "cep_apec"

NEXT_STEPS = {
    Level.ONE: (
        "Pour aller plus loin",
        (
            "Si vous souhaitez poursuivre, votre consultant ou consultante Apec vous propose un "
            "accompagnement personnalisé pour construire votre projet et votre plan d'action."
        ),
    ),
    Level.TWO: (
        "Suivi de votre projet",
        (
            "Vous pouvez solliciter votre consultant ou consultante Apec pendant la mise en œuvre"
            " de votre plan d'action et après son terme, pour faire le point sur l'avancement de "
            "votre projet."
        ),
    ),
}


@hookimpl
def cep_synthesis_template(ctx: OperatorContext, level: Level) -> TemplateRef:
    return TemplateRef(package=PACKAGE, name="cep_apec/synthesis.html")


@hookimpl
def cep_synthesis_sections(
    ctx: OperatorContext, case: Case, level: Level
) -> list[SynthesisSection]:
    title, text = NEXT_STEPS[level]
    return [
        SynthesisSection(
            id="apec.next_steps",
            title=title,
            template="synthesis/sections/paragraphs.html",
            order=900,
            context={"paragraphs": (text,)},
        )
    ]

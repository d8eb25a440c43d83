"""France Travail: its mark on the syntheses, and a section of its own per level.

The page is the core's, with the operator's initials as its mark (in ``templates/``); the
section says what the operator offers next, with the core's ``paragraphs`` section template.
"""

from __future__ import annotations

from cep_core import Case, Level, OperatorContext, SynthesisSection, TemplateRef, hookimpl

PACKAGE = "cep_pole_emploi"

NEXT_STEPS = {
    Level.ONE: (
        "Pour aller plus loin",
        (
            "Si vous souhaitez poursuivre, votre conseiller ou conseillère vous propose un "
            "accompagnement personnalisé pour construire votre projet et votre plan d'action."
        ),
    ),
    Level.TWO: (
        "Votre projet et votre recherche d'emploi",
        (
            "Si vous le souhaitez, les démarches de ce plan d'action peuvent être reprises dans "
            "votre projet personnalisé d'accès à l'emploi, avec votre conseiller ou conseillère."
        ),
    ),
}


@hookimpl
def cep_synthesis_template(ctx: OperatorContext, level: Level) -> TemplateRef:
    return TemplateRef(package=PACKAGE, name="cep_pole_emploi/synthesis.html")


@hookimpl
def cep_synthesis_sections(
    ctx: OperatorContext, case: Case, level: Level
) -> list[SynthesisSection]:
    title, text = NEXT_STEPS[level]
    return [
        SynthesisSection(
            id="pole_emploi.next_steps",
            title=title,
            template="synthesis/sections/paragraphs.html",
            order=900,
            context={"paragraphs": (text,)},
        )
    ]

"""Cap emploi: its mark on the syntheses, and a section of its own per level.

The page is the core's, with the operator's initials as its mark (in ``templates/``); the
section says what the operator offers next, with the core's ``paragraphs`` section template.
"""

from __future__ import annotations

from cep_core import Case, Level, OperatorContext, SynthesisSection, TemplateRef, hookimpl

PACKAGE = "cep_cap_emploi"

NEXT_STEPS = {
    Level.ONE: (
        "Pour aller plus loin",
        (
            "Si vous souhaitez poursuivre, votre conseiller ou conseillère Cap emploi vous "
            "propose un accompagnement personnalisé, en tenant compte de vos besoins de "
            "compensation."
        ),
    ),
    Level.TWO: (
        "Compensation du handicap",
        (
            "Si votre projet le nécessite, votre conseiller ou conseillère Cap emploi vous aide à"
            " mobiliser les aides humaines et techniques et les aides à la compensation du "
            "handicap, auprès de l'Agefiph ou du FIPHFP."
        ),
    ),
}


@hookimpl
def cep_synthesis_template(ctx: OperatorContext, level: Level) -> TemplateRef:
    return TemplateRef(package=PACKAGE, name="cep_cap_emploi/synthesis.html")


@hookimpl
def cep_synthesis_sections(
    ctx: OperatorContext, case: Case, level: Level
) -> list[SynthesisSection]:
    title, text = NEXT_STEPS[level]
    return [
        SynthesisSection(
            id="cap_emploi.next_steps",
            title=title,
            template="synthesis/sections/paragraphs.html",
            order=900,
            context={"paragraphs": (text,)},
        )
    ]

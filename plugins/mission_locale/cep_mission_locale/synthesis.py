"""Mission locale: its mark on the syntheses, and a section of its own per level.

The page is the core's, with the operator's initials as its mark (in ``templates/``); the
section says what the operator offers next, with the core's ``paragraphs`` section template.
"""

from __future__ import annotations

from cep_core import Case, Level, OperatorContext, SynthesisSection, TemplateRef, hookimpl

PACKAGE = "cep_mission_locale"

NEXT_STEPS = {
    Level.ONE: (
        "Votre Mission locale vous accompagne",
        (
            "Votre conseiller ou conseillère de la Mission locale peut aussi vous aider dans "
            "d'autres domaines : emploi, formation, logement, santé, mobilité."
        ),
    ),
    Level.TWO: (
        "Votre Mission locale vous accompagne",
        (
            "Votre conseiller ou conseillère de la Mission locale reste à vos côtés pendant la "
            "réalisation de votre projet ; il ou elle peut aussi vous aider dans d'autres "
            "domaines : emploi, formation, logement, santé, mobilité."
        ),
    ),
}


@hookimpl
def cep_synthesis_template(ctx: OperatorContext, level: Level) -> TemplateRef:
    return TemplateRef(package=PACKAGE, name="cep_mission_locale/synthesis.html")


@hookimpl
def cep_synthesis_sections(
    ctx: OperatorContext, case: Case, level: Level
) -> list[SynthesisSection]:
    title, text = NEXT_STEPS[level]
    return [
        SynthesisSection(
            id="mission_locale.next_steps",
            title=title,
            template="synthesis/sections/paragraphs.html",
            order=900,
            context={"paragraphs": (text,)},
        )
    ]

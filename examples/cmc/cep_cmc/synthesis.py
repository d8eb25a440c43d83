"""Conseillers mobilité carrière: their page of the synthesis, and two sections per level.

The page extends the core's (``templates/cep_cmc/synthesis.html``). One section says what
comes next; the other reminds the agent that the document is theirs: their employer sees it
only if they choose to hand it over (the CEP is confidential).
"""

from __future__ import annotations

from cep_core import Case, Level, OperatorContext, SynthesisSection, TemplateRef, hookimpl

PACKAGE = "cep_cmc"
PARAGRAPHS = "synthesis/sections/paragraphs.html"

NEXT_STEPS = {
    Level.ONE: (
        "Pour aller plus loin",
        (
            "Si vous le souhaitez, votre conseiller ou conseillère mobilité carrière vous "
            "accompagne dans la construction de votre projet de mobilité et de votre plan "
            "d'action."
        ),
    ),
    Level.TWO: (
        "Suivi de votre projet de mobilité",
        (
            "Vous pouvez solliciter votre conseiller ou conseillère mobilité carrière pendant la "
            "mise en œuvre de votre plan d'action : candidatures, préparation d'un concours, "
            "demande de détachement."
        ),
    ),
}
CONFIDENTIALITY = (
    "Ce document vous appartient. Le conseil en évolution professionnelle est confidentiel : "
    "votre employeur n'en a connaissance que si vous choisissez de le lui transmettre."
)


@hookimpl
def cep_synthesis_template(ctx: OperatorContext, level: Level) -> TemplateRef:
    return TemplateRef(package=PACKAGE, name="cep_cmc/synthesis.html")


@hookimpl
def cep_synthesis_sections(
    ctx: OperatorContext, case: Case, level: Level
) -> list[SynthesisSection]:
    title, text = NEXT_STEPS[level]
    return [
        SynthesisSection(
            id="cmc.next_steps",
            title=title,
            template=PARAGRAPHS,
            order=900,
            context={"paragraphs": (text,)},
        ),
        SynthesisSection(
            id="cmc.confidentiality",
            title="Confidentialité",
            template=PARAGRAPHS,
            order=950,
            context={"paragraphs": (CONFIDENTIALITY,)},
        ),
    ]

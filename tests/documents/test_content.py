"""For each real operator: the level-1 and level-2 PDFs hold every required section with the
case's data, are tagged PDF/UA in French, use fonts that have every glyph, stay inside the
page, and never show a confidential note."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
from fontTools.ttLib import TTFont

from cep_core.kit import Kit
from cep_core.services.syntheses import synthesis_service
from cep_core.storage.repositories import BeneficiaryRepository, CaseRepository

OPERATORS = ("apec", "cap_emploi", "mission_locale", "pole_emploi", "regional")
# Operator's own section (plugins/<dir>/cep_<x>/synthesis.py), level 1 and level 2.
OPERATOR_SECTIONS = {
    "apec": ("Pour aller plus loin", "Suivi de votre projet"),
    "cap_emploi": ("Pour aller plus loin", "Compensation du handicap"),
    "mission_locale": ("Votre Mission locale vous accompagne",) * 2,
    "pole_emploi": ("Pour aller plus loin", "Votre projet et votre recherche d'emploi"),
    "regional": ("Pour aller plus loin", "Et après ?"),
}

HEADER = [
    "Document de synthèse",
    "Bénéficiaire Élodie Lefèvre-Œuvray",
    "Conseiller ou conseillère c.martin",
    "ouvert le 2 février 2026",
    "Situation au 4 mars 2026",
    "Entretiens",
    "Ce document de synthèse vous appartient.",
]
LEVEL_ONE = [
    "Niveau 1 : accueil individualisé",
    "3 février 2026 09:30 En présentiel 1 h",
    "Votre demande et votre besoin",
    "Demande exprimée",
    "Je souhaite changer de métier et travailler dans le soin aux personnes âgées.",
    "Besoin clarifié",
    "Valider un projet de reconversion vers le métier d'aide-soignante.",
    "Informations données",
    "Finalités et fonctionnement du conseil en évolution professionnelle",
    "Formations et certifications",
    "Aides et financements mobilisables",
    "État des lieux partagé",
    "Projet mûri depuis deux ans ; expérience bénévole en EHPAD.",
    "Décision et suite donnée",
    "Vous avez décidé de poursuivre par un accompagnement personnalisé (niveau 2).",
    "Orientation vers un autre opérateur",
    "Vous êtes orienté(e) vers Mission locale : Opérateur plus adapté à la situation",
    "Rendez-vous proposé à la Mission locale de Lyon.",
]
LEVEL_TWO = [
    "Niveau 2 : accompagnement personnalisé",
    "17 février 2026 16:00 En visioconférence 1 h 30",
    "4 mars 2026 14:30 Par téléphone 45 min",
    "Prestations reçues",
    "Accueil individualisé (niveau 1) : 1 entretien",
    "Accompagnement personnalisé (niveau 2) : 2 entretiens, 2 h 15 au total",
    "Votre projet professionnel",
    "Objectif Reconversion ou transition professionnelle",
    "Métier visé Aide-soignante (code ROME J1501)",
    "Devenir aide-soignante en EHPAD dans la métropole de Lyon.",
    "Stratégie(s) envisagée(s)",
    "Obtenir le diplôme d'État d'aide-soignant par la formation continue.",
    "Travailler d'abord comme agente de service hospitalier.",
    "Plan d'action et parcours de développement des compétences",
    "Diplôme d'État d'aide-soignant",
    "IFAS Lumière",
    "Certifié Qualiopi",
    "RNCP35830",
    "du 7 septembre 2026",
    "au 30 juin 2027",
    "Faire un stage d'observation de deux",
    "Atelier de préparation aux candidatures",
    "Plan de financement",
    "Compte personnel de formation (CPF) Accordé 3 100,00 €",
    "Transitions Pro Demandé 2 780,22 €",
    "Total financé 5 880,22 €",
    "Coût total 6 123,45 €",
    "Participation CPF 102,23 € — à votre charge",
    "Reste à charge 243,23 €",
    "Calendrier prévisionnel",
    "6 avril 2026 Début : Bilan de compétences",
    "30 avril 2026 Dépôt du dossier de financement",
    "15 juin 2026 Épreuves de sélection de l'IFAS",
    "30 juin 2027 Fin : Diplôme d'État d'aide-soignant",
]
MARGIN_PT = 16 * 72 / 25.4  # 16 mm, the page's left and right margins


def flat(text: str) -> str:
    """Text with every kind of space as one plain space (NBSP, NNBSP, ZWSP, new lines)."""
    return re.sub(r"[\s\u00a0\u202f\u200b]+", " ", text.replace("\u200b", "")).strip()


def layout_text(pdf: bytes, folder: Path) -> str:
    path = folder / "doc.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", str(path), "-"],
        capture_output=True,
        check=True,
        timeout=60,
    )
    return flat(result.stdout.decode())


def word_boxes(pdf: bytes, folder: Path) -> list[tuple[float, float, float, float, float]]:
    """(page width, xMin, xMax, yMin, yMax) of every word."""
    path = folder / "doc.pdf"
    path.write_bytes(pdf)
    html = subprocess.run(
        ["pdftotext", "-bbox", str(path), "-"], capture_output=True, check=True, timeout=60
    ).stdout.decode()
    boxes = []
    for page in re.finditer(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', html, re.S):
        width, height = float(page.group(1)), float(page.group(2))
        for word in re.finditer(
            r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)"', page.group(3)
        ):
            x0, y0, x1, y1 = map(float, word.groups())
            boxes.append((width, x0, x1, y0 / height, y1 / height))
    return boxes


@pytest.fixture(scope="module")
def dejavu() -> set[int]:
    """Code points of the fonts the stylesheet names (regular and bold)."""
    points: set[int] = set()
    for style in ("DejaVu Sans", "DejaVu Sans:bold"):
        path = subprocess.run(
            ["fc-match", "-f", "%{file}", style], capture_output=True, text=True, check=True
        ).stdout
        assert "DejaVuSans" in path, f"fontconfig gives {path} for {style}"
        cmap = TTFont(path).getBestCmap()
        assert {0x202F, 0x00A0, 0x20AC, 0x0152, 0x00C9} <= set(cmap)
        points |= set(cmap)
    return points


def store_case(kit: Kit, samples: SimpleNamespace, operator: str) -> str:
    case = samples.full_case(operator=operator)
    with kit.database.write() as connection:
        BeneficiaryRepository(connection, operator).add(samples.beneficiary(operator=operator))
        CaseRepository(connection, operator).add(case)
    return str(case.id)


@pytest.mark.parametrize("operator", OPERATORS)
def test_each_operator_level_one_and_two_pdfs(
    operator: str,
    real_kit: Kit,
    samples: SimpleNamespace,
    pdf_tools: SimpleNamespace,
    dejavu: set[int],
    tmp_path: Path,
) -> None:
    real_kit.database.upgrade()
    case_id = store_case(real_kit, samples, operator)
    service = synthesis_service(real_kit)
    name = real_kit.hooks.operator(operator).label(real_kit.today())
    for level, expected in ((1, LEVEL_ONE), (2, LEVEL_TWO)):
        built = service.build(operator, case_id, level)
        assert samples.CONFIDENTIAL not in built.html
        logos = [url for url in built.request.assets if url.endswith(".svg")]
        assert logos and all(f"cep-asset://cep_{operator}/" in url for url in logos)
        result = service.generate(operator, case_id, level, actor="c.martin")
        synthesis, pdf = service.download(operator, case_id, result.synthesis.id)
        assert samples.CONFIDENTIAL.encode() not in pdf
        text = layout_text(pdf, tmp_path)
        wanted = [
            *HEADER,
            *expected,
            f"Opérateur {name}",
            OPERATOR_SECTIONS[operator][level - 1],
        ]
        # pdftotext turns narrow gaps (U+202F, U+00A0) into a space or nothing: compare the
        # text without any space, so word order and content still count.
        squeezed = text.replace(" ", "")
        missing = [phrase for phrase in wanted if flat(phrase).replace(" ", "") not in squeezed]
        assert not missing, f"{operator} niveau {level} : absent du PDF : {missing}"
        assert samples.CONFIDENTIAL not in text
        assert "difficultés familiales" not in text
        pages = int(pdf_tools.info(pdf)["Pages"])
        assert f"Page {pages} sur {pages}" in text
        # Tagged PDF/UA in French, with its title.
        info = pdf_tools.info(pdf)
        assert info["Tagged"] == "yes"
        assert info["Title"].startswith(f"Document de synthèse (niveau {level}) — Élodie")
        catalog = pdf_tools.catalog(pdf)
        assert b"/Lang (fr)" in catalog
        assert b"/StructTreeRoot" in catalog and b"/MarkInfo" in catalog
        # Only the DejaVu faces, and they have every character the page shows.
        fonts = pdf_tools.fonts(pdf)
        families = set(re.findall(r"^[A-Z]{6}\+(\S+)", fonts, re.M))
        assert families == {"DejaVu-Sans", "DejaVu-Sans-Bold"}, fonts
        shown = set(pdf_tools.text(pdf)) - {"\n", "\f", " "}
        assert not [c for c in shown if ord(c) not in dejavu]
        # Nothing overflows the page: every word between the side margins.
        for width, x0, x1, y0, y1 in word_boxes(pdf, tmp_path):
            assert x0 >= MARGIN_PT - 1 and x1 <= width - MARGIN_PT + 1, (x0, x1)
            assert y0 >= 0 and y1 <= 1
        assert synthesis.level == level and synthesis.version == 1


def test_a_case_without_completed_steps_still_has_every_heading(
    real_kit: Kit, samples: SimpleNamespace, tmp_path: Path
) -> None:
    real_kit.database.upgrade()
    operator = "apec"
    case = samples.full_case(operator=operator, steps={}, funding_plan=None)
    with real_kit.database.write() as connection:
        BeneficiaryRepository(connection, operator).add(samples.beneficiary(operator=operator))
        CaseRepository(connection, operator).add(case)
    service = synthesis_service(real_kit)
    result = service.generate(operator, case.id, 2)
    _, pdf = service.download(operator, case.id, result.synthesis.id)
    text = layout_text(pdf, tmp_path)
    for heading in (
        "Prestations reçues",
        "Votre projet professionnel",
        "Stratégie(s) envisagée(s)",
        "Plan d'action et parcours de développement des compétences",
        "Plan de financement",
        "Calendrier prévisionnel",
    ):
        assert heading in text
    assert "Non renseigné à ce jour." in text
    assert "Aucun plan de financement n'a été établi à ce jour." in text


def test_a_stored_step_that_no_longer_validates_is_shown_as_unreadable(
    real_kit: Kit, samples: SimpleNamespace
) -> None:
    real_kit.database.upgrade()
    operator = "apec"
    broken = samples.step(samples.career_project(description="x" * 5000))  # bound is 4000
    case = samples.full_case(
        operator=operator, steps={**samples.full_case().steps, "level2.project": broken}
    )
    with real_kit.database.write() as connection:
        BeneficiaryRepository(connection, operator).add(samples.beneficiary(operator=operator))
        CaseRepository(connection, operator).add(case)
    html = synthesis_service(real_kit).build(operator, case.id, 2).html
    assert "n'ont pas pu être relues" in html
    assert "x" * 100 not in html.replace("\u200b", "")

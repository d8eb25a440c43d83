"""Every message renders in French, as plain text and HTML: Paris dates, escaping, no remote
content, no more personal data than the message needs."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

import pytest

from cep_core.mail.rendering import MailTemplates, RenderedMail

NBSP = "\u00a0"


@pytest.fixture(scope="module")
def templates() -> MailTemplates:
    return MailTemplates()


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def html_parts(html: str) -> tuple[list[tuple[str, dict[str, str | None]]], str]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags, " ".join(" ".join(parser.text).split())


def assert_sober_html(rendered: RenderedMail) -> None:
    tags, _ = html_parts(rendered.html)
    names = {tag for tag, _ in tags}
    assert names.isdisjoint({"img", "script", "link", "style", "iframe", "object", "form"})
    for _, attrs in tags:
        assert "src" not in attrs and "class" not in attrs
        assert not any(name.startswith("on") for name in attrs)
    assert ("html", {"lang": "fr"}) in tags
    assert "url(" not in rendered.html
    assert "Ce message vous est envoyé automatiquement" in rendered.html
    assert "Ce message vous est envoyé automatiquement" in rendered.text


def test_request_received(templates: MailTemplates) -> None:
    rendered = templates.render(
        "request_received",
        operator_label="Apec",
        reference="APEC-2026-0042",
        contact_text="01 23 45 67 89 (du lundi au vendredi)",
    )
    assert rendered.subject == (
        "Votre demande de conseil en évolution professionnelle (réf. APEC-2026-0042)"
    )
    assert "Référence de votre demande : APEC-2026-0042" in rendered.text
    assert "Pour nous joindre : 01 23 45 67 89 (du lundi au vendredi)" in rendered.text
    assert "gratuit et confidentiel" in rendered.text
    _, text = html_parts(rendered.html)
    assert "APEC-2026-0042" in text and "01 23 45 67 89" in text
    assert_sober_html(rendered)
    without = templates.render(
        "request_received", operator_label="Apec", reference="R-1", contact_text=None
    )
    assert "Pour nous joindre" not in without.text
    assert "Pour nous joindre" not in without.html


def test_new_request_notice_has_the_reference_and_the_link_only(
    templates: MailTemplates,
) -> None:
    rendered = templates.render(
        "new_request_notice",
        operator_label="Mission locale de Lyon",
        reference="ML-7",
        queue_url="https://cep.exemple.fr/conseil/demandes",
    )
    assert rendered.subject == "Nouvelle demande de CEP à traiter (réf. ML-7)"
    assert "https://cep.exemple.fr/conseil/demandes" in rendered.text
    assert "aucune donnée personnelle" in rendered.text
    tags, _ = html_parts(rendered.html)
    assert [a["href"] for tag, a in tags if tag == "a"] == [
        "https://cep.exemple.fr/conseil/demandes"
    ]
    assert_sober_html(rendered)


def test_appointment_in_french_and_paris_time(templates: MailTemplates) -> None:
    rendered = templates.render(
        "appointment_proposed",
        operator_label="Apec",
        reference="APEC-1",
        starts_at=datetime(2026, 3, 4, 13, 30, tzinfo=UTC),  # 14:30 in Paris (winter)
        duration_minutes=90,
        channel_label="Entretien en visioconférence",
        location="12 rue de la Paix, Paris",
        counsellor_name="Dominique Durand",
    )
    assert rendered.subject == (
        "Votre rendez-vous de conseil en évolution professionnelle le mercredi 4 mars 2026 à 14:30"
    )
    assert "Date : mercredi 4 mars 2026" in rendered.text
    assert "Heure : 14:30 (heure de Paris)" in rendered.text
    assert f"Durée : 1{NBSP}h{NBSP}30" in rendered.text
    assert "Lieu : 12 rue de la Paix, Paris" in rendered.text
    assert "Dominique Durand, votre conseiller ou conseillère" in rendered.text
    assert "rendez-vous.ics" in rendered.text
    _, text = html_parts(rendered.html)
    assert "mercredi 4 mars 2026" in text and "14:30" in text and "Dominique Durand" in text
    assert_sober_html(rendered)


def test_appointment_after_midnight_utc_is_the_next_day_in_paris(
    templates: MailTemplates,
) -> None:
    rendered = templates.render(
        "appointment_proposed",
        operator_label="Apec",
        reference="APEC-1",
        starts_at=datetime(2026, 6, 30, 22, 30, tzinfo=UTC),  # 00:30 on 1 July in Paris
        duration_minutes=45,
        channel_label="Entretien téléphonique",
        location=None,
        counsellor_name=None,
    )
    assert "Date : mercredi 1 juillet 2026" in rendered.text
    assert "Heure : 00:30" in rendered.text
    assert f"Durée : 45{NBSP}min" in rendered.text
    assert "Lieu" not in rendered.text
    assert "Apec vous propose un rendez-vous" in rendered.text


def test_synthesis_ready_has_the_link_and_its_expiry_never_the_document(
    templates: MailTemplates,
) -> None:
    link = "https://cep.exemple.fr/documents/telecharger/abc_DEF-123"
    rendered = templates.render(
        "synthesis_ready",
        operator_label="Cap emploi",
        link_url=link,
        expires_at=datetime(2026, 3, 11, 22, 59, tzinfo=UTC),  # 23:59 in Paris
    )
    assert rendered.subject == "Votre document de synthèse est disponible"
    assert link in rendered.text
    assert "expire le 11 mars 2026 à 23:59 (heure de Paris)" in rendered.text
    assert "ne sert qu'une seule fois" in rendered.text
    assert "n'est pas joint à ce message" in rendered.text
    tags, text = html_parts(rendered.html)
    assert any(tag == "a" and attrs.get("href") == link for tag, attrs in tags)
    assert "11 mars 2026 à 23:59" in text
    assert_sober_html(rendered)


def test_html_escapes_what_callers_pass(templates: MailTemplates) -> None:
    hostile: dict[str, Any] = {
        "operator_label": '<script>alert("x")</script>',
        "reference": "R-1",
        "contact_text": '<img src="https://pixel.exemple/t.gif">',
    }
    rendered = templates.render("request_received", **hostile)
    assert "<script>" not in rendered.html and "<img" not in rendered.html
    assert "&lt;script&gt;" in rendered.html
    assert_sober_html(rendered)
    # Plain text is not HTML: it keeps the characters as they are.
    assert '<img src="https://pixel.exemple/t.gif">' in rendered.text


def test_plain_text_is_tidy(templates: MailTemplates) -> None:
    rendered = templates.render(
        "request_received", operator_label="Apec", reference="R-1", contact_text=None
    )
    assert rendered.text.endswith("\n") and not rendered.text.endswith("\n\n")
    assert not re.search(r"\n\n\n", rendered.text)
    assert all(line == line.rstrip() for line in rendered.text.splitlines())
    assert rendered.text.startswith("Bonjour,\n")


def test_a_missing_value_is_an_error_not_a_blank(templates: MailTemplates) -> None:
    from jinja2 import UndefinedError

    with pytest.raises(UndefinedError):
        templates.render("request_received", operator_label="Apec", contact_text=None)

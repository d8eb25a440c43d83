"""The French e-mail templates: ``<name>.txt`` (plain text, which also sets the subject) and
``<name>.html`` (the same words in a sober inline-styled layout) per message.

HTML is autoescaped; plain text is not (nothing interprets it). Mail clients ignore style
sheets and block remote images, so the layout uses inline styles only and loads nothing: no
image, no font, no tracking pixel. Dates are shown in Europe/Paris, in French.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import jinja2
import msgspec
from babel.dates import format_date as babel_format_date

from cep_core.documents.formatting import (
    LOCALE,
    format_date,
    format_datetime,
    format_minutes,
    format_time,
    to_paris,
)

TEMPLATES = Path(__file__).parent / "templates"


def format_day(value: date | datetime) -> str:
    """``mercredi 4 mars 2026`` (Paris date for a datetime): an appointment needs its weekday."""
    if isinstance(value, datetime):
        value = to_paris(value).date()
    return f"{babel_format_date(value, format='EEEE', locale=LOCALE)} {format_date(value)}"


class RenderedMail(msgspec.Struct, frozen=True, kw_only=True):
    subject: str
    text: str
    html: str


def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters.update(
        date_fr=format_date,
        day_fr=format_day,
        datetime_fr=format_datetime,
        time_fr=format_time,
        minutes=format_minutes,
    )
    return environment


class MailTemplates:
    """Renders a message from its two templates; build one and reuse it (templates compile
    once)."""

    def __init__(self) -> None:
        self._environment = _environment()

    def render(self, name: str, **context: Any) -> RenderedMail:
        text_template = self._environment.get_template(f"{name}.txt")
        module = text_template.make_module(context)
        subject = " ".join(str(getattr(module, "subject", "")).split())
        if not subject:
            raise ValueError(f"mail template {name}.txt sets no subject")
        text = _tidy(str(module))
        html = self._environment.get_template(f"{name}.html").render(subject=subject, **context)
        return RenderedMail(subject=subject, text=text, html=html)


def _tidy(text: str) -> str:
    """No trailing spaces, at most one blank line in a row, one final newline."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    kept: list[str] = []
    for line in lines:
        if not line and kept and not kept[-1]:
            continue
        kept.append(line)
    return "\n".join(kept) + "\n"

"""Server-rendered SVG charts: no JavaScript, no library, nothing the CSP has to allow.

Each chart is an ``<svg role="img">`` named by its ``<title>`` and described by a ``<desc>``
(``aria-labelledby``), drawn with presentation attributes only (the CSP forbids inline
styles). The figures themselves are always repeated in a real table beside the chart (the
template's job): the SVG is for the eye, the table for everyone.
"""

from __future__ import annotations

from collections.abc import Sequence

from babel.numbers import format_decimal
from markupsafe import Markup, escape

LOCALE = "fr_FR"
BAR = "#1f4e79"
GRID = "#c8c8c8"
TEXT = "#1e1e1e"
WIDTH = 640  # charts sit in half-width cards: a small viewBox keeps the text readable
LABEL_WIDTH = 250
LABEL_CHARS = 24  # about 9 units a character at FONT: the label stays left of the bars
ROW = 32
FONT = 15


def format_number(value: float | None, unit: str = "") -> str:
    """French figures: ``1 234,5`` and the unit after a space; « — » when unknown."""
    if value is None:
        return "—"
    digits = "#,##0.##" if unit not in ("", "nombre") else "#,##0.#"
    text = format_decimal(value, format=digits, locale=LOCALE)
    if unit in ("", "nombre"):
        return text
    if unit == "€":
        return f"{format_decimal(value, format='#,##0.00', locale=LOCALE)}\u00a0€"
    if unit == "%":
        return f"{text}\u00a0%"
    if unit == "jours" and abs(value) < 2:
        return f"{text}\u00a0jour"  # French: 0 jour, 1 jour, 1,5 jour
    return f"{text}\u00a0{unit}"


def _shorten(label: str, limit: int = LABEL_CHARS) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _header(chart_id: str, title: str, description: str, height: int) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'aria-labelledby="{chart_id}-titre {chart_id}-desc" focusable="false">',
        f'<title id="{chart_id}-titre">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
    ]


def describe(points: Sequence[tuple[str, float | None]], unit: str) -> str:
    if not points:
        return "Aucune donnée pour la période."
    return " ; ".join(f"{label} : {format_number(value, unit)}" for label, value in points) + "."


def bar_chart(
    chart_id: str, title: str, points: Sequence[tuple[str, float | None]], unit: str = ""
) -> Markup:
    """Horizontal bars, one per point, the value written at the end of each bar."""
    height = max(1, len(points)) * ROW + 10
    parts = _header(chart_id, title, describe(points, unit), height)
    top = max((value or 0 for _, value in points), default=0) or 1
    span = WIDTH - LABEL_WIDTH - 110
    for index, (label, value) in enumerate(points):
        y = 5 + index * ROW
        length = 0 if not value else max(2, round(span * value / top))
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 20}" text-anchor="end" font-size="{FONT}" '
            f'fill="{TEXT}">{escape(_shorten(label))}</text>'
        )
        parts.append(
            f'<rect x="{LABEL_WIDTH}" y="{y + 4}" width="{length}" height="{ROW - 10}" '
            f'fill="{BAR}"/>'
        )
        parts.append(
            f'<text x="{LABEL_WIDTH + length + 8}" y="{y + 20}" font-size="{FONT}" '
            f'fill="{TEXT}">{escape(format_number(value, unit))}</text>'
        )
    parts.append(
        f'<line x1="{LABEL_WIDTH}" y1="2" x2="{LABEL_WIDTH}" y2="{height - 2}" '
        f'stroke="{TEXT}" stroke-width="1"/>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in it went through escape()


def line_chart(
    chart_id: str, title: str, points: Sequence[tuple[str, float | None]], unit: str = ""
) -> Markup:
    """A line over time (one point per month), with horizontal grid lines and their values."""
    height, left, right, top_margin, bottom = 260, 60, 20, 16, 40
    parts = _header(chart_id, title, describe(points, unit), height)
    top = max((value or 0 for _, value in points), default=0)
    scale_top = _nice(top)
    plot_h = height - top_margin - bottom
    plot_w = WIDTH - left - right
    for step in range(5):
        tick = scale_top * step / 4
        y = top_margin + plot_h - plot_h * step / 4
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{WIDTH - right}" y2="{y:.1f}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{left - 8}" y="{y + 5:.1f}" text-anchor="end" font-size="{FONT}" '
            f'fill="{TEXT}">{escape(format_number(tick))}</text>'
        )
    count = len(points)
    every = -(-count // 6)  # at most six axis labels: month names need room
    coords = []
    for index, (label, value) in enumerate(points):
        x = left + (plot_w * (index + 0.5) / count if count else 0)
        y = top_margin + plot_h - (plot_h * (value or 0) / scale_top)
        coords.append((x, y, value))
        if index % every == 0:
            parts.append(
                f'<text x="{x:.1f}" y="{height - 14}" text-anchor="middle" font-size="{FONT}" '
                f'fill="{TEXT}">{escape(label)}</text>'
            )
    if len(coords) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in coords)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{BAR}" stroke-width="3"/>')
    for x, y, value in coords:
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="{BAR}"/>')
        if count > 8 and not value:
            continue  # a row of zeros says nothing the axis does not; the table has them
        parts.append(
            f'<text x="{x:.1f}" y="{y - 10:.1f}" text-anchor="middle" font-size="{FONT}" '
            f'fill="{TEXT}">{escape(format_number(value, unit))}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in it went through escape()


def _nice(top: float) -> float:
    """A round upper bound for the axis (1, 2, 5 × 10ⁿ), at least 4 so steps are whole."""
    if top <= 4:
        return 4
    magnitude = 10 ** (len(str(int(top))) - 1)
    for factor in (1, 2, 4, 5, 10):
        if factor * magnitude >= top:
            return float(factor * magnitude)
    return float(10 * magnitude)  # pragma: no cover

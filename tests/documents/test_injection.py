"""Injection: URLs and markup in every free-text field stay inert text (SEC-16, SEC-17).

Every free-text field of a case gets ``http://`` and ``https://`` URLs pointing at a local
server that records every connection, ``file://`` URLs to a secret temp file, and
``<link rel="attachment">``. The PDF is rendered by a real worker. Proven: the server saw no
connection, the secret file was never opened (audit hook, in-process render), the PDF has no
attachment and no trace of the secret, and the payload shows as plain text.

A second test skips the templates' escaping altogether (raw HTML straight to the renderer)
to prove the fetcher alone stops the same resources.
"""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import msgspec
import pytest

from cep_core import RenderRequest
from cep_core.defaults.synthesis import level_one_sections, level_two_sections
from cep_core.documents.fetcher import LockedFetcher
from cep_core.documents.pool import RenderPool
from cep_core.documents.render import make_environment
from cep_core.documents.synthesis import Branding, SynthesisBuilder, synthesis_header
from cep_core.documents.worker import render_pdf
from cep_core.domain.case import Level
from cep_core.domain.funding import FundingLine
from cep_core.domain.steps import (
    LEVEL_ONE_RECORD,
    LEVEL_TWO_ACTION_PLAN,
    LEVEL_TWO_PROJECT,
    Level1Referral,
    Milestone,
    PersonalStep,
    PlannedService,
)

SECRET_TEXT = "SECRET-FILE-CONTENT-51QX"


class Opens:
    """Records the paths Python opens in this process while active (audit hook)."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.active = threading.Event()

    def __call__(self, event: str, args: tuple[Any, ...]) -> None:
        if self.active.is_set() and event == "open" and args and isinstance(args[0], str | Path):
            self.paths.append(str(args[0]))


_OPENS = Opens()
sys.addaudithook(_OPENS)  # audit hooks cannot be removed: this one only records when active


@pytest.fixture
def opens() -> Iterator[Opens]:
    _OPENS.paths.clear()
    _OPENS.active.set()
    yield _OPENS
    _OPENS.active.clear()


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text(SECRET_TEXT)
    return path


def payloads(port: int, secret: Path) -> SimpleNamespace:
    long = (
        f'<img src="http://127.0.0.1:{port}/img.png">'
        f'<link rel="stylesheet" href="https://127.0.0.1:{port}/style.css">'
        f'<link rel="attachment" href="file://{secret}" title="pj">'
        f'<a rel="attachment" href="file://{secret}">pièce jointe</a>'
        f"<style>@import url(http://127.0.0.1:{port}/import.css);</style>"
        f'<div style="background: url(file://{secret})">fond</div>'
        f'<iframe src="https://127.0.0.1:{port}/frame"></iframe>'
        "<script>alert(1)</script>\"'><svg onload=alert(1)>"
    )
    short = (
        f'<img src="https://127.0.0.1:{port}/s.png"><link rel="attachment" href="file://{secret}">'
    )
    name = f"<img src=http://127.0.0.1:{port}/n>"
    return SimpleNamespace(long=long, short=short, name=name)


def injected_case(samples: SimpleNamespace, p: SimpleNamespace) -> Any:
    case = samples.full_case()
    record = samples.level1_record(
        request=p.long,
        clarified_need=p.long,
        shared_review=p.long,
        referral=Level1Referral(
            operator="mission_locale", reason="better_suited", note=p.long[:1000]
        ),
    )
    project = samples.career_project(
        description=p.long, strategies=(p.long[:1000], p.short), target_job=p.short
    )
    plan = samples.action_plan(
        services=(
            PlannedService(
                kind="training", label=p.short, provider=p.short, provider_qualiopi=True
            ),
        ),
        personal_steps=(PersonalStep(description=p.long[:1000], support=p.long[:1000]),),
        milestones=(Milestone(on=samples.AT.date(), label=p.short),),
    )
    funding = samples.funding_plan()
    funding = msgspec.structs.replace(
        funding,
        lines=tuple(msgspec.structs.replace(line, label=p.short) for line in funding.lines),
        warnings=(p.long,),
    )
    steps = {
        LEVEL_ONE_RECORD: samples.step(record),
        LEVEL_TWO_PROJECT: samples.step(project),
        LEVEL_TWO_ACTION_PLAN: samples.step(plan),
    }
    return msgspec.structs.replace(
        case, steps=steps, funding_plan=funding, counsellor_id=p.name[:64]
    ).without_confidential_notes()


def build_documents(
    samples: SimpleNamespace, p: SimpleNamespace
) -> list[tuple[Level, str, RenderRequest]]:
    case = injected_case(samples, p)
    person = samples.beneficiary(first_name=p.name, last_name=p.name)
    branding = Branding(operator_id="apec", operator_name="Apec", package="cep_apec")
    built = []
    for level, sections in (
        (Level.ONE, level_one_sections(case)),
        (Level.TWO, level_two_sections(case)),
    ):
        document = SynthesisBuilder().build(
            synthesis_header(case, person, level), branding, sections
        )
        built.append((level, document.html, document.request))
    return built


# Every element the synthesis templates use: none of them loads anything but <link>/<img>.
SAFE_TAGS = {
    "html", "head", "meta", "title", "link", "style", "body", "div", "span", "header",
    "section", "h1", "h2", "h3", "p", "dl", "dt", "dd", "table", "thead", "tbody", "tfoot",
    "tr", "th", "td", "ul", "ol", "li", "strong", "br",
}  # fmt: skip


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def parse_tags(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """The real elements of `html` (escaped text is text, not elements)."""
    parser = _Tags()
    parser.feed(html)
    return parser.tags


def compact(text: str) -> str:
    return re.sub(r"[\s\u200b]+", "", text)


def test_urls_and_markup_in_every_free_text_field_stay_inert(
    samples: SimpleNamespace,
    pool: RenderPool,
    pdf_tools: SimpleNamespace,
    recording_server: Any,
    secret: Path,
    opens: Opens,
) -> None:
    p = payloads(recording_server.port, secret)
    for level, html, request in build_documents(samples, p):
        # The HTML: the payload is escaped text; the only resource is the kit's stylesheet.
        assert "<img src=" not in html and "<iframe" not in html and "<script" not in html
        assert "&lt;link rel=&#34;attachment&#34;" in html
        tags = parse_tags(html)
        assert {tag for tag, _ in tags} <= SAFE_TAGS, {tag for tag, _ in tags} - SAFE_TAGS
        urls = [value for _, attrs in tags for name, value in attrs if name in {"src", "href"}]
        assert urls == ["cep-asset://cep_core/documents/templates/synthesis/synthesis.css"]
        # A worker renders it.
        pdf = pool.render(request)
        text = compact(pdf_tools.text(pdf))
        assert compact('<link rel="attachment" href="file://') in text
        assert compact(f'<img src="http://127.0.0.1:{recording_server.port}/img.png">') in text
        assert SECRET_TEXT not in text
        assert SECRET_TEXT.encode() not in pdf
        assert pdf_tools.attachments(pdf).startswith("0 embedded files"), level
        # In this process too, through the same function the workers run.
        in_process = render_pdf(request)
        assert SECRET_TEXT not in pdf_tools.text(in_process)
    assert recording_server.hits == []
    assert not [path for path in opens.paths if "secret" in path]


RAW_ATTACKS = """<!DOCTYPE html><html lang="fr"><head><title>Attaque</title>
<link rel="stylesheet" href="http://127.0.0.1:{port}/a.css">
<link rel="stylesheet" href="https://127.0.0.1:{port}/b.css">
<link rel="attachment" href="file://{secret}" title="secret">
<link rel="attachment" href="http://127.0.0.1:{port}/attached.txt">
<link rel="attachment" href="data:text/plain,{secret_text}">
<style>
@import url("http://127.0.0.1:{port}/import.css");
@font-face {{ font-family: X; src: url("https://127.0.0.1:{port}/font.woff2"); }}
body {{ background: url("file://{secret}"); }}
</style></head>
<body>
<p>Contenu légitime</p>
<img src="http://127.0.0.1:{port}/x.png" alt="x">
<img src="file://{secret}" alt="y">
<object data="http://127.0.0.1:{port}/o.svg"></object>
<embed src="https://127.0.0.1:{port}/e.svg">
<iframe src="http://127.0.0.1:{port}/f.html"></iframe>
<a rel="attachment" href="file://{secret}">pièce jointe</a>
<a rel="attachment" href="data:text/plain,{secret_text}">pièce jointe 2</a>
<svg width="10" height="10"><image href="http://127.0.0.1:{port}/svg.png" width="10" height="10"/></svg>
</body></html>"""


@pytest.fixture
def raw_attack(recording_server: Any, secret: Path) -> Callable[[], RenderRequest]:
    def make() -> RenderRequest:
        html = RAW_ATTACKS.format(
            port=recording_server.port, secret=secret, secret_text=SECRET_TEXT
        )
        return RenderRequest(html=html, title="Attaque")

    return make


def test_the_fetcher_alone_stops_raw_html_resources_and_attachments(
    raw_attack: Callable[[], RenderRequest],
    pool: RenderPool,
    pdf_tools: SimpleNamespace,
    recording_server: Any,
    opens: Opens,
) -> None:
    pdf = pool.render(raw_attack())
    assert "Contenu légitime" in pdf_tools.text(pdf)
    assert pdf_tools.attachments(pdf).startswith("0 embedded files")
    assert SECRET_TEXT.encode() not in pdf
    fetcher = LockedFetcher()
    in_process = render_pdf(raw_attack(), fetcher)
    assert pdf_tools.attachments(in_process).startswith("0 embedded files")
    # WeasyPrint did ask for them: the fetcher said no to each.
    schemes = {url.split(":", 1)[0] for url in fetcher.refused}
    assert {"http", "https", "file"} <= schemes, fetcher.refused
    assert fetcher.served == []
    assert SECRET_TEXT.encode() not in in_process
    assert recording_server.hits == []
    assert not [path for path in opens.paths if "secret" in path]


def test_autoescape_is_on_and_undefined_is_an_error() -> None:
    environment = make_environment()
    assert environment.autoescape is True
    template = environment.from_string("{{ value }}")
    assert template.render(value="<b>é</b>") == "&lt;b&gt;é&lt;/b&gt;"
    with pytest.raises(Exception, match="undefined"):
        environment.from_string("{{ missing }}").render()


def test_funding_line_labels_from_plugins_are_escaped_too(
    samples: SimpleNamespace,
) -> None:
    case = samples.full_case()
    funding = msgspec.structs.replace(
        case.funding_plan,
        lines=(FundingLine(funder="x", label="<b>Région</b>", amount=100),),
    )
    case = msgspec.structs.replace(case, funding_plan=funding)
    built = SynthesisBuilder().build(
        synthesis_header(case, samples.beneficiary(), Level.TWO),
        Branding(operator_id="apec", operator_name="<i>Apec</i>"),
        level_two_sections(case),
    )
    assert "&lt;b&gt;Région&lt;/b&gt;" in built.html
    assert "<b>Région</b>" not in built.html
    assert "<i>Apec</i>" not in built.html

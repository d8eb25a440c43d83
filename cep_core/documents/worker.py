"""WeasyPrint itself: the in-process render and the loop of a render worker process.

`render_pdf` is the one place that calls WeasyPrint. It always uses the `LockedFetcher`,
keeps presentational hints off (attribute values would become CSS, pitfall 14), writes a
tagged PDF/UA-1 with the document's title and language, and drops every attachment
(``<link rel="attachment">`` and ``<a rel="attachment">``), whatever the HTML says.

WeasyPrint is imported on first use, so the process that only starts workers (the web
server) never loads it. `worker_main` runs in a child process started by
`cep_core.documents.pool`: it lowers its own priority (the web server keeps the CPU it
needs), caps its address space, imports WeasyPrint and renders a small warm-up document,
says it is ready, then answers requests one at a time until told to stop. Messages are
msgpack-encoded Structs, not pickles.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

import msgspec

from cep_core.domain.synthesis import RenderRequest

if TYPE_CHECKING:
    from cep_core.documents.fetcher import LockedFetcher

KIT_PACKAGE = "cep_core"

# What every synthesis PDF is: tagged for accessibility, PDF/UA-1, no HTML presentational hints.
RENDER_OPTIONS: dict[str, Any] = {"presentational_hints": False, "pdf_variant": "pdf/ua-1"}

WARM_UP_HTML = (
    '<!doctype html><html lang="fr"><head><title>Préchauffage</title>'
    '<style>body{font-family:"DejaVu Sans"} b{font-weight:bold}</style></head>'
    "<body><p>Préchauffage : <b>1\u202f234,50\u00a0€</b> « é ç œ »</p></body></html>"
)


class WorkerLimits(msgspec.Struct, frozen=True, kw_only=True):
    memory_limit_mb: int | None = None
    nice: int = 0


class WorkerReply(msgspec.Struct, frozen=True, kw_only=True):
    """``kind`` is "ready", "ok", or the kind of failure ("memory", "recursion", "error")."""

    kind: str
    pdf: bytes = b""
    seconds: float = 0.0
    refused: int = 0
    max_rss_kb: int = 0
    detail: str = ""


_request_decoder = msgspec.msgpack.Decoder(RenderRequest)
_reply_encoder = msgspec.msgpack.Encoder()


def render_pdf(request: RenderRequest, fetcher: LockedFetcher | None = None) -> bytes:
    """Render `request` to PDF bytes in this process (workers and benchmarks call this)."""
    import weasyprint  # type: ignore[import-untyped]

    from cep_core.documents.fetcher import LockedFetcher

    if fetcher is None:
        fetcher = LockedFetcher(packages={KIT_PACKAGE, *request.packages}, assets=request.assets)
    html = weasyprint.HTML(string=request.html, url_fetcher=fetcher)
    document = html.render(**RENDER_OPTIONS)
    document.metadata.title = request.title
    document.metadata.lang = request.lang
    document.metadata.attachments = []
    for page in document.pages:
        page.links = [link for link in page.links if link[0] != "attachment"]
    pdf: bytes = document.write_pdf(**RENDER_OPTIONS)
    return pdf


def _max_rss_kb() -> int:
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _apply_limits(limits: WorkerLimits) -> None:
    import resource

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when workers stop
    if limits.nice:
        os.nice(limits.nice)
    if limits.memory_limit_mb:
        cap = limits.memory_limit_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    # WeasyPrint logs each refused URL and CSS oddity; the parent reports counts instead.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)


def _answer(request: RenderRequest) -> WorkerReply:
    from cep_core.documents.fetcher import LockedFetcher

    fetcher = LockedFetcher(packages={KIT_PACKAGE, *request.packages}, assets=request.assets)
    started = time.perf_counter()
    try:
        pdf = render_pdf(request, fetcher)
    except MemoryError:
        return WorkerReply(kind="memory")
    except RecursionError:
        return WorkerReply(kind="recursion")
    except Exception as exc:
        return WorkerReply(kind="error", detail=type(exc).__name__)
    return WorkerReply(
        kind="ok",
        pdf=pdf,
        seconds=time.perf_counter() - started,
        refused=len(fetcher.refused),
        max_rss_kb=_max_rss_kb(),
    )


def worker_main(connection: Connection, limits_bytes: bytes) -> None:
    """Entry point of a render worker process (see the module docstring)."""
    limits = msgspec.msgpack.decode(limits_bytes, type=WorkerLimits)
    _apply_limits(limits)
    render_pdf(RenderRequest(html=WARM_UP_HTML, title="Préchauffage"))
    try:
        connection.send_bytes(_reply_encoder.encode(WorkerReply(kind="ready")))
    except OSError:
        return  # stopped before it was ever used
    while True:
        try:
            message = connection.recv_bytes()
        except (EOFError, OSError):
            return  # the parent is gone
        if not message:
            return
        reply = _answer(_request_decoder.decode(message))
        connection.send_bytes(_reply_encoder.encode(reply))
        if reply.kind == "memory":
            return  # a worker that ran out of memory may be in a bad state: retire it

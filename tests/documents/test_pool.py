"""Render workers: time limit, recycling, bounded concurrency, crashes, pathological input."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from cep_core import RenderRequest, SynthesisSection
from cep_core.defaults.synthesis import level_two_sections
from cep_core.documents.errors import (
    DocumentTooLarge,
    RenderBusy,
    RenderCrashed,
    RenderFailed,
    RenderPoolClosed,
    RenderTimeout,
)
from cep_core.documents.pool import RenderPool, RenderSettings
from cep_core.documents.synthesis import Branding, SynthesisBuilder, synthesis_header
from cep_core.domain.case import Level
from cep_core.settings import SettingsError

SMALL = RenderRequest(
    html='<html lang="fr"><head><title>t</title></head><body><p>Bonjour é €</p></body></html>',
    title="Petit document",
)
# One 60 000-character word that may break anywhere: WeasyPrint looks for break points in
# quadratic time (about 40 s here; 20 000 characters take 5 s).
STUCK = RenderRequest(
    html="<html><head><style>p { overflow-wrap: anywhere }</style></head><body><p>"
    + "x" * 60_000
    + "</p></body></html>",
    title="Bloqué",
)


@pytest.fixture
def quick_pool() -> Iterator[RenderPool]:
    """One worker, a 2-second time limit, recycled every 3 documents."""
    with RenderPool(RenderSettings(workers=1, timeout_seconds=2, max_tasks_per_worker=3)) as pool:
        pool.start(wait=True)
        yield pool


def test_a_stuck_render_is_killed_and_the_pool_keeps_working(quick_pool: RenderPool) -> None:
    before = quick_pool.worker_pids()
    started = time.monotonic()
    with pytest.raises(RenderTimeout) as caught:
        quick_pool.render(STUCK)
    assert time.monotonic() - started < 10
    assert "temps limite (2 s)" in str(caught.value)
    assert quick_pool.stats.timeouts == 1
    assert quick_pool.render(SMALL).startswith(b"%PDF-")
    assert quick_pool.worker_pids() != before  # the stuck worker was replaced
    with pytest.raises(ProcessLookupError):
        os.kill(before[0], 0)


def test_workers_are_recycled_after_n_documents(quick_pool: RenderPool) -> None:
    seen = []
    for _ in range(7):
        assert quick_pool.render(SMALL).startswith(b"%PDF-")
        seen.append(tuple(quick_pool.worker_pids()))
    # 3 documents per worker: documents 1-3, 4-6 and 7 ran in three different processes.
    assert quick_pool.stats.recycled == 2
    assert len(set(seen)) >= 3
    assert quick_pool.stats.rendered == 7


def test_concurrency_is_bounded_and_waiting_is_bounded_too() -> None:
    settings = RenderSettings(workers=1, timeout_seconds=3, queue_timeout_seconds=0.3)
    with RenderPool(settings) as pool:
        pool.start(wait=True)
        errors: list[Exception] = []

        def stuck() -> None:
            try:
                pool.render(STUCK)
            except Exception as exc:
                errors.append(exc)

        thread = threading.Thread(target=stuck)
        thread.start()
        time.sleep(0.5)
        assert len(pool.worker_pids()) == 1
        with pytest.raises(RenderBusy, match="Réessayez"):
            pool.render(SMALL)
        thread.join(30)
        assert [type(e) for e in errors] == [RenderTimeout]
        assert pool.render(SMALL).startswith(b"%PDF-")


def test_concurrent_callers_share_the_workers() -> None:
    with RenderPool(RenderSettings(workers=2, timeout_seconds=60)) as pool:
        results: list[bytes] = []
        lock = threading.Lock()
        peak = 0

        def render() -> None:
            nonlocal peak
            pdf = pool.render(SMALL)
            with lock:
                results.append(pdf)
                peak = max(peak, len(pool.worker_pids()))

        threads = [threading.Thread(target=render) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert len(results) == 6
        assert all(pdf.startswith(b"%PDF-") for pdf in results)
        assert peak <= 2
        assert pool.stats.started <= 2


def test_a_worker_killed_mid_render_is_a_clear_error_and_is_replaced() -> None:
    with RenderPool(RenderSettings(workers=1, timeout_seconds=30)) as pool:
        pool.start(wait=True)
        (pid,) = pool.worker_pids()
        errors: list[Exception] = []
        thread = threading.Thread(target=lambda: _catch(errors, pool.render, STUCK))
        thread.start()
        time.sleep(0.5)
        os.kill(pid, signal.SIGKILL)
        thread.join(30)
        assert [type(e) for e in errors] == [RenderCrashed]
        assert "signal 9" in str(errors[0])
        assert pool.render(SMALL).startswith(b"%PDF-")
        assert pool.worker_pids() != [pid]


def test_an_idle_worker_that_died_is_replaced_silently() -> None:
    with RenderPool(RenderSettings(workers=1)) as pool:
        pool.start(wait=True)
        (pid,) = pool.worker_pids()
        os.kill(pid, signal.SIGKILL)
        time.sleep(0.2)
        assert pool.render(SMALL).startswith(b"%PDF-")


def _catch(errors: list[Exception], function: object, *args: object) -> None:
    try:
        function(*args)  # type: ignore[operator]
    except Exception as exc:
        errors.append(exc)


def test_deeply_nested_markup_ends_in_a_clear_error(quick_pool: RenderPool) -> None:
    nested = RenderRequest(html="<div>" * 20_000 + "x" + "</div>" * 20_000, title="Imbriqué")
    with pytest.raises((RenderTimeout, RenderFailed)) as caught:
        quick_pool.render(nested)
    assert "document" in str(caught.value)
    assert quick_pool.render(SMALL).startswith(b"%PDF-")


@pytest.mark.parametrize(
    ("huge", "needle"),
    [
        ("x" * 100_000, "x"),  # no space at all: the worst case for line breaking
        ("<div>" * 20_000, "<div>"),  # deeply nested markup, as text
    ],
    ids=["100k-characters", "nested-markup"],
)
def test_a_pathological_field_gives_a_bounded_render(
    huge: str, needle: str, samples: SimpleNamespace, pool: RenderPool, pdf_tools: SimpleNamespace
) -> None:
    case = samples.full_case().without_confidential_notes()
    sections = [
        *level_two_sections(case),
        SynthesisSection(
            id="op.huge",
            title="Très long",
            template="synthesis/sections/paragraphs.html",
            context={"paragraphs": (huge,)},
        ),
    ]
    built = SynthesisBuilder().build(
        synthesis_header(case, samples.beneficiary(), Level.TWO),
        Branding(operator_id="apec", operator_name="Apec"),
        sections,
    )
    started = time.monotonic()
    pdf = pool.render(built.request)
    assert time.monotonic() - started < 20
    assert int(pdf_tools.info(pdf)["Pages"]) > 10
    text = pdf_tools.text(pdf).replace("\u200b", "").replace("\n", "")
    assert text.count(needle) >= 20_000


def test_oversized_html_is_refused_before_any_worker_is_used() -> None:
    with RenderPool(RenderSettings(workers=1, max_html_bytes=64 * 1024)) as pool:
        with pytest.raises(DocumentTooLarge, match="trop volumineux"):
            pool.render(RenderRequest(html="é" * 40_000, title="gros"))
        assert pool.stats.started == 0


def test_a_closed_pool_refuses_work() -> None:
    pool = RenderPool(RenderSettings(workers=1))
    pool.close()
    with pytest.raises(RenderPoolClosed, match="arrêté"):
        pool.render(SMALL)


def test_render_async_leaves_the_event_loop_free(pool: RenderPool) -> None:
    ticks = 0

    async def ticker(stop: asyncio.Event) -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0.005)

    async def main() -> bytes:
        stop = asyncio.Event()
        task = asyncio.create_task(ticker(stop))
        pdf = await pool.render_async(SMALL)
        pdf = await pool.render_async(SMALL)
        stop.set()
        await task
        return pdf

    started = time.monotonic()
    assert asyncio.run(main()).startswith(b"%PDF-")
    elapsed = time.monotonic() - started
    # The loop ticked all along (a blocked loop would tick once).
    assert ticks >= max(3, int(elapsed / 0.005 * 0.3))


def test_settings_from_the_environment() -> None:
    settings = RenderSettings.from_env(
        {
            "CEP_RENDER_WORKERS": "3",
            "CEP_RENDER_TIMEOUT": "12.5",
            "CEP_RENDER_MAX_TASKS": "20",
            "CEP_RENDER_MEMORY_MB": "0",
            "CEP_RENDER_MAX_HTML_KB": "2048",
            "CEP_RENDER_START_METHOD": "spawn",
        }
    )
    assert (settings.workers, settings.timeout_seconds, settings.max_tasks_per_worker) == (
        3,
        12.5,
        20,
    )
    assert settings.memory_limit_mb == 0
    assert settings.max_html_bytes == 2048 * 1024
    assert settings.start_method == "spawn"
    assert RenderSettings.from_env({}).workers >= 1


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("CEP_RENDER_WORKERS", "0", "CEP_RENDER_WORKERS"),
        ("CEP_RENDER_WORKERS", "deux", "nombre attendu"),
        ("CEP_RENDER_TIMEOUT", "-1", "CEP_RENDER_TIMEOUT"),
        ("CEP_RENDER_MEMORY_MB", "10", "CEP_RENDER_MEMORY_MB"),
        ("CEP_RENDER_START_METHOD", "fork", "forkserver"),
    ],
)
def test_wrong_settings_are_refused_in_french(variable: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        RenderSettings.from_env({variable: value})


def test_spawned_workers_work_too() -> None:
    with RenderPool(RenderSettings(workers=1, start_method="spawn")) as pool:
        assert pool.render(SMALL).startswith(b"%PDF-")

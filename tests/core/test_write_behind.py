"""`WriteBehind`: what waits is merged, written off the caller, kept on failure, bounded."""

from __future__ import annotations

import operator
import threading
import time

import pytest

from cep_core.services.write_behind import WriteBehind


class Sink:
    """A `write` callback that records batches and can be made to fail."""

    def __init__(self) -> None:
        self.batches: list[dict[str, int]] = []
        self.failing = False
        self.threads: set[str] = set()

    def __call__(self, batch: dict[str, int]) -> None:
        self.threads.add(threading.current_thread().name)
        if self.failing:
            raise ConnectionError("base injoignable")
        self.batches.append(dict(batch))


def wait_until(condition: object, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.01)


def test_records_are_merged_while_they_wait_and_written_once() -> None:
    sink = Sink()
    behind = WriteBehind(sink, name="essai", merge=operator.add, max_delay=60)
    for key in ("a", "b", "a", "a"):
        behind.add(key, 1)
    assert behind.waiting("a") == 3 and behind.waiting("c") is None
    assert sink.batches == []  # nothing written by the callers
    assert behind.flush() == 2
    assert sink.batches == [{"a": 3, "b": 1}]
    assert behind.flush() == 0


def test_a_full_batch_goes_at_once_from_a_thread_of_its_own_which_ends_when_idle() -> None:
    sink = Sink()
    behind = WriteBehind(sink, name="essai", max_delay=0.05, batch_size=3)
    for key in ("a", "b", "c"):
        behind.add(key, 1)
    wait_until(lambda: sink.batches)
    assert sink.batches == [{"a": 1, "b": 1, "c": 1}]
    assert sink.threads == {"cep-essai"}
    wait_until(lambda: behind._worker is None)
    assert behind._worker is None


def test_a_failed_write_keeps_the_records_merged_with_newer_ones() -> None:
    sink = Sink()
    behind = WriteBehind(sink, name="essai", merge=operator.add, max_delay=60)
    behind.add("a", 2)
    sink.failing = True
    with pytest.raises(ConnectionError):
        behind.flush()
    behind.add("a", 5)
    behind.add("b", 1)
    sink.failing = False
    assert behind.flush() == 2
    assert sink.batches == [{"a": 7, "b": 1}]


def test_memory_stays_bounded_when_the_database_is_gone(caplog: pytest.LogCaptureFixture) -> None:
    sink = Sink()
    sink.failing = True
    behind = WriteBehind(sink, name="essai", max_delay=60, max_pending=3)
    for number in range(5):
        behind.add(f"k{number}", number)
    with pytest.raises(ConnectionError):
        behind.flush()
    assert [behind.waiting(f"k{n}") for n in range(5)] == [None, None, 2, 3, 4]  # oldest go
    assert "2 queued records dropped" in caplog.text
    behind.close()  # a failure on shutdown is logged, not raised
    assert "writing 3 queued records failed" in caplog.text

"""Render workers: WeasyPrint runs in separate processes, never in the caller's (REL-06).

`RenderPool` keeps at most ``workers`` child processes, each rendering one document at a
time, so concurrency is bounded whatever the number of callers (callers beyond that wait up
to ``queue_timeout_seconds``, then get `RenderBusy`). Every render has a time limit: a worker
that has not answered in ``timeout_seconds`` is killed and replaced, the caller gets
`RenderTimeout` (a French message), and the other renders go on. A worker is retired after
``max_tasks_per_worker`` documents — WeasyPrint's memory grows about 0.3 MB per render in a
long-lived process — and its replacement is started at once, so it has imported WeasyPrint
and rendered a warm-up page before the next caller needs it. Workers run at a lower priority
(``nice``) and under an address-space cap (``memory_limit_mb``).

Workers are forked from a ``forkserver`` process that imported WeasyPrint once: a worker
starts in milliseconds instead of re-importing WeasyPrint (about 1 s of CPU taken from the
other workers at each recycling), and it inherits none of the caller's threads, locks or
database connections (``spawn`` is available through ``CEP_RENDER_START_METHOD``).
`render` is synchronous (it blocks the calling thread, never an event loop); `render_async`
hands it to a worker thread for async callers.

One pool per process (`shared_pool`) is what the default renderer plugin uses: the bound on
concurrent renders is a property of the machine, so two kits in one process (a portal, the
tests) share it rather than doubling it. Its settings come from the environment
(`RenderSettings.from_env`); tests and benchmarks build their own pools.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Mapping
from multiprocessing.connection import Connection
from typing import Any

import msgspec

from cep_core.documents.errors import (
    DocumentTooLarge,
    RenderBusy,
    RenderCrashed,
    RenderFailed,
    RenderPoolClosed,
    RenderTimeout,
)
from cep_core.documents.worker import WorkerLimits, WorkerReply, worker_main
from cep_core.domain.synthesis import RenderRequest
from cep_core.settings import SettingsError

log = logging.getLogger("cep_core.documents")

_reply_decoder = msgspec.msgpack.Decoder(WorkerReply)
_request_encoder = msgspec.msgpack.Encoder()


def default_workers() -> int:
    """Half the CPUs (at least one): the other half stays with the web server."""
    return max(1, (os.cpu_count() or 2) // 2)


class RenderSettings(msgspec.Struct, frozen=True, kw_only=True):
    """How documents are rendered; every field has a ``CEP_RENDER_*`` variable.

    - ``CEP_RENDER_WORKERS``: worker processes, i.e. documents rendered at once;
    - ``CEP_RENDER_TIMEOUT``: seconds one document may take before its worker is killed;
    - ``CEP_RENDER_MAX_TASKS``: documents a worker renders before it is replaced;
    - ``CEP_RENDER_MEMORY_MB``: address-space cap of a worker (0: none);
    - ``CEP_RENDER_QUEUE_TIMEOUT``: seconds a caller waits for a free worker;
    - ``CEP_RENDER_MAX_HTML_KB``: largest HTML accepted (larger: refused before rendering);
    - ``CEP_RENDER_START_METHOD``: ``forkserver`` (default) or ``spawn``.
    """

    workers: int = msgspec.field(default_factory=default_workers)
    timeout_seconds: float = 30.0
    max_tasks_per_worker: int = 50
    memory_limit_mb: int = 768
    queue_timeout_seconds: float = 60.0
    start_timeout_seconds: float = 60.0
    max_html_bytes: int = 4 * 1024 * 1024
    nice: int = 10
    start_method: str = "forkserver"

    def __post_init__(self) -> None:
        checks = {
            "CEP_RENDER_WORKERS": 1 <= self.workers <= 64,
            "CEP_RENDER_TIMEOUT": 0 < self.timeout_seconds <= 3600,
            "CEP_RENDER_MAX_TASKS": 1 <= self.max_tasks_per_worker <= 100_000,
            "CEP_RENDER_MEMORY_MB": self.memory_limit_mb == 0 or self.memory_limit_mb >= 256,
            "CEP_RENDER_QUEUE_TIMEOUT": 0 < self.queue_timeout_seconds <= 3600,
            "CEP_RENDER_MAX_HTML_KB": 1024 <= self.max_html_bytes <= 64 * 1024 * 1024,
        }
        wrong = [name for name, ok in checks.items() if not ok]
        if wrong:
            raise SettingsError(
                "Réglage de la production des documents hors limites : " + ", ".join(wrong)
            )
        if self.start_method not in ("forkserver", "spawn"):
            # "fork" would copy the caller's threads and locks into the worker.
            raise SettingsError(
                "CEP_RENDER_START_METHOD : « forkserver » ou « spawn » attendu, reçu "
                f"« {self.start_method[:20]} »"
            )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RenderSettings:
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        fields = {
            "CEP_RENDER_WORKERS": ("workers", int, 1),
            "CEP_RENDER_TIMEOUT": ("timeout_seconds", float, 1),
            "CEP_RENDER_MAX_TASKS": ("max_tasks_per_worker", int, 1),
            "CEP_RENDER_MEMORY_MB": ("memory_limit_mb", int, 1),
            "CEP_RENDER_QUEUE_TIMEOUT": ("queue_timeout_seconds", float, 1),
            "CEP_RENDER_MAX_HTML_KB": ("max_html_bytes", int, 1024),
        }
        for variable, (name, kind, scale) in fields.items():
            raw = env.get(variable, "").strip()
            if not raw:
                continue
            try:
                values[name] = kind(raw) * scale
            except ValueError:
                raise SettingsError(f"{variable} : nombre attendu, reçu « {raw[:20]} »") from None
        method = env.get("CEP_RENDER_START_METHOD", "").strip()
        if method:
            values["start_method"] = method
        return cls(**values)


class PoolStats(msgspec.Struct, kw_only=True):
    """Counters since the pool started (for logs, tests and benchmarks)."""

    rendered: int = 0
    failed: int = 0
    timeouts: int = 0
    crashes: int = 0
    started: int = 0
    recycled: int = 0
    refused_urls: int = 0


class _Worker:
    def __init__(self, context: Any, settings: RenderSettings) -> None:
        limits = WorkerLimits(memory_limit_mb=settings.memory_limit_mb, nice=settings.nice)
        parent_end, child_end = context.Pipe(duplex=True)
        self.process = context.Process(
            target=worker_main,
            args=(child_end, msgspec.msgpack.encode(limits)),
            name="cep-render",
            daemon=True,
        )
        self.process.start()
        child_end.close()
        self.connection: Connection = parent_end
        self.ready = False
        self.tasks = 0

    def _receive(self, timeout: float) -> WorkerReply | None:
        if not self.connection.poll(timeout):
            return None
        return _reply_decoder.decode(self.connection.recv_bytes())

    def poll_ready(self) -> bool:
        """Whether the worker is warm, without waiting."""
        if not self.ready and self.connection.poll(0):
            self.wait_ready(0)
        return self.ready

    def wait_ready(self, timeout: float) -> None:
        if self.ready:
            return
        reply = self._receive(timeout)
        if reply is None or reply.kind != "ready":
            raise RenderCrashed("le moteur n'a pas démarré")
        self.ready = True

    def send(self, payload: bytes) -> None:
        self.connection.send_bytes(payload)
        self.tasks += 1

    def receive(self, timeout: float) -> WorkerReply | None:
        """The worker's reply, or None when the time limit passed."""
        return self._receive(timeout)

    def stop(self) -> None:
        try:
            self.connection.send_bytes(b"")
        except OSError:
            self.kill()
            return
        self.connection.close()

    def kill(self) -> None:
        self.process.kill()
        self.process.join(5)
        self.connection.close()


class RenderPool:
    """Bounded, recycled WeasyPrint worker processes (see the module docstring)."""

    def __init__(self, settings: RenderSettings | None = None) -> None:
        self.settings = settings or RenderSettings()
        self._context = multiprocessing.get_context(self.settings.start_method)
        if self.settings.start_method == "forkserver":
            # The fork server imports WeasyPrint once; each worker is a fork of it.
            self._context.set_forkserver_preload(
                ["cep_core.documents.fetcher", "cep_core.documents.worker"]
            )
        self._slots = threading.BoundedSemaphore(self.settings.workers)
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []
        self._busy: set[_Worker] = set()
        self._retired: list[_Worker] = []
        self._closed = False
        self._pid = os.getpid()
        self.stats = PoolStats()

    @property
    def closed(self) -> bool:
        return self._closed

    def start(self, *, wait: bool = False) -> None:
        """Start every worker now (instead of on first use); with `wait`, until warm."""
        with self._lock:
            self._check_open()
            while len(self._idle) + len(self._busy) < self.settings.workers:
                self._idle.append(self._spawn())
            workers = list(self._idle)
        if wait:
            for worker in workers:
                worker.wait_ready(self.settings.start_timeout_seconds)

    def render(self, request: RenderRequest) -> bytes:
        """The PDF of `request`, rendered in a worker; blocks the calling thread.

        Raises `DocumentTooLarge`, `RenderBusy`, `RenderTimeout`, `RenderCrashed`,
        `RenderFailed` or `RenderPoolClosed`, each with a French message.
        """
        size = len(request.html.encode())
        if size > self.settings.max_html_bytes:
            raise DocumentTooLarge(size, self.settings.max_html_bytes)
        payload = _request_encoder.encode(request)
        if not self._slots.acquire(timeout=self.settings.queue_timeout_seconds):
            raise RenderBusy(self.settings.queue_timeout_seconds)
        try:
            reply = self._render_in_worker(payload)
        finally:
            self._slots.release()
        if reply.kind != "ok":
            with self._lock:
                self.stats.failed += 1
            raise RenderFailed(reply.kind, reply.detail)
        with self._lock:
            self.stats.rendered += 1
            self.stats.refused_urls += reply.refused
        if reply.refused:
            log.warning("document rendered without %d refused resource(s)", reply.refused)
        return reply.pdf

    async def render_async(self, request: RenderRequest) -> bytes:
        """`render` from async code: the wait happens in a worker thread, not on the loop."""
        import anyio.to_thread

        return await anyio.to_thread.run_sync(self.render, request)

    def _render_in_worker(self, payload: bytes) -> WorkerReply:
        # A worker found dead when the job is handed over never started it: try another once.
        for attempt in (1, 2):
            worker = self._take()
            keep = False
            try:
                worker.wait_ready(self.settings.start_timeout_seconds)
                try:
                    worker.send(payload)
                except OSError as exc:
                    if attempt == 1:
                        continue
                    raise RenderCrashed(_exit_reason(worker)) from exc
                try:
                    reply = worker.receive(self.settings.timeout_seconds)
                except (EOFError, OSError) as exc:
                    raise RenderCrashed(_exit_reason(worker)) from exc
                if reply is None:
                    with self._lock:
                        self.stats.timeouts += 1
                    log.error(
                        "render worker %s killed after %.0f s",
                        worker.process.pid,
                        self.settings.timeout_seconds,
                    )
                    raise RenderTimeout(self.settings.timeout_seconds)
                keep = reply.kind != "memory"
                return reply
            except RenderCrashed:
                with self._lock:
                    self.stats.crashes += 1
                raise
            finally:
                self._give_back(worker, keep=keep)
        raise AssertionError("unreachable")  # pragma: no cover

    def _check_open(self) -> None:
        if self._closed:
            raise RenderPoolClosed()
        if os.getpid() != self._pid:
            raise RuntimeError("a RenderPool cannot be used across fork(); build a new one")

    def _spawn(self) -> _Worker:
        self.stats.started += 1
        return _Worker(self._context, self.settings)

    def _take(self) -> _Worker:
        with self._lock:
            self._check_open()
            self._reap()
            worker = self._pick_idle() or self._spawn()
            self._busy.add(worker)
            return worker

    def _pick_idle(self) -> _Worker | None:
        """A warm idle worker, most recently used first; else the oldest one warming up."""
        for index in range(len(self._idle) - 1, -1, -1):
            worker = self._idle[index]
            if not worker.process.is_alive():
                del self._idle[index]
                worker.kill()
                continue
            try:
                ready = worker.poll_ready()
            except (RenderCrashed, EOFError, OSError):
                del self._idle[index]
                worker.kill()
                continue
            if ready:
                return self._idle.pop(index)
        return self._idle.pop(0) if self._idle else None

    def _give_back(self, worker: _Worker, *, keep: bool) -> None:
        with self._lock:
            self._busy.discard(worker)
            recycle = keep and worker.tasks >= self.settings.max_tasks_per_worker
            if keep and not recycle and not self._closed:
                self._idle.append(worker)
                return
            if recycle:
                self.stats.recycled += 1
                worker.stop()
                self._retired.append(worker)
            else:
                worker.kill()
            if not self._closed:
                # Start the replacement now: it warms up while nobody waits for it.
                self._idle.append(self._spawn())

    def _reap(self) -> None:
        """Collect retired workers that have exited (no zombies)."""
        still = []
        for worker in self._retired:
            worker.process.join(0)
            if worker.process.is_alive():
                still.append(worker)
        self._retired = still

    def close(self, timeout: float = 5.0) -> None:
        """Stop the idle workers now; busy ones stop when their render ends."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            workers, self._idle = self._idle, []
            retired, self._retired = self._retired, []
        if os.getpid() != self._pid:
            return
        for worker in workers:
            worker.stop()
        deadline = time.monotonic() + timeout
        for worker in [*workers, *retired]:
            worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(1)

    def worker_pids(self) -> list[int]:
        with self._lock:
            return [w.process.pid for w in [*self._idle, *self._busy] if w.process.pid]

    def __enter__(self) -> RenderPool:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _exit_reason(worker: _Worker) -> str:
    worker.process.join(1)
    code = worker.process.exitcode
    if code is None:
        return "arrêt inattendu"
    if code < 0:
        return f"arrêté par le signal {-code}"
    return f"code de sortie {code}"


_shared_lock = threading.Lock()
_shared: dict[int, RenderPool] = {}


def shared_pool() -> RenderPool:
    """This process's pool, built from the environment on first use, closed at exit."""
    with _shared_lock:
        pid = os.getpid()
        pool = _shared.get(pid)
        if pool is None or pool.closed:
            _shared.clear()  # a pool inherited through fork() belongs to the parent
            pool = RenderPool(RenderSettings.from_env())
            _shared[pid] = pool
            atexit.register(pool.close)
        return pool

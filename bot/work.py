"""Where the synchronous work (use cases, outbox bookkeeping) runs, so the event loop stays free to ack.

Slack waits at most 3 s for an ack, and the loop is what sends it. In one process every busy worker thread
competes with the loop for the GIL, so under a burst the acks queue behind the use cases (measured in
docs/benchmarks.md). `serve` therefore runs the work in `WORK_PROCESSES` worker *processes* at a lower CPU
priority, each running up to `WORK_THREADS` jobs at once: a job spends much of its time waiting for the
database, and another job's Python runs meanwhile. Tests and the scheduler's worker keep the simpler
in-process threads (same functions, same results).

Memory: `serve` forks its work processes once everything is imported and built, before the server starts a
thread (`Work.prefork`), after `gc.freeze()`: the children share the parent's pages (the libraries, the
catalogs, the services) instead of importing everything again, so a small box holds the default. A process
that dies later is replaced by a fresh interpreter (spawn): forking a process that runs threads is unsafe.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
import multiprocessing
import os
import queue
import signal
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.connection import Connection
from multiprocessing.reduction import ForkingPickler
from typing import Any, TypeVar

from commands.context import Services
from storage.logs import configure as configure_logging
from storage.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")
WORK_THREADS = 2  # in-process threads (tests, a server without work processes)
CHILD_NICE = 5
STOP_TIMEOUT_S = 10


def _child_main(conn: Connection, settings: Settings, allow_generated_keys: bool,
                inherited: Services | None = None) -> None:
    """A work process: build the services once (or, forked, take the parent's and open connections of its
    own), then run each job that arrives on one of its threads and send back (job id, ok, the pickled result
    or exception) — pickled here, so a result that does not travel fails its own job, not the pipe."""
    configure_logging(settings.log_format, logging.WARNING)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server; it then stops its work processes
    try:
        os.nice(CHILD_NICE)  # the acks, in the parent, come first
    except OSError:
        pass
    if inherited is not None:
        inherited.engine.dispose(close=False)  # the parent's pooled connections stay the parent's
        svc = inherited
    else:
        from commands.services import build_services

        svc = build_services(settings, auto_migrate=False, allow_generated_keys=allow_generated_keys)
    sending = threading.Lock()

    def reply(job_id: int, ok: bool, value: Any) -> None:
        try:
            data = bytes(ForkingPickler.dumps(value))
        except Exception as exc:  # noqa: BLE001 — e.g. an exception that does not pickle: send its type
            ok, data = False, bytes(ForkingPickler.dumps(
                RuntimeError(f"work result not transferable ({type(exc).__name__})")))
        with sending:
            conn.send((job_id, ok, data))

    def run(job_id: int, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        try:
            value = fn(svc, *args)
        except BaseException as exc:  # noqa: BLE001 — the parent raises it where the job was awaited
            reply(job_id, False, exc)
        else:
            reply(job_id, True, value)

    reply(0, True, "ready")
    with ThreadPoolExecutor(max_workers=settings.work_threads, thread_name_prefix="koordinator-work") as pool:
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                break  # the server is gone
            if message is None:
                break
            pool.submit(run, *message)
    svc.engine.dispose()


class _Child:
    """One work process and the jobs it has not answered yet; a reader thread resolves their futures."""

    def __init__(self, settings: Settings, allow_generated_keys: bool, fork_from: Services | None = None) -> None:
        """`fork_from`: fork this process (its services are the child's); else spawn a clean interpreter.
        Call `run()` to start the threads that talk to it — after every fork, so no child inherits them."""
        # spawn: a clean interpreter, no inherited threads or sockets; fork: only while no thread runs
        context = multiprocessing.get_context("fork" if fork_from is not None else "spawn")
        self.conn, child_end = context.Pipe()
        args = (child_end, settings, allow_generated_keys) + ((fork_from,) if fork_from is not None else ())
        self.process = context.Process(target=_child_main, args=args, name="koordinator-work", daemon=True)
        self.process.start()
        child_end.close()
        self.pending: dict[int, tuple[asyncio.AbstractEventLoop, asyncio.Future[Any]]] = {}
        self.ready = threading.Event()
        self.broken = False
        # Jobs go out through a thread of their own: pickling and a full pipe never hold up the event loop.
        self._outgoing: queue.SimpleQueue[tuple[int, Callable[..., Any], tuple[Any, ...]] | None] = queue.SimpleQueue()

    def run(self) -> _Child:
        for target, name in ((self._read, "koordinator-work-results"), (self._send, "koordinator-work-jobs")):
            threading.Thread(target=target, name=name, daemon=True).start()
        return self

    def _fail(self, job_id: int, exc: BaseException) -> None:
        waiting = self.pending.pop(job_id, None)
        if waiting is not None:
            loop, future = waiting
            loop.call_soon_threadsafe(_settle, future, False, exc)

    def _send(self) -> None:
        while (job := self._outgoing.get()) is not None:
            try:
                self.conn.send(job)
            except (OSError, ValueError) as exc:  # the pipe is gone: the process died
                self._fail(job[0], BrokenProcessPool("a work process died"))
                log.error("a work process is gone (%s)", type(exc).__name__)
                return
            except Exception as exc:  # noqa: BLE001 — e.g. arguments that do not pickle: that job fails alone
                self._fail(job[0], exc)
        try:
            self.conn.send(None)
        except (OSError, ValueError):
            pass

    def _read(self) -> None:
        while True:
            try:
                job_id, ok, data = self.conn.recv()
            except (EOFError, OSError):
                break
            if job_id == 0:
                self.ready.set()
                continue
            waiting = self.pending.pop(job_id, None)
            if waiting is None:
                continue
            try:
                value = ForkingPickler.loads(data)
            except Exception as exc:  # noqa: BLE001 — a result that does not unpickle fails its job alone
                ok, value = False, exc
            loop, future = waiting
            loop.call_soon_threadsafe(_settle, future, ok, value)
        self.broken = True
        self.ready.set()
        for loop, future in list(self.pending.values()):
            loop.call_soon_threadsafe(_settle, future, False, BrokenProcessPool("a work process died"))
        self.pending.clear()

    def submit(self, job_id: int, fn: Callable[..., Any], args: tuple[Any, ...]) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self.pending[job_id] = (loop, future)
        if self.broken:  # died since the caller looked: the reader has already failed what it saw pending
            self._fail(job_id, BrokenProcessPool("a work process died"))
        else:
            self._outgoing.put((job_id, fn, args))
        return future

    def stop(self) -> None:
        self._outgoing.put(None)
        self.process.join(STOP_TIMEOUT_S)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(STOP_TIMEOUT_S)
        self.conn.close()


def _settle(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if future.done():
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


class Work:
    """`await work(fn, *args)` runs `fn(svc, *args)` off the event loop: in threads, or in processes."""

    def __init__(self, svc: Services, processes: int = 0) -> None:
        self.svc, self.processes = svc, processes
        self._threads = ThreadPoolExecutor(max_workers=WORK_THREADS, thread_name_prefix="koordinator-work")
        self._children: list[_Child] = []
        self._ids = itertools.count(1)

    def _spawn(self) -> _Child:
        return _Child(self.svc.settings, self.svc.settings.koordinator_dev).run()

    def prefork(self) -> bool:
        """Fork the work processes now, sharing this process's memory with them — only while this process runs
        no other thread (before the server starts); False when it does (`start` then spawns them)."""
        if not self.processes or self._children or threading.active_count() != 1:
            return False
        children = [_Child(self.svc.settings, self.svc.settings.koordinator_dev, fork_from=self.svc)
                    for _ in range(self.processes)]
        self._children = [child.run() for child in children]
        return True

    async def start(self) -> None:
        """Start the work processes before the first request needs them (spawning takes a moment)."""
        if self.processes and not self._children:
            self._children = [self._spawn() for _ in range(self.processes)]
        if self._children:
            await asyncio.gather(*(asyncio.to_thread(child.ready.wait) for child in self._children))

    async def __call__(self, fn: Callable[..., T], *args: Any) -> T:
        if not self._children:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._threads, functools.partial(fn, self.svc, *args))
        for i, child in enumerate(self._children):
            if child.broken:
                log.error("a work process died; starting a fresh one")
                self._children[i] = self._spawn()
        child = min(self._children, key=lambda c: len(c.pending))  # the least busy
        return await child.submit(next(self._ids), fn, args)

    def stop(self) -> None:
        children, self._children = self._children, []
        for child in children:
            child.stop()
        self._threads.shutdown(wait=False)

"""Where the synchronous work (use cases, outbox bookkeeping) runs, so the event loop stays free to ack.

Slack waits at most 3 s for an ack, and the loop is what sends it. In one process every busy worker thread
competes with the loop for the GIL, so under a burst the acks queue behind the use cases (measured in
docs/benchmarks.md). `serve` therefore runs the work in a few worker *processes* at a lower CPU priority;
tests and the scheduler's worker keep the simpler in-process threads (same functions, same results).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import multiprocessing
import os
import signal
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from commands.context import Services
from storage.logs import configure as configure_logging
from storage.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")
WORK_THREADS = 2
CHILD_NICE = 5

_child_svc: Services | None = None


def _init_child(settings: Settings, allow_generated_keys: bool) -> None:
    global _child_svc
    from commands.services import build_services

    configure_logging(settings.log_format, logging.WARNING)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server; it then shuts the pool down
    try:
        os.nice(CHILD_NICE)  # the acks, in the parent, come first
    except OSError:
        pass
    _child_svc = build_services(settings, auto_migrate=False, allow_generated_keys=allow_generated_keys)


def _in_child(fn: Callable[..., T], args: tuple[Any, ...]) -> T:
    assert _child_svc is not None, "work process not initialised"
    return fn(_child_svc, *args)


def _ready() -> bool:
    return _child_svc is not None


class Work:
    """`await work(fn, *args)` runs `fn(svc, *args)` off the event loop: in threads, or in processes."""

    def __init__(self, svc: Services, processes: int = 0) -> None:
        self.svc, self.processes = svc, processes
        self._threads = ThreadPoolExecutor(max_workers=WORK_THREADS, thread_name_prefix="koordinator-work")
        self._pool: ProcessPoolExecutor | None = None

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self.processes, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_init_child,
                                   initargs=(self.svc.settings, self.svc.settings.koordinator_dev))

    async def start(self) -> None:
        """Start the worker processes before the first request needs them (spawning takes a moment)."""
        if self.processes and self._pool is None:
            self._pool = self._new_pool()
            loop = asyncio.get_running_loop()
            await asyncio.gather(*(loop.run_in_executor(self._pool, _ready) for _ in range(self.processes)))

    async def __call__(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        pool: Executor | None = self._pool
        if pool is None:
            return await loop.run_in_executor(self._threads, functools.partial(fn, self.svc, *args))
        try:
            return await loop.run_in_executor(pool, _in_child, fn, args)
        except BrokenProcessPool:
            log.error("a work process died; starting a fresh pool")
            self._pool = self._new_pool()
            raise

    def stop(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._threads.shutdown(wait=False)

"""Where the synchronous work (use cases, outbox bookkeeping) runs, so the event loop stays free to ack.

Slack waits at most 3 s for an ack, and the loop is what sends it. In one process every busy worker thread
competes with the loop for the GIL, so under a burst the acks queue behind the use cases (measured in
docs/benchmarks.md). `serve` therefore runs the work in `WORK_PROCESSES` worker *processes* at a lower CPU
priority, each running up to `WORK_THREADS` jobs at once: a job spends much of its time waiting for the
database, and another job's Python runs meanwhile. Tests and the scheduler's worker keep the simpler
in-process threads (same functions, same results). The event loop itself writes the jobs to each work process's
socket and reads the results back (no thread beside it in the server).

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
import signal
import socket
import struct
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
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


HEADER = struct.Struct("!Q")  # each message on a work process's socket: its length, then the pickle


def _framed(value: Any) -> bytes:
    """`value` as one message on a work process's socket."""
    data = bytes(ForkingPickler.dumps(value))
    return HEADER.pack(len(data)) + data


def _child_main(sock: socket.socket, settings: Settings, allow_generated_keys: bool,
                inherited: Services | None = None, siblings: tuple[socket.socket, ...] = ()) -> None:
    """A work process: build the services once (or, forked, take the parent's and open connections of its
    own), then run each job that arrives on one of its threads and send back (job id, ok, the pickled result
    or exception) — pickled here, so a result that does not travel fails its own job, not the socket."""
    for other in siblings:  # forked: the server's ends of the processes forked before this one are not ours
        other.close()
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
    incoming = sock.makefile("rb")

    def reply(job_id: int, ok: bool, value: Any) -> None:
        try:
            data = bytes(ForkingPickler.dumps(value))
        except Exception as exc:  # noqa: BLE001 — e.g. an exception that does not pickle: send its type
            ok, data = False, bytes(ForkingPickler.dumps(
                RuntimeError(f"work result not transferable ({type(exc).__name__})")))
        message = _framed((job_id, ok, data))
        with sending:
            sock.sendall(message)

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
                header = incoming.read(HEADER.size)
                if len(header) < HEADER.size:
                    break  # the server is gone
                (size,) = HEADER.unpack(header)
                body = incoming.read(size)
                if len(body) < size:
                    break  # gone half-way through a job: nothing to run
                message = ForkingPickler.loads(body)
            except (EOFError, OSError):
                break  # the server is gone
            if message is None:
                break
            pool.submit(run, *message)
    svc.engine.dispose()


class _Results(asyncio.Protocol):
    """The parent's end of a work process's socket, read by the event loop itself: whole messages out of the
    bytes as they arrive. (Threads that read and wrote the pipe cost the loop a hand-over of the interpreter
    lock and a wake-up for every job: measured in docs/benchmarks.md.)"""

    def __init__(self, child: _Child) -> None:
        self.child, self.buffer = child, bytearray()

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        start = 0
        while len(buffer) - start >= HEADER.size:
            (size,) = HEADER.unpack_from(buffer, start)
            end = start + HEADER.size + size
            if len(buffer) < end:
                break
            self.child.arrived(bytes(buffer[start + HEADER.size:end]))
            start = end
        del buffer[:start]

    def eof_received(self) -> bool:
        return False  # close the transport: connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.child.lost()


class _Child:
    """One work process and the jobs it has not answered yet. Jobs go out and results come back on a socket
    that the event loop reads and writes itself (a `_Results` transport), so a job costs the loop one write
    and one read, and no thread runs beside it."""

    def __init__(self, settings: Settings, allow_generated_keys: bool, fork_from: Services | None = None,
                 siblings: tuple[socket.socket, ...] = ()) -> None:
        """`fork_from`: fork this process (its services are the child's; `siblings`, the sockets of the work
        processes forked before it, are closed in it); else spawn a clean interpreter. `connect()` on the event
        loop that will send the jobs."""
        # spawn: a clean interpreter, no inherited threads or sockets; fork: only while no thread runs
        context = multiprocessing.get_context("fork" if fork_from is not None else "spawn")
        self.sock, child_end = socket.socketpair()
        args = (child_end, settings, allow_generated_keys) + ((fork_from, siblings) if fork_from is not None else ())
        self.process = context.Process(target=_child_main, args=args, name="koordinator-work", daemon=True)
        self.process.start()
        child_end.close()
        self.pending: dict[int, asyncio.Future[Any]] = {}
        self.broken = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._transport: asyncio.Transport | None = None
        self._ready: asyncio.Future[None] | None = None

    async def connect(self) -> None:
        """Bind the socket to the running event loop (once) and wait until the process is ready."""
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
            self._ready = self._loop.create_future()
            self._transport, _ = await self._loop.create_unix_connection(lambda: _Results(self), sock=self.sock)
        elif self._loop is not asyncio.get_running_loop():
            raise RuntimeError("a work process serves the event loop that first used it")
        assert self._ready is not None
        await asyncio.shield(self._ready)

    def arrived(self, message: bytes) -> None:
        job_id, ok, data = ForkingPickler.loads(message)
        if job_id == 0:
            if self._ready is not None and not self._ready.done():
                self._ready.set_result(None)
            return
        future = self.pending.pop(job_id, None)
        if future is None or future.done():
            return
        try:
            value = ForkingPickler.loads(data)
        except Exception as exc:  # noqa: BLE001 — a result that does not unpickle fails its job alone
            ok, value = False, exc
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)

    def lost(self) -> None:
        """The process died (or closed its end): every job in flight fails where it was awaited."""
        self.broken = True
        if self._ready is not None and not self._ready.done():
            self._ready.set_result(None)
        pending, self.pending = self.pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(BrokenProcessPool("a work process died"))

    async def submit(self, job_id: int, fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
        await self.connect()
        if self.broken or self._transport is None or self._transport.is_closing():
            raise BrokenProcessPool("a work process died")
        message = _framed((job_id, fn, args))  # arguments that do not pickle fail here
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pending[job_id] = future
        self._transport.write(message)
        return await future

    def stop(self) -> None:
        """Tell the process to stop (it finishes the jobs it has, then exits), and close our end."""
        stop = _framed(None)
        try:
            if self._transport is not None and not self._transport.is_closing():
                self._transport.write(stop)  # sent at once unless jobs are still queued
                self._transport.abort()  # the loop may be closing: close now, not after a last turn of it
            elif self._transport is None:
                self.sock.sendall(stop)
        except OSError:
            pass  # the process is gone already
        self.sock.close()
        self.process.join(STOP_TIMEOUT_S)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(STOP_TIMEOUT_S)


class Work:
    """`await work(fn, *args)` runs `fn(svc, *args)` off the event loop: in threads, or in processes."""

    def __init__(self, svc: Services, processes: int = 0) -> None:
        self.svc, self.processes = svc, processes
        self._threads = ThreadPoolExecutor(max_workers=WORK_THREADS, thread_name_prefix="koordinator-work")
        self._children: list[_Child] = []
        self._ids = itertools.count(1)

    def _spawn(self) -> _Child:
        return _Child(self.svc.settings, self.svc.settings.koordinator_dev)

    def prefork(self) -> bool:
        """Fork the work processes now, sharing this process's memory with them — only while this process runs
        no other thread (before the server starts); False when it does (`start` then spawns them)."""
        if not self.processes or self._children or threading.active_count() != 1:
            return False
        for _ in range(self.processes):
            self._children.append(_Child(self.svc.settings, self.svc.settings.koordinator_dev, fork_from=self.svc,
                                         siblings=tuple(child.sock for child in self._children)))
        return True

    async def start(self) -> None:
        """Start the work processes before the first request needs them (spawning takes a moment)."""
        if self.processes and not self._children:
            self._children = [self._spawn() for _ in range(self.processes)]
        await asyncio.gather(*(child.connect() for child in self._children))

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

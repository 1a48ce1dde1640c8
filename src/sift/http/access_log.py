"""uvicorn's access log, formatted and written by a thread of its own.

uvicorn logs a request's access line as it sends the response's first bytes, so the
JSON formatting and the write to stderr (~10-25 µs, measured with the server's logging
set-up) delayed every answer. This handler only queues the record there; a thread wakes
every ``EVERY_S`` and formats and writes what was queued, with the same formatter, as the
same lines. It polls rather than waiting on the queue: a waiting thread would be woken
(and take the GIL) for every request, which cost one connection's throughput ~8 % in the
paired benchmark. A line may therefore reach stderr up to ``EVERY_S`` after lines other
loggers wrote later; its ``time`` is still the moment uvicorn logged it. The queue is
drained when the process exits. Once the queue is empty the thread sleeps until the next
record instead (the first record after a quiet spell wakes it, the others find it awake):
a server with no requests, or at ``--log-level warning`` where uvicorn logs none, no
longer wakes it four times a second for nothing.

In ``sift serve`` the record itself is made there too: uvicorn's protocol calls
``access_logger.info`` on the loop for every answer, and the logger's path (its level,
the record's dozen attributes, the handler's lock) was about a tenth of a `POST /events`'
loop CPU in process. :func:`deferred` gives the protocol a stand-in whose ``info`` queues
the call's arguments and the time, when the logger's records all go to one
:class:`AccessLogHandler` and nothing else looks at them (no filter, not propagated); the
thread then makes the record as the logger would have, with that time, and writes the
same line.

The thread costs little but its wake-ups: before the records it writes, each one costs
the process ~0.1 ms of CPU when idle and ~0.5 ms beside a busy event loop (the GIL
handed over and back), hence ``EVERY_S``; and a process that logs none (the workers'
supervisor, which configures the same logging) starts no thread. The serving process
starts its writer at start-up (:func:`start_writers`), before the app's own threads, for
where glibc then puts the task worker's allocations: see ``sift.app``'s lifespan.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
import time
from typing import Any, TextIO

# Lines reach stderr at most this late. At 0.05 s the thread's wake-ups cost ~20 µs of
# every typeahead request at one connection (per-thread CPU from /proc, docs/benchmarks.md
# "Where a search's server CPU goes beyond the app, per thread"), ~8 at 0.25 s.
EVERY_S = 0.25


class AccessLogHandler(logging.Handler):
    """Queues records; one daemon thread writes them to ``stream`` in batches."""

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__()
        self.target = logging.StreamHandler(stream)
        # A record, or a deferred call's logger, time (ns), message and arguments.
        self._queue: queue.SimpleQueue[logging.LogRecord | _Deferred] = queue.SimpleQueue()
        self._stop = threading.Event()
        # The writer found the queue empty and waits on _resume for the next record; the
        # producer who sees it first sets it back (one attribute read per record otherwise).
        self._idle = False
        self._resume = threading.Event()
        # Started by the serving process (start_writers) or by the first record: a process
        # that logs none (the supervisor of the workers, which configures the same
        # logging) keeps no thread waking for nothing.
        self._writer: threading.Thread | None = None
        atexit.register(self.close)

    def setFormatter(self, fmt: logging.Formatter | None) -> None:
        self.target.setFormatter(fmt)  # used on the writer's thread, not on the caller's

    def emit(self, record: logging.LogRecord) -> None:
        # uvicorn's access record has plain str/int arguments and no traceback: it can
        # cross threads as it is, unformatted.
        self._queue.put(record)
        if self._idle:
            self._wake_writer()
        if self._writer is None and not self._stop.is_set():  # Handler.handle holds our lock
            self._start_writer()

    def defer(self, logger: logging.Logger, msg: str, args: tuple[Any, ...]) -> None:
        """``logger.info(msg, *args)``, its record made on the writer's thread (see
        :func:`deferred`): the time is taken now."""
        self._queue.put((logger, time.time_ns(), msg, args))
        if self._idle:
            self._wake_writer()
        if self._writer is None and not self._stop.is_set():
            self.start()

    def _wake_writer(self) -> None:
        self._idle = False
        self._resume.set()

    def start(self) -> None:
        """Start the writer thread now, unless it runs or the handler is closed."""
        with self.lock:  # type: ignore[union-attr]  # as Handler.handle for emit
            if self._writer is None and not self._stop.is_set():
                self._start_writer()

    def _start_writer(self) -> None:
        self._writer = threading.Thread(target=self._write_every, name="access-log",
                                        daemon=True)  # fmt: skip
        self._writer.start()

    def _write_every(self) -> None:
        while not self._stop.wait(EVERY_S):
            self._write_queued()
            if self._queue.empty():
                self._wait_for_records()
        self._write_queued()

    def _wait_for_records(self) -> None:
        """Sleep until a record is queued or the handler closes. Idle is announced before
        the queue is looked at again: a record queued before that look is seen by it, one
        queued after finds ``_idle`` set and wakes this thread."""
        self._idle = True
        self._resume.clear()
        if self._queue.empty() and not self._stop.is_set():
            self._resume.wait()
        self._idle = False

    def _write_queued(self) -> None:
        lines = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, logging.LogRecord):
                record = item
            else:
                record = _record(*item)
                if not self.filter(record):  # Handler.handle's check, done on emit
                    continue
            if not self.target.filter(record):
                continue
            try:
                lines.append(self.target.format(record) + self.target.terminator)
            except Exception:  # as StreamHandler.emit: reported, the other lines still written
                self.target.handleError(record)
        if not lines:
            return
        self.target.acquire()  # as StreamHandler.emit: setStream may swap the stream
        try:
            self.target.stream.write("".join(lines))
            self.target.flush()
        except Exception:
            self.target.handleError(record)
        finally:
            self.target.release()

    def close(self) -> None:
        if not self._stop.is_set():
            self._stop.set()
            self._resume.set()
            if self._writer is not None:
                self._writer.join()  # writes what is still queued
            self.target.close()
        super().close()


_Deferred = tuple[logging.Logger, int, str, tuple[Any, ...]]


def _record(logger: logging.Logger, ns: int, msg: str, args: tuple[Any, ...]) -> logging.LogRecord:
    """The record ``logger.info(msg, *args)`` would have made at ``ns`` (its time, in
    nanoseconds), the caller unknown as in a serving process (sift.server's
    ``lighten_log_records``)."""
    record = logger.makeRecord(logger.name, logging.INFO, "(unknown file)", 0, msg, args,
                               None, "(unknown function)")  # fmt: skip
    created = ns / 1e9
    record.relativeCreated += (created - record.created) * 1000
    record.created = created
    record.msecs = int((created - int(created)) * 1000) + 0.0  # as LogRecord computes it
    return record


class DeferredLogger:
    """Stands for a logger whose ``info`` records all go to ``handler`` alone: the call is
    queued there, and the record made on its thread."""

    def __init__(self, logger: logging.Logger, handler: AccessLogHandler) -> None:
        self.logger = logger
        self.handler = handler

    def info(self, msg: str, *args: Any) -> None:
        if self.logger.isEnabledFor(logging.INFO):  # the level, read at each call
            self.handler.defer(self.logger, msg, args)


def start_writers(logger: logging.Logger) -> None:
    """Start the writer of each :class:`AccessLogHandler` of ``logger`` now (the serving
    process's start-up, ``sift.app``), not at its first record."""
    for handler in logger.handlers:
        if isinstance(handler, AccessLogHandler):
            handler.start()


def deferred(logger: logging.Logger) -> logging.Logger | DeferredLogger:
    """A :class:`DeferredLogger` for ``logger`` when one :class:`AccessLogHandler` is all
    that sees its records (its only handler; no filter; not propagated), as the server's
    logging set-up has it for ``uvicorn.access``; else ``logger`` itself."""
    handlers = logger.handlers
    if (
        len(handlers) == 1
        and isinstance(handlers[0], AccessLogHandler)
        and not logger.filters
        and not logger.propagate
    ):
        return DeferredLogger(logger, handlers[0])
    return logger

"""uvicorn's access log, formatted and written by a thread of its own.

uvicorn logs a request's access line as it sends the response's first bytes, so the
JSON formatting and the write to stderr (~10-25 µs, measured with the server's logging
set-up) delayed every answer. This handler only queues the record there; a thread
formats and writes what was queued, with the same formatter, as the same lines. While
nothing is queued it blocks on the queue (an idle process's thread never wakes); a line
that comes then is written at once, and the thread then sleeps ``EVERY_S`` before it
looks again, so that under load it writes what was queued meanwhile in one write per
wake-up rather than being woken (and taking the GIL) for every request, which cost one
connection's throughput ~8 % in the paired benchmark. A line may therefore reach stderr
up to ``EVERY_S`` after lines other loggers wrote later; its ``time`` is still the
moment uvicorn logged it. The queue is drained when the process exits.

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
handed over and back), hence ``EVERY_S`` under load and none while no line comes
(``--log-level warning``, or no request); and a process that logs none (the workers'
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
from collections.abc import Iterator
from typing import Any, TextIO

# Lines reach stderr at most this late. At 0.05 s the thread's wake-ups cost ~20 µs of
# every typeahead request at one connection (per-thread CPU from /proc, docs/benchmarks/speed.md
# "Where a search's server CPU goes beyond the app, per thread"), ~8 at 0.25 s.
EVERY_S = 0.25


class AccessLogHandler(logging.Handler):
    """Queues records; one daemon thread writes them to ``stream`` in batches."""

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__()
        self.target = logging.StreamHandler(stream)
        # A record, or a deferred call's logger, time (ns), message and arguments; None
        # only wakes the writer to stop (close).
        self._queue: queue.SimpleQueue[logging.LogRecord | _Deferred | None] = queue.SimpleQueue()
        self._stop = threading.Event()
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
        if self._writer is None and not self._stop.is_set():  # Handler.handle holds our lock
            self._start_writer()

    def defer(self, logger: logging.Logger, msg: str, args: tuple[Any, ...]) -> None:
        """``logger.info(msg, *args)``, its record made on the writer's thread (see
        :func:`deferred`): the time is taken now."""
        self._queue.put((logger, time.time_ns(), msg, args))
        if self._writer is None and not self._stop.is_set():
            self.start()

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
        while not self._stop.is_set():
            self._write_queued(self._queue.get())  # blocks while nothing is queued
            self._stop.wait(EVERY_S)  # what comes meanwhile goes in the next write
        self._write_queued()

    def _write_queued(self, first: logging.LogRecord | _Deferred | None = None) -> None:
        lines = []
        for item in self._drained(first):
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

    def _drained(
        self, first: logging.LogRecord | _Deferred | None
    ) -> Iterator[logging.LogRecord | _Deferred]:
        """``first`` (unless None), then what is queued now, in order; close's wake-up
        left out."""
        if first is not None:
            yield first
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is not None:
                yield item

    def close(self) -> None:
        if not self._stop.is_set():
            self._stop.set()
            self._queue.put(None)  # wakes a writer blocked on the empty queue
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

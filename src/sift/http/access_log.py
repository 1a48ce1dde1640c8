"""uvicorn's access log, formatted and written by a thread of its own.

uvicorn logs a request's access line as it sends the response's first bytes, so the
JSON formatting and the write to stderr (~10-25 µs, measured with the server's logging
set-up) delayed every answer. This handler only queues the record there; a thread wakes
every ``EVERY_S`` and formats and writes what was queued, with the same formatter, as the
same lines. It polls rather than waiting on the queue: a waiting thread would be woken
(and take the GIL) for every request, which cost one connection's throughput ~8 % in the
paired benchmark. A line may therefore reach stderr up to ``EVERY_S`` after lines other
loggers wrote later; its ``time`` is still the moment uvicorn logged it. The queue is
drained when the process exits.

The thread costs little but its wake-ups: before the records it writes, each one costs
the process ~0.1 ms of CPU when idle and ~0.5 ms beside a busy event loop (the GIL
handed over and back), hence ``EVERY_S`` and a thread started by the first record.

Making the record itself (``Logger.info``: the level check, ``LogRecord``'s fields, the
logger's and the handler's filters and lock) still cost the event loop ~15-25 µs of a
`GET /version`'s ~80-105 (in process, 2-core VM). :class:`DeferredAccessLogger` stands
for uvicorn's access logger in `sift serve`'s protocol (sift/http/keepalive.py): it
queues the line's time, message and arguments, and the thread makes the record from
them, with the same logger, time and fields, as ``Logger.info`` would have.
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


# A line's parts as DeferredAccessLogger queues them: its time, logger, message, arguments.
Deferred = tuple[float, logging.Logger, str, tuple[Any, ...]]


class AccessLogHandler(logging.Handler):
    """Queues records; one daemon thread writes them to ``stream`` in batches."""

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__()
        self.target = logging.StreamHandler(stream)
        self._queue: queue.SimpleQueue[logging.LogRecord | Deferred] = queue.SimpleQueue()
        self._stop = threading.Event()
        # Started by the first record: a process that logs none (the supervisor of the
        # workers, which configures the same logging) keeps no thread waking for nothing.
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
        """An INFO line of ``logger`` (which the caller checked is enabled), its record
        made on the writer's thread; from DeferredAccessLogger."""
        self._queue.put((time.time(), logger, msg, args))
        if self._writer is None and not self._stop.is_set():
            with self.lock:  # as emit's caller holds it: one writer is started
                if self._writer is None:
                    self._start_writer()

    def _start_writer(self) -> None:
        self._writer = threading.Thread(target=self._write_every, name="access-log",
                                        daemon=True)  # fmt: skip
        self._writer.start()

    def _write_every(self) -> None:
        while not self._stop.wait(EVERY_S):
            self._write_queued()
        self._write_queued()

    def _write_queued(self) -> None:
        lines = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, tuple):
                record = _record(*item)
                # What Logger.handle and Handler.handle would have checked on the way.
                if not (item[1].filter(record) and record.levelno >= self.level
                        and self.filter(record)):  # fmt: skip
                    continue
            else:
                record = item
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
            if self._writer is not None:
                self._writer.join()  # writes what is still queued
            self.target.close()
        super().close()


def _record(created: float, logger: logging.Logger, msg: str, args: tuple[Any, ...]
            ) -> logging.LogRecord:  # fmt: skip
    """The record ``logger.info(msg, *args)`` would have made at ``created`` (as
    ``Logger._log`` does when no caller is looked up: sift.server.lighten_log_records)."""
    record = logger.makeRecord(logger.name, logging.INFO, "(unknown file)", 0, msg, args,
                               None, "(unknown function)")  # fmt: skip
    # Moved back to the queued time, as LogRecord.__init__ sets them from its own clock.
    record.relativeCreated += (created - record.created) * 1000
    record.created = created
    record.msecs = int((created - int(created)) * 1000) + 0.0
    return record


class DeferredAccessLogger:
    """uvicorn's access logger, for its protocol's ``access_logger``: ``info`` queues the
    line for ``handler``'s thread, which makes the record there. Only while ``handler`` is
    the logger's one handler, the logger has no filters and does not propagate (the
    logging set-up of sift.server): else the line goes through the logger as usual."""

    def __init__(self, logger: logging.Logger, handler: AccessLogHandler) -> None:
        self.logger = logger
        self._handler = handler

    def info(self, msg: str, *args: Any) -> None:
        logger = self.logger
        if not logger.isEnabledFor(logging.INFO):
            return
        if logger.handlers == [self._handler] and not logger.filters and not logger.propagate:
            self._handler.defer(logger, msg, args)
        else:
            logger.info(msg, *args)


def deferred(logger: logging.Logger) -> logging.Logger | DeferredAccessLogger:
    """``logger`` deferred to its AccessLogHandler if it has one, else itself."""
    handler = next((h for h in logger.handlers if isinstance(h, AccessLogHandler)), None)
    return logger if handler is None else DeferredAccessLogger(logger, handler)

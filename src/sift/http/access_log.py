"""uvicorn's access log, formatted and written by a thread of its own.

uvicorn logs a request's access line as it sends the response's first bytes, so the
JSON formatting and the write to stderr (~10-25 µs, measured with the server's logging
set-up) delayed every answer. This handler only queues the record there; a
:class:`logging.handlers.QueueListener` thread formats it with the same formatter and
writes the same line. A line may therefore reach stderr a little after lines other
loggers wrote later; its ``time`` is still the moment uvicorn logged it. The queue is
drained when the process exits.
"""

from __future__ import annotations

import atexit
import logging
import queue
from logging.handlers import QueueHandler, QueueListener
from typing import TextIO


class AccessLogHandler(QueueHandler):
    """A queue in front of a ``StreamHandler`` on ``stream``, drained by one thread."""

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(queue.SimpleQueue())
        self.target = logging.StreamHandler(stream)
        self._listener: QueueListener | None = QueueListener(self.queue, self.target)
        self._listener.start()
        atexit.register(self.close)

    def setFormatter(self, fmt: logging.Formatter | None) -> None:
        self.target.setFormatter(fmt)  # used on the listener's thread, not on the caller's

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        # uvicorn's access record has plain str/int arguments and no traceback: it can
        # cross threads as it is, unformatted.
        return record

    def close(self) -> None:
        if self._listener is not None:
            listener, self._listener = self._listener, None
            listener.stop()  # writes what is still queued
            self.target.close()
        super().close()

"""A job that runs every `interval` seconds on a daemon thread until stopped.

The insights refreshers (query suggestions, click models) are derived state rebuilt from
the database on a timer: a failed round is logged and the next one tries again, while
searches keep what the last good round built.
"""

from __future__ import annotations

import logging
import threading

log = logging.getLogger("sift.insights")


class PeriodicJob:
    """Subclasses give `name`, `interval` and `run_once`; `start`/`stop` are idempotent."""

    name = "sift-periodic"
    failure = "a periodic job failed"  # the log line when a round raises
    interval: float

    def __init__(self) -> None:
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> None:
        raise NotImplementedError

    def start(self) -> None:
        if self._thread is None:
            self._stopping.clear()
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._stopping.set()
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self) -> None:
        while not self._stopping.wait(self.interval):
            try:
                self.run_once()
            except Exception:  # the next round tries again
                log.warning(self.failure, exc_info=True)

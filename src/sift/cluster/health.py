"""Which remotes answered lately: a remote that failed is skipped for a while, then tried
again, so a dead node costs one timeout rather than one per search."""

from __future__ import annotations

import threading
import time


class RemoteHealth:
    def __init__(self, retry_after: float = 5.0) -> None:
        self.retry_after = retry_after
        self._down_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def available(self, name: str) -> bool:
        with self._lock:
            until = self._down_until.get(name)
            if until is None:
                return True
            if time.monotonic() >= until:
                del self._down_until[name]  # its time out is over: worth a new try
                return True
            return False

    def status(self, name: str) -> str:
        """Meilisearch's ``status`` of a remote in GET /network."""
        return "available" if self.available(name) else "unavailable"

    def failed(self, name: str) -> None:
        with self._lock:
            self._down_until[name] = time.monotonic() + self.retry_after

    def answered(self, name: str) -> None:
        with self._lock:
            self._down_until.pop(name, None)

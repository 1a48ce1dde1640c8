"""Wall time per search stage, reported as ``performanceDetails`` when asked for."""

from __future__ import annotations

import time


class StageTimer:
    def __init__(self, started: float | None = None) -> None:
        self.started = time.perf_counter() if started is None else started
        self.last = self.started
        self.stages: dict[str, float] = {}

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.stages[stage] = self.stages.get(stage, 0.0) + now - self.last
        self.last = now

    def details(self, total: str = "search") -> dict[str, str]:
        """Stage -> duration, formatted like Meilisearch's (``"1.23ms"``), total first."""
        out = {total: duration_text(self.last - self.started)}
        out.update((stage, duration_text(seconds)) for stage, seconds in self.stages.items())
        return out


def duration_text(seconds: float) -> str:
    """A duration as Meilisearch writes them in timings (``"1.23ms"``, ``"2.50s"``)."""
    return f"{seconds:.2f}s" if seconds >= 1 else f"{seconds * 1000:.2f}ms"

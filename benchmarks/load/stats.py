"""Percentiles of latency samples, computed the same way for every engine."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

PERCENTILES = (50, 95, 99)


def percentile(samples: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile: always a value that was actually observed, which keeps
    integer-millisecond engine timings integers instead of inventing fractions."""
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def summary(samples: Sequence[float]) -> dict[str, float]:
    out = {f"p{p}": round(percentile(samples, p), 3) for p in PERCENTILES}
    out["mean"] = round(statistics.fmean(samples), 3)
    out["n"] = len(samples)
    return out

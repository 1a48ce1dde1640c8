"""The request metrics (`sift_http_requests_total`, `sift_http_request_duration_seconds`),
counted on the event loop and handed to Prometheus when /metrics is read (issue #17).

prometheus_client's ``Counter`` and ``Histogram`` take a lock for every increment: a
request cost three locked increments (the histogram's sum and bucket, the counter) and
eight Python calls around them, each 3-6 % of what a `POST /events` cost the app in
process. Every request is observed on its worker's event loop, one at a time, so the
counts need no lock: here they are plain floats in two dictionaries, and
:meth:`RequestMetrics.collect` (a custom collector's, called when the registry is read)
builds the same families prometheus_client's own classes would: the same names, help,
labels and label order, the same series in the order first seen, the same values (the
sum added in the same order, from 0.0) and each series' ``_created`` time, taken when it
was first seen as ``labels()`` took it. tests/unit/test_request_metrics.py compares the
exposition with prometheus_client's own for the same requests.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Iterator

from prometheus_client import CollectorRegistry
from prometheus_client import metrics as prometheus_metrics
from prometheus_client.metrics_core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString
from starlette.types import Scope

REQUESTS_NAME = "sift_http_requests"  # exposed as sift_http_requests_total
REQUESTS_HELP = "HTTP requests"
LATENCY_NAME = "sift_http_request_duration_seconds"
LATENCY_HELP = "HTTP request latency"
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
BOUNDS = (*(float(b) for b in BUCKETS), float("inf"))  # as Histogram: +Inf appended
BUCKET_NAMES = tuple(floatToGoString(b) for b in BOUNDS)


class Latency:
    """One (method, route)'s histogram: observations per bucket (not cumulative), their
    sum, and when the series was first seen."""

    __slots__ = ("counts", "created", "sum")

    def __init__(self) -> None:
        self.counts = [0.0] * len(BOUNDS)
        self.sum = 0.0
        self.created = time.time()


class RequestMetrics(Collector):
    """The two request metrics of one registry. :meth:`observe` is for the event loop's
    thread only (no lock: one request at a time); :meth:`collect` copies what it reads
    first, so a scrape from another thread sees whole series."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self._latency: dict[tuple[str, str], Latency] = {}
        # (method, route, status) -> [count, created]
        self._requests: dict[tuple[str, str, int], list[float]] = {}
        if registry is not None:
            registry.register(self)

    def observe(self, scope: Scope, status: int, seconds: float) -> None:
        """Counts and times one request under its route template (not its raw path:
        index uids must not explode cardinality)."""
        method = scope["method"]
        route = getattr(scope.get("route"), "path", "unmatched")
        latency = self._latency.get((method, route))
        if latency is None:
            latency = self._latency[method, route] = Latency()
        # The first bound at or above it, as Histogram.observe's `amount <= bound`.
        latency.counts[bisect_left(BOUNDS, seconds)] += 1.0
        latency.sum += seconds
        requests = self._requests.get((method, route, status))
        if requests is None:
            requests = self._requests[method, route, status] = [0.0, time.time()]
        requests[0] += 1.0

    def describe(self) -> list[Metric]:
        return [
            CounterMetricFamily(REQUESTS_NAME, REQUESTS_HELP, labels=("method", "route", "status")),
            HistogramMetricFamily(LATENCY_NAME, LATENCY_HELP, labels=("method", "route")),
        ]

    def collect(self) -> Iterator[Metric]:
        requests, latency = self.describe()
        for (method, route, status), (count, created) in list(self._requests.items()):
            requests.add_metric((method, route, str(status)), count,
                                created=created if _created_series() else None)  # fmt: skip
        yield requests
        for (method, route), series in list(self._latency.items()):
            counts, total, created = list(series.counts), series.sum, series.created
            cumulative = 0.0
            buckets = []
            for name, count in zip(BUCKET_NAMES, counts, strict=True):
                cumulative += count
                buckets.append((name, cumulative))
            latency.add_metric((method, route), buckets, total)
            if _created_series():
                latency.add_sample(
                    LATENCY_NAME + "_created", {"method": method, "route": route}, created
                )
        yield latency


def _created_series() -> bool:
    """Whether prometheus_client exposes ``_created`` series (its
    ``disable_created_metrics()`` or ``PROMETHEUS_DISABLE_CREATED_SERIES`` turn them off;
    its classes read this flag of its module as they collect)."""
    return bool(prometheus_metrics._use_created)

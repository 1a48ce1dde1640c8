"""The request metrics counted without prometheus_client's locks expose exactly what its
own Counter and Histogram exposed for the same requests (sift/http/request_metrics.py)."""

from __future__ import annotations

import itertools
import random
import time
from types import SimpleNamespace
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import metrics as prometheus_metrics

from sift.http.request_metrics import BUCKETS, RequestMetrics


def _prometheus_own() -> tuple[CollectorRegistry, Any]:
    """The metrics as they were declared with prometheus_client's classes, and how each
    request was observed then."""
    registry = CollectorRegistry()
    requests = Counter("sift_http_requests_total", "HTTP requests",
                       ["method", "route", "status"], registry=registry)  # fmt: skip
    latency = Histogram("sift_http_request_duration_seconds", "HTTP request latency",
                        ["method", "route"], buckets=BUCKETS, registry=registry)  # fmt: skip

    def observe(scope: dict[str, Any], status: int, seconds: float) -> None:
        name = getattr(scope.get("route"), "path", "unmatched")
        latency.labels(scope["method"], name).observe(seconds)
        requests.labels(scope["method"], name, str(status)).inc()

    return registry, observe


def _requests(count: int) -> list[tuple[dict[str, Any], int, float]]:
    rng = random.Random(17)
    routes = [SimpleNamespace(path="/events"), SimpleNamespace(path="/indexes/{index_uid}/search"),
              None]  # fmt: skip
    shots = []
    for _ in range(count):
        scope: dict[str, Any] = {"method": rng.choice(["GET", "POST"])}
        route = rng.choice(routes)
        if route is not None:
            scope["route"] = route
        # Bounds exactly, values around them, long ones, and +Inf's bucket.
        seconds = rng.choice([rng.random() * 0.01, rng.random() * 12, 0.001, 0.0025, 10.0, 11.0])
        shots.append((scope, rng.choice([200, 201, 404, 500]), seconds))
    return shots


def _clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """time.time() as a counter from the same start: each series' ``_created`` is then
    the n-th series first seen, in both."""
    ticks = itertools.count(1_700_000_000.25)
    monkeypatch.setattr(time, "time", lambda: next(ticks))


@pytest.mark.parametrize("created", [True, False])
def test_exposition_is_prometheus_own(monkeypatch: pytest.MonkeyPatch, created: bool) -> None:
    monkeypatch.setattr(prometheus_metrics, "_use_created", created)
    shots = _requests(2_000)
    _clock(monkeypatch)
    theirs, observe = _prometheus_own()
    for scope, status, seconds in shots:
        observe(scope, status, seconds)
    expected = generate_latest(theirs)

    _clock(monkeypatch)
    ours = CollectorRegistry()
    metrics = RequestMetrics(registry=ours)
    for scope, status, seconds in shots:
        metrics.observe(scope, status, seconds)
    assert generate_latest(ours) == expected
    assert (b"_created" in expected) is created


def test_names_are_registered_once() -> None:
    """describe() names the series, so a second collector of them is refused as
    prometheus_client refuses a duplicate metric."""
    registry = CollectorRegistry()
    RequestMetrics(registry=registry)
    with pytest.raises(ValueError, match="Duplicated timeseries"):
        Counter("sift_http_requests_total", "x", registry=registry)
    with pytest.raises(ValueError, match="Duplicated timeseries"):
        Histogram("sift_http_request_duration_seconds", "x", registry=registry)


def test_series_in_the_order_first_seen() -> None:
    registry = CollectorRegistry()
    metrics = RequestMetrics(registry=registry)
    for path in ("/b", "/a", "/b"):
        metrics.observe({"method": "GET", "route": SimpleNamespace(path=path)}, 200, 0.0)
    lines = [line for line in generate_latest(registry).decode().splitlines()
             if line.startswith("sift_http_requests_total")]  # fmt: skip
    assert lines == [
        'sift_http_requests_total{method="GET",route="/b",status="200"} 2.0',
        'sift_http_requests_total{method="GET",route="/a",status="200"} 1.0',
    ]

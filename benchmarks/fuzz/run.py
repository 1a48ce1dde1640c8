"""A bounded fuzz run against one live Sift: schemathesis over every operation of the
OpenAPI document (bodies included), then hostile Meilisearch-shaped requests
(benchmarks.fuzz.bodies). Counts answers by status, 5xx, connection resets and timeouts,
and checks `/health` on a fresh connection at the end."""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import requests
from hypothesis import HealthCheck, Phase, given, seed, settings

from benchmarks.fuzz.bodies import INDEXES, Request, hostile_request

SKIPPED = ("/dumps", "/snapshots")  # whole-database copies: disk, not input handling
TIMEOUT_S = 60.0


@dataclass
class Report:
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    by_source: Counter[str] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    resets: list[str] = field(default_factory=list)
    timeouts: list[str] = field(default_factory=list)
    health: int | None = None
    seconds: float = 0.0

    def count(self, source: str, what: str, status: int) -> None:
        self.requests += 1
        self.by_source[source] += 1
        self.statuses[status] += 1
        if status >= 500 and len(self.server_errors) < 50:
            self.server_errors.append(f"{status} {what}")

    @property
    def five_xx(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    @property
    def clean(self) -> bool:
        return self.five_xx == 0 and not self.resets and self.health == 200

    def summary(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "by_source": dict(self.by_source),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "5xx": self.five_xx,
            "connection_resets": len(self.resets),
            "timeouts": len(self.timeouts),
            "health_after": self.health,
            "seconds": round(self.seconds, 1),
            "first_5xx": self.server_errors[:10],
            "first_resets": self.resets[:10],
        }


def prepare(url: str, headers: dict[str, str]) -> None:
    """Indexes with documents and filterable fields, so searches and filters do real work."""
    with httpx.Client(base_url=url, headers=headers, timeout=TIMEOUT_S) as client:
        for uid in INDEXES:
            docs = [
                {"id": i, "title": f"dune {i}", "n": i, "tags": ["a", "b"],
                 "_geo": {"lat": i - 25, "lng": 3 * i}}
                for i in range(50)
            ]
            client.post(f"/indexes/{uid}/documents", json=docs)
            client.patch(  # _geo too: a `_geoPoint` sort is read only where it is sortable
                f"/indexes/{uid}/settings",
                json={"filterableAttributes": ["n", "tags", "title", "_geo"],
                      "sortableAttributes": ["n", "_geo"]},
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            pending = client.get("/tasks", params={"statuses": "enqueued,processing"}).json()
            if not pending["results"]:
                return
            time.sleep(0.2)


def _describe(request: Request) -> str:
    query = "&".join(f"{k}={v[:40]!r}" for k, v in request.params.items())
    body = b"" if request.body is None else request.body[:80]
    return f"{request.method} {request.path[:80]}?{query[:120]} {body!r}"


def hostile_phase(
    url: str, headers: dict[str, str], count: int, rng_seed: int, deadline: float, report: Report
) -> None:
    rng = random.Random(rng_seed)
    client = httpx.Client(base_url=url, headers=headers, timeout=TIMEOUT_S)
    try:
        for _ in range(count):
            if time.monotonic() > deadline:
                return
            request = hostile_request(rng)
            try:
                response = client.request(
                    request.method,
                    request.path,
                    params=request.params,
                    content=request.body,
                    headers={
                        **({"Content-Type": request.content_type} if request.body else {}),
                        **request.headers,
                    },
                )
            except httpx.TimeoutException:
                report.timeouts.append(_describe(request))
                continue
            except httpx.TransportError as exc:  # reset or closed under a kept-alive client
                report.resets.append(f"{type(exc).__name__}: {_describe(request)}")
                client.close()
                client = httpx.Client(base_url=url, headers=headers, timeout=TIMEOUT_S)
                continue
            report.count("hostile", _describe(request), response.status_code)
    finally:
        client.close()


def schema_phase(
    url: str, headers: dict[str, str], count: int, rng_seed: int, deadline: float, report: Report
) -> None:
    import schemathesis

    schema = schemathesis.openapi.from_url(f"{url}/openapi.json", headers=headers)
    operations = [
        result.ok()
        for result in schema.get_all_operations()
        if not result.ok().path.startswith(SKIPPED)
    ]
    per_operation = max(1, count // max(1, len(operations)))
    session = requests.Session()
    session.headers.update(headers)

    for operation in operations:
        if time.monotonic() > deadline:
            return

        @seed(rng_seed)
        @settings(
            max_examples=per_operation,
            database=None,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def send(case: Any) -> None:
            if time.monotonic() > deadline:
                return
            what = f"{case.method} {case.formatted_path[:100]} {str(case.query)[:100]} " + (
                str(case.body)[:100] if case.body is not None else ""
            )
            try:
                response = case.call(base_url=url, session=session, timeout=TIMEOUT_S)
            except requests.Timeout:
                report.timeouts.append(what)
                return
            except requests.ConnectionError as exc:
                report.resets.append(f"{type(exc).__name__}: {what}")
                return
            report.count("schemathesis", what, response.status_code)

        send()


def run(
    url: str, headers: dict[str, str], requests_wanted: int, seconds: float, rng_seed: int
) -> Report:
    """About half the requests from the schema, half hostile; stops at `seconds`."""
    report = Report()
    started = time.monotonic()
    deadline = started + seconds
    prepare(url, headers)
    schema_phase(url, headers, requests_wanted // 2, rng_seed, deadline, report)
    hostile_phase(url, headers, requests_wanted - report.requests, rng_seed, deadline, report)
    report.seconds = time.monotonic() - started
    try:
        report.health = httpx.get(f"{url}/health", timeout=TIMEOUT_S).status_code
    except httpx.TransportError:
        report.health = None
    return report

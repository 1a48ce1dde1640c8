"""Closed-loop HTTP load: N connections, each sending its next request as soon as the
previous answer arrives, for a fixed time.

`wrk` is the real generator: C, epoll, a few percent of a core even at 64 connections,
replaying prepared requests through wrk_replay.lua. The Python generator (threads and
httpx) exists so the smoke run needs nothing outside PyPI; it cannot saturate a fast
server and its numbers are not comparable to wrk's."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from benchmarks.load.stats import summary
from benchmarks.load.targets import HttpTarget, Request

LUA_SCRIPT = Path(__file__).with_name("wrk_replay.lua")
# wrk threads: more than the machine's cores only adds scheduling noise; on the 2-core
# development machine the generator already shares the CPU with the server.
MAX_WRK_THREADS = 2


@dataclass
class LoadResult:
    target: str
    endpoint: str  # "search" or "noop"
    connections: int
    generator: str
    duration_s: float
    requests: int
    errors: int
    rps: float
    latency_ms: dict[str, float]
    # Which query mix a search run replayed ("" for the no-op endpoint).
    mix: str = ""

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def wrk_version() -> str | None:
    if not wrk_available():
        return None
    result = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    # "wrk debian/4.1.0-3+b2 [epoll] Copyright ...": the name and version are enough.
    return (result.stdout or result.stderr).splitlines()[0].split(" [")[0].strip()


def write_requests(path: Path, requests: Sequence[Request]) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        for request in requests:
            if "\t" in request.path or "\n" in request.body or "\t" in request.body:
                raise ValueError(f"request cannot be written on one line: {request}")
            handle.write(f"{request.method}\t{request.path}\t{request.body}\n")
    return path


def run_wrk(
    target: HttpTarget, endpoint: str, requests_file: Path, connections: int, duration_s: float
) -> LoadResult:
    command = [
        "wrk",
        f"--threads={min(MAX_WRK_THREADS, connections)}",
        f"--connections={connections}",
        f"--duration={duration_s:g}s",
        "--timeout=10s",
        f"--script={LUA_SCRIPT}",
        *(f"--header={name}: {value}" for name, value in target.headers.items()),
        target.base_url,
        "--",
        str(requests_file),
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, check=False, timeout=duration_s + 60
    )
    line = next((x for x in result.stdout.splitlines() if x.startswith("WRK_JSON ")), None)
    if result.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({result.returncode}): {result.stderr[-500:]}")
    data = json.loads(line.removeprefix("WRK_JSON "))
    seconds = data["duration_us"] / 1e6
    latency = {k: round(v / 1000, 3) for k, v in data["latency_us"].items()}
    return LoadResult(
        target=target.name,
        endpoint=endpoint,
        connections=connections,
        generator="wrk",
        duration_s=round(seconds, 2),
        requests=data["requests"],
        errors=sum(data["errors"].values()),
        rps=round(data["requests"] / seconds, 1),
        latency_ms=latency,
    )


def run_python(
    target: HttpTarget,
    endpoint: str,
    requests: Sequence[Request],
    connections: int,
    duration_s: float,
) -> LoadResult:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + duration_s

    def client(offset: int) -> None:
        mine: list[float] = []
        failed = 0
        with httpx.Client(base_url=target.base_url, headers=target.headers, timeout=10) as http:
            position = offset
            while time.perf_counter() < deadline:
                request = requests[position % len(requests)]
                position += 1
                start = time.perf_counter()
                try:
                    response = http.request(
                        request.method,
                        request.path,
                        content=request.body.encode() or None,
                        headers={"Content-Type": "application/json"} if request.body else None,
                    )
                    ok = response.status_code == 200
                except httpx.HTTPError:
                    ok = False
                mine.append((time.perf_counter() - start) * 1000)
                failed += not ok
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    started = time.perf_counter()
    threads = [
        threading.Thread(target=client, args=(n * 7919,), daemon=True) for n in range(connections)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(duration_s + 30)
    elapsed = time.perf_counter() - started
    stats = summary(latencies) if latencies else {}
    return LoadResult(
        target=target.name,
        endpoint=endpoint,
        connections=connections,
        generator="python",
        duration_s=round(elapsed, 2),
        requests=len(latencies),
        errors=errors[0],
        rps=round(len(latencies) / elapsed, 1),
        latency_ms={k: v for k, v in stats.items() if k != "n"},
    )

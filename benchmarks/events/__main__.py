"""`python -m benchmarks events`: click-event ingestion against a real `sift serve`.

Measures (1) how many `POST /events` a server takes per second, with wrk at full speed,
and checks that every event answered 201 was stored; (2) single-client search latency
alone and while wrk sends events at a steady rate (default 2,000/s), alternated, so the
cost of ingestion to searches is a ratio measured in one run. 127.0.0.1 only; every phase
is time-boxed.

The server runs `--workers` processes (default: one per core, as a deployment on this
machine would), and wrk, its Lua script and the search client run on the same cores: the
figures include what the load generator costs the machine, as the peers' benchmarks do."""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import threading
import time
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import httpx

from benchmarks.events import targets
from benchmarks.events.targets import Target
from benchmarks.ingest.dataset import write_dataset
from benchmarks.machine import machine_info

ROOT = Path(__file__).resolve().parents[2]
LUA = Path(__file__).with_name("events.lua")
CACHE = ROOT / "benchmarks" / ".cache" / "ingest"
RESULTS = ROOT / "benchmarks" / "results"
CONNECTIONS = 4  # full speed, per worker process: enough to keep it busy
PACED_CONNECTIONS = 64  # paced: enough idle connections for every slot of the schedule
WRK_THREADS = 2


def _wrk(
    target: Target,
    seconds: float,
    rate: int,
    docs: int,
    connections: int = CONNECTIONS,
    route: str = "events",
) -> dict[str, float]:
    """wrk sending click events for `seconds`, `rate` a second on a schedule (0: as fast as
    the server answers; events.lua says how). wrk's `-H` header goes with every request
    the script makes. The rate reached is reported, not assumed. ``route`` a path
    (`/version`) sends `GET` of it instead of events (the control)."""
    command = ["wrk", f"-t{WRK_THREADS}", f"-c{connections}", f"-d{seconds:.0f}s", "-s", str(LUA),
               "-H", target.auth_header, target.url,
               "--", str(rate), str(docs), str(WRK_THREADS), route]  # fmt: skip
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60).stdout
    sent = re.search(r"(\d+) requests in", out)
    reached = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if sent is None or reached is None:
        raise RuntimeError(f"unexpected wrk output: {out[-500:]}")
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if bad is not None:  # every event must be accepted, or the figures mean nothing
        raise RuntimeError(f"{bad.group(1)} events were refused: {out[-500:]}")
    return {
        "requests": int(sent.group(1)),
        "per_s": float(reached.group(1)),
    }


def _search_latencies(target: Target, words: list[str], seconds: float) -> list[float]:
    rng = random.Random(7)
    took: list[float] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        q = " ".join(rng.sample(words, 2))
        started = time.perf_counter()
        response = target.search(target.client, q)
        took.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return took


def _title_words(data: Path) -> list[str]:
    """Words of the first products' titles: the queries' vocabulary."""
    words = set()
    for line in data.read_text().splitlines()[:2000]:
        words.update(w.lower() for w in re.findall(r"[A-Za-z]{4,}", json.loads(line)["title"]))
    return sorted(words)


def _clicks(client: httpx.Client) -> int:
    return int(client.get("/analytics/clicks", params={"limit": 1}).json()["clicks"])


def run(
    docs: int,
    seconds: float,
    rate: int,
    repeat: int,
    workers: int,
    route: str = "events",
    server: str = "uvicorn",
    engine: str = "sift",
    events_to: str = "sift",
) -> dict[str, Any]:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (scripts/tools installs it: apt-get install wrk)")
    CACHE.mkdir(parents=True, exist_ok=True)  # a fresh checkout has no cache yet
    data = write_dataset(CACHE / f"products-{docs}-seed42.ndjson", docs, 42)
    if engine == "typesense":
        route = "control"  # it takes no click events
        started = targets.typesense(data, CACHE.parent)
    else:
        started = targets.sift(data, workers, server)
    # The paced phase's target: the searched server itself, or (Sift's floor) an empty
    # Typesense beside it taking the same schedule of its cheap GET, while Sift, with the
    # same workers, serves only the searches: what the load costs the machine, not Sift.
    paced_to: AbstractContextManager[Target | None] = (
        targets.typesense(None, CACHE.parent) if events_to == "typesense" else nullcontext()
    )
    with started as target, paced_to as other:
        paced_target = target if other is None else other
        words = _title_words(data)
        _search_latencies(target, words, 2)  # warm-up
        full = []
        for _ in range(repeat if engine == "sift" else 0):
            before = _clicks(target.client)
            shot = _wrk(target, seconds, 0, docs, CONNECTIONS * workers)
            time.sleep(1.5)  # the writer flushes every second
            shot["stored"] = _clicks(target.client) - before
            full.append(shot)
        if other is not None:
            paced_path = other.cheap_path
        else:
            paced_path = "events" if route == "events" else target.cheap_path
        alone: list[float] = []
        loaded: list[float] = []
        paced = []
        for _ in range(repeat):
            alone.append(statistics.median(_search_latencies(target, words, seconds)))
            result: dict[str, Any] = {}
            thread = threading.Thread(
                target=lambda out: out.update(
                    _wrk(paced_target, seconds, rate, docs, PACED_CONNECTIONS, paced_path)
                ),
                args=(result,),
            )
            thread.start()
            time.sleep(0.5)
            loaded.append(statistics.median(_search_latencies(target, words, seconds - 1)))
            thread.join()
            paced.append(result)
    return {
        "engine": engine,
        "server": server if engine == "sift" else None,
        "docs": docs,
        "seconds": seconds,
        "workers": workers if engine == "sift" else None,
        "connections": CONNECTIONS * workers,
        "full_speed": full,
        "events_per_s_median": statistics.median(r["per_s"] for r in full) if full else None,
        # wrk counts the answers it read; events still in flight when it stopped (one
        # per connection at most) were stored too, and nothing more may be.
        "all_stored": all(
            r["requests"] <= r["stored"] <= r["requests"] + CONNECTIONS * workers for r in full
        ),
        "paced_route": route,
        "events_to": events_to,
        "paced_path": paced_path,
        "paced_target_per_s": rate,
        "paced": paced,
        "paced_per_s_median": statistics.median(r["per_s"] for r in paced),
        "search_p50_ms_alone": alone,
        "search_p50_ms_with_events": loaded,
        "search_p50_ratio": statistics.median(loaded) / statistics.median(alone),
        "machine": machine_info(ROOT),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks events", description=__doc__)
    parser.add_argument("--docs", type=int, default=20_000, help="products in the index")
    parser.add_argument("--seconds", type=float, default=10, help="length of each phase")
    parser.add_argument("--rate", type=int, default=2_000, help="paced events per second")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each phase (medians)")
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="server worker processes (default: one per core)",
    )
    parser.add_argument(
        "--paced-route",
        choices=("events", "version"),
        default="events",
        help="what the paced phase sends beside the searches: events, or GET /version "
        "(the control: any authenticated request at that rate)",
    )
    parser.add_argument(
        "--server",
        choices=("uvicorn", "granian"),
        default="uvicorn",
        help="Sift's HTTP server (its `server` setting)",
    )
    parser.add_argument(
        "--engine",
        choices=("sift", "typesense"),
        default="sift",
        help="typesense: the control on Typesense 0.24.1 (no events: the paced phase sends "
        "its cheapest authenticated request, GET /debug): what this machine imposes on any "
        "server's searches beside a steady request rate",
    )
    parser.add_argument(
        "--events-to",
        choices=("sift", "typesense"),
        default="sift",
        help="typesense: Sift's own floor; the paced phase's requests (the same pacing and "
        "connections) go to an empty Typesense's GET /debug while Sift serves only the "
        "searches: how much the load itself, not Sift's events, slows Sift's searches",
    )
    parser.add_argument("--out-dir", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.engine == "typesense" and args.events_to != "sift":
        parser.error("--events-to typesense is Sift's floor: it needs --engine sift")
    report = run(args.docs, args.seconds, args.rate, args.repeat, args.workers, args.paced_route,
                 args.server, args.engine, args.events_to)  # fmt: skip
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    args.out_dir.mkdir(parents=True, exist_ok=True)
    path = args.out_dir / f"events-{stamp}.json"
    path.write_text(json.dumps(report, indent=2))
    alone = statistics.median(report["search_p50_ms_alone"])
    loaded = statistics.median(report["search_p50_ms_with_events"])
    if report["engine"] == "sift":
        print(
            f"{args.server}, {args.workers} worker(s); events at full speed: "
            f"{report['events_per_s_median']:,.0f}/s (median of {args.repeat}), "
            f"every 201 stored: {report['all_stored']}"
        )
    print(
        f"{report['engine']}: search p50 alone {alone:.2f} ms, with "
        f"{report['paced_per_s_median']:,.0f} {report['paced_path']}/s "
        f"{'to typesense ' if report['events_to'] == 'typesense' else ''}"
        f"{loaded:.2f} ms: x{report['search_p50_ratio']:.2f}\nwritten to {path}"
    )


if __name__ == "__main__":
    main()

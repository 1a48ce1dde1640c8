"""`python -m benchmarks soak`: memory and throughput of one Sift node under sustained writes.

A fresh `sift serve --demo` (the bundled `cities` index, 34,006 documents) on a temporary
data directory on 127.0.0.1 gets a mix from wrk with 8 connections, minute after minute:
75 % searches (words of city names), 15 % document writes (a merge update of 1-4 existing
cities: every write is a task), 10 % settings reads. Each minute prints requests/s, p50 and
p99 latency, errors, the server's RSS at the end of the minute and the tasks still waiting.

Then the queue drains, the drained RSS is read, the server stops, and a fresh process on
the same data directory is read once it is idle: what a restart would hold.

Targets (issue #12): RSS at the end grows < 10 % over the RSS after minute 2; the last
minute's throughput is >= 80 % of minute 2's; drained RSS within 10 % of the fresh one's.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

WRK = "/usr/bin/wrk"
SCRIPT = Path(__file__).resolve().parent / "load" / "wrk_replay.lua"
INDEX = "cities"
CONNECTIONS = 8
MIX = {"search": 75, "write": 15, "settings": 10}  # per 100 requests


def rss_mib(pid: int, field: str = "VmRSS") -> float:
    """VmRSS, or RssAnon (the heap: what the allocator holds) of a process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(data_dir: Path, *extra: str) -> tuple[subprocess.Popen[bytes], str]:
    """`sift serve` on 127.0.0.1, once healthy; its log goes to data_dir/../<port>.log."""
    port = free_port()
    args = [sys.executable, "-m", "sift", "serve", "--data-dir", str(data_dir),
            "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
            "--config-file", str(data_dir / "none.toml"), *extra]  # fmt: skip
    log = (data_dir.parent / f"serve-{port}.log").open("wb")
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"sift serve exited with {proc.returncode}; see {log.name}")
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError("sift serve did not become healthy")


def waiting_tasks(url: str) -> int:
    page = httpx.get(url + "/tasks", params={"statuses": "enqueued,processing", "limit": 1},
                     timeout=30).json()  # fmt: skip
    return int(page["total"])


def drain(url: str, timeout: float = 900) -> None:
    deadline = time.monotonic() + timeout
    while waiting_tasks(url) and time.monotonic() < deadline:
        time.sleep(1)
    time.sleep(5)  # the worker merges segments once idle


def requests_file(path: Path, seed: int) -> None:
    """1,000 requests in the MIX proportions, shuffled; wrk replays them in a loop."""
    from sift.demo import DATA_FILE

    with gzip.open(DATA_FILE, "rb") as fh:
        cities = [orjson.loads(line) for line in fh if line.strip()]
    rng = random.Random(seed)
    names = [c["name"] for c in cities[:5000]]
    words = sorted({w.lower() for name in names for w in re.findall(r"[A-Za-z]{3,}", name)})
    lines: list[str] = []
    for _ in range(MIX["search"] * 10):
        word = rng.choice(words)
        query = word if rng.random() < 0.7 else word[: rng.randint(3, len(word))]  # as typed
        body = {"q": query, "limit": 10, "facets": ["continent", "country"]}
        lines.append(f"POST\t/indexes/{INDEX}/search\t{orjson.dumps(body).decode()}")
    for _ in range(MIX["write"] * 10):
        docs = [{"id": rng.choice(cities)["id"], "population": rng.randint(1000, 10**7)}
                for _ in range(rng.randint(1, 4))]  # fmt: skip
        lines.append(f"PUT\t/indexes/{INDEX}/documents\t{orjson.dumps(docs).decode()}")
    lines += [f"GET\t/indexes/{INDEX}/settings\t"] * (MIX["settings"] * 10)
    rng.shuffle(lines)
    path.write_text("\n".join(lines) + "\n")


def wrk_minute(url: str, requests: Path, seconds: int) -> dict[str, Any]:
    out = subprocess.run(
        [WRK, "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "10s",
         "-s", str(SCRIPT), url, "--", str(requests)],
        capture_output=True, text=True, check=True,
    )
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("WRK_JSON "))
    summary: dict[str, Any] = json.loads(line.removeprefix("WRK_JSON "))
    return summary


def soak(minutes: int, seconds_per_minute: int, work: Path) -> dict[str, Any]:
    requests = work / "requests.tsv"
    requests_file(requests, seed=7)
    data = work / "data"
    proc, url = serve(data, "--demo")
    try:
        drain(url)  # the demo index is built: the soak starts from a loaded node
        start_rss = rss_mib(proc.pid)
        print(f"loaded: RSS {start_rss:.0f} MiB, pid {proc.pid}, {url}", flush=True)
        print("minute  req/s   p50 ms  p99 ms  errors  RSS MiB  (anon)  tasks waiting", flush=True)
        rows = []
        for minute in range(1, minutes + 1):
            s = wrk_minute(url, requests, seconds_per_minute)
            errors = sum(s["errors"].values())
            latency = s["latency_us"]
            row = {"minute": minute, "rps": s["requests"] / (s["duration_us"] / 1e6),
                   "p50_ms": latency["p50"] / 1000, "p99_ms": latency["p99"] / 1000,
                   "errors": errors, "rss_mib": rss_mib(proc.pid),
                   "anon_mib": rss_mib(proc.pid, "RssAnon"), "waiting": waiting_tasks(url)}
            rows.append(row)
            print(f"{minute:>6}  {row['rps']:6.1f}  {row['p50_ms']:7.1f}  {row['p99_ms']:6.1f}  "
                  f"{errors:>6}  {row['rss_mib']:7.0f}  {row['anon_mib']:6.0f}  "
                  f"{row['waiting']:>13}", flush=True)
        drain(url)
        drained = rss_mib(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=120)
    fresh_proc, fresh_url = serve(data)
    try:
        drain(fresh_url)
        fresh = rss_mib(fresh_proc.pid)
    finally:
        fresh_proc.terminate()
        fresh_proc.wait(timeout=120)
    base = rows[min(1, len(rows) - 1)]  # minute 2: after the warm-up
    result = {
        "minutes": minutes, "seconds_per_minute": seconds_per_minute, "loaded_rss_mib": start_rss,
        "rows": rows, "drained_rss_mib": drained, "fresh_rss_mib": fresh,
        "rss_growth_after_minute_2": rows[-1]["rss_mib"] / base["rss_mib"] - 1,
        "last_vs_minute_2_rps": rows[-1]["rps"] / base["rps"],
        "drained_vs_fresh": drained / fresh - 1,
    }  # fmt: skip
    print(f"RSS growth after minute 2: {result['rss_growth_after_minute_2']:+.1%} (target < +10 %)")
    print(f"last minute / minute 2 throughput: {result['last_vs_minute_2_rps']:.0%} "
          "(target >= 80 %)")  # fmt: skip
    print(f"drained {drained:.0f} MiB vs fresh process {fresh:.0f} MiB: "
          f"{result['drained_vs_fresh']:+.1%} (target within 10 %)")  # fmt: skip
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks soak", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=int, default=10, help="minutes of load (default 10)")
    parser.add_argument("--seconds-per-minute", type=int, default=60,
                        help="length of a 'minute' (shorter for smoke runs)")
    parser.add_argument("--output", type=Path, help="also write the figures here as JSON")
    args = parser.parse_args(argv)
    if not Path(WRK).exists():
        sys.exit(f"{WRK} is missing: apt-get install wrk (scripts/test installs it)")
    with tempfile.TemporaryDirectory(prefix="sift-soak-") as tmp:
        result = soak(args.minutes, args.seconds_per_minute, Path(tmp))
    if args.output:
        args.output.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()

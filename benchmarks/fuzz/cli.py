"""`python -m benchmarks fuzz`: schemathesis plus hostile Meilisearch-shaped requests against
a real `sift serve` on 127.0.0.1, bounded in requests and time. Exits 1 on any 5xx,
connection reset, or an unhealthy server afterwards."""

from __future__ import annotations

import argparse
import json
import sys

from benchmarks.fuzz.run import run
from benchmarks.fuzz.server import Server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="benchmarks fuzz", description=__doc__)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=540.0, help="time box of the run")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--cap-gib", type=float, default=8.0, help="server address-space cap")
    args = parser.parse_args(argv)
    with Server(memory_cap=int(args.cap_gib * (1 << 30))) as server:
        report = run(server.url, server.headers, args.requests, args.seconds, args.seed)
        summary = report.summary()
        summary["server_peak_rss_mib"] = (
            round(server.memory_mib("VmHWM")) if server.alive() else None
        )
        print(json.dumps(summary, indent=2))
        if not report.clean:
            print(server.log_tail(6000), file=sys.stderr)
            sys.exit(1)

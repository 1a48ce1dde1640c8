"""`python -m benchmarks deep-bodies`: peak RSS of a real `sift serve` answering one body
nested N levels deep (`'[' * N + ']' * N`), per route, each on a fresh process.

The server runs under an address-space cap (`--cap-gib`), so a body that would make it
grow without bound kills only that process; such a run is reported as over the cap."""

from __future__ import annotations

import argparse
import statistics
import time

import httpx

from benchmarks.fuzz.server import Server

ROUTES = {
    "documents": ("POST", "/indexes/deep/documents"),
    "search": ("POST", "/indexes/deep/search"),
    "settings": ("PATCH", "/indexes/deep/settings"),
}


def measure(route: str, depth: int, cap: int) -> dict[str, object]:
    method, path = ROUTES[route]
    body = b"[" * depth + b"]" * depth
    with (
        Server(memory_cap=cap) as server,
        httpx.Client(base_url=server.url, headers=server.headers, timeout=600) as client,
    ):
        client.post("/indexes", json={"uid": "deep"})
        time.sleep(0.5)
        before = server.memory_mib("VmHWM")
        started = time.perf_counter()
        try:
            response = client.request(
                method, path, content=body, headers={"Content-Type": "application/json"}
            )
            outcome = f"{response.status_code} {response.json().get('code', '')}"
        except httpx.TransportError as exc:
            outcome = f"connection lost ({type(exc).__name__})"
        seconds = time.perf_counter() - started
        alive = server.alive()
        peak = server.memory_mib("VmHWM") if alive else None
        # A fresh connection: this measures the process, not the kept-alive socket.
        health = httpx.get(server.url + "/health", timeout=30).status_code if alive else None
    return {
        "route": route,
        "depth": depth,
        "body_kib": len(body) / 1024,
        "answer": outcome,
        "seconds": round(seconds, 2),
        "peak_mib_before": round(before),
        "peak_mib_after": None if peak is None else round(peak),
        "growth_mib": None if peak is None else round(peak - before),
        "alive": alive,
        "health": health,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="benchmarks deep-bodies", description=__doc__)
    parser.add_argument("--depths", default="10000,20000,40000,100000")
    parser.add_argument("--routes", default="documents,search,settings")
    parser.add_argument("--cap-gib", type=float, default=6.0, help="address-space cap")
    args = parser.parse_args(argv)
    cap = int(args.cap_gib * (1 << 30))
    rows = []
    for route in args.routes.split(","):
        for depth in (int(d) for d in args.depths.split(",")):
            row = measure(route, depth, cap)
            rows.append(row)
            print(row, flush=True)
    growth = [r["growth_mib"] for r in rows if r["growth_mib"] is not None]
    print("| route | depth | body | answer | peak RSS growth | server after |")
    print("|---|---:|---:|---|---:|---|")
    for r in rows:
        grown = "over the cap (killed)" if r["growth_mib"] is None else f"{r['growth_mib']} MiB"
        after = "alive, /health 200" if r["health"] == 200 else "dead"
        print(f"| {r['route']} | {r['depth']:,} | {r['body_kib']:.0f} KiB | {r['answer']} | "
              f"{grown} | {after} |")
    if growth:
        print(f"median growth {statistics.median(growth)} MiB")

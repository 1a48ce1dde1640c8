"""The loop thread's CPU per hot request through `sift serve`'s own HTTP protocol, the app
and its middleware, with no socket and no client: what the Python side of a request costs.

    python -m benchmarks.load.protocol [--requests N] [--rounds N] [--cold]

The app is built in process on a fresh data directory (an index `products`, no
documents), with the server's logging set-up (the access log included) and uvicorn's
protocol class as `sift serve` configures it; a recording transport stands for the
socket. Each request (`POST /events` with a click, `GET /version`, the raw bytes wrk
sends) is fed whole to ``data_received`` and awaited until answered, one at a time. The
loop thread's CPU time (``time.thread_time``) is summed over the requests of a round;
``--cold`` touches 8 MiB between requests so that each starts with cold caches, as on a
server answering a request every millisecond beside other processes (in `sift serve`
beside 2,000 events/s, the CPU per event is ~3x this benchmark's warm figure). Also
reported: the transport's writes per request (each a ``write(2)`` in uvloop).

Compare trees by running the command with each tree's ``src`` first on PYTHONPATH,
alternated; medians and minimums of the rounds are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import logging.config
import os
import statistics
import tempfile
import time
from collections.abc import Iterable
from typing import Any

MASTER = "a-protocol-benchmark-master-key"
CLICK = (b'{"eventType":"click","eventName":"Search Result Clicked","indexUid":"products",'
         b'"userId":"visitor-1","objectId":"12","position":3}')  # fmt: skip


class RecordingTransport(asyncio.Transport):
    """The socket's stand-in: counts writes, keeps the answer's bytes."""

    def __init__(self) -> None:
        super().__init__()
        self.out: list[bytes] = []
        self.writes = 0

    def write(self, data: Any) -> None:
        if data:  # uvloop makes no call for no bytes
            self.writes += 1
            self.out.append(bytes(data))

    def writelines(self, parts: Iterable[Any]) -> None:
        self.write(b"".join(parts))  # uvloop: one writev

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 7700)}.get(
            name, default
        )

    def is_closing(self) -> bool:
        return False

    def close(self) -> None: ...

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...


def raw_request(method: str, path: str, body: bytes = b"") -> bytes:
    head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:7700\r\n"
            f"Authorization: Bearer {MASTER}\r\nUser-Agent: wrk\r\n")  # fmt: skip
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


async def measure(requests: int, rounds: int, cold: bool) -> dict[str, dict[str, list[float]]]:
    from uvicorn.config import Config as UvicornConfig
    from uvicorn.server import ServerState

    from sift.app import create_app
    from sift.config import load_config
    from sift.http.keepalive import KeepAliveProtocol
    from sift.server import configure_process, logging_config

    logging.config.dictConfig(logging_config("info"))
    configure_process()
    settings = {"data_dir": tempfile.mkdtemp(prefix="bench-protocol-"), "master_key": MASTER}
    app = create_app(load_config(settings, environ={}))
    config = UvicornConfig(app, http=KeepAliveProtocol, proxy_headers=False,
                           server_header=False, log_config=None, lifespan="off")  # fmt: skip
    config.load()
    state = ServerState()
    out: dict[str, dict[str, list[float]]] = {}
    async with app.router.lifespan_context(app):
        protocol = config.http_protocol_class(config=config, server_state=state, app_state={})
        transport = RecordingTransport()
        protocol.connection_made(transport)

        async def answer(raw: bytes) -> bytes:
            transport.out.clear()
            protocol.data_received(raw)
            while state.tasks:
                await asyncio.gather(*state.tasks)
            return b"".join(transport.out)

        created = await answer(raw_request("POST", "/indexes", b'{"uid":"products"}'))
        assert created.startswith(b"HTTP/1.1 202"), created[:200]
        kinds = {"POST /events": (raw_request("POST", "/events", CLICK), b"HTTP/1.1 201"),
                 "GET /version": (raw_request("GET", "/version"), b"HTTP/1.1 200")}  # fmt: skip
        thrash = bytearray(8 << 20) if cold else None
        for _ in range(rounds):
            for kind, (raw, status) in kinds.items():
                for _ in range(100):  # untimed
                    got = await answer(raw)
                    assert got.startswith(status), got[:200]
                transport.writes = 0
                spent = 0.0
                for _ in range(requests):
                    if thrash is not None:
                        thrash[::64] = bytes(len(thrash) // 64)
                    started = time.thread_time()
                    await answer(raw)
                    spent += time.thread_time() - started
                shots = out.setdefault(kind, {"µs": [], "writes": []})
                shots["µs"].append(spent / requests * 1e6)
                shots["writes"].append(transport.writes / requests)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.load.protocol", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    parser.add_argument("--requests", type=int, default=1500, help="per kind and round")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--cold", action="store_true", help="cold caches before each request")
    args = parser.parse_args(argv)
    import uvloop

    result = uvloop.run(measure(args.requests, args.rounds, args.cold))
    for kind, shots in result.items():
        cpu = shots["µs"]
        print(f"{kind}: loop thread CPU per request median {statistics.median(cpu):.1f} µs, "
              f"min {min(cpu):.1f} µs ({len(cpu)} rounds of {args.requests}"
              f"{', cold' if args.cold else ''}), writes per request "
              f"{statistics.median(shots['writes']):.2f}")  # fmt: skip
    print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()

"""PostgreSQL's three ways to capture changes, measured alone (no Sift), one at a time:

- stream: logical replication over the replication protocol (psycopg2), pgoutput;
- poll: `pg_logical_slot_peek_binary_changes()` every 50 ms, then `pg_replication_slot_advance()`
  (peek, not get: a crash between reading and committing must not lose changes), pgoutput;
- triggers: the change log of sift.sync.triggers, polled every 50 ms and read back.

For each: capture lag (writer commit -> change decoded in this process) at a sustained rate
of row changes, the writer's mean commit time while that method is on (the cost it puts on
the application), and the time to capture one 50,000-row UPDATE.
"""

from __future__ import annotations

import random
import statistics
import string
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import psycopg

from benchmarks.sync.sources import source
from sift.sync.changes import Commit, RowChange
from sift.sync.config import parse_sources
from sift.sync.pgoutput import Change, Decoder
from sift.sync.postgres import LogicalReader, conninfo
from sift.sync.triggers import TriggerReader

BULK = 50_000


def _read(reader: LogicalReader | TriggerReader,
          stop: threading.Event) -> Iterator[dict[str, Any]]:  # fmt: skip
    """Rows as Sift's own reader yields them, each commit acknowledged at once."""
    position = reader.start_position()
    try:
        for event in reader.changes(position, stop):
            if isinstance(event, RowChange):
                yield event.row
            elif isinstance(event, Commit):
                reader.ack(event.position)
    finally:
        if isinstance(reader, TriggerReader):
            reader.query("DROP TABLE IF EXISTS sift_sync.changes")
        reader.close()


def _stream(config: Any, stop: threading.Event) -> Iterator[dict[str, Any]]:
    return _read(LogicalReader(config), stop)


def _poll(config: Any, stop: threading.Event) -> Iterator[dict[str, Any]]:
    reader = LogicalReader(config)
    reader.start_position()
    decoder = Decoder()
    conn = psycopg.connect(conninfo(config), autocommit=True)
    try:
        while not stop.is_set():
            rows = conn.execute(
                "SELECT lsn::text, data FROM pg_logical_slot_peek_binary_changes(%s, NULL, 20000, "
                "'proto_version', '1', 'publication_names', %s)",
                (config.slot, config.publication),
            ).fetchall()
            for _, data in rows:
                message = decoder.decode(bytes(data))
                if isinstance(message, Change):
                    yield message.row
            if rows:
                conn.execute("SELECT pg_replication_slot_advance(%s, %s::pg_lsn)",
                             (config.slot, rows[-1][0]))  # fmt: skip
            else:
                stop.wait(0.05)
    finally:
        conn.close()
        reader.close()


def _triggers(config: Any, stop: threading.Event) -> Iterator[dict[str, Any]]:
    return _read(TriggerReader(config), stop)


METHODS: dict[str, tuple[str, Callable[..., Iterator[dict[str, Any]]]]] = {
    "stream": ("logical", _stream), "poll": ("logical", _poll), "triggers": ("triggers", _triggers),
}  # fmt: skip


def _measure(url: str, method: str, rate: int, seconds: float, seed: int) -> dict[str, Any]:
    capture, consume = METHODS[method]
    table = {"table": "products", "index": "p"}
    raw = {"name": f"bench_{method}", "url": url, "capture": capture, "tables": [table]}
    (config,) = parse_sources([raw], environ={})
    stop = threading.Event()
    sent: dict[str, float] = {}
    seen: dict[str, float] = {}
    bulk_seen = [0, 0.0]
    ready = threading.Event()

    def consumer() -> None:
        for row in consume(config, stop):
            ready.set()
            title = row.get("title") or ""
            if title.startswith("tok "):
                seen[title] = time.time()
            elif title == "bulk":
                bulk_seen[0] += 1
                bulk_seen[1] = time.time()

    thread = threading.Thread(target=consumer, daemon=True)
    thread.start()
    rng = random.Random(seed)
    writer = psycopg.connect(url)
    commits: list[float] = []
    try:
        # Wait until the consumer is up (the slot or triggers exist and it reads).
        deadline = time.monotonic() + 30
        while not ready.is_set() and time.monotonic() < deadline:
            writer.execute("UPDATE products SET rating = rating WHERE id = 0")
            writer.commit()
            time.sleep(0.05)
        began = tick = time.monotonic()
        while time.monotonic() - began < seconds:
            word = "tok " + "".join(rng.choices(string.ascii_lowercase, k=12))
            t0 = time.perf_counter()
            for i in range(10):
                title = word if i == 0 else f"t {rng.random()}"
                writer.execute("UPDATE products SET title = %s WHERE id = %s",
                               (title, rng.randrange(BULK)))  # fmt: skip
            writer.commit()
            commits.append(time.perf_counter() - t0)
            sent[word] = time.time()
            tick += 10 / rate
            if (pause := tick - time.monotonic()) > 0:
                time.sleep(pause)
        time.sleep(2)
        writer.execute("UPDATE products SET title = 'bulk'")
        writer.commit()
        bulk_start = time.time()
        deadline = time.monotonic() + 300
        while bulk_seen[0] < BULK and time.monotonic() < deadline:
            time.sleep(0.05)
        bulk_s = bulk_seen[1] - bulk_start if bulk_seen[0] >= BULK else float("nan")
    finally:
        stop.set()
        writer.close()
        thread.join(10)
    lags = sorted(seen[w] - sent[w] for w in sent if w in seen)
    return {
        "p50_ms": 1000 * statistics.median(lags),
        "p99_ms": 1000 * lags[min(len(lags) - 1, int(0.99 * len(lags)))],
        "samples": len(lags),
        "lost": len(sent) - len(lags),
        "writer_commit_ms": 1000 * statistics.mean(commits),
        "bulk_rows_per_s": BULK / bulk_s,
    }


def compare(rate: int, seconds: float, seed: int) -> dict[str, Any]:
    results = {}
    for method in METHODS:
        with source("postgresql", BULK, seed) as src:
            result = _measure(src.url, method, rate, seconds, seed)
        results[method] = result
        print(f"postgresql {method}: capture lag p50 {result['p50_ms']:.0f} ms, p99 "
              f"{result['p99_ms']:.0f} ms ({result['samples']} samples, {result['lost']} lost); "
              f"writer commit {result['writer_commit_ms']:.2f} ms per 10-row transaction; "
              f"one {BULK:,}-row UPDATE captured at {result['bulk_rows_per_s']:,.0f} rows/s",
              flush=True)  # fmt: skip
    return results

"""End-to-end sync measurements against a real `sift serve` and a real source database.

Snapshot: a products table of `rows` rows is there before Sift starts; rows/s is `rows`
over the time from the first sync task's enqueuedAt to the last one's finishedAt (rows in
the source -> documents searchable), and, as a cross-check, over the wall time from the
server answering /health to all documents counted.

Lag: 4 writers commit transactions of 10 row changes (3 inserts, 5 updates, 2 deletes) at
a fixed rate in all; 5 times a second one update writes a word never used before into a
title, and a prober searches for that document (`filter: id = N`) until its title has the
word. Lag = that time minus the writer's commit time, both taken in this process; the
prober asks about every 20 ms, so figures are that coarse.
"""

from __future__ import annotations

import os
import queue
import random
import statistics
import string
import threading
import time
import zlib
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from tests.e2e.sift_process import free_port

from benchmarks.ingest.server import SiftServer
from benchmarks.sync.sources import Source, connect
from sift.tasks import stagetrace

KEY = "sync-bench-master-key-0123456789"
PROBE_AT_ONCE = 10
INSERT = ("INSERT INTO products (id, title, brand, price, rating, in_stock) "
          "VALUES (%s, %s, %s, %s, %s, %s)")  # fmt: skip


def _iso(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def start_server(workdir: Path, src: Source, capture: str | None, code: Path | None = None,
                 trace: Path | None = None) -> tuple[SiftServer, str]:  # fmt: skip
    """`code`: the `src` folder of another Sift checkout for the server to run (a baseline);
    `trace`: where the server writes its stage stamps (stages.py)."""
    port = free_port()
    lines = ["[[sources]]", 'name = "src"', f'url = "{src.url}"']
    # A slot and a replica id of this run's own: the default ones (`sift_src`, the id
    # derived from "src") are also the sync tests', which drop that slot, and a second
    # binlog reader with one id makes the server drop the first.
    database = src.url.rsplit("/", 1)[1]
    server_id = 2_000_000 + zlib.crc32(database.encode()) % 1_000_000
    lines += [f'slot = "{database}"', f"server_id = {server_id}"]
    if capture:
        lines.append(f'capture = "{capture}"')
    lines += ["[[sources.tables]]", 'table = "products"', 'index = "products"']
    config = workdir / "sift.toml"
    config.write_text("\n".join(lines) + "\n")
    args = ["--port", str(port), "--data-dir", str(workdir / "data"), "--config-file",
            str(config), "--master-key", KEY, "--log-level", "warning"]  # fmt: skip
    env = {**os.environ}
    env.pop(stagetrace.ENV, None)
    if code is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(code), os.environ.get("PYTHONPATH", "")])
    if trace is not None:
        env[stagetrace.ENV] = str(trace)
    server = SiftServer(args, workdir / "server.log", env)
    url = f"http://127.0.0.1:{port}"
    server.wait_healthy(url, 180, interval=0.02)
    server.healthy_at = time.time()
    return server, url


def cpu_seconds(pid: int) -> tuple[float, float]:
    """A process's CPU time (user + system) and that of its children it has waited for
    (the snapshot reader's), from /proc: a figure the machine's load does not inflate."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    own = (int(fields[11]) + int(fields[12])) / tick
    children = (int(fields[13]) + int(fields[14])) / tick
    return own, children


POLL_S = 0.02  # the snapshot's end, asked for this often


def snapshot(client: httpx.Client, rows: int, timeout: float = 600,
             pid: int | None = None, healthy: float | None = None) -> dict[str, float]:  # fmt: skip
    """`healthy`: when the server first answered /health (the wall clock's start; now if
    not given). The wall clock stops when a search finds the table's last row (id rows - 1,
    in the last batch, indexed after every other), and the index then counts every row."""
    healthy = time.time() if healthy is None else healthy
    cpu_before = cpu_seconds(pid) if pid is not None else (0.0, 0.0)
    deadline = time.monotonic() + timeout
    last = str(rows - 1)
    title: str | None = None
    while True:
        assert time.monotonic() < deadline, "snapshot did not finish"
        # Every 20 ms: first the last row by id, a lookup in Sift's database (cheap, so
        # polling this finely costs the server little: the index's stats, which sum every
        # document's size in SQL, every 50 ms were a sixth of its py-spy samples); once it
        # is stored, a search for its title, until the published index has it.
        if title is None:
            got = client.get(f"/indexes/products/documents/{last}")
            if got.status_code == 200:
                title = got.json()["title"]
        if title is not None:
            hits = client.post("/indexes/products/search", json={
                "q": f'"{title}"', "limit": 1000, "attributesToRetrieve": ["id"]}).json()["hits"]
            if any(str(h["id"]) == last for h in hits):
                found = time.time()
                stats = client.get("/indexes/products/stats")  # once: all of them, not only it
                if stats.json()["numberOfDocuments"] == rows:
                    break
        time.sleep(POLL_S)
    done = found
    cpu_after = cpu_seconds(pid) if pid is not None else (0.0, 0.0)
    tasks = client.get("/tasks", params={"indexUids": "products", "limit": 1000}).json()
    sync = [t for t in tasks["results"] if str(t.get("customMetadata", "")).startswith("sync:")
            and t["type"] == "documentAdditionOrUpdate"]  # fmt: skip
    first = min(_iso(t["enqueuedAt"]) for t in sync)
    last_done = max(_iso(t["finishedAt"]) for t in sync)
    return {
        "rows": rows,
        "tasks": len(sync),
        "seconds": last_done - first,
        "rows_per_s": rows / (last_done - first),
        "healthy": healthy,
        "done": done,
        "wall_s": done - healthy,
        "wall_rows_per_s": rows / (done - healthy),
        # The wall time the tasks' own span leaves out: from /health to the first task,
        # and from the last task's end to the search that found the last row.
        "outside_tasks_s": (done - healthy) - (last_done - first),
        # From /health to the end: the server's CPU seconds, and its children's.
        "server_cpu_s": cpu_after[0] - cpu_before[0],
        "reader_cpu_s": cpu_after[1] - cpu_before[1],
    }


def _word(rng: random.Random) -> str:
    return "".join(rng.choices(string.ascii_lowercase, k=14))


class Writer(threading.Thread):
    """One of the writers: its own connection and its own ids (id % writers == number), so
    writers never wait on each other's row locks."""

    def __init__(self, kind: str, url: str, number: int, writers: int, first_id: int,
                 rate: float, seconds: float, seed: int,
                 samples: queue.Queue[tuple[str, int, float] | None]) -> None:  # fmt: skip
        super().__init__(daemon=True)
        self.src = connect(kind, url)
        self.number, self.writers = number, writers
        self.ids = list(range(number, first_id, writers))
        self.next_id = first_id + number
        self.rng = random.Random(seed * 100 + number)
        self.rate, self.seconds, self.samples = rate, seconds, samples
        self.changes = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._run()
        except BaseException as exc:  # reported by lag()
            self.error = exc
        finally:
            self.src.conn.close()

    def _run(self) -> None:
        rng = self.rng
        interval = 10 / self.rate  # 10 row changes per transaction
        began = tick = time.monotonic()
        next_sample = began + self.number * 0.2 / self.writers
        while time.monotonic() - began < self.seconds:
            statements: list[tuple[str, Any]] = []
            for _ in range(3):
                values = (self.next_id, "new product", "AcmeCo", 10.5, 3, True)
                statements.append((INSERT, values))
                self.ids.append(self.next_id)
                self.next_id += self.writers
            sample = None
            for i in range(5):
                doc_id = self.ids[rng.randrange(len(self.ids))]
                title = f"updated {rng.randint(0, 10**6)}"
                if i == 0 and time.monotonic() >= next_sample:
                    sample = (_word(rng), doc_id)
                    title = f"updated {sample[0]}"
                    next_sample += 0.2 * self.writers  # 5 samples/s in all
                statements.append(("UPDATE products SET title = %s, rating = rating + 1 "
                                   "WHERE id = %s", (title, doc_id)))  # fmt: skip
            for _ in range(2):
                victim = self.ids.pop(rng.randrange(len(self.ids)))
                if sample is not None and victim == sample[1]:
                    self.ids.append(victim)
                    continue
                statements.append(("DELETE FROM products WHERE id = %s", (victim,)))
            self.src.transaction(statements)
            committed = time.time()
            self.changes += len(statements)
            if sample is not None:
                self.samples.put((sample[0], sample[1], committed))
            tick += interval
            if (pause := tick - time.monotonic()) > 0:
                time.sleep(pause)


def lag(src: Source, client: httpx.Client, rate: int, seconds: float, first_id: int,
        seed: int, writers: int = 4) -> dict[str, Any]:  # fmt: skip
    samples: queue.Queue[tuple[str, int, float] | None] = queue.Queue()
    results: list[float] = []
    # Each sample seen: its id, commit, and the probe that saw it sent and answered (stages.py).
    probes: list[dict[str, Any]] = []
    missed: list[str] = []

    def probe() -> None:
        """The oldest pending samples (at most PROBE_AT_ONCE) are searched for in one
        /multi-search about every 20 ms (the figures are that coarse): changes become
        visible in commit order, and a constant probing load does not slow Sift more
        when it falls behind."""
        pending: dict[str, tuple[int, float]] = {}
        finished = False
        with httpx.Client(base_url=str(client.base_url), headers=client.headers,
                          timeout=60) as c:  # fmt: skip
            while not finished or pending:
                while True:
                    try:
                        item = samples.get(timeout=0.02 if pending or finished else 0.5)
                    except queue.Empty:
                        break
                    if item is None:
                        finished = True
                        break
                    pending[item[0]] = (item[1], item[2])
                if not pending:
                    continue
                words = list(pending)[:PROBE_AT_ONCE]
                queries = [{"indexUid": "products", "filter": f"id = {pending[w][0]}",
                            "limit": 1, "attributesToRetrieve": ["title"]}
                           for w in words]  # fmt: skip
                sent = time.time()
                try:
                    answers = c.post("/multi-search", json={"queries": queries}).json()["results"]
                except httpx.HTTPError:
                    continue  # a busy server: the samples wait, and their lag shows it
                now = time.time()
                for word, answer in zip(words, answers, strict=True):
                    doc_id, committed = pending[word]
                    if any(word in h["title"] for h in answer["hits"]):
                        results.append(now - committed)
                        probes.append({"id": doc_id, "committed": committed, "sent": sent,
                                       "seen": now, "queries": len(answers),
                                       "engine_ms": sum(a["processingTimeMs"] for a in answers)})
                        del pending[word]
                    elif now - committed > 30:
                        missed.append(word)
                        del pending[word]

    # The probe asks for one document by id (a filter, cheap whatever the load) and looks
    # for the sample's word in its title: a word search would cost typo expansion.
    task = client.patch("/indexes/products/settings", json={"filterableAttributes": ["id"]})
    uid = task.json()["taskUid"]
    while client.get(f"/tasks/{uid}").json()["status"] not in ("succeeded", "failed"):
        time.sleep(0.1)
    prober = threading.Thread(target=probe, daemon=True)
    prober.start()
    began, began_wall = time.monotonic(), time.time()
    threads = [Writer(src.kind, src.url, n, writers, first_id, rate / writers, seconds, seed,
                      samples) for n in range(writers)]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
        if thread.error is not None:
            raise thread.error
    elapsed = time.monotonic() - began
    samples.put(None)
    prober.join(60)
    stages = task_stages(client, since=began_wall)
    results.sort()
    changes = sum(t.changes for t in threads)
    if not results:
        results = [float("nan")]
    return {
        "changes": changes,
        "changes_per_s": changes / elapsed,
        "writers": writers,
        "samples": len(results),
        "missed": len(missed),
        "p50_ms": 1000 * statistics.median(results),
        "p99_ms": 1000 * results[min(len(results) - 1, int(0.99 * len(results)))],
        "max_ms": 1000 * results[-1],
        "probes": probes,
        **stages,
    }


def task_stages(client: httpx.Client, since: float) -> dict[str, float]:
    """Where a change's lag goes inside Sift, from the sync tasks' own timings: waiting in
    the queue (enqueuedAt -> startedAt: the batch before it still running) and the batch
    itself (startedAt -> finishedAt: indexing and publication), medians and p99 in ms."""
    tasks: list[dict[str, Any]] = []
    params: dict[str, Any] = {"indexUids": "products", "statuses": "succeeded", "limit": 1000}
    while True:
        page = client.get("/tasks", params=params).json()
        tasks += [t for t in page["results"] if _iso(t["enqueuedAt"]) >= since]
        if page.get("next") is None or _iso(page["results"][-1]["enqueuedAt"]) < since:
            break
        params["from"] = page["next"]
    figures: dict[str, float] = {"tasks": len(tasks)}
    for stage, start, end in (("queued", "enqueuedAt", "startedAt"),
                              ("processing", "startedAt", "finishedAt")):  # fmt: skip
        spans = sorted(1000 * (_iso(t[end]) - _iso(t[start])) for t in tasks) or [float("nan")]
        figures[f"{stage}_p50_ms"] = statistics.median(spans)
        figures[f"{stage}_p99_ms"] = spans[min(len(spans) - 1, int(0.99 * len(spans)))]
    return figures

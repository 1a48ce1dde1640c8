"""One thread per source: snapshot, then change capture, committed to Sift exactly once.

Only the worker-lease holder reads sources (`is_leader`); other nodes stay `standby`.
A source's life: `snapshot` (resumable: the keyset cursor of each table is saved with
each batch's task) -> `streaming`. Failures: a connection that breaks is retried with
backoff while the source shows `reconnecting`; a position the source no longer has
stops it as `failed` until `sift sync resnapshot NAME` (or the API) resets it; a row
that does not convert is recorded and skipped.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from sift.storage import sources as source_rows
from sift.storage.database import Database
from sift.storage.sources import SourceRecord, StalePosition
from sift.sync.changes import Commit, Event, RowChange, SchemaChanged, Truncate, Window
from sift.sync.commit import commit, commit_planned, ensure_indexes
from sift.sync.config import SourceConfig, TableConfig
from sift.sync.convert import Converter
from sift.sync.errors import CaptureUnavailable, PositionLost
from sift.sync.readahead import SnapshotReader, prepare
from sift.tasks import stagetrace

log = logging.getLogger("sift.sync")

WINDOW_S = 0.05  # changes gathered before a commit to Sift
MAX_WINDOW_CHANGES = 20_000
IDLE_SAVE_S = 2.0  # how often a position that moved without changes of ours is saved
BACKOFF_S = (1.0, 2.0, 5.0, 10.0, 30.0)
# How often a node that does not hold the worker lease looks again: at a server's start
# the sync thread starts before the worker has taken the lease, and a whole second here
# was a tenth of a 200k-row snapshot's time from /health to searchable.
STANDBY_POLL_S = 0.05
# A snapshot's first batches: small, so that the worker starts indexing sooner (the
# reader process's batches then grow to the source's `snapshot_batch`).
FIRST_BATCH_ROWS = 2_000


class Reader(Protocol):
    def connect(self) -> None: ...
    def columns(self, table: TableConfig) -> dict[str, str]: ...
    def count(self, table: TableConfig) -> int: ...
    def rows_after(self, table: TableConfig, after: Any, limit: int) -> list[dict[str, Any]]: ...
    def passing(self, table: TableConfig, keys: list[Any]) -> set[str]: ...
    def start_position(self) -> dict[str, Any]: ...
    def check_position(self, position: dict[str, Any]) -> None: ...
    def lag_bytes(self, position: dict[str, Any]) -> int | None: ...
    def ack(self, position: dict[str, Any]) -> None: ...
    def changes(self, position: dict[str, Any], stop: threading.Event) -> Iterator[Event]: ...
    def close(self) -> None: ...


def open_reader(config: SourceConfig) -> Reader:
    if config.kind == "mysql":
        from sift.sync.mysql import MySQLReader

        return MySQLReader(config)
    if config.capture == "triggers":
        from sift.sync.triggers import TriggerReader

        return TriggerReader(config)
    from sift.sync.postgres import LogicalReader

    return LogicalReader(config)


class SourceRunner:
    def __init__(self, config: SourceConfig, db: Database, wake: Callable[[], None],
                 is_leader: Callable[[], bool]) -> None:  # fmt: skip
        self.config = config
        self.db = db
        self.wake = wake
        self.is_leader = is_leader
        self.state = "starting"
        self.last_error: str | None = None
        self.lag_ms = 0.0
        self.lag_rows = 0
        self.lag_bytes: int | None = None
        self.rows_per_s = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._reader: Reader | None = None
        self._batches: SnapshotReader | None = None
        self.label = f"sync:{config.name}"

    # -- lifecycle -----------------------------------------------------------------
    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.label, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        reader = self._reader
        if reader is not None:
            reader.close()  # unblocks a reader waiting on the network
        batches = self._batches
        if batches is not None:
            batches.kill()  # the snapshot's child process, whatever it is doing
        if self._thread is not None:
            self._thread.join(timeout)
        self.state = "stopped"

    def _run(self) -> None:
        _stamp("thread")
        attempt = 0
        while not self._stop.is_set():
            if not self.is_leader():
                self.state = "standby"
                self._stop.wait(STANDBY_POLL_S)
                continue
            try:
                self.run_once()
                attempt = 0
            except PositionLost as error:
                self._fail(str(error))
                self._wait_for_reset()
            except CaptureUnavailable as error:
                self.state, self.last_error = "failed", str(error)
                log.error("source unavailable", extra={"source": self.config.name,
                                                       "error": str(error)})  # fmt: skip
                self._stop.wait(30.0)
            except StalePosition:
                self.state = "standby"  # another node moved this source: it leads now
                self._stop.wait(1.0)
            except Exception as error:  # the source (or the network) went away: retry
                if self._stop.is_set():
                    break
                self.state = "reconnecting"
                self.last_error = f"{type(error).__name__}: {error}"
                delay = BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)]
                attempt += 1
                log.warning("source reconnecting", extra={"source": self.config.name,
                            "error": self.last_error, "retry_in_s": delay})  # fmt: skip
                self._stop.wait(delay)
            finally:
                self._close_reader()

    def _close_reader(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.close()

    def _fail(self, message: str) -> None:
        self.state, self.last_error = "failed", message
        log.error("source position lost", extra={"source": self.config.name, "error": message})
        with self.db.write() as conn:
            record = source_rows.get(conn, self.config.name)
            if record is not None:
                record.phase, record.error = "failed", message
                source_rows.save(conn, record)

    def _wait_for_reset(self) -> None:
        while not self._stop.wait(1.0):
            with self.db.read() as conn:
                record = source_rows.get(conn, self.config.name)
            if record is None or record.phase != "failed":
                return

    def load(self) -> SourceRecord:
        with self.db.read() as conn:
            record = source_rows.get(conn, self.config.name)
        return record or SourceRecord(self.config.name, "new")

    # -- one connected run ---------------------------------------------------------
    def run_once(self) -> None:
        _stamp("run_once")
        self._reader = reader = open_reader(self.config)
        record = self.load()
        if record.phase == "failed":
            raise PositionLost(record.error or "the source needs a re-snapshot")
        if record.phase in ("new", "snapshot"):
            self.snapshot(reader, record)
            if record.phase != "streaming":
                return  # stopped or deposed before the snapshot's end
        reader.check_position(record.position)
        self.stream(reader, record)

    def snapshot(self, reader: Reader, record: SourceRecord) -> None:
        self.state = "snapshot"
        # The reader process starts (its interpreter, imports and connection: about a
        # second) while the position is fixed; it reads nothing before `start`.
        spare: SnapshotReader | None = SnapshotReader(self.config)
        self._batches = spare
        try:
            if record.phase == "new":
                # The change stream's start is fixed before the first row is read: every
                # change after it is replayed over the snapshot, which converges
                # (docs/sync.md).
                record.position = reader.start_position()
                _stamp("position")
                record.phase = "snapshot"
                record.error = None
                record.snapshot = {t.table: _progress(reader.count(t))
                                   for t in self.config.tables}  # fmt: skip
                _stamp("counted")
                indexes = {t.index: t.document_key for t in self.config.tables}
                with self.db.write() as conn:
                    ensure_indexes(self.db, conn, indexes, self.label)
                    source_rows.save(conn, record)
                _stamp("saved")
            for table in self.config.tables:
                if table.table not in record.snapshot:  # a table added to the configuration
                    record.snapshot[table.table] = _progress(reader.count(table))
                progress = record.snapshot[table.table]
                if progress["finished"]:
                    continue
                batches, spare = spare or SnapshotReader(self.config), None
                self._batches = batches
                try:
                    self._snapshot_table(reader, record, table, progress, batches)
                finally:
                    self._batches = None
                    batches.close()
                if not progress["finished"]:
                    return  # stopped or deposed: it resumes from the saved cursors
        finally:
            if spare is not None:  # every table was done already, or the position failed
                self._batches = None
                spare.close()
        if self._stop.is_set() or not all(p["finished"] for p in record.snapshot.values()):
            return  # stopped or deposed mid-snapshot: it resumes from the saved cursors
        record.phase = "streaming"
        with self.db.write() as conn:
            source_rows.save(conn, record)

    def _snapshot_table(self, reader: Reader, record: SourceRecord, table: TableConfig,
                        progress: dict[str, Any], batches: SnapshotReader) -> None:  # fmt: skip
        """Commit the table's batches, each with its cursor, until it ends (or the runner
        stops). Until the reader process is ready, small batches are read here, with the
        runner's own connection, so that the worker has rows to index meanwhile; the
        process then goes on from the cursor they left."""
        first = min(FIRST_BATCH_ROWS, self.config.snapshot_batch)
        converter: Converter | None = None
        started = False
        began = time.monotonic()
        while not self._stop.is_set() and self.is_leader():
            if not started and not batches.ready():
                if converter is None:
                    converter = Converter(table, reader.columns(table))
                stamps = {"began": time.time()}
                rows = reader.rows_after(table, progress["after"], first)
                stamps["fetched"] = time.time()
                batch = prepare(self.config.name, table, converter, rows, first)
                batch.stamps = {**stamps, "prepared": time.time()}
            else:
                if not started:
                    batches.start(table, progress["after"], first)
                    started = True
                batch = next(batches)
            got = time.time()
            if batch.rows:
                progress["after"] = batch.after
            progress["done"] += batch.rows
            progress["finished"] = batch.rows < batch.limit
            now = time.monotonic()
            self._count(record, batch.rows, now - began)
            began = now
            label = f"{self.label} snapshot {table.table} {progress['done']}/{progress['total']}"
            uids = commit_planned(self.db, record, batch.tasks, batch.row_errors, label)
            if stagetrace.enabled():
                stagetrace.write({"e": "snapshot", "rows": batch.rows, "got": got,
                                  "done": time.time(), "tasks": uids, **batch.stamps})
            self.wake()
            if progress["finished"]:
                return

    def stream(self, reader: Reader, record: SourceRecord) -> None:
        self.state = "streaming"
        self.last_error = None
        events: queue.Queue[Any] = queue.Queue(maxsize=50_000)
        producer = threading.Thread(
            target=_produce, args=(reader, dict(record.position), self._stop, events),
            name=f"{self.label}-reader", daemon=True,
        )  # fmt: skip
        producer.start()
        tables = {t.table: t for t in self.config.tables}
        converters = {t.table: Converter(t, reader.columns(t)) for t in self.config.tables}
        window = Window(self.config.name)
        transaction: list[Event] = []
        position = dict(record.position)
        opened = saved = time.monotonic()
        last_lag_check = last_lease_check = 0.0
        tracing = stagetrace.enabled()
        traced: list[dict[str, Any]] = []  # the window's source transactions (stagetrace)
        locked = 0.0

        def take(event: Any) -> None:
            nonlocal transaction, position, opened
            if isinstance(event, BaseException):
                raise event
            if isinstance(event, RowChange | Truncate):
                if not transaction and not window.changes:
                    opened = time.monotonic()
                transaction.append(event)
            elif isinstance(event, SchemaChanged):
                table = tables[event.table]
                converters[event.table] = Converter(table, reader.columns(table))
            elif isinstance(event, Commit):
                if tracing and transaction:
                    traced.append(_traced(event, transaction, tables))
                self._fold(reader, tables, converters, transaction, window)
                window.note_time(event.at if transaction else None)
                transaction = []
                position = event.position

        def top_up() -> None:
            # Under Sift's write lock (commit): what the reader decoded while the lock was
            # awaited joins this window, with the position of its last whole transaction.
            nonlocal locked
            locked = time.time()
            while window.changes < MAX_WINDOW_CHANGES:
                try:
                    take(events.get_nowait())
                except queue.Empty:
                    break
            record.position = position
            self._count(record, window.changes, time.monotonic() - opened)

        while not self._stop.is_set():
            # Wake when the open window is due, not on a fixed tick (up to a tick late).
            due = opened + WINDOW_S - time.monotonic() if window.changes else WINDOW_S
            with contextlib.suppress(queue.Empty):
                take(events.get(timeout=min(WINDOW_S, max(0.001, due))))
            now = time.monotonic()
            if now - last_lease_check > 1.0:
                last_lease_check = now
                if not self.is_leader():
                    return  # deposed: the new leader resumes from the stored position
            self.lag_rows = window.changes + len(transaction) + events.qsize()
            self.lag_ms = (now - opened) * 1000 if self.lag_rows else 0.0
            if now - last_lag_check > 5.0:
                last_lag_check = now
                self.lag_bytes = reader.lag_bytes(position)
            moved = position != record.position
            if window.changes and self._ready(now - opened, window.changes):
                closed = time.time()
                uids = commit(self.db, record, window, self.label, top_up)
                if tracing:
                    stagetrace.write({"e": "sync", "txns": traced, "closed": closed,
                                      "locked": locked, "done": time.time(), "tasks": uids})
                    traced.clear()
                window.clear()
                saved = now
                self.wake()
                reader.ack(position)
            elif moved and not window.changes and now - saved > IDLE_SAVE_S:
                record.position = position
                with self.db.write() as conn:
                    source_rows.save(conn, record)
                saved = now
                reader.ack(position)

    def _ready(self, age: float, changes: int) -> bool:
        # No waiting for the worker to drain its queue: the autobatcher merges every
        # window committed meanwhile into its next batch (worker.select_batch), so a
        # window held back would only miss that batch and wait for the one after.
        return age >= WINDOW_S or changes >= MAX_WINDOW_CHANGES

    def _fold(self, reader: Reader, tables: dict[str, TableConfig],
              converters: dict[str, Converter], transaction: list[Event],
              window: Window) -> None:  # fmt: skip
        passing: dict[str, set[Any]] = {}
        for table in tables.values():
            if table.where:
                keys = [e.row.get(table.primary_key) for e in transaction
                        if isinstance(e, RowChange) and e.table == table.table
                        and e.op == "upsert"]  # fmt: skip
                passing[table.table] = reader.passing(table, keys)
        for event in transaction:
            table = tables[event.table]
            if isinstance(event, Truncate):
                window.truncate(table)
                continue
            assert isinstance(event, RowChange)
            passes = (table.table not in passing
                      or str(event.row.get(table.primary_key)) in passing[table.table])  # fmt: skip
            window.add(table, converters[event.table], event, passes)

    def _count(self, record: SourceRecord, rows: int, seconds: float) -> None:
        stats = record.stats
        stats["rowsApplied"] = int(stats.get("rowsApplied", 0)) + rows
        stats["lastAppliedAt"] = time.time()
        if seconds > 0 and rows:
            rate = rows / max(seconds, WINDOW_S)
            self.rows_per_s = rate if not self.rows_per_s else 0.8 * self.rows_per_s + 0.2 * rate

    # -- what the API, the CLI and the metrics show --------------------------------
    def status(self, record: SourceRecord | None) -> dict[str, Any]:
        return status_view(self.config, record, self)


def _traced(event: Commit, transaction: list[Event],
            tables: dict[str, TableConfig]) -> dict[str, Any]:  # fmt: skip
    """One source transaction's stamps for stagetrace: its keys let the benchmark find
    the transaction that carried each of its probes."""
    keys = [e.row.get(tables[e.table].primary_key) for e in transaction
            if isinstance(e, RowChange)]  # fmt: skip
    return {"at": event.at, "got": event.received, "took": time.time(),
            "keys": [k if isinstance(k, int | str) else str(k) for k in keys]}


def _stamp(step: str) -> None:
    if stagetrace.enabled():
        stagetrace.write({"e": "step", "step": step, "at": time.time()})


def _progress(total: int) -> dict[str, Any]:
    return {"after": None, "done": 0, "total": total, "finished": False}


def _produce(reader: Reader, position: dict[str, Any], stop: threading.Event,
             events: queue.Queue[Any]) -> None:  # fmt: skip
    try:
        for event in reader.changes(position, stop):
            if isinstance(event, Commit):
                event.received = time.time()
            while not stop.is_set():
                try:
                    events.put(event, timeout=0.5)
                    break
                except queue.Full:
                    continue
            if stop.is_set():
                return
    except BaseException as error:  # handed to the runner, which decides
        if not stop.is_set():
            events.put(error)
        return
    if not stop.is_set():
        events.put(ConnectionError("the change stream ended"))


def status_view(config: SourceConfig, record: SourceRecord | None,
                runner: SourceRunner | None) -> dict[str, Any]:  # fmt: skip
    """A source as GET /sources shows it: configuration, stored record, live figures."""
    stored_state = {"new": "new", "snapshot": "snapshot", "streaming": "streaming",
                    "failed": "failed"}.get(record.phase if record else "new", "new")  # fmt: skip
    state = runner.state if runner is not None and runner.state != "starting" else stored_state
    snapshot = {
        table: {"done": p.get("done", 0), "total": p.get("total"), "finished": p.get("finished")}
        for table, p in (record.snapshot if record else {}).items()
    }
    stats = record.stats if record else {}
    last_error = runner.last_error if runner and runner.last_error else None
    if last_error is None and record is not None:
        last_error = record.error
    return {
        "name": config.name,
        "kind": config.kind,
        "capture": config.capture,
        "url": config.redacted_url,
        "state": state,
        "tables": [{"table": t.table, "index": t.index} for t in config.tables],
        "position": record.position if record else None,
        "snapshot": snapshot,
        "lagMs": round(runner.lag_ms) if runner else None,
        "lagRows": runner.lag_rows if runner else None,
        "lagBytes": runner.lag_bytes if runner else None,
        "rowsApplied": int(stats.get("rowsApplied", 0)),
        "rowsPerSecond": round(runner.rows_per_s, 1) if runner else None,
        "lastError": last_error,
    }

"""Snapshot batches read, converted and serialized in a child process, ahead of Sift.

A snapshot's Python work per row (the driver decoding it, the conversion to a document,
the NDJSON line) ran in the server's interpreter, where it took the GIL from the worker
indexing the batch before: py-spy showed the sync thread holding a quarter of the
server's samples during a 200k-row snapshot, the worker waiting on it. The child does
that work in its own interpreter and hands over, per batch, the tasks ready to enqueue
(`PlannedTask`, their payload written) and the keyset cursor after the batch; it reads
the next batch while the runner commits this one and the worker indexes it.

Exactly-once is unchanged: the child only reads. The runner commits each batch's tasks
and its cursor in one transaction, in order; batches read ahead but not committed when
Sift stops are read again from the stored cursor. The child exits when the runner closes
the pipe (or dies: its next write fails) and is killed when the runner stops.

The child starts before it may read: the runner spawns it, with the source's
configuration, while it fixes the change stream's start position, and the child imports
its modules and connects meanwhile, then says it is ready. Only the runner's `start`,
sent once the position is fixed, tells it the table and the cursor to read from, so every
row it reads is read after that position (docs/sync.md). Its batches grow from
`first_batch` rows, doubling up to the source's `snapshot_batch`: the worker gets a small
first batch to index sooner, and the larger ones then keep it fed.

Frames, both ways, are an 8-byte big-endian length, then a pickle. To the child: the
configuration, then (table, cursor, first batch size). From the child: READY, then each
`Batch`, or the exception that stopped the child. Both ends are this module, in processes
of the same installation, so pickle is safe here.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from sift.storage.sources import RowError
from sift.sync.changes import RowChange, Window
from sift.sync.commit import PlannedTask, plan_changes
from sift.sync.config import SourceConfig, TableConfig
from sift.sync.convert import Converter

HEADER = struct.Struct(">Q")
READY = "ready"  # the child's first frame: imported and connected, waiting for `start`


class SnapshotReaderFailed(ConnectionError):
    """The child stopped without saying why (killed, out of memory): retried like a lost
    connection."""


@dataclass
class Batch:
    rows: int  # rows read (`limit` of them: more may follow)
    limit: int  # the most rows it could have had
    after: Any  # the keyset cursor after the batch's last row (None: no rows)
    tasks: dict[str, list[PlannedTask]] = field(default_factory=dict)  # per index
    row_errors: list[RowError] = field(default_factory=list)
    # When the child started reading it, had its rows, and had its tasks (epoch seconds;
    # for stagetrace).
    stamps: dict[str, float] = field(default_factory=dict)


def cursor(value: Any) -> Any:
    """A primary key value as JSON can store it, to resume the snapshot after it."""
    return value if isinstance(value, int | str) else str(value)


def prepare(source: str, table: TableConfig, converter: Converter,
            rows: list[dict[str, Any]], limit: int) -> Batch:  # fmt: skip
    """One batch of snapshot rows (read with LIMIT `limit`) as tasks."""
    window = Window(source)
    for row in rows:
        window.add(table, converter, RowChange(table.table, "upsert", row))
    after = cursor(rows[-1][table.primary_key]) if rows else None
    tasks = {index: plan_changes(changes) for index, changes in window.indexes.items()}
    return Batch(len(rows), limit, after, tasks, list(window.row_errors))


class SnapshotReader:
    """The runner's end: a child reading one table, from a cursor on, a batch at a time.
    Made with a table, it starts at once; without, it imports and connects, and waits for
    `start`."""

    def __init__(self, config: SourceConfig, table: TableConfig | None = None,
                 after: Any = None) -> None:  # fmt: skip
        self.config = config
        # The child imports this very `sift` (a checkout's, not only an installed one).
        root = str(Path(__file__).resolve().parents[2])
        env = {**os.environ,
               "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH"))
                                             if p)}  # fmt: skip
        self._process = subprocess.Popen(
            # Not `-m sift.sync.readahead`: its classes would be `__main__`'s, and the
            # runner could not unpickle them.
            [sys.executable, "-c", "from sift.sync.readahead import child; child()"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
        )  # fmt: skip
        assert self._process.stdin is not None and self._process.stdout is not None
        self._in: IO[bytes] = self._process.stdin
        self._out: IO[bytes] = self._process.stdout
        self._ready = False
        with contextlib.suppress(BrokenPipeError):  # it died at start: next() says so
            _send(self._in, config)
        if table is not None:
            self.start(table, after)

    def ready(self) -> bool:
        """Whether the child has imported and connected (without waiting); raises what
        stopped it if it failed instead."""
        if not self._ready and select.select([self._out], [], [], 0)[0]:
            self._take_ready()
        return self._ready

    def start(self, table: TableConfig, after: Any, first_batch: int | None = None) -> None:
        """Read `table` after the cursor `after` (None: from its first row), the first
        batch `first_batch` rows (default: the source's `snapshot_batch`)."""
        limit = min(first_batch or self.config.snapshot_batch, self.config.snapshot_batch)
        with contextlib.suppress(BrokenPipeError):  # it died: next() says so
            _send(self._in, (table.table, after, limit))
            self._in.close()

    def _take_ready(self) -> None:
        item = self._receive()
        assert item == READY, item
        self._ready = True

    def __iter__(self) -> Iterator[Batch]:
        return self

    def __next__(self) -> Batch:
        if not self._ready:
            self._take_ready()
        item = self._receive()
        assert isinstance(item, Batch)
        return item

    def _receive(self) -> Any:
        header = self._out.read(HEADER.size)
        if len(header) < HEADER.size:
            code = self._process.wait()
            raise SnapshotReaderFailed(f"the snapshot reader exited with status {code}")
        (size,) = HEADER.unpack(header)
        data = self._out.read(size)
        if len(data) < size:
            code = self._process.wait()
            raise SnapshotReaderFailed(f"the snapshot reader exited with status {code}")
        item = pickle.loads(data)
        if isinstance(item, BaseException):
            raise item
        return item

    def kill(self) -> None:
        """Stop the child now (from any thread): a runner waiting in `next` gets
        SnapshotReaderFailed."""
        if self._process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self._process.kill()

    def close(self) -> None:
        self.kill()
        self._process.wait()
        self._out.close()


def _send(out: IO[bytes], item: Any) -> None:
    data = pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(HEADER.pack(len(data)) + data)
    out.flush()


def _read_frame(source: IO[bytes]) -> Any:
    """The runner's next frame on stdin; EOFError if it closed the pipe first."""
    header = source.read(HEADER.size)
    if len(header) < HEADER.size:
        raise EOFError
    (size,) = HEADER.unpack(header)
    data = source.read(size)
    if len(data) < size:
        raise EOFError
    return pickle.loads(data)


def child() -> None:
    """The child process's body: connect, say so, then read, prepare and send batches of
    the table `start` names until it ends."""
    from sift.sync.runner import open_reader

    config = _read_frame(sys.stdin.buffer)
    # The frames get a descriptor of their own; whatever a library prints goes to stderr.
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    reader = open_reader(config)
    try:
        reader.connect()
        _send(out, READY)
        try:
            name, after, limit = _read_frame(sys.stdin.buffer)
        except EOFError:  # closed without a table: the runner stopped first
            return
        table = next(t for t in config.tables if t.table == name)
        converter = Converter(table, reader.columns(table))
        while True:
            began = time.time()
            rows = reader.rows_after(table, after, limit)
            fetched = time.time()
            batch = prepare(config.name, table, converter, rows, limit)
            batch.stamps = {"began": began, "fetched": fetched, "prepared": time.time()}
            _send(out, batch)
            if batch.rows < limit:
                return
            after = batch.after
            limit = min(2 * limit, config.snapshot_batch)
    except (BrokenPipeError, KeyboardInterrupt):
        # The runner is gone, or a terminal's Ctrl-C reached the whole process group: the
        # server stops it (or has stopped) anyway.
        return
    except Exception as error:  # the runner decides (reconnect, fail the source)
        try:
            pickle.loads(pickle.dumps(error))  # some exceptions pickle but do not load
        except Exception:  # a driver error that does not pickle: its type and text
            error = SnapshotReaderFailed(f"{type(error).__name__}: {error}")
        with contextlib.suppress(BrokenPipeError):
            _send(out, error)
    finally:
        reader.close()

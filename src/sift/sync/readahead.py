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

Frames on the child's stdout: an 8-byte big-endian length, then a pickle (a `Batch`, or
the exception that stopped the child). Both ends are this module, in processes of the
same installation, so pickle is safe here.
"""

from __future__ import annotations

import contextlib
import os
import pickle
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


class SnapshotReaderFailed(ConnectionError):
    """The child stopped without saying why (killed, out of memory): retried like a lost
    connection."""


@dataclass
class Batch:
    rows: int  # rows read (a full batch means more may follow)
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
            rows: list[dict[str, Any]]) -> Batch:  # fmt: skip
    """One batch of snapshot rows as tasks: what the runner used to fold and commit."""
    window = Window(source)
    for row in rows:
        window.add(table, converter, RowChange(table.table, "upsert", row))
    after = cursor(rows[-1][table.primary_key]) if rows else None
    tasks = {index: plan_changes(changes) for index, changes in window.indexes.items()}
    return Batch(len(rows), after, tasks, list(window.row_errors))


class SnapshotReader:
    """The runner's end: a child reading one table from `after` on, a batch at a time."""

    def __init__(self, config: SourceConfig, table: TableConfig, after: Any) -> None:
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
        self._out: IO[bytes] = self._process.stdout
        with contextlib.suppress(BrokenPipeError):  # it died at start: next() says so
            self._process.stdin.write(pickle.dumps((config, table.table, after)))
            self._process.stdin.close()

    def __iter__(self) -> Iterator[Batch]:
        return self

    def __next__(self) -> Batch:
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
        assert isinstance(item, Batch)
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


def child() -> None:
    """The child process's body: read, prepare and send batches until the table ends."""
    from sift.sync.runner import open_reader

    config, name, after = pickle.loads(sys.stdin.buffer.read())
    table = next(t for t in config.tables if t.table == name)
    # The frames get a descriptor of their own; whatever a library prints goes to stderr.
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    reader = open_reader(config)
    try:
        converter = Converter(table, reader.columns(table))
        while True:
            began = time.time()
            rows = reader.rows_after(table, after, config.snapshot_batch)
            fetched = time.time()
            batch = prepare(config.name, table, converter, rows)
            batch.stamps = {"began": began, "fetched": fetched, "prepared": time.time()}
            _send(out, batch)
            if batch.rows < config.snapshot_batch:
                return
            after = batch.after
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

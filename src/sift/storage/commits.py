"""Whether anything was committed to the database since a poller last looked.

The threads that keep a node in step with the others (the task worker's idle poll of the
queue, a follower's poll of finished batches, the /network watcher) read the database
every half second or second whether or not anything changed: on an idle one-worker
server those reads were most of the process's CPU (issue #18), and each one took the GIL
and a core at a moment a search might need them (issue #17).

On SQLite, ``PRAGMA data_version`` answers for the whole file: its value on a connection
changes whenever any other connection, of this process or another, commits. A
connection of its own that never writes asks it (a few µs, outside SQLAlchemy), and a
poller whose last look found nothing to do skips the next one while the value has not
moved. PostgreSQL has no such counter: every poll reads, as before (the nodes sharing it
wake each other through Redis when it is configured, sift.cluster.notify).
"""

from __future__ import annotations

import sqlite3
import threading

from sqlalchemy.engine import Engine


class DataVersion:
    """SQLite's ``PRAGMA data_version`` of one database file, read on a connection of
    its own that never writes (one per :class:`~sift.storage.database.Database`,
    shared by its pollers)."""

    def __init__(self, engine: Engine) -> None:
        # The same file, with the same options, as the engine's own connections.
        self._args, self._options = engine.dialect.create_connect_args(engine.url)
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def read(self) -> int:
        with self._lock:
            if self._conn is None:
                # Autocommit: the pragma's read transaction ends with it, so this
                # connection never holds a WAL snapshot back from a checkpoint.
                self._conn = sqlite3.connect(
                    *self._args,
                    **{**self._options, "check_same_thread": False, "isolation_level": None},
                )
            return int(self._conn.execute("PRAGMA data_version").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


class CommitWatch:
    """One poller's view: :meth:`changed` is False only while nothing was committed
    since the last look that :meth:`caught_up` confirmed. Used by one thread."""

    def __init__(self, version: DataVersion | None) -> None:
        self._version = version  # None: no counter (PostgreSQL), every poll reads
        self._seen: int | None = None
        self._now: int | None = None

    def changed(self) -> bool:
        """Whether the poller must read the database now. Asked before the read: a
        commit that lands during the read moves the counter again, so it is looked at
        next time."""
        if self._version is None:
            return True
        self._now = self._version.read()
        return self._now != self._seen

    def caught_up(self) -> None:
        """The look that followed :meth:`changed` succeeded and found nothing more to
        do: skip the next polls until something else is committed."""
        self._seen = self._now

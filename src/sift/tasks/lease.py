"""Which process runs the task worker: exactly one per database.

SQLite: an exclusive `flock` on a file next to the database (released by the
kernel when the holder dies, even on kill -9). PostgreSQL: a session-level
advisory lock on a dedicated connection (released when that connection ends),
so several Sift nodes can share one database and one of them processes tasks.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from sift.storage.database import Database

LEASE_LOCK_ID = 0x51F8


class WorkerLease:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._fd: int | None = None
        self._conn: Any = None

    @property
    def held(self) -> bool:
        return self._fd is not None or self._conn is not None

    def try_acquire(self) -> bool:
        if self.held:
            return True
        if self.db.is_sqlite:
            return self._flock()
        conn = self.db.engine.connect()
        got = conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": LEASE_LOCK_ID})
        if got.scalar():
            conn.commit()
            self._conn = conn
            return True
        conn.close()
        return False

    def _flock(self) -> bool:
        path = self.db.url.split("///", 1)[-1]
        if not path or path == ":memory:":
            self._fd = -1  # a private in-memory database has only this process
            return True
        fd = os.open(Path(path).with_suffix(".worker.lock"), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            if self._fd >= 0:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
                os.close(self._fd)
            self._fd = None
        if self._conn is not None:
            try:
                self._conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": LEASE_LOCK_ID})
                self._conn.commit()
            finally:
                self._conn.close()
                self._conn = None

"""Connections, migrations and the write discipline for SQLite and PostgreSQL.

SQLite allows one writer at a time, so every write transaction in this process
goes through one lock (readers run concurrently thanks to WAL). PostgreSQL
writers run concurrently; task enqueueing takes a transaction-level advisory
lock there so that task uids commit in increasing order, which the worker relies
on when it processes tasks in uid order.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from sift.storage.commits import DataVersion

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Each migration's revision is its file's name, numbered in order: the newest is the head
# (tests/contract/test_storage.py checks this against Alembic's own reading).
HEAD_REVISION = max(p.stem for p in (MIGRATIONS_DIR / "versions").glob("[0-9]*.py"))
ENQUEUE_LOCK_ID = 0x51F7  # PostgreSQL advisory lock key for task enqueueing


_EPOCH = datetime(1970, 1, 1)


def utcnow() -> datetime:
    """Naive UTC timestamp with microseconds: stored the same way on both databases.

    The same value as ``datetime.now(UTC).replace(tzinfo=None)`` (the system clock,
    microseconds rounded down), in about half its time: ``replace``'s keyword is the slow
    part, and every click event and search takes a timestamp on the event loop."""
    return _EPOCH + timedelta(0, 0, time.time_ns() // 1000)


def normalize_url(url: str) -> str:
    """Pick the driver for a plain URL: psycopg 3 for PostgreSQL."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def is_transient(exc: BaseException) -> bool:
    """Whether a database error says nothing about the work that met it: the connection
    was lost, the server restarted or shut the session, a lock or deadlock gave up. The
    same work can succeed when tried again, so it must not be recorded as failed."""
    if isinstance(exc, sa.exc.TimeoutError):  # no pooled connection in time
        return True
    if not isinstance(exc, sa.exc.DBAPIError):
        return False
    if exc.connection_invalidated or isinstance(exc, sa.exc.InterfaceError):
        return True
    if not isinstance(exc, sa.exc.OperationalError):
        return False
    # SQLite reports mistakes in SQL as operational errors too: only these are transient.
    dialect = type(exc.orig).__module__.split(".")[0]
    return dialect != "sqlite3" or "locked" in str(exc.orig) or "I/O" in str(exc.orig)


def error_summary(exc: BaseException) -> str:
    """A driver error's own first line, without the SQL and parameters SQLAlchemy appends
    (fit for a log line)."""
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    return f"{type(orig).__name__}: {lines[0] if lines else ''}"


class WriterBusy(Exception):
    """`Database.write(wait=...)` gave up waiting for this process's writer."""


class Database:
    """Owns the SQLAlchemy engine and hands out read and write transactions."""

    def __init__(self, url: str, name: str = "sift") -> None:
        self.url = normalize_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        self.name = name  # PostgreSQL's application_name: which node a session belongs to
        self._write_lock = threading.RLock()
        self.engine = self._create_engine()
        # What the background pollers ask before they read (storage/commits.py).
        self.data_version = DataVersion(self.engine) if self.is_sqlite else None

    def _create_engine(self) -> Engine:
        if self.is_sqlite:
            path = self.url.split("///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            engine = sa.create_engine(
                self.url,
                connect_args={"check_same_thread": False, "timeout": 30},
                pool_size=8,
                max_overflow=8,
            )

            @sa.event.listens_for(engine, "connect")
            def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
                # Take over transaction control so BEGIN IMMEDIATE is possible.
                dbapi_conn.isolation_level = None
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                # FULL: a commit is on disk before the API acknowledges it.
                cur.execute("PRAGMA synchronous=FULL")
                cur.execute("PRAGMA foreign_keys=ON")
                cur.execute("PRAGMA busy_timeout=30000")
                cur.close()

            @sa.event.listens_for(engine, "begin")
            def _sqlite_begin(conn: Connection) -> None:
                # Writers take the lock up front: no deadlock upgrading a read lock.
                immediate = conn.get_execution_options().get("sift_write", False)
                conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

            return engine
        return sa.create_engine(
            self.url,
            pool_size=10,
            max_overflow=10,
            pool_pre_ping=True,
            connect_args=self._postgres_connect_args(),
        )

    def _postgres_connect_args(self) -> dict[str, object]:
        """Name the sessions, and notice a dead server or link instead of waiting forever:
        a bounded connect, TCP keepalives, unacknowledged data given up after 30 s. A
        parameter given in the URL's query string wins."""
        given = sa.engine.make_url(self.url).query
        wanted: dict[str, object] = {
            "application_name": self.name,
            "connect_timeout": 10,
            "keepalives": 1,
            "keepalives_idle": 10,
            "keepalives_interval": 5,
            "keepalives_count": 3,
            "tcp_user_timeout": 30_000,
        }
        return {k: v for k, v in wanted.items() if k not in given}

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision. A database already there (every
        start but the first after an upgrade) is left without loading Alembic: ~10 MiB of
        RSS a server would otherwise keep for nothing."""
        if self.current_revision() == HEAD_REVISION:
            return
        from alembic import command
        from alembic.config import Config as AlembicConfig

        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        with self.write() as conn:
            # Nodes starting together on one PostgreSQL must not migrate twice.
            self.lock_enqueue(conn)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def current_revision(self) -> str | None:
        with self.read() as conn:
            if not sa.inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn
            conn.rollback()

    @contextmanager
    def write(self, wait: float | None = None) -> Iterator[Connection]:
        """A write transaction; committed on normal exit, rolled back on error. ``wait``:
        at most that many seconds for this process's writer (the task worker holds it for
        a whole batch), then :class:`WriterBusy` instead of waiting on."""
        if not self._write_lock.acquire(timeout=-1 if wait is None else wait):
            raise WriterBusy(f"the database writer stayed busy for {wait} s")
        try:
            with self.engine.connect() as conn:
                conn = conn.execution_options(sift_write=True)
                with conn.begin():
                    yield conn
        finally:
            self._write_lock.release()

    def lock_enqueue(self, conn: Connection) -> None:
        """Serialise task creation across processes so task uids commit in order."""
        if not self.is_sqlite:
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": ENQUEUE_LOCK_ID})

    def upsert(
        self,
        conn: Connection,
        table: sa.Table,
        rows: list[dict],
        keys: list[str],
        update: list[str],
    ) -> None:
        """INSERT ... ON CONFLICT (keys) DO UPDATE SET update-columns, in one statement."""
        if not rows:
            return
        if self.is_sqlite:
            from sqlalchemy.dialects.sqlite import insert
        else:
            from sqlalchemy.dialects.postgresql import insert
        stmt = insert(table)
        stmt = stmt.on_conflict_do_update(
            index_elements=keys, set_={c: stmt.excluded[c] for c in update}
        )
        conn.execute(stmt, rows)

    def dispose(self) -> None:
        if self.data_version is not None:
            self.data_version.close()
        self.engine.dispose()

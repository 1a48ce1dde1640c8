"""The worker lease row and the PostgreSQL session tools the lease protocol needs.

The protocol itself (who takes the lease when, the heartbeat) is src/sift/cluster/lease.py;
this module is its SQL. Every update names the epoch it expects, so an update from a node
that is no longer the holder changes nothing, and on PostgreSQL each takes the row's lock,
which orders it before or after a concurrent takeover.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sift.storage.schema import worker_lease

ROW = worker_lease.c.id == 1
# PostgreSQL advisory lock (LOCK_KEY, epoch % 2**31): held by the holder's lease session for
# as long as that session lives, so a free lock means the holder's session has ended.
LOCK_KEY = 0x51F8
WORKER_TAG = "sift-worker"  # application_name of the worker's transactions: tag, epoch, node


@dataclass(frozen=True)
class LeaseRow:
    epoch: int
    beat: int
    holder: str | None
    # Seconds since the holder last renewed the row, by the database's clock (PostgreSQL;
    # None on SQLite, whose lease has no timeout, or before any renewal).
    silent: float | None


def _now(conn: Connection) -> sa.ColumnElement:
    """The time a statement runs, by the database's clock: one clock for every node."""
    postgres = conn.dialect.name == "postgresql"
    return sa.func.statement_timestamp() if postgres else sa.func.current_timestamp()


def read(conn: Connection) -> LeaseRow:
    silent: sa.ColumnElement = sa.null()
    if conn.dialect.name == "postgresql":
        silent = sa.func.extract("epoch", _now(conn) - worker_lease.c.renewed_at)
    row = conn.execute(sa.select(worker_lease, silent.label("silent")).where(ROW)).one()
    quiet = None if row.silent is None else float(row.silent)
    return LeaseRow(int(row.epoch), int(row.beat), row.holder, quiet)


def claim(conn: Connection, seen: LeaseRow, holder: str) -> int | None:
    """Take the lease from the holder last seen as ``seen``: the new epoch, or None when
    the row moved meanwhile (the holder renewed it, or another node took it first)."""
    done = conn.execute(
        sa.update(worker_lease)
        .where(ROW, worker_lease.c.epoch == seen.epoch, worker_lease.c.beat == seen.beat)
        .values(epoch=seen.epoch + 1, beat=0, holder=holder, renewed_at=_now(conn))
    )
    return seen.epoch + 1 if done.rowcount == 1 else None


def renew(conn: Connection, epoch: int) -> bool:
    """A heartbeat, and the fence of a worker transaction: False if ``epoch`` is stale."""
    done = conn.execute(
        sa.update(worker_lease)
        .where(ROW, worker_lease.c.epoch == epoch)
        .values(beat=worker_lease.c.beat + 1, renewed_at=_now(conn))
    )
    return done.rowcount == 1


def allocate_batch_uid(conn: Connection, epoch: int) -> int | None:
    """The next batch uid, handed out in the caller's transaction (None: stale epoch)."""
    after = conn.execute(
        sa.update(worker_lease)
        .where(ROW, worker_lease.c.epoch == epoch)
        .values(
            next_batch_uid=worker_lease.c.next_batch_uid + 1,
            beat=worker_lease.c.beat + 1,
            renewed_at=_now(conn),
        )
        .returning(worker_lease.c.next_batch_uid)
    ).scalar()
    return None if after is None else int(after) - 1


# --- PostgreSQL only ------------------------------------------------------------------


def try_lock(conn: Connection, epoch: int) -> bool:
    """Take epoch's session advisory lock on ``conn`` if no session holds it."""
    return bool(conn.execute(sa.text("SELECT pg_try_advisory_lock(:k, :e)"),
                             {"k": LOCK_KEY, "e": epoch % 2**31}).scalar())  # fmt: skip


def unlock(conn: Connection, epoch: int) -> None:
    conn.execute(sa.text("SELECT pg_advisory_unlock(:k, :e)"), {"k": LOCK_KEY, "e": epoch % 2**31})


def name_session(conn: Connection, name: str, local: bool = False) -> None:
    """Set the session's application_name (for this transaction only if ``local``), which
    pg_stat_activity shows: operators, the fault tests and :func:`end_stale_workers` see
    which node and epoch a session belongs to."""
    conn.execute(sa.text("SELECT set_config('application_name', :n, :local)"),
                 {"n": name, "local": local})  # fmt: skip


def worker_name(epoch: int, node: str) -> str:
    return f"{WORKER_TAG} {epoch} {node}"


def end_stale_workers(conn: Connection, epoch: int) -> int:
    """Terminate the sessions of this database in a worker transaction of an older epoch.

    A deposed holder that was paused or cut off inside a batch holds row locks that would
    stall the new holder until it wakes up; its transaction can never commit (the fence),
    so ending its session costs nothing and frees the locks at once.
    """
    return len(conn.execute(sa.text(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid() "
        "AND split_part(application_name, ' ', 1) = :tag "
        "AND CASE WHEN split_part(application_name, ' ', 2) ~ '^[0-9]{1,18}$' "
        "THEN split_part(application_name, ' ', 2)::bigint END < :epoch"
    ), {"tag": WORKER_TAG, "epoch": epoch}).all())  # fmt: skip

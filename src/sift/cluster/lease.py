"""Which node runs the task worker, and the fence that keeps a deposed one from writing.

The lease is the one row of ``worker_lease`` (storage/lease.py): an *epoch*, a heartbeat
(``beat``, ``renewed_at``) and the holder's name. Taking the lease adds one to the epoch. Every
write transaction of the worker goes through :meth:`WorkerLease.fenced`, which checks the
holder's epoch when the transaction starts and, as its last statement, renews the row
under its row lock, naming that epoch: a takeover commits either before that statement
(which then changes nothing, and the whole transaction rolls back with
:class:`LeaseLost`) or after the transaction has committed. So a node that lost the lease
(paused, cut off, its lock connection gone) can finish nothing, whatever it believes.

Who may take the lease:

* SQLite: the holder of an exclusive ``flock`` on a file next to the database (the kernel
  releases it when the holder dies, even on kill -9). One host; no expiry. The epoch
  fences the writes all the same, so two processes that both believe they lead (the lock
  file deleted under a running node) cannot both commit.
* PostgreSQL: the holder renews the row every ``timeout / 5`` seconds (``renewed_at`` by
  the database's clock) on a session of its own, which also holds the advisory lock
  (LOCK_KEY, epoch). Another node takes the lease when that lock is free (the holder's
  session ended: crash, kill -9, terminated connection) or when the database says the
  row was last renewed more than ``timeout`` seconds ago (the holder is paused or cut
  off). The nodes' clocks are never compared. The holder stops counting itself leader
  once ``timeout`` has passed, by its own clock, since it sent its last successful
  renewal, which is no later than any other node may take over; the fence is what makes
  a late or wrong belief harmless.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

from sqlalchemy.engine import Connection

from sift.storage import lease as lease_rows
from sift.storage.database import Database, error_summary

log = logging.getLogger("sift.lease")

HEARTBEATS_PER_TIMEOUT = 5


def node_name() -> str:
    """This process, as the lease row and PostgreSQL's application_name show it."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


class LeaseLost(Exception):
    """This node's epoch is no longer the lease's: it must not write as the worker."""


class WorkerLease:
    def __init__(self, db: Database, timeout: float = 5.0) -> None:
        self.db = db
        self.timeout = timeout
        self.node = node_name()
        self._epoch: int | None = None
        self._lost = False
        self._renewed_at = 0.0  # monotonic time a renewal that then committed was sent
        self._fd: int | None = None  # SQLite: the flocked file
        # PostgreSQL: the heartbeat thread, and the event that stops it.
        self._beating: tuple[threading.Thread, threading.Event] | None = None

    @property
    def epoch(self) -> int | None:
        """The epoch this node holds the lease under, while it does."""
        return self._epoch if self.held else None

    @property
    def held(self) -> bool:
        if self._epoch is None or self._lost:
            return False
        return self.db.is_sqlite or time.monotonic() - self._renewed_at < self.timeout

    def try_acquire(self) -> bool:
        """Hold the lease after this call if it is free or its holder is gone."""
        if self.held:
            return True
        if self._epoch is not None:
            log.warning("worker lease lost: epoch %s", self._epoch)
            self.release()
        if self.db.is_sqlite:
            return self._acquire_by_flock()
        return self._acquire_on_postgres()

    @contextlib.contextmanager
    def fenced(self) -> Iterator[Connection]:
        """A write transaction of the worker, committed only while this node holds the
        lease (see the module's docstring); raises :class:`LeaseLost` otherwise."""
        epoch = self._epoch
        if epoch is None or self._lost:
            raise LeaseLost(f"{self.node} does not hold the worker lease")
        with self.db.write() as conn:
            if not self.db.is_sqlite:
                # pg_stat_activity then shows it as this epoch's (see end_stale_workers).
                lease_rows.name_session(conn, lease_rows.worker_name(epoch, self.node), True)
            if lease_rows.read(conn).epoch != epoch:
                self._lose(epoch)
            yield conn
            began = time.monotonic()
            if not lease_rows.renew(conn, epoch):
                self._lose(epoch)
        self._renewed(epoch, began)

    def next_batch_uid(self, conn: Connection) -> int:
        """A batch uid no other batch ever gets, in a :meth:`fenced` transaction."""
        epoch = self._epoch
        uid = None if epoch is None else lease_rows.allocate_batch_uid(conn, epoch)
        if uid is None:
            self._lose(epoch)
        return uid

    def release(self) -> None:
        """Give the lease up (shutdown, or a holder that lost it): others take it at once."""
        if self._beating is not None:
            thread, stop = self._beating
            self._beating = None
            stop.set()  # the thread unlocks and closes its session, unless stuck on a dead link
            thread.join(min(1.0, self.timeout / HEARTBEATS_PER_TIMEOUT))
        if self._fd is not None:
            if self._fd >= 0:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
                os.close(self._fd)
            self._fd = None
        self._epoch = None
        self._lost = False

    def _lose(self, epoch: int | None) -> NoReturn:
        if epoch == self._epoch:
            self._lost = True
        raise LeaseLost(f"{self.node} lost the worker lease (epoch {epoch})")

    def _renewed(self, epoch: int, at: float) -> None:
        if epoch == self._epoch:
            self._renewed_at = max(self._renewed_at, at)

    # --- SQLite -------------------------------------------------------------------------

    def _acquire_by_flock(self) -> bool:
        path = self.db.url.split("///", 1)[-1]
        if not path or path == ":memory:":
            self._fd = -1  # a private in-memory database has only this process
        else:
            fd = os.open(Path(path).with_suffix(".worker.lock"), os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return False
            self._fd = fd
        try:
            with self.db.write() as conn:  # one writer at a time: the row cannot move
                epoch = lease_rows.claim(conn, lease_rows.read(conn), self.node)
        except BaseException:
            self.release()
            raise
        if epoch is None:
            self.release()
            return False
        self._took(epoch)
        return True

    # --- PostgreSQL ---------------------------------------------------------------------

    def _session(self) -> Connection:
        """A connection of its own for the lease, in autocommit: each renewal holds the
        row's lock only while its statement runs, so a holder paused between two
        statements never blocks a takeover."""
        return self.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")

    def _acquire_on_postgres(self) -> bool:
        conn = self._session()
        try:
            epoch = self._claim(conn)
        except BaseException:
            _close(conn)
            raise
        if epoch is None:
            _close(conn)
            return False
        self._took(epoch)
        # Again after the claim: a transaction of the old epoch that began in between.
        self._end_older_workers(conn, epoch)
        stop = threading.Event()
        thread = threading.Thread(
            target=self._heartbeat, args=(conn, epoch, stop), name="sift-lease", daemon=True
        )
        thread.start()
        self._beating = (thread, stop)
        return True

    def _claim(self, conn: Connection) -> int | None:
        """Take the lease on ``conn`` if its holder is gone; the new epoch, or None."""
        seen = lease_rows.read(conn)
        session_gone = lease_rows.try_lock(conn, seen.epoch)
        if session_gone:
            lease_rows.unlock(conn, seen.epoch)
        elif seen.silent is None or seen.silent < self.timeout:
            return None
        # Claim the next epoch's lock before the row, so that of several contenders one
        # goes on, and nobody finds that lock free while this node holds the lease.
        if not lease_rows.try_lock(conn, seen.epoch + 1):
            return None
        # The holder is gone: end its worker transactions first, or one paused while
        # fencing its commit would hold the row's lock, and the claim would wait for it.
        self._end_older_workers(conn, seen.epoch + 1)
        lease_rows.name_session(conn, f"sift-lease {seen.epoch + 1} {self.node}")
        epoch = lease_rows.claim(conn, seen, self.node)
        if epoch is None:
            lease_rows.unlock(conn, seen.epoch + 1)
            return None
        why = "its session ended" if session_gone else f"no heartbeat for {self.timeout:g} s"
        log.warning("took the worker lease: epoch %s, from %s (%s)", epoch, seen.holder, why)
        return epoch

    def _end_older_workers(self, conn: Connection, epoch: int) -> None:
        try:
            ended = lease_rows.end_stale_workers(conn, epoch)
        except Exception as exc:  # not allowed (another role): their locks wait for the fence
            log.warning("could not end older epochs' worker sessions: %s", error_summary(exc))
            return
        if ended:
            log.warning("ended %d worker session(s) of an older epoch", ended)

    def _took(self, epoch: int) -> None:
        self._epoch, self._lost, self._renewed_at = epoch, False, time.monotonic()

    def _heartbeat(self, conn: Any, epoch: int, stop: threading.Event) -> None:
        """Renew the row every ``timeout / 5`` s on the lease session, until stopped or
        lost. A lost session (its advisory lock gone with it) is replaced while the lock
        is still free and the row still names this epoch."""
        try:
            while not stop.wait(self.timeout / HEARTBEATS_PER_TIMEOUT):
                began = time.monotonic()
                try:
                    if conn is None:
                        conn = self._resume(epoch)
                    elif not lease_rows.renew(conn, epoch):
                        self._lost = self._lost or epoch == self._epoch
                        return
                    self._renewed(epoch, began)
                except LeaseLost:
                    return
                except Exception as exc:
                    log.warning("lease heartbeat failed: %s", error_summary(exc))
                    _close(conn)
                    conn = None
                    if epoch != self._epoch or time.monotonic() - self._renewed_at > self.timeout:
                        return  # expired: the worker contends again from scratch
        finally:
            if conn is not None:
                with contextlib.suppress(Exception):  # a broken session's locks ended with it
                    lease_rows.unlock(conn, epoch)
                _close(conn)

    def _resume(self, epoch: int) -> Connection:
        conn = self._session()
        try:
            if not lease_rows.try_lock(conn, epoch):
                raise LeaseLost(f"epoch {epoch}'s lock was taken")
            lease_rows.name_session(conn, f"sift-lease {epoch} {self.node}")
            if not lease_rows.renew(conn, epoch):
                raise LeaseLost(f"epoch {epoch} is over")
        except LeaseLost:
            _close(conn)
            self._lost = self._lost or epoch == self._epoch
            raise
        except BaseException:
            _close(conn)
            raise
        log.info("lease session replaced (epoch %s)", epoch)
        return conn


def _close(conn: Any) -> None:
    try:
        if conn is not None:
            conn.close()
    except Exception:  # a connection that is already broken
        pass

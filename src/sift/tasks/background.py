"""One database write at a time on a helper thread, beside the task worker's indexing.

An import alternates two kinds of work per batch of documents: writing their rows (the
driver steps SQLite or waits for PostgreSQL without the GIL) and building their postings
(Python and numpy in the worker's thread). Run in turn, the write's seconds add to the
indexing's; here the worker hands batch N's rows over and indexes batch N while they are
written, and waits for that write only before handing over the next one (or before it
touches the connection itself). The connection is never used by two threads at once,
and nothing is committed here: the batch's transaction commits after every write has
finished (tasks/worker.py), so a crash or an error still leaves all of it or none.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType


class WriteBehind:
    """``submit`` a write, go on with other work, ``wait`` before the next one or before
    using the connection. Leaving the ``with`` block waits for the write in flight: its
    error is raised, unless the block is already leaving with one (the transaction
    rolls back either way, and only once the helper has let go of the connection)."""

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None
        self._pending: Future[None] | None = None

    def submit(self, write: Callable[[], None]) -> None:
        self.wait()
        if self._pool is None:  # started by the first write: small tasks never start it
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="sift-writer")
        self._pending = self._pool.submit(write)

    def wait(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def __enter__(self) -> WriteBehind:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:  # fmt: skip
        try:
            if error is None:
                self.wait()
            elif self._pending is not None:
                # Let the helper finish with the connection before the caller rolls it
                # back; the error already leaving is the one to report.
                self._pending.exception()
                self._pending = None
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None

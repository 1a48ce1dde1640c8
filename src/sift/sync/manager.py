"""Every configured source of one node: start, stop, status, re-snapshot."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sift.storage import sources as source_rows
from sift.storage.database import Database
from sift.sync.config import SourceConfig
from sift.sync.runner import SourceRunner, status_view


class UnknownSource(KeyError):
    pass


class SyncManager:
    def __init__(self, db: Database, sources: tuple[SourceConfig, ...],
                 wake: Callable[[], None], is_leader: Callable[[], bool]) -> None:  # fmt: skip
        self.db = db
        self.sources = {s.name: s for s in sources}
        self.runners = {s.name: SourceRunner(s, db, wake, is_leader) for s in sources}

    def start(self) -> None:
        for runner in self.runners.values():
            runner.start()

    def stop(self) -> None:
        for runner in self.runners.values():
            runner._stop.set()  # all at once: each may wait on its source
        for runner in self.runners.values():
            runner.stop()

    def config(self, name: str) -> SourceConfig:
        if name not in self.sources:
            raise UnknownSource(name)
        return self.sources[name]

    def status(self, name: str | None = None) -> list[dict[str, Any]]:
        names = [self.config(name).name] if name is not None else list(self.sources)
        with self.db.read() as conn:
            records = {n: source_rows.get(conn, n) for n in names}
            views = []
            for n in names:
                view = status_view(self.sources[n], records[n], self.runners.get(n))
                view["rowErrors"] = source_rows.count_row_errors(conn, n)
                views.append(view)
        return views

    def row_errors(self, name: str, limit: int = 20) -> list[dict[str, Any]]:
        self.config(name)
        with self.db.read() as conn:
            found = source_rows.row_errors(conn, name, limit)
        return [{"table": e.table, "key": e.key, "message": e.message,
                 "at": e.at.isoformat() + "Z"} for e in found]  # fmt: skip

    def resnapshot(self, name: str) -> None:
        """Forget the source's position: the next run snapshots every table again."""
        self.config(name)
        reset(self.db, name)


def reset(db: Database, name: str) -> None:
    with db.write() as conn:
        source_rows.delete(conn, name)

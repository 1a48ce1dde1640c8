"""A sync source's commit to Sift on SQLite and PostgreSQL: the changes that arrive while
it waits for the write lock join it, with the position that covers them."""

from __future__ import annotations

import json
import threading
import time

from sift.storage import Database
from sift.storage import sources as source_rows
from sift.storage import tasks as task_rows
from sift.storage.sources import SourceRecord
from sift.sync.changes import RowChange, Window
from sift.sync.commit import commit
from sift.sync.config import TableConfig
from sift.sync.convert import Converter

TABLE = TableConfig("products", "products")
CONVERTER = Converter(TABLE, {"id": "integer", "title": "string"})


def test_changes_that_arrive_while_the_lock_is_awaited_join_the_commit(db: Database) -> None:
    record = SourceRecord("shop", "streaming", {"lsn": 1})
    with db.write() as conn:
        source_rows.save(conn, record)
    window = Window("shop")
    window.add(TABLE, CONVERTER, RowChange("products", "upsert", {"id": 1, "title": "a"}))
    batch_running = threading.Event()
    batch_done = threading.Event()

    def worker_batch() -> None:  # holds the write lock as the task worker does
        with db.write():
            batch_running.set()
            batch_done.wait(10)

    worker = threading.Thread(target=worker_batch)
    worker.start()
    batch_running.wait(10)
    topped_up: list[bool] = []

    def top_up() -> None:
        topped_up.append(batch_done.is_set())  # only once the batch let the lock go
        window.add(TABLE, CONVERTER, RowChange("products", "upsert", {"id": 2, "title": "b"}))
        record.position = {"lsn": 2}

    committer = threading.Thread(target=commit, args=(db, record, window, "sync:shop", top_up))
    committer.start()
    time.sleep(0.2)
    assert not topped_up  # still waiting for the lock
    batch_done.set()
    worker.join(10)
    committer.join(10)
    assert topped_up == [True]
    with db.read() as conn:
        enqueued = task_rows.next_enqueued(conn, 10)
        assert [t.type for t in enqueued] == ["documentAdditionOrUpdate"]
        payload = b"".join(task_rows.iter_payload(conn, enqueued[0].uid)).decode()
        saved = source_rows.get(conn, "shop")
    assert [json.loads(line)["id"] for line in payload.splitlines()] == [1, 2]
    assert saved is not None and saved.position == {"lsn": 2}

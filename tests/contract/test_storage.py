"""What the rest of Sift relies on from storage, identical on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

from sift.storage import Database
from sift.storage import batches as batch_rows
from sift.storage import documents as doc_rows
from sift.storage import indexes as index_rows
from sift.storage import keys as key_rows
from sift.storage import network as network_rows
from sift.storage import outbox as outbox_rows
from sift.storage import tasks as task_rows
from sift.storage import webhooks as webhook_rows
from sift.storage.database import utcnow
from sift.storage.keys import KeyRecord
from sift.storage.tasks import TaskFilter
from sift.storage.webhooks import WebhookRecord


def _head() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from sift.storage.database import MIGRATIONS_DIR

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head


def test_migrations_are_at_head_and_idempotent(db: Database) -> None:
    from sift.storage.database import HEAD_REVISION

    assert db.current_revision() == _head() == HEAD_REVISION
    db.migrate()
    assert db.current_revision() == _head()


def test_index_rows_roundtrip_and_swap(db: Database) -> None:
    with db.write() as conn:
        index_rows.create(conn, "a", "id", {"rankingRules": ["words"]})
        index_rows.create(conn, "b", None, {})
    with db.read() as conn:
        a = index_rows.get(conn, "a")
        assert a is not None and a.primary_key == "id" and a.settings == {"rankingRules": ["words"]}
        records, total = index_rows.list_page(conn, 0, 1)
        assert total == 2 and [r.uid for r in records] == ["a"]
    with db.write() as conn:
        index_rows.swap(conn, "a", "b")
    with db.read() as conn:
        assert index_rows.get(conn, "b").primary_key == "id"  # type: ignore[union-attr]
        assert index_rows.get(conn, "a").primary_key is None  # type: ignore[union-attr]


def test_documents_upsert_keeps_order_and_replaces_bodies(db: Database) -> None:
    with db.write() as conn:
        index = index_rows.create(conn, "docs", "id", {})
        doc_rows.upsert(db, conn, index.id, [("1", b'{"id":1}'), ("2", b'{"id":2}')])
        doc_rows.upsert(db, conn, index.id, [("1", b'{"id":1,"v":2}'), ("3", b'{"id":3}')])
    with db.read() as conn:
        assert doc_rows.count(conn, index.id) == 3
        assert doc_rows.list_page(conn, index.id, 0, 10) == [
            b'{"id":1,"v":2}', b'{"id":2}', b'{"id":3}']
        assert doc_rows.get(conn, index.id, "1") == b'{"id":1,"v":2}'
        assert set(doc_rows.get_many(conn, index.id, ["2", "3", "9"])) == {"2", "3"}
        batches = list(doc_rows.iter_all(conn, index.id, batch=2))
        assert [len(b) for b in batches] == [2, 1]
    with db.write() as conn:
        assert doc_rows.delete_ids(conn, index.id, ["2", "9"]) == 1
        assert doc_rows.clear(conn, index.id) == 2


def test_documents_upsert_across_statements_and_repeated_ids(db: Database) -> None:
    # More rows than one statement holds, an id repeated within a call and across the
    # statements of one call: the last body wins, at the id's first place (PostgreSQL
    # refuses an upsert statement that updates one row twice).
    n = doc_rows.UPSERT_ROWS * 2 + 7
    rows = [(str(i), b'{"v":%d}' % i) for i in range(n)]
    rows += [("5", b'{"v":"again"}'), (str(n - 1), b'{"v":"last"}')]
    rows.insert(doc_rows.UPSERT_ROWS + 3, ("1", b'{"v":"middle"}'))
    with db.write() as conn:
        index = index_rows.create(conn, "many", "id", {})
        doc_rows.upsert(db, conn, index.id, rows)
        doc_rows.upsert(db, conn, index.id, [("0", b'{"v":"new"}'), ("x", b'{"v":"x"}')])
    with db.read() as conn:
        bodies = doc_rows.list_page(conn, index.id, 0, n + 10)
    expected = [b'{"v":%d}' % i for i in range(n)]
    expected[0], expected[1], expected[5] = b'{"v":"new"}', b'{"v":"middle"}', b'{"v":"again"}'
    expected[n - 1] = b'{"v":"last"}'
    assert bodies == [*expected, b'{"v":"x"}']


def test_failed_write_transaction_leaves_nothing(db: Database) -> None:
    try:
        with db.write() as conn:
            index_rows.create(conn, "ghost", None, {})
            raise RuntimeError("crash")
    except RuntimeError:
        pass
    with db.read() as conn:
        assert index_rows.get(conn, "ghost") is None


def test_task_uids_increase_and_payloads_stream_in_order(db: Database) -> None:
    with db.write() as conn:
        first = task_rows.enqueue(db, conn, "indexCreation", "a", {"primaryKey": None})
        second = task_rows.enqueue(db, conn, "documentAdditionOrUpdate", "a", None,
                                   {"method": "replace"})
        task_rows.add_payload(conn, second.uid, [b"c0", b"c1", b"c2"])
    assert second.uid > first.uid
    assert second.params == {"method": "replace"}
    with db.read() as conn:
        assert list(task_rows.iter_payload(conn, second.uid)) == [b"c0", b"c1", b"c2"]
        assert [t.uid for t in task_rows.next_enqueued(conn, 10)] == [first.uid, second.uid]


def test_concurrent_enqueues_get_distinct_increasing_uids(db: Database) -> None:
    uids: list[int] = []
    lock = threading.Lock()

    def enqueue() -> None:
        for _ in range(10):
            with db.write() as conn:
                task = task_rows.enqueue(db, conn, "indexCreation", "x", None)
            with lock:
                uids.append(task.uid)

    threads = [threading.Thread(target=enqueue) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(uids)) == 40


def test_task_lifecycle_filters_and_requeue(db: Database) -> None:
    with db.write() as conn:
        tasks = [task_rows.enqueue(db, conn, "indexCreation", f"i{n}", None) for n in range(5)]
        task_rows.mark_processing(conn, [tasks[0].uid, tasks[1].uid], 0, utcnow())
        task_rows.finish(conn, tasks[0].uid, "succeeded", {"primaryKey": None}, None, utcnow())
        task_rows.cancel(conn, [tasks[4].uid], by=99, at=utcnow())
    with db.read() as conn:
        page, total, nxt = task_rows.query(conn, TaskFilter(), limit=2, from_uid=None)
        assert total == 5 and [t.uid for t in page] == [tasks[4].uid, tasks[3].uid]
        assert nxt == tasks[2].uid
        done = task_rows.query(conn, TaskFilter(statuses=["succeeded"]), 10, None)[0]
        assert [t.uid for t in done] == [tasks[0].uid]
        canceled = task_rows.query(conn, TaskFilter(canceled_by=[99]), 10, None)[0]
        assert [t.uid for t in canceled] == [tasks[4].uid]
        later = TaskFilter(dates={"afterEnqueuedAt": utcnow() + timedelta(hours=1)})
        assert task_rows.query(conn, later, 10, None)[1] == 0
    with db.write() as conn:
        assert task_rows.requeue_interrupted(conn) == 1
        assert task_rows.delete(conn, [t.uid for t in tasks]) == 2  # only finished ones
    with db.read() as conn:
        assert task_rows.status_counts(conn) == {"enqueued": 3}


def test_keys_and_meta(db: Database) -> None:
    now = utcnow()
    record = KeyRecord("0d8e7a9c-1c55-4f7e-9b1c-3c1f0a2b4d5e", "n", None, ["search"], ["*"],
                       None, now, now)
    with db.write() as conn:
        key_rows.insert(conn, record)
        key_rows.set_meta(conn, "k", "v1")
        key_rows.set_meta(conn, "k", "v2")
    with db.read() as conn:
        assert key_rows.get(conn, record.uid) == record
        assert key_rows.get_meta(conn, "k") == "v2"
    with db.write() as conn:
        assert key_rows.delete(conn, record.uid)


def test_webhook_rows_roundtrip_in_creation_order(db: Database) -> None:
    now = utcnow()
    first = WebhookRecord("b" * 8, "https://a.example/hook", {"Authorization": "Bearer é"}, now)
    second = WebhookRecord("a" * 8, "http://127.0.0.1:9/x", {}, now + timedelta(seconds=1))
    with db.write() as conn:
        webhook_rows.insert(conn, first)
        webhook_rows.insert(conn, second)
    with db.read() as conn:
        assert [w.uuid for w in webhook_rows.all_records(conn)] == ["b" * 8, "a" * 8]
        assert webhook_rows.get(conn, "b" * 8) == first
        assert webhook_rows.count(conn) == 2
    with db.write() as conn:
        webhook_rows.update(conn, "a" * 8, "https://b.example/", {"X-Team": "search"})
        assert webhook_rows.delete(conn, "b" * 8)
        assert not webhook_rows.delete(conn, "b" * 8)
    with db.read() as conn:
        (only,) = webhook_rows.all_records(conn)
        assert (only.url, only.headers) == ("https://b.example/", {"X-Team": "search"})
        assert webhook_rows.get(conn, "missing") is None


def test_batch_traces_roundtrip_and_go_with_their_tasks(db: Database) -> None:
    with db.write() as conn:
        task = task_rows.enqueue(db, conn, "indexCreation", "t", {}, None)
        task_rows.mark_processing(conn, [task.uid], 7, utcnow())
        task_rows.finish(conn, task.uid, "succeeded", {}, None, utcnow())
        batch_rows.record_trace(conn, 7, {"indexing": "1.00ms"})
        batch_rows.record_trace(conn, 8, {"orphan": "1µs"})
    with db.read() as conn:
        assert batch_rows.traces(conn, [7, 8, 9]) == {
            7: {"indexing": "1.00ms"}, 8: {"orphan": "1µs"}}  # fmt: skip
    with db.write() as conn:
        batch_rows.prune(conn)  # batch 8 has no task
        assert batch_rows.traces(conn, [7, 8]) == {7: {"indexing": "1.00ms"}}
        task_rows.delete(conn, [task.uid])
        batch_rows.prune(conn)
        assert batch_rows.traces(conn, [7]) == {}


def test_the_network_row_keeps_its_version_and_outbox_rows_the_one_they_were_routed_under(
    db: Database,
) -> None:
    """The migration draws the network a version (GET /network shows one from the start);
    a write stores the version it is given with the topology, in one transaction, and a
    write owed to a remote keeps the version it was split under."""
    with db.read() as conn:
        drawn = network_rows.read(conn)
    assert str(uuid.UUID(drawn.network_version)) == drawn.network_version
    changed = network_rows.new_version()
    with db.write() as conn:
        seen = network_rows.read(conn, for_update=True)
        revision = network_rows.write(conn, seen, {"self": "ms-00"}, changed)
        outbox_rows.add(conn, 7, {"ms-01": ("POST", "/indexes", {"uid": "books"})}, changed)
    with db.read() as conn:
        stored = network_rows.read(conn)
        [owed] = outbox_rows.all_rows(conn)
    assert (stored.version, stored.network_version) == (revision, changed) != (0, drawn)
    assert stored.topology == {"self": "ms-00"}
    assert (owed.remote, owed.task_uid, owed.network_version) == ("ms-01", 7, changed)
    try:  # a failed transaction keeps the version it had
        with db.write() as conn:
            network_rows.write(conn, stored, {}, network_rows.new_version())
            raise RuntimeError("rolled back")
    except RuntimeError:
        pass
    with db.read() as conn:
        assert network_rows.read(conn).network_version == changed

"""Dumps move an instance between databases: written from SQLite and PostgreSQL alike,
restored into a fresh database of the other kind with everything in place."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import pytest

from sift.errors import SiftError
from sift.ops import backups
from sift.storage import Database
from sift.storage import documents as doc_rows
from sift.storage import indexes as index_rows
from sift.storage import keys as key_rows
from sift.storage import search_rules as rule_rows
from sift.storage import webhooks as webhook_rows
from sift.storage.database import utcnow
from sift.storage.keys import KeyRecord
from sift.storage.webhooks import WebhookRecord


def _fill(db: Database) -> None:
    now = utcnow()
    with db.write() as conn:
        books = index_rows.create(conn, "books", "id", {"rankingRules": ["words"]})
        index_rows.create(conn, "empty", None, {})
        rows = [(str(i), orjson.dumps({"id": i, "title": f"book {i}", "é": [1.5, None]}))
                for i in range(2500)]  # fmt: skip
        doc_rows.upsert(db, conn, books.id, rows)
        key_rows.insert(conn, KeyRecord("k1", "reader", None, ["search"], ["books"], None, now,
                                        now))  # fmt: skip
        webhook_rows.insert(conn, WebhookRecord("w1", "https://a.example/", {"X": "1"}, now))
        rule_rows.put(conn, {"uid": "r1", "active": True, "precedence": 2, "lastUpdatedAt":
                             "2026-12-05T10:00:00.5Z", "actions": {"pin": [], "scale": []}}, now)


def test_a_dump_restores_everything_into_a_fresh_sqlite(db: Database, tmp_path: Path) -> None:
    _fill(db)
    path = backups.write_dump(db, tmp_path / "dumps", "20261205-000000000")
    assert path.name == "20261205-000000000.dump" and not list(path.parent.glob(".*partial"))
    with gzip.open(path) as fh:
        assert orjson.loads(fh.readline())["format"] == "sift-dump"

    target = Database(f"sqlite:///{tmp_path}/restored.db")
    target.migrate()
    counts = backups.restore(target, path)
    assert counts == {"indexes": 2, "documents": 2500, "keys": 1, "webhooks": 1,
                      "searchRules": 1}
    with db.read() as a, target.read() as b:
        for uid in ("books", "empty"):
            old, new = index_rows.get(a, uid), index_rows.get(b, uid)
            assert old is not None and new is not None
            assert (new.primary_key, new.settings, new.created_at) == (
                old.primary_key, old.settings, old.created_at)  # fmt: skip
            before = [r for chunk in doc_rows.iter_all(a, old.id) for r in chunk]
            after = [r for chunk in doc_rows.iter_all(b, new.id) for r in chunk]
            assert after == before  # same ids, same bodies, same order
        assert key_rows.get(b, "k1") == key_rows.get(a, "k1")
        assert webhook_rows.get(b, "w1") == webhook_rows.get(a, "w1")
        assert rule_rows.all_rules(b) == rule_rows.all_rules(a)
    with pytest.raises(ValueError, match="already has indexes"):
        backups.restore(target, path)
    target.dispose()


def test_restore_refuses_what_is_not_a_dump(tmp_path: Path) -> None:
    target = Database(f"sqlite:///{tmp_path}/t.db")
    target.migrate()
    bogus = tmp_path / "x.dump"
    with gzip.open(bogus, "wb") as fh:
        fh.write(b'{"hello": 1}\n')
    with pytest.raises(ValueError, match="not a Sift dump"):
        backups.restore(target, bogus)
    target.dispose()


def test_snapshots_copy_sqlite_and_refuse_postgresql(db: Database, tmp_path: Path) -> None:
    _fill(db)
    if not db.is_sqlite:
        with pytest.raises(SiftError) as caught:
            backups.write_snapshot(db, tmp_path, "s")
        assert caught.value.code == "snapshot_process_failed"
        return
    path = backups.write_snapshot(db, tmp_path / "snapshots", "s")
    copy = Database(f"sqlite:///{path}")
    with copy.read() as conn:
        record = index_rows.get(conn, "books")
        assert record is not None and doc_rows.count(conn, record.id) == 2500
    copy.dispose()


def test_a_sqlite_dump_restores_into_each_database(db: Database, tmp_path: Path) -> None:
    source = Database(f"sqlite:///{tmp_path}/source.db")
    source.migrate()
    _fill(source)
    path = backups.write_dump(source, tmp_path, "d")
    assert backups.restore(db, path)["documents"] == 2500
    with source.read() as a, db.read() as b:
        old, new = index_rows.get(a, "books"), index_rows.get(b, "books")
        assert old is not None and new is not None
        assert [r for c in doc_rows.iter_all(b, new.id) for r in c] == [
            r for c in doc_rows.iter_all(a, old.id) for r in c
        ]
    source.dispose()

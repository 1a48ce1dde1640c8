"""The key store's cache of verified keys: fast for repeat callers, never outliving a
deletion made through this process, and bounded in time for other processes' changes."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from sift.ops import keys
from sift.ops.keys import KeyStore
from sift.storage import keys as key_rows
from sift.storage.database import Database, utcnow
from sift.storage.keys import KeyRecord

MASTER = "a-master-key-of-sixteen-bytes-or-more"


@pytest.fixture
def store(tmp_path: Path) -> KeyStore:
    db = Database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    db.migrate()
    return KeyStore(db, MASTER)


def _add(store: KeyStore, expires_in: timedelta | None = None) -> tuple[KeyRecord, str]:
    now = utcnow()
    expires = now + expires_in if expires_in is not None else None
    record = KeyRecord(str(uuid.uuid4()), "k", None, ["search"], ["*"], expires, now, now)
    with store.db.write() as conn:
        key_rows.insert(conn, record)
    return record, store.key_value(record)


def test_a_verified_key_is_served_from_memory(store: KeyStore) -> None:
    record, value = _add(store)
    assert store.cached(value) is None  # never verified yet
    assert store.lookup(value) == record
    assert store.cached(value) == record


def test_a_key_deleted_through_this_process_is_refused_at_once(store: KeyStore) -> None:
    record, value = _add(store)
    store.lookup(value)
    with store.db.write() as conn:
        key_rows.delete(conn, record.uid)
    store.refresh()  # what the keys route does after every change
    assert store.cached(value) is None
    assert store.lookup(value) is None


def test_a_key_deleted_elsewhere_is_refused_once_the_cache_ages(
    store: KeyStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    record, value = _add(store)
    store.lookup(value)
    with store.db.write() as conn:  # another node: this store is not told
        key_rows.delete(conn, record.uid)
    assert store.cached(value) == record
    monkeypatch.setattr(keys, "KEY_CACHE_S", -1.0)  # every verification is now too old
    assert store.cached(value) is None
    assert store.lookup(value) is None


def test_a_cached_key_still_expires_on_time(
    store: KeyStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    record, value = _add(store, expires_in=timedelta(minutes=1))
    assert store.lookup(value) == record
    later = utcnow() + timedelta(minutes=2)
    monkeypatch.setattr(keys, "utcnow", lambda: later)
    assert store.cached(value) is None
    assert store.lookup(value) is None

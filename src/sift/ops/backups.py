"""Dumps and snapshots: what ``POST /dumps`` and ``POST /snapshots`` write, and how a
dump is loaded back (``sift restore``).

A **dump** is Sift's portable export: one gzip-compressed NDJSON file holding every
index (uid, primary key, settings, dates), its documents in their stored order, the API
keys' definitions, the instance's markers (default keys created, demo seeded), the
webhooks and the search rules. It does not depend on the database it came from, so
it moves an instance from SQLite to PostgreSQL (or back) and across Sift versions.
Key *values* are derived from the master key and the key's uid, so a dump restored
under the same master key brings the same key values back. Derived state (search
indexes, vector graphs) is rebuilt at start; the embedding cache is not in the dump,
so a restored instance with embedders embeds its documents again.

A **snapshot** is a consistent copy of the SQLite database file, taken with SQLite's
online backup API while the server runs: the fastest way back to the same state on
the same version (stop Sift, put the file in place of ``sift.db``, start). With
PostgreSQL, use dumps or the database's own backups.

Both run as tasks in the worker, outside its write transaction: the worker is the
only writer of indexes and documents, so while it writes a dump nothing it reads can
change, and the API can keep enqueueing tasks meanwhile.
"""

from __future__ import annotations

import gzip
import os
import sqlite3
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import orjson
from sqlalchemy.engine import Connection

import sift
from sift.cluster import origin
from sift.errors import SiftError
from sift.storage import documents as doc_rows
from sift.storage import indexes as index_rows
from sift.storage import keys as key_rows
from sift.storage import search_rules as rule_rows
from sift.storage import webhooks as webhook_rows
from sift.storage.database import Database, utcnow
from sift.storage.keys import KeyRecord
from sift.storage.webhooks import WebhookRecord

FORMAT = "sift-dump"
FORMAT_VERSION = 1
DOCUMENTS_PER_LINE = 1000
TASK_TYPES = ("dumpCreation", "snapshotCreation")


def backup_uid(at: datetime) -> str:
    """A dump's name, as Meilisearch forms it: date, time and milliseconds."""
    return at.strftime("%Y%m%d-%H%M%S") + f"{at.microsecond // 1000:03d}"


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _date(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _lines(conn: Connection) -> Iterator[bytes]:
    yield orjson.dumps(
        {"format": FORMAT, "version": FORMAT_VERSION, "siftVersion": sift.__version__,
         "createdAt": _when(utcnow())}
    )  # fmt: skip
    for record in index_rows.all_records(conn):
        yield orjson.dumps({"index": {
            "uid": record.uid, "primaryKey": record.primary_key, "settings": record.settings,
            "createdAt": _when(record.created_at), "updatedAt": _when(record.updated_at),
        }})  # fmt: skip
        for rows in doc_rows.iter_all(conn, record.id, DOCUMENTS_PER_LINE):
            # Bodies are stored as JSON already: spliced in, not parsed again.
            head = orjson.dumps({"index": record.uid, "ids": [d for d, _ in rows]})
            yield b'{"documents":' + head[:-1] + b',"bodies":[' + b",".join(
                b for _, b in rows) + b"]}}"  # fmt: skip
    for key in key_rows.all_records(conn):
        yield orjson.dumps({"key": {
            "uid": key.uid, "name": key.name, "description": key.description,
            "actions": key.actions, "indexes": key.indexes, "expiresAt": _when(key.expires_at),
            "createdAt": _when(key.created_at), "updatedAt": _when(key.updated_at),
        }})  # fmt: skip
    # Markers such as "the default keys were created": without them a restored instance
    # would create its default keys a second time.
    for name, value in key_rows.all_meta(conn).items():
        if name.startswith(origin.META_PREFIX):
            continue  # this database's own id and forwarded writes: not the restored one's
        yield orjson.dumps({"meta": {"key": name, "value": value}})
    for hook in webhook_rows.all_records(conn):
        yield orjson.dumps({"webhook": {
            "uuid": hook.uuid, "url": hook.url, "headers": hook.headers,
            "createdAt": _when(hook.created_at),
        }})  # fmt: skip
    for rule in rule_rows.all_rules(conn):
        yield orjson.dumps({"searchRule": rule})


def write_dump(db: Database, directory: Path, uid: str) -> Path:
    """Write ``<directory>/<uid>.dump`` atomically (a partial file is never left under
    that name)."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{uid}.dump"
    partial = directory / f".{uid}.dump.partial"
    try:
        with db.read() as conn, partial.open("wb") as raw:
            with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6) as out:
                for line in _lines(conn):
                    out.write(line + b"\n")
            raw.flush()
            os.fsync(raw.fileno())  # on disk before it takes its final name
        os.replace(partial, target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise SiftError(f"The dump could not be written: {exc}", "dump_process_failed") from exc
    return target


def write_snapshot(db: Database, directory: Path, uid: str) -> Path:
    if not db.is_sqlite:
        raise SiftError(
            "Snapshots copy the SQLite database file; with PostgreSQL, create a dump "
            "(`POST /dumps`) or use the database's own backups.",
            "snapshot_process_failed",
        )
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{uid}.snapshot"
    partial = directory / f".{uid}.snapshot.partial"
    source_path = db.engine.url.database
    try:
        source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy)  # consistent even while the server writes
        finally:
            copy.close()
            source.close()
        os.replace(partial, target)
    except (OSError, sqlite3.Error) as exc:
        partial.unlink(missing_ok=True)
        raise SiftError(
            f"The snapshot could not be written: {exc}", "snapshot_process_failed"
        ) from exc
    return target


def _read(fh: IO[bytes]) -> Iterator[dict[str, Any]]:
    first = fh.readline()
    try:
        header = orjson.loads(first)
    except orjson.JSONDecodeError:
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ValueError("not a Sift dump (its first line is not a sift-dump header)")
    if header.get("version") != FORMAT_VERSION:
        raise ValueError(f"dump format version {header.get('version')} is not supported")
    for line in fh:
        if line.strip():
            yield orjson.loads(line)


def restore(db: Database, path: Path) -> dict[str, int]:
    """Load a dump into a database without indexes, in one transaction; returns counts."""
    counts = {"indexes": 0, "documents": 0, "keys": 0, "webhooks": 0, "searchRules": 0}
    index_ids: dict[str, int] = {}
    with db.write() as conn, gzip.open(path, "rb") as fh:
        if index_rows.all_records(conn):
            raise ValueError("the database already has indexes: restore into an empty one")
        for item in _read(fh):
            if "index" in item and isinstance(item["index"], dict):
                spec = item["index"]
                record = index_rows.create(
                    conn, spec["uid"], spec["primaryKey"], spec["settings"],
                    _date(spec["createdAt"]),
                )  # fmt: skip
                index_ids[record.uid] = record.id
                counts["indexes"] += 1
            elif "documents" in item:
                part = item["documents"]
                rows = [(d, orjson.dumps(b)) for d, b in zip(part["ids"], part["bodies"],
                                                            strict=True)]
                doc_rows.upsert(db, conn, index_ids[part["index"]], rows)
                counts["documents"] += len(rows)
            elif "key" in item:
                k = item["key"]
                if key_rows.get(conn, k["uid"]) is None:
                    key_rows.insert(conn, KeyRecord(
                        k["uid"], k["name"], k["description"], k["actions"], k["indexes"],
                        _date(k["expiresAt"]), _date(k["createdAt"]) or utcnow(),
                        _date(k["updatedAt"]) or utcnow(),
                    ))  # fmt: skip
                    counts["keys"] += 1
            elif "meta" in item:
                key_rows.set_meta(conn, item["meta"]["key"], item["meta"]["value"])
            elif "webhook" in item:
                w = item["webhook"]
                if webhook_rows.get(conn, w["uuid"]) is None:
                    webhook_rows.insert(conn, WebhookRecord(
                        w["uuid"], w["url"], w["headers"], _date(w["createdAt"]) or utcnow()
                    ))  # fmt: skip
                    counts["webhooks"] += 1
            elif "searchRule" in item:
                rule = item["searchRule"]
                rule_rows.put(conn, rule, utcnow())  # lastUpdatedAt stays in the rule
                counts["searchRules"] += 1
    return counts

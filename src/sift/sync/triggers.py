"""PostgreSQL without logical replication: triggers write changed keys to a change log.

For databases where `wal_level=logical` cannot be set. Row triggers on each table record
the primary key of every inserted, updated or deleted row (a statement trigger records a
TRUNCATE) in `sift_sync.changes`; the reader takes log rows in id order and reads the rows'
current state back from the table, so a row present (and selected by `where`) becomes a
document and a missing one a deletion. Reading state, not images, makes replaying a log
row harmless; exactly-once still holds because the ids of the log rows a commit used are
its position, deleted from the log only after Sift committed them (and again at start,
should Sift have died in between).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from psycopg import sql
from psycopg.rows import dict_row

from sift.sync.changes import Commit, Event, RowChange, Truncate
from sift.sync.config import TableConfig
from sift.sync.errors import PositionLost
from sift.sync.postgres import PostgresQueries, table_ident

POLL_S = 0.05
BATCH = 5000

SETUP = """
CREATE SCHEMA IF NOT EXISTS sift_sync;
CREATE TABLE IF NOT EXISTS sift_sync.changes (
  id bigserial PRIMARY KEY,
  source text NOT NULL,
  tbl text NOT NULL,
  op "char" NOT NULL,
  pk text,
  at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX IF NOT EXISTS changes_source_id ON sift_sync.changes (source, id);
CREATE OR REPLACE FUNCTION sift_sync.capture() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  tbl text := TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME;
  old_key text;
  new_key text;
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    INSERT INTO sift_sync.changes (source, tbl, op) VALUES (TG_ARGV[0], tbl, 'T');
    RETURN NULL;
  END IF;
  IF TG_OP <> 'INSERT' THEN
    old_key := to_jsonb(OLD) ->> TG_ARGV[1];
    INSERT INTO sift_sync.changes (source, tbl, op, pk) VALUES (TG_ARGV[0], tbl, 'C', old_key);
  END IF;
  IF TG_OP <> 'DELETE' THEN
    new_key := to_jsonb(NEW) ->> TG_ARGV[1];
    IF new_key IS DISTINCT FROM old_key THEN
      INSERT INTO sift_sync.changes (source, tbl, op, pk) VALUES (TG_ARGV[0], tbl, 'C', new_key);
    END IF;
  END IF;
  RETURN NULL;
END $$;
"""


class TriggerReader(PostgresQueries):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._inflight: set[int] = set()  # log ids read but not yet committed to Sift

    def _trigger(self, suffix: str = "") -> sql.Identifier:
        return sql.Identifier(f"sift_{self.config.name}{suffix}")

    def start_position(self) -> dict[str, Any]:
        self.query(SETUP)
        for table in self.config.tables:
            ident = table_ident(table)
            args = sql.SQL("{}, {}").format(sql.Literal(self.config.name),
                                            sql.Literal(table.primary_key))  # fmt: skip
            for suffix, when in (("", "INSERT OR UPDATE OR DELETE"), ("_truncate", "TRUNCATE")):
                level = "STATEMENT" if suffix else "ROW"
                self.query(sql.SQL("DROP TRIGGER IF EXISTS {} ON {}").format(
                    self._trigger(suffix), ident))  # fmt: skip
                self.query(sql.SQL(
                    "CREATE TRIGGER {} AFTER " + when + " ON {} FOR EACH " + level +
                    " EXECUTE FUNCTION sift_sync.capture({})").format(
                    self._trigger(suffix), ident, args))  # fmt: skip
        # The snapshot that follows reads every row: older log rows are covered by it.
        self.query("DELETE FROM sift_sync.changes WHERE source = %s", (self.config.name,))
        return {"ack": []}

    def check_position(self, position: dict[str, Any]) -> None:
        found = self.query(
            "SELECT count(*) FROM pg_trigger WHERE tgname = %s",
            (f"sift_{self.config.name}",),
        )
        if not found or found[0][0] < len(self.config.tables):
            raise PositionLost(
                f"the change-log triggers of source {self.config.name} are missing; "
                f"re-snapshot with `sift sync resnapshot {self.config.name}`"
            )

    def lag_bytes(self, position: dict[str, Any]) -> int | None:
        return None  # a change log has rows, not bytes: see lagRows

    def ack(self, position: dict[str, Any]) -> None:
        ids = [int(i) for i in position.get("ack", [])]
        if ids:
            self.query("DELETE FROM sift_sync.changes WHERE id = ANY(%s)", (ids,))
            self._inflight.difference_update(ids)

    def changes(self, position: dict[str, Any], stop: threading.Event) -> Iterator[Event]:
        self.ack(position)  # committed to Sift before a restart: finish acknowledging it
        tables = {t.table: t for t in self.config.tables}
        while not stop.is_set():
            rows = self.query(
                "SELECT id, tbl, op, pk, extract(epoch FROM at) FROM sift_sync.changes "
                "WHERE source = %s AND id <> ALL(%s) ORDER BY id LIMIT %s",
                (self.config.name, list(self._inflight), BATCH),
            )
            if not rows:
                stop.wait(POLL_S)
                continue
            self._inflight.update(r[0] for r in rows)
            yield from self._events(tables, rows)
            yield Commit({"ack": sorted(self._inflight)}, float(rows[-1][4]))

    def _events(self, tables: dict[str, TableConfig],
                rows: list[tuple[Any, ...]]) -> Iterator[Event]:  # fmt: skip
        """Runs of changed keys between TRUNCATEs, each read back from its table at once."""
        run: dict[str, list[str]] = {}
        for _, tbl, op, pk, _ in rows:
            if tbl not in tables:
                continue
            if op == "T":
                yield from self._read_back(tables, run)
                run = {}
                yield Truncate(tbl)
            elif pk is not None:
                run.setdefault(tbl, []).append(pk)
        yield from self._read_back(tables, run)

    def _read_back(self, tables: dict[str, TableConfig],
                   run: dict[str, list[str]]) -> Iterator[RowChange]:  # fmt: skip
        for tbl, keys in run.items():
            table = tables[tbl]
            unique = list(dict.fromkeys(keys))
            if tbl not in self._pk_types:
                self.columns(table)
            statement = sql.SQL("SELECT * FROM {} WHERE {} = ANY(%s::{}[])").format(
                table_ident(table), sql.Identifier(table.primary_key),
                sql.Identifier(self._pk_types[tbl]))  # fmt: skip
            if table.where:
                statement += sql.SQL(" AND ({})").format(sql.SQL(table.where))  # type: ignore[arg-type]
            with self._lock, self.conn().cursor(row_factory=dict_row) as cur:
                cur.execute(statement, (unique,))
                found = {str(r[table.primary_key]): r for r in cur.fetchall()}
            for key in unique:
                row = found.get(key)
                if row is None:
                    yield RowChange(tbl, "delete", {table.primary_key: key})
                else:
                    yield RowChange(tbl, "upsert", row)

    def passing(self, table: TableConfig, keys: list[Any]) -> set[str]:
        return {str(k) for k in keys}  # read back with `where` already: all of them pass

    def close(self) -> None:
        self._inflight.clear()  # the log keeps what was not acknowledged
        super().close()

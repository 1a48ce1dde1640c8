"""MySQL and MariaDB: snapshot through PyMySQL, change capture from the row-based binlog
(python-mysql-replication), position = binlog file and offset after a transaction.

Column names: with `binlog_row_metadata=FULL` (MySQL 8.0.14+, MariaDB 10.5+) the binlog
carries them; without it, rows arrive by ordinal and are named from the table's columns
in `information_schema`, re-read whenever the binlog shows an ALTER TABLE of that table.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from typing import Any

import pymysql
from pymysqlreplication import BinLogStreamReader
from pymysqlreplication.event import QueryEvent, RotateEvent, XidEvent
from pymysqlreplication.row_event import DeleteRowsEvent, UpdateRowsEvent, WriteRowsEvent

from sift.sync.changes import Commit, Event, RowChange, SchemaChanged, Truncate
from sift.sync.config import SourceConfig, TableConfig
from sift.sync.convert import kind_of
from sift.sync.errors import CaptureUnavailable, PositionLost

log = logging.getLogger("sift.sync")
# The library warns, in several lines, at every connection when the binlog has no column
# names; Sift says it once per reader, in one line, and copes (see the module docstring).
logging.getLogger("pymysqlreplication").setLevel(logging.ERROR)

DDL = re.compile(
    r"^\s*(?:/\*.*?\*/\s*)*(truncate|alter)\s+(?:online\s+|ignore\s+)*(?:table\s+)?"
    r"(?:`?(\w+)`?\s*\.\s*)?`?(\w+)`?",
    re.IGNORECASE | re.DOTALL,
)
JSON_CHECK = re.compile(r"json_valid\(`?(\w+)`?\)", re.IGNORECASE)
EVENTS = [WriteRowsEvent, UpdateRowsEvent, DeleteRowsEvent, QueryEvent, XidEvent, RotateEvent]
UNNAMED = re.compile(r"^UNKNOWN_COL(\d+)$")


def quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


class MySQLReader:
    def __init__(self, config: SourceConfig) -> None:
        self.config = config
        url = config.url
        self.database = url.database or ""
        self.settings = {
            "host": url.host or "127.0.0.1",
            "port": url.port or 3306,
            "user": url.username or "root",
            "password": url.password or "",
        }
        self._conn: Any = None
        self._stream: BinLogStreamReader | None = None
        self._ordinals: dict[str, list[str]] = {}
        self._lock = threading.Lock()  # the runner and the binlog thread share `conn`
        self._closed = threading.Event()

    # -- plain queries -------------------------------------------------------------
    def conn(self) -> Any:
        if self._conn is None:
            self._conn = pymysql.connect(
                host=self.settings["host"], port=self.settings["port"],
                user=self.settings["user"], password=self.settings["password"],
                database=self.database, charset="utf8mb4", autocommit=True,
                connect_timeout=5, read_timeout=60, write_timeout=60,
            )  # fmt: skip
        return self._conn

    def connect(self) -> None:
        """Connect now (the snapshot reader process, before it may read)."""
        with self._lock:
            self.conn()

    def query(self, sql: str, args: Any = None) -> list[tuple[Any, ...]]:
        with self._lock, self.conn().cursor() as cur:
            cur.execute(sql, args)
            return list(cur.fetchall())

    def _split(self, table: TableConfig) -> tuple[str, str]:
        schema, name = table.schema_and_name
        return schema or self.database, name

    def qualified(self, table: TableConfig) -> str:
        schema, name = self._split(table)
        return f"{quote(schema)}.{quote(name)}"

    def columns(self, table: TableConfig) -> dict[str, str]:
        """Column -> kind, in the table's column order."""
        schema, name = self._split(table)
        rows = self.query(
            "SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE FROM information_schema.COLUMNS "
            "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s ORDER BY ORDINAL_POSITION",
            (schema, name),
        )
        if not rows:
            raise CaptureUnavailable(f"table {schema}.{name} does not exist")
        self._ordinals[table.table] = [r[0] for r in rows]
        kinds = {r[0]: kind_of(r[1], r[2]) for r in rows}
        # MariaDB's JSON is LONGTEXT with a json_valid() check: that check names the column.
        checks = self.query(
            "SELECT CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS "
            "WHERE CONSTRAINT_SCHEMA = %s AND TABLE_NAME = %s", (schema, name)
        )
        for (clause,) in checks:
            for column in JSON_CHECK.findall(str(clause)):
                if column in kinds:
                    kinds[column] = "json"
        return kinds

    def count(self, table: TableConfig) -> int:
        where = f" WHERE ({table.where})" if table.where else ""
        return int(self.query(f"SELECT COUNT(*) FROM {self.qualified(table)}{where}")[0][0])

    def rows_after(self, table: TableConfig, after: Any, limit: int) -> list[dict[str, Any]]:
        """A snapshot batch: rows in primary-key order after `after` (None: from the start)."""
        pk = quote(table.primary_key)
        clauses = [f"({table.where})"] if table.where else []
        args: list[Any] = []
        if after is not None:
            clauses.append(f"{pk} > %s")
            args.append(after)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = f"SELECT * FROM {self.qualified(table)}{where} ORDER BY {pk} LIMIT {int(limit)}"
        with self._lock, self.conn().cursor() as cur:
            cur.execute(sql, args)
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def passing(self, table: TableConfig, keys: list[Any]) -> set[str]:
        """Which of these primary keys (as text) the table's `where` selects, on the source
        now: a later change of the row is still to come, so this converges too."""
        if not table.where or not keys:
            return {str(k) for k in keys}
        marks = ", ".join(["%s"] * len(keys))
        sql = (f"SELECT {quote(table.primary_key)} FROM {self.qualified(table)} "
               f"WHERE {quote(table.primary_key)} IN ({marks}) AND ({table.where})")  # fmt: skip
        return {str(r[0]) for r in self.query(sql, keys)}

    # -- positions -----------------------------------------------------------------
    def start_position(self) -> dict[str, Any]:
        try:
            rows = self.query("SHOW MASTER STATUS")
        except pymysql.err.ProgrammingError:  # MySQL 8.4 renamed it
            rows = self.query("SHOW BINARY LOG STATUS")
        if not rows or not rows[0][0]:
            raise CaptureUnavailable(
                "the binlog is off on this server: set log_bin and binlog_format=ROW "
                "(docs/sync.md)"
            )
        fmt = self.query("SELECT @@binlog_format")[0][0]
        if str(fmt).upper() != "ROW":
            raise CaptureUnavailable(f"binlog_format is {fmt}; change capture needs ROW")
        return {"file": rows[0][0], "pos": int(rows[0][1])}

    def check_position(self, position: dict[str, Any]) -> None:
        files = {r[0] for r in self.query("SHOW BINARY LOGS")}
        if position["file"] not in files:
            raise PositionLost(
                f"binlog file {position['file']} is no longer on the server (purged); "
                f"re-snapshot with `sift sync resnapshot {self.config.name}`"
            )

    def lag_bytes(self, position: dict[str, Any]) -> int | None:
        rows = self.query("SHOW BINARY LOGS")
        behind, counting = 0, False
        for name, size, *_ in rows:
            if name == position["file"]:
                counting = True
                behind += int(size) - int(position["pos"])
            elif counting:
                behind += int(size)
        return behind if counting else None

    def ack(self, position: dict[str, Any]) -> None:
        """Nothing to tell a MySQL server: the binlog is read, not consumed."""

    # -- change capture ------------------------------------------------------------
    def changes(self, position: dict[str, Any], stop: threading.Event) -> Iterator[Event]:
        tables = {self._split(t): t for t in self.config.tables}
        for table in self.config.tables:
            self.columns(table)
        metadata = self.query("SHOW VARIABLES LIKE 'binlog_row_metadata'")
        if not metadata or str(metadata[0][1]).upper() != "FULL":
            log.warning("binlog_row_metadata is not FULL: columns are named by position from "
                        "information_schema (docs/sync.md)",
                        extra={"source": self.config.name})  # fmt: skip
        self._stream = BinLogStreamReader(
            connection_settings=dict(self.settings),
            server_id=self.config.server_id,
            resume_stream=True,
            blocking=True,
            log_file=position["file"],
            log_pos=int(position["pos"]),
            only_events=EVENTS,
            # Row events of other tables (the server's other databases) are not decoded.
            only_schemas=sorted({schema for schema, _ in tables}),
            only_tables=sorted({name for _, name in tables}),
            slave_heartbeat=1.0,
            enable_logging=False,
            pymysql_wrapper=self._connect_stream,
        )
        stream = self._stream
        try:
            for event in stream:
                if stop.is_set():
                    return
                here = {"file": stream.log_file, "pos": int(stream.log_pos)}
                if isinstance(event, XidEvent):
                    yield Commit(here, float(event.timestamp))
                elif isinstance(event, QueryEvent):
                    yield from self._query_event(event, tables, here)
                elif isinstance(event, WriteRowsEvent | UpdateRowsEvent | DeleteRowsEvent):
                    table = tables.get((event.schema, event.table))
                    if table is not None:
                        yield from self._row_event(event, table)
        finally:
            stream.close()

    def _connect_stream(self, **kwargs: Any) -> Any:
        # The binlog library reconnects by itself when its connection breaks; once this
        # reader is closed it must not, or a stopped source would keep a dump thread on
        # the server (which also stops PURGE BINARY LOGS from removing the files it reads).
        if self._closed.is_set():
            raise ConnectionError("the binlog reader is closed")
        return pymysql.connect(**kwargs)

    def _query_event(self, event: QueryEvent, tables: dict[tuple[str, str], TableConfig],
                     here: dict[str, Any]) -> Iterator[Event]:  # fmt: skip
        query = event.query.decode() if isinstance(event.query, bytes) else str(event.query)
        schema = event.schema.decode() if isinstance(event.schema, bytes) else str(event.schema)
        if query.strip().upper() == "COMMIT":  # a non-transactional engine's commit
            yield Commit(here, float(event.timestamp))
            return
        match = DDL.match(query)
        if match is None:
            return
        table = tables.get((match.group(2) or schema, match.group(3)))
        if table is None:
            return
        if match.group(1).lower() == "truncate":
            yield Truncate(table.table)
        else:
            self.columns(table)
            yield SchemaChanged(table.table)
        yield Commit(here, float(event.timestamp))  # DDL commits on its own

    def _named(self, table: TableConfig, values: dict[str, Any]) -> dict[str, Any]:
        names = self._ordinals.get(table.table, [])
        row = {}
        for key, value in values.items():
            unnamed = UNNAMED.match(key)
            if unnamed is not None and int(unnamed.group(1)) < len(names):
                key = names[int(unnamed.group(1))]
            row[key] = value
        return row

    def _row_event(self, event: Any, table: TableConfig) -> Iterator[Event]:
        pk = table.primary_key
        for row in event.rows:
            if isinstance(event, UpdateRowsEvent):
                before = self._named(table, row["before_values"])
                after = self._named(table, row["after_values"])
                if before.get(pk) != after.get(pk):
                    yield RowChange(table.table, "delete", before)
                yield RowChange(table.table, "upsert", after)
            elif isinstance(event, WriteRowsEvent):
                yield RowChange(table.table, "upsert", self._named(table, row["values"]))
            else:
                yield RowChange(table.table, "delete", self._named(table, row["values"]))

    def close(self) -> None:
        self._closed.set()
        for closable in (self._stream, self._conn):
            try:
                if closable is not None:
                    closable.close()
            except Exception:  # already broken: closing is best effort
                pass
        self._stream = self._conn = None

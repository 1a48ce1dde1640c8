"""PostgreSQL: snapshot through psycopg 3, change capture by logical replication.

A publication (`sift_<source>`, the source's tables) and a replication slot with the
built-in `pgoutput` plugin; changes are streamed over the replication protocol with
psycopg2's LogicalReplicationConnection (psycopg 3 does not speak it), decoded by
pgoutput.py. Position = the end LSN of the last source transaction committed to Sift;
the slot is told (flush LSN) only after that commit, so PostgreSQL keeps every change
Sift has not made durable, and resuming starts after the stored LSN. Why streaming and
not polling `pg_logical_slot_get_changes()` or triggers: measured in docs/sync.md.
"""

from __future__ import annotations

import contextlib
import select
import threading
from collections.abc import Iterator
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.numeric import FloatLoader
from psycopg.types.string import TextLoader

from sift.sync.changes import Commit, Event, RowChange, SchemaChanged, Truncate
from sift.sync.config import SourceConfig, TableConfig
from sift.sync.convert import kind_of
from sift.sync.errors import CaptureUnavailable, PositionLost
from sift.sync.pgoutput import (
    Begin,
    Change,
    CommitMessage,
    Decoder,
    RelationMessage,
    TruncateMessage,
)


def conninfo(config: SourceConfig) -> str:
    url = config.url
    params = {"host": url.host or "127.0.0.1", "port": url.port or 5432,
              "user": url.username or "postgres", "password": url.password,
              "dbname": url.database, **dict(url.query)}  # fmt: skip
    return psycopg.conninfo.make_conninfo(**{k: v for k, v in params.items() if v is not None})


def table_ident(table: TableConfig) -> sql.Composable:
    schema, name = table.schema_and_name
    return sql.Identifier(schema or "public", name)


class PostgresQueries:
    """What every PostgreSQL reader asks with plain SQL (one connection, autocommit)."""

    def __init__(self, config: SourceConfig) -> None:
        self.config = config
        self._conn: psycopg.Connection[Any] | None = None
        self._lock = threading.Lock()
        self._pk_types: dict[str, str] = {}
        self._numeric: dict[str, set[str]] = {}  # per table: its NUMERIC columns

    def conn(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(conninfo(self.config), autocommit=True,
                                         connect_timeout=5)  # fmt: skip
        return self._conn

    def connect(self) -> None:
        """Connect now (the snapshot reader process, before it may read)."""
        with self._lock:
            self.conn()

    def query(self, statement: Any, args: Any = None) -> list[tuple[Any, ...]]:
        with self._lock:
            cur = self.conn().execute(statement, args)
            return cur.fetchall() if cur.description else []

    def columns(self, table: TableConfig) -> dict[str, str]:
        schema, name = table.schema_and_name
        rows = self.query(
            "SELECT column_name, data_type, udt_name FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
            (schema or "public", name),
        )
        if not rows:
            raise CaptureUnavailable(f"table {table.table} does not exist")
        for column, _, udt in rows:
            if column == table.primary_key:
                self._pk_types[table.table] = udt
        self._numeric[table.table] = {r[0] for r in rows if r[2] == "numeric"}
        return {r[0]: "array" if r[1] == "ARRAY" else kind_of(r[1]) for r in rows}

    def count(self, table: TableConfig) -> int:
        statement = sql.SQL("SELECT count(*) FROM {}").format(table_ident(table))
        if table.where:
            statement += sql.SQL(" WHERE ({})").format(sql.SQL(table.where))  # type: ignore[arg-type]
        return int(self.query(statement)[0][0])

    def rows_after(self, table: TableConfig, after: Any, limit: int) -> list[dict[str, Any]]:
        pk = sql.Identifier(table.primary_key)
        clauses: list[sql.Composable] = []
        if table.where:
            clauses.append(sql.SQL("({})").format(sql.SQL(table.where)))  # type: ignore[arg-type]
        if after is not None:
            clauses.append(sql.SQL("{} > %s").format(pk))
        statement = sql.SQL("SELECT * FROM {}").format(table_ident(table))
        if clauses:
            statement += sql.SQL(" WHERE ") + sql.SQL(" AND ").join(clauses)
        statement += sql.SQL(" ORDER BY {} LIMIT {}").format(pk, sql.Literal(int(limit)))
        if table.table not in self._numeric:
            self.columns(table)
        with self._lock, self.conn().cursor() as cur:
            # Values psycopg loads in C instead of Python objects that convert.py turns
            # into something else: JSON as text (convert.py parses it with orjson, as it
            # parses pgoutput's; psycopg's JSON loader called back into Python for every
            # value), and NUMERIC as float where the table makes a number of it (Decimal
            # first, then float, was a tenth of reading a snapshot batch).
            for json_type in ("json", "jsonb"):
                cur.adapters.register_loader(json_type, TextLoader)
            if self._numeric[table.table] and all(
                column != table.primary_key and table.types.get(column, "number") == "number"
                for column in self._numeric[table.table]
            ):
                cur.adapters.register_loader("numeric", FloatLoader)
            cur.execute(statement, [after] if after is not None else None)
            # Tuples zipped with the column names: cheaper than psycopg's dict_row.
            names = [column.name for column in cur.description or ()]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def passing(self, table: TableConfig, keys: list[Any]) -> set[str]:
        if not table.where or not keys:
            return {str(k) for k in keys}
        if table.table not in self._pk_types:
            self.columns(table)
        pk = sql.Identifier(table.primary_key)
        statement = sql.SQL("SELECT {pk}::text FROM {t} WHERE {pk} = ANY(%s::{typ}[]) AND ({w})")
        statement = statement.format(pk=pk, t=table_ident(table),
                                     typ=sql.Identifier(self._pk_types[table.table]),
                                     w=sql.SQL(table.where))  # type: ignore[arg-type]  # fmt: skip
        return {r[0] for r in self.query(statement, ([str(k) for k in keys],))}

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):  # already broken: closing is best effort
                conn.close()


class LogicalReader(PostgresQueries):
    def __init__(self, config: SourceConfig) -> None:
        super().__init__(config)
        self._flush_lsn = 0  # what Sift has made durable: the slot may forget before it
        self._replication: Any = None

    def _publication(self) -> None:
        name = self.config.publication
        wanted = {t.table for t in self.config.tables}
        exists = self.query("SELECT 1 FROM pg_publication WHERE pubname = %s", (name,))
        idents = [table_ident(t) for t in self.config.tables]
        if not exists:
            self.query(sql.SQL("CREATE PUBLICATION {} FOR TABLE {}").format(
                sql.Identifier(name), sql.SQL(", ").join(idents)))  # fmt: skip
            return
        present = {f"{s}.{t}" for s, t in self.query(
            "SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = %s",
            (name,))}  # fmt: skip
        missing = [table_ident(t) for t in self.config.tables if t.table in wanted - present]
        if missing:
            self.query(sql.SQL("ALTER PUBLICATION {} ADD TABLE {}").format(
                sql.Identifier(name), sql.SQL(", ").join(missing)))  # fmt: skip

    def start_position(self) -> dict[str, Any]:
        level = self.query("SHOW wal_level")[0][0]
        if level != "logical":
            raise CaptureUnavailable(
                f"wal_level is {level}; logical replication needs wal_level=logical "
                "(or capture = \"triggers\", docs/sync.md)"
            )
        self._publication()
        slot = self.config.slot
        if self.query("SELECT 1 FROM pg_replication_slots WHERE slot_name = %s", (slot,)):
            self.query("SELECT pg_drop_replication_slot(%s)", (slot,))  # a fresh start point
        lsn = self.query(
            "SELECT lsn::text FROM pg_create_logical_replication_slot(%s, 'pgoutput')", (slot,)
        )[0][0]
        return {"lsn": parse_lsn(lsn)}

    def check_position(self, position: dict[str, Any]) -> None:
        found = self.query(
            "SELECT confirmed_flush_lsn::text FROM pg_replication_slots "
            "WHERE slot_name = %s AND database = current_database()", (self.config.slot,)
        )
        if not found:
            raise PositionLost(
                f"replication slot {self.config.slot} no longer exists; re-snapshot with "
                f"`sift sync resnapshot {self.config.name}`"
            )
        self._publication()

    def lag_bytes(self, position: dict[str, Any]) -> int | None:
        current = parse_lsn(self.query("SELECT pg_current_wal_lsn()::text")[0][0])
        return max(0, current - int(position["lsn"]))

    def ack(self, position: dict[str, Any]) -> None:
        self._flush_lsn = max(self._flush_lsn, int(position["lsn"]))

    def changes(self, position: dict[str, Any], stop: threading.Event) -> Iterator[Event]:
        import psycopg2
        import psycopg2.extras

        start = int(position["lsn"])
        self._flush_lsn = start
        factory = psycopg2.extras.LogicalReplicationConnection
        conn = psycopg2.connect(conninfo(self.config), connection_factory=factory)
        self._replication = conn
        cur = conn.cursor()
        cur.start_replication(
            slot_name=self.config.slot, decode=False, start_lsn=start, status_interval=5,
            options={"proto_version": "1", "publication_names": self.config.publication},
        )  # fmt: skip
        tables = {t.table for t in self.config.tables}
        decoder = Decoder()
        known: dict[str, list[str]] = {}
        sent = start
        skipping = False
        try:
            while not stop.is_set():
                if self._flush_lsn > sent:
                    sent = self._flush_lsn
                    cur.send_feedback(write_lsn=sent, flush_lsn=sent, apply_lsn=sent)
                message = cur.read_message()
                if message is None:
                    select.select([cur], [], [], 0.2)
                    continue
                decoded = decoder.decode(message.payload)
                if isinstance(decoded, Begin):
                    # Already committed to Sift before a restart: its changes are skipped.
                    skipping = decoded.final_lsn < start
                elif skipping:
                    continue
                elif isinstance(decoded, CommitMessage):
                    yield Commit({"lsn": decoded.end_lsn}, decoded.at)
                elif isinstance(decoded, RelationMessage):
                    relation = decoded.relation
                    if relation.key in tables:
                        if relation.key in known and known[relation.key] != relation.columns:
                            yield SchemaChanged(relation.key)
                        known[relation.key] = relation.columns
                elif isinstance(decoded, Change) and decoded.relation.key in tables:
                    yield from _row_changes(decoded)
                elif isinstance(decoded, TruncateMessage):
                    for relation in decoded.relations:
                        if relation.key in tables:
                            yield Truncate(relation.key)
        finally:
            self._close_replication()

    def _close_replication(self) -> None:
        conn, self._replication = self._replication, None
        if conn is not None:
            with contextlib.suppress(Exception):  # already broken: closing is best effort
                conn.close()

    def close(self) -> None:
        self._close_replication()
        super().close()


def _row_changes(change: Change) -> Iterator[RowChange]:
    table = change.relation.key
    if change.op == "delete":
        yield RowChange(table, "delete", change.row)
        return
    if change.old is not None:  # the key changed: the old document goes
        yield RowChange(table, "delete", change.old)
    yield RowChange(table, "upsert", change.row)


def parse_lsn(text: str) -> int:
    high, _, low = text.partition("/")
    return (int(high, 16) << 32) + int(low, 16)

"""Source databases for the sync benchmark: a products table in a fresh MariaDB or
PostgreSQL database, loaded fast (multi-row INSERT, COPY), and dropped afterwards."""

from __future__ import annotations

import contextlib
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from benchmarks.ingest.dataset import document

MYSQL = "mysql://root@127.0.0.1:3306"
POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"

COLUMNS = ("id", "title", "brand", "price", "tags", "rating", "in_stock")
MYSQL_TABLE = """CREATE TABLE products (id INT PRIMARY KEY, title VARCHAR(200), brand VARCHAR(50),
  price DECIMAL(10,2), tags JSON, rating INT, in_stock BOOLEAN)"""
PG_TABLE = """CREATE TABLE products (id INT PRIMARY KEY, title VARCHAR(200), brand VARCHAR(50),
  price NUMERIC(10,2), tags JSONB, rating INT, in_stock BOOLEAN)"""


def row(rng: random.Random, doc_id: int) -> tuple[Any, ...]:
    doc = document(rng, doc_id)
    return (doc_id, doc["title"], doc["brand"], doc["price"], orjson.dumps(doc["tags"]).decode(),
            doc["rating"], doc["in_stock"])  # fmt: skip


@dataclass
class Source:
    kind: str  # "mysql" or "postgresql"
    url: str
    conn: Any

    def execute(self, sql: str, args: Any = None) -> None:
        if self.kind == "mysql":
            with self.conn.cursor() as cur:
                cur.execute(sql, args)
        else:
            self.conn.execute(sql, args)

    def transaction(self, statements: list[tuple[str, Any]]) -> None:
        """Several statements committed together (autocommit is off on these connections)."""
        for sql, args in statements:
            self.execute(sql, args)
        self.conn.commit()


def connect(kind: str, url: str) -> Source:
    """Another connection (not autocommit) to a source made by `source()`."""
    if kind == "mysql":
        import pymysql

        return Source(kind, url, pymysql.connect(host="127.0.0.1", user="root",
                                                 database=url.rsplit("/", 1)[1]))  # fmt: skip
    import psycopg

    return Source(kind, url, psycopg.connect(url))


@contextlib.contextmanager
def source(kind: str, rows: int, seed: int = 42) -> Iterator[Source]:
    name = f"sift_bench_{uuid.uuid4().hex[:8]}"
    rng = random.Random(seed)
    if kind == "mysql":
        import pymysql

        admin = pymysql.connect(host="127.0.0.1", user="root", autocommit=True)
        admin.cursor().execute(f"CREATE DATABASE {name}")
        conn = pymysql.connect(host="127.0.0.1", user="root", database=name)
        with conn.cursor() as cur:
            cur.execute(MYSQL_TABLE)
            marks = "(" + ", ".join(["%s"] * len(COLUMNS)) + ")"
            for start in range(0, rows, 5000):
                batch = [row(rng, i) for i in range(start, min(rows, start + 5000))]
                cur.executemany(f"INSERT INTO products VALUES {marks}", batch)
        conn.commit()
        try:
            yield Source(kind, f"{MYSQL}/{name}", conn)
        finally:
            conn.close()
            admin.cursor().execute(f"DROP DATABASE {name}")
            admin.close()
        return
    import psycopg

    admin = psycopg.connect(POSTGRES, autocommit=True)
    admin.execute(f"CREATE DATABASE {name}")
    url = POSTGRES.rsplit("/", 1)[0] + "/" + name
    conn = psycopg.connect(url)
    conn.execute(PG_TABLE)
    with conn.cursor().copy(f"COPY products ({', '.join(COLUMNS)}) FROM STDIN") as copy:
        for i in range(rows):
            copy.write_row(row(rng, i))
    conn.commit()
    try:
        yield Source(kind, url, conn)
    finally:
        conn.close()
        for (slot,) in admin.execute("SELECT slot_name FROM pg_replication_slots "
                                     "WHERE database = %s", (name,)).fetchall():  # fmt: skip
            with contextlib.suppress(psycopg.Error):
                admin.execute("SELECT pg_drop_replication_slot(%s)", (slot,))
        admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
        admin.close()

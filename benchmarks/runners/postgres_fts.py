"""PostgreSQL full-text search: to_tsvector('english') + GIN, ranked by ts_rank_cd."""

from __future__ import annotations

import os
import secrets
from collections.abc import Sequence
from typing import Any

from benchmarks.runners.base import Doc, Runner, RunnerUnavailable, query_terms

DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/test"
CONFIG = "english"


class PostgresRunner(Runner):
    name = "postgres"

    def __init__(self, dsn: str | None = None) -> None:
        try:
            import psycopg
        except ImportError as exc:
            raise RunnerUnavailable("psycopg is not installed") from exc
        self._dsn = dsn or os.environ.get("BENCH_POSTGRES_DSN", DEFAULT_DSN)
        try:
            self._conn = psycopg.connect(self._dsn, autocommit=True)
        except psycopg.OperationalError as exc:
            raise RunnerUnavailable(f"cannot connect to {self._dsn}: {exc}") from exc
        # A private schema per run, so parallel runs and other users of `test` never clash.
        self._schema = f"bench_{secrets.token_hex(4)}"
        self._conn.execute(f"CREATE SCHEMA {self._schema}")
        self._conn.execute(
            f"CREATE TABLE {self._schema}.docs (doc_id text PRIMARY KEY, contents text NOT NULL, "
            f"tsv tsvector GENERATED ALWAYS AS (to_tsvector('{CONFIG}', contents)) STORED)"
        )
        self._version = "?"

    def index(self, docs: Sequence[Doc]) -> None:
        table = f"{self._schema}.docs"
        with (
            self._conn.cursor() as cur,
            cur.copy(f"COPY {table} (doc_id, contents) FROM STDIN") as copy,
        ):
            for doc in docs:
                copy.write_row((doc.id, doc.contents))
        # Built after the load, as one would for a bulk import.
        self._conn.execute(f"CREATE INDEX ON {table} USING gin (tsv)")
        self._conn.execute(f"ANALYZE {table}")
        self._version = self._conn.execute("SHOW server_version").fetchone()[0]

    def search(self, query: str, k: int) -> list[str]:
        terms = query_terms(query)
        if not terms:
            return []
        rows = self._conn.execute(
            f"SELECT doc_id FROM {self._schema}.docs, "
            f"websearch_to_tsquery('{CONFIG}', %s) q "
            f"WHERE tsv @@ q ORDER BY ts_rank_cd(tsv, q) DESC, doc_id LIMIT %s",
            # websearch syntax reads a bare "or" as the OR operator.
            (" or ".join(terms), k),
        )
        return [row[0] for row in rows]

    def settings(self) -> dict[str, Any]:
        return {
            "version": f"PostgreSQL {self._version}",
            "document": f"to_tsvector('{CONFIG}', title || ' ' || text), GIN index",
            "query": f"websearch_to_tsquery('{CONFIG}', 't1 or t2 or ...')",
            "ranking": "ts_rank_cd(tsv, q), normalization 0",
        }

    def close(self) -> None:
        if not self._conn.closed:
            self._conn.execute(f"DROP SCHEMA IF EXISTS {self._schema} CASCADE")
            self._conn.close()

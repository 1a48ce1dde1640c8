"""SQLite FTS5 with the porter tokenizer, ranked by bm25()."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from benchmarks.runners.base import Doc, Runner, query_terms

TOKENIZER = "porter unicode61"


class Fts5Runner(Runner):
    name = "fts5"

    def __init__(self) -> None:
        # In memory: the benchmark measures ranking, not SQLite's page cache.
        self._db = sqlite3.connect(":memory:")
        self._db.execute(
            f"CREATE VIRTUAL TABLE docs USING fts5(doc_id UNINDEXED, contents, "
            f"tokenize = '{TOKENIZER}')"
        )

    def index(self, docs: Sequence[Doc]) -> None:
        with self._db:
            self._db.executemany(
                "INSERT INTO docs (doc_id, contents) VALUES (?, ?)",
                ((d.id, d.contents) for d in docs),
            )

    def search(self, query: str, k: int) -> list[str]:
        match = fts5_or_query(query)
        if not match:
            return []
        rows = self._db.execute(
            # bm25() is lower-is-better, hence ascending.
            "SELECT doc_id FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT ?",
            (match, k),
        )
        return [row[0] for row in rows]

    def settings(self) -> dict[str, Any]:
        return {
            "version": f"SQLite {sqlite3.sqlite_version}",
            "tokenize": TOKENIZER,
            "ranking": "bm25() (k1=1.2, b=0.75, fixed by FTS5)",
            "query": "terms OR-ed, each a quoted string",
            "fields": "title + ' ' + text",
        }

    def close(self) -> None:
        self._db.close()


def fts5_or_query(query: str) -> str:
    # A double-quoted FTS5 string is literal once inner quotes are doubled; words such as
    # AND/NOT/NEAR or a leading '-' would otherwise be read as operators.
    return " OR ".join('"' + term.replace('"', '""') + '"' for term in query_terms(query))

"""tantivy (Rust, Lucene-like) through its Python binding: default BM25, OR query."""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Sequence
from importlib import metadata
from typing import Any

from benchmarks.runners.base import Doc, Runner, RunnerUnavailable, query_terms

TOKENIZER = "en_stem"
# Characters the tantivy query grammar gives meaning to; escaped so a term stays a term.
_SYNTAX = re.compile(r'([+\-!(){}\[\]^"~*?:\\/<>=&|\'`])')


class TantivyRunner(Runner):
    name = "tantivy"

    def __init__(self) -> None:
        try:
            import tantivy
        except ImportError as exc:
            raise RunnerUnavailable("tantivy is not installed (pip install tantivy)") from exc
        self._tantivy = tantivy
        builder = tantivy.SchemaBuilder()
        builder.add_text_field("doc_id", stored=True, tokenizer_name="raw")
        builder.add_text_field("contents", stored=False, tokenizer_name=TOKENIZER)
        self._schema = builder.build()
        self._dir = tempfile.mkdtemp(prefix="bench-tantivy-")
        self._index = tantivy.Index(self._schema, path=self._dir)
        self._searcher: Any = None

    def index(self, docs: Sequence[Doc]) -> None:
        # One indexing thread: the benchmark machine is shared.
        writer = self._index.writer(heap_size=128_000_000, num_threads=1)
        for doc in docs:
            writer.add_document(self._tantivy.Document(doc_id=doc.id, contents=doc.contents))
        writer.commit()
        writer.wait_merging_threads()
        self._index.reload()
        self._searcher = self._index.searcher()

    def search(self, query: str, k: int) -> list[str]:
        terms = [_SYNTAX.sub(r"\\\1", t) for t in query_terms(query)]
        if not terms:
            return []
        # Lower-cased terms cannot be read as AND/OR/IN keywords; the parser ORs them.
        parsed = self._index.parse_query(" ".join(terms), ["contents"])
        result = self._searcher.search(parsed, limit=k)
        return [self._searcher.doc(addr)["doc_id"][0] for _score, addr in result.hits]

    def settings(self) -> dict[str, Any]:
        return {
            "version": metadata.version("tantivy"),
            "ranking": "BM25 (tantivy defaults k1=1.2, b=0.75)",
            "tokenizer": TOKENIZER,
            "query": "terms OR-ed (parse_query, disjunction)",
            "fields": "title + ' ' + text",
        }

    def close(self) -> None:
        self._searcher = None
        self._index = None
        shutil.rmtree(self._dir, ignore_errors=True)

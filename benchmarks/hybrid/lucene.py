"""Lucene BM25 with its scores: the project's Anserini runner (benchmarks/runners/
lucene_anserini.py, which reproduces Anserini's published BEIR scifact 0.6789), whose
run file also carries the BM25 score of every hit; the min-max blend needs them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from benchmarks.runners.base import Doc
from benchmarks.runners.lucene_anserini import LuceneRunner

CACHE_DIR = Path(__file__).resolve().parents[1] / ".cache"  # where the Anserini jar is kept


def parse_run(text: str, n_queries: int) -> list[tuple[list[str], list[float]]]:
    """A TREC run file written for topics q0..q{n-1} -> per query (ids, scores) by rank."""
    rows: dict[str, list[tuple[int, str, float]]] = {}
    for line in text.splitlines():
        qid, _q0, doc_id, rank, score, _tag = line.split()
        rows.setdefault(qid, []).append((int(rank), doc_id, float(score)))
    out = []
    for n in range(n_queries):
        hits = sorted(rows.get(f"q{n}", []))
        out.append(([h[1] for h in hits], [h[2] for h in hits]))
    return out


def search(
    docs: Sequence[Doc], queries: Sequence[str], depth: int, cache_dir: Path = CACHE_DIR
) -> list[tuple[list[str], list[float]]]:
    """Index `docs` (contents = title + " " + text) and run every query to `depth` hits."""
    with LuceneRunner(cache_dir) as runner:
        runner.index(docs)
        ranked = runner.search_batch(list(queries), depth).hits
        # search_batch leaves SearchCollection's run file in the runner's work folder.
        run_file = runner._workdir / "run.txt"
        scored = parse_run(run_file.read_text(encoding="utf-8"), len(queries))
    if [ids for ids, _ in scored] != ranked:
        raise RuntimeError("Lucene run file and runner hits disagree")
    return scored

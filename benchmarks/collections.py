"""Load test collections in BEIR layout: corpus.jsonl, queries.jsonl, qrels/test.tsv."""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.runners.base import Doc

# Where the collections are (README.md#data): SIFT_BENCH_DATA, else shared/data beside the
# repository, as on the project's machines.
DATA_ROOT = Path(
    os.environ.get("SIFT_BENCH_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data"
)

# Qrels are graded (nfcorpus uses 1-2); 0 means judged non-relevant.
Qrels = dict[str, dict[str, int]]


@dataclass(frozen=True)
class Collection:
    name: str
    docs: list[Doc]
    # Only the judged test queries, in qrels order: id -> text.
    queries: dict[str, str]
    qrels: Qrels

    def fingerprint(self) -> str:
        """A hash of the indexed text, so caches (embeddings) notice a changed corpus."""
        digest = hashlib.sha256()
        for doc in self.docs:
            for part in (doc.id, doc.title, doc.text):
                digest.update(part.encode())
                digest.update(b"\0")
        return digest.hexdigest()[:16]


def load_collection(path: Path) -> Collection:
    qrels = _read_qrels(path / "qrels" / "test.tsv")
    all_queries = {row["_id"]: row["text"] for row in _read_jsonl(path / "queries.jsonl")}
    queries = {qid: all_queries[qid] for qid in qrels if qid in all_queries}
    missing = set(qrels) - set(queries)
    if missing:
        raise ValueError(f"{path}: {len(missing)} judged queries have no text, e.g. {min(missing)}")
    docs = [
        Doc(id=str(row["_id"]), title=row.get("title") or "", text=row.get("text") or "")
        for row in _read_jsonl(path / "corpus.jsonl")
    ]
    return Collection(name=path.name, docs=docs, queries=queries, qrels=qrels)


def missing_data(data_root: Path) -> str:
    """What to tell someone whose machine has no collections (benchmarks/README.md#data)."""
    return (
        f"no --collections given and {data_root} does not exist. The relevance figures come "
        "from four public test collections in BEIR layout, one folder each (corpus.jsonl, "
        "queries.jsonl, qrels/test.tsv): scifact and nfcorpus from BEIR's datasets, cisi and "
        "npl (Vaswani) from the University of Glasgow's IR test collections. No package "
        "registry carries them and their licences (research use; SciFact is CC BY-NC) keep "
        f"Sift from shipping them: put the folders in {data_root}, set SIFT_BENCH_DATA to the "
        "folder that holds them, or pass --collections DIR,DIR. benchmarks/README.md#data "
        "says where each comes from and the checksums of the files behind the README's figures."
    )


def default_collection_paths(data_root: Path) -> list[Path]:
    return sorted(p for p in data_root.iterdir() if (p / "corpus.jsonl").is_file())


def subset(collection: Collection, max_docs: int, max_queries: int) -> Collection:
    """A small, still-meaningful slice: the first queries plus every doc they judge,
    topped up with other docs so the ranking has distractors."""
    query_ids = list(collection.queries)[:max_queries]
    judged = {doc_id for qid in query_ids for doc_id in collection.qrels[qid]}
    keep = [d for d in collection.docs if d.id in judged]
    for doc in collection.docs:
        if len(keep) >= max_docs:
            break
        if doc.id not in judged:
            keep.append(doc)
    return Collection(
        name=f"{collection.name}-smoke",
        docs=keep,
        queries={qid: collection.queries[qid] for qid in query_ids},
        qrels={qid: collection.qrels[qid] for qid in query_ids},
    )


def _read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _read_qrels(path: Path) -> Qrels:
    qrels: Qrels = {}
    # newline="" lets csv swallow the CRLF endings some BEIR files have.
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t")
        next(reader)  # header: query-id, corpus-id, score
        for row in reader:
            if not row:
                continue
            qid, doc_id, score = row[0].strip(), row[1].strip(), int(row[2])
            qrels.setdefault(qid, {})[doc_id] = score
    return qrels


def corpus_sizes(collections: Sequence[Collection]) -> dict[str, dict[str, int]]:
    return {c.name: {"docs": len(c.docs), "queries": len(c.queries)} for c in collections}

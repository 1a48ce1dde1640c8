"""BEIR-layout collections: corpus.jsonl, queries.jsonl, qrels/test.tsv (judged queries only)."""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from benchmarks.collections import DATA_ROOT

CACHE = Path(__file__).resolve().parents[1] / ".cache" / "hybrid"


@dataclass(frozen=True)
class Collection:
    name: str
    ids: list[str]
    titles: list[str]
    texts: list[str]
    queries: dict[str, str]  # judged test queries only
    qrels: dict[str, dict[str, int]]

    def contents(self) -> list[str]:
        """Title and body as one text, as the BEIR "flat" baselines index them."""
        return [f"{t} {x}".strip() for t, x in zip(self.titles, self.texts, strict=True)]

    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        for doc_id, text in zip(self.ids, self.contents(), strict=True):
            digest.update(f"{doc_id}\0{text}\0".encode())
        return digest.hexdigest()[:16]


def _jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _qrels(path: Path) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        rows = csv.reader((line.rstrip("\r\n") for line in fh), delimiter="\t")
        next(rows)  # header
        for row in rows:
            if len(row) >= 3:
                out.setdefault(row[0], {})[row[1]] = int(row[2])
    return out


def load(name: str, root: Path = DATA_ROOT) -> Collection:
    path = root / name
    qrels = _qrels(path / "qrels" / "test.tsv")
    texts = {str(r["_id"]): r["text"] for r in _jsonl(path / "queries.jsonl")}
    corpus = _jsonl(path / "corpus.jsonl")
    return Collection(
        name=name,
        ids=[str(r["_id"]) for r in corpus],
        titles=[r.get("title") or "" for r in corpus],
        texts=[r.get("text") or "" for r in corpus],
        queries={q: texts[q] for q in qrels if q in texts},
        qrels=qrels,
    )


def names(root: Path = DATA_ROOT) -> list[str]:
    return sorted(p.name for p in root.iterdir() if (p / "corpus.jsonl").is_file())

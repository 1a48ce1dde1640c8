"""The `rest` embedder source: the user's own embedding service, called over HTTP.

The ``request`` template is any JSON value holding the string ``"{{text}}"`` once; a
list ``["{{text}}", "{{..}}"]`` marks a batch endpoint, whose list is replaced by all
the texts of a batch. The ``response`` template mirrors the service's answer with
``"{{embedding}}"`` where the vector sits (``[..., "{{..}}"]`` after it: one per input).
"""

from __future__ import annotations

from typing import Any

import httpx
import numpy as np

from sift.errors import SiftError

TEXT = "{{text}}"
EMBEDDING = "{{embedding}}"
REPEAT = "{{..}}"
BATCH = 32
TIMEOUT_S = 30.0


def _find(value: Any, marker: str, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if value == marker:
        return [path]
    found: list[tuple[Any, ...]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _find(item, marker, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _find(item, marker, (*path, i))
    return found


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        value = value[step]
    return value


def check_templates(where: str, request: Any, response: Any) -> None:
    code = "invalid_settings_embedders"
    if request is None or len(_find(request, TEXT)) != 1:
        raise SiftError(f'{where}.request must contain `"{TEXT}"` exactly once.', code)
    if response is None or len(_find(response, EMBEDDING)) != 1:
        raise SiftError(f'{where}.response must contain `"{EMBEDDING}"` exactly once.', code)


def _is_batch(template: Any, path: tuple[Any, ...]) -> bool:
    """Whether the marker is the first item of a list ending with "{{..}}"."""
    if not path or path[-1] != 0:
        return False
    parent = _get(template, path[:-1])
    return isinstance(parent, list) and len(parent) == 2 and parent[1] == REPEAT


def _replace(template: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(template, dict):
        return {k: (_replace(v, rest, value) if k == head else v) for k, v in template.items()}
    return [(_replace(v, rest, value) if i == head else v) for i, v in enumerate(template)]


class RestEmbedder:
    def __init__(self, config: dict[str, Any], client: httpx.Client | None = None) -> None:
        self.url = config["url"]
        self.request = config["request"]
        self.response = config["response"]
        self.text_path = _find(self.request, TEXT)[0]
        self.embedding_path = _find(self.response, EMBEDDING)[0]
        self.batched = _is_batch(self.request, self.text_path)
        self.response_batched = _is_batch(self.response, self.embedding_path)
        headers = dict(config.get("headers") or {})
        if config.get("apiKey"):
            headers["Authorization"] = f"Bearer {config['apiKey']}"
        self.client = client or httpx.Client(timeout=TIMEOUT_S, headers=headers)

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        out: list[list[float]] = []
        step = BATCH if self.batched else 1
        for start in range(0, len(texts), step):
            out += self._call(texts[start : start + step])
        return np.asarray(out, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]

    def _call(self, texts: list[str]) -> list[list[float]]:
        if self.batched:
            body = _replace(self.request, self.text_path[:-1], list(texts))
        else:
            body = _replace(self.request, self.text_path, texts[0])
        try:
            reply = self.client.post(self.url, json=body)
            reply.raise_for_status()
            data = reply.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise SiftError(
                f"Error while embedding with the rest embedder at {self.url}: {exc}",
                "vector_embedding_error",
            ) from exc
        try:
            if self.response_batched:
                items = _get(data, self.embedding_path[:-1])
                vectors = [list(map(float, v)) for v in items]
            else:
                vectors = [list(map(float, _get(data, self.embedding_path)))]
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise SiftError(
                f"The rest embedder's response does not match the `response` template: {exc}",
                "vector_embedding_error",
            ) from exc
        if len(vectors) != len(texts):
            raise SiftError(
                f"The rest embedder returned {len(vectors)} embeddings for {len(texts)} texts.",
                "vector_embedding_error",
            )
        return vectors

"""The `rest` embedder source: the user's own embedding service, called over HTTP.

The ``request`` template is any JSON value holding the string ``"{{text}}"`` once; a
list ``[item, "{{..}}"]`` on its way marks a batch endpoint: the list becomes one copy of
``item`` per text (``["{{text}}", "{{..}}"]``: the texts themselves). The ``response``
template mirrors the service's answer with ``"{{embedding}}"`` where the vector sits,
and ``[item, "{{..}}"]`` on its way means one item per input, in order.
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


def _batch_at(template: Any, path: tuple[Any, ...]) -> int | None:
    """Where the marker's path enters a repeated list ``[item, "{{..}}"]``: the index in
    ``path`` of that list's first item (the marker may sit deeper inside the item, as in
    ``{"data": [{"embedding": "{{embedding}}"}, "{{..}}"]}``); None: not a batch."""
    for k in range(len(path) - 1, -1, -1):
        if path[k] != 0:
            continue
        parent = _get(template, path[:k])
        if isinstance(parent, list) and len(parent) == 2 and parent[1] == REPEAT:
            return k
    return None


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
        self.text_batch = _batch_at(self.request, self.text_path)
        self.embedding_batch = _batch_at(self.response, self.embedding_path)
        headers = dict(config.get("headers") or {})
        if config.get("apiKey"):
            headers["Authorization"] = f"Bearer {config['apiKey']}"
        self.client = client or httpx.Client(timeout=TIMEOUT_S, headers=headers)

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        out: list[list[float]] = []
        step = BATCH if self.text_batch is not None else 1
        for start in range(0, len(texts), step):
            out += self._call(texts[start : start + step])
        return np.asarray(out, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]

    def _call(self, texts: list[str]) -> list[list[float]]:
        if self.text_batch is not None:
            k = self.text_batch
            item = _get(self.request, self.text_path[: k + 1])
            items = [_replace(item, self.text_path[k + 1 :], text) for text in texts]
            body = _replace(self.request, self.text_path[:k], items)
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
            if self.embedding_batch is not None:
                k = self.embedding_batch
                inner = self.embedding_path[k + 1 :]
                items = _get(data, self.embedding_path[:k])
                vectors = [list(map(float, _get(item, inner))) for item in items]
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

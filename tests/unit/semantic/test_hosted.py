"""The `openAi` and `ollama` presets: validation, and the HTTP calls they make (against an
in-process fake of each API)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import numpy as np
import pytest

from sift.errors import SiftError
from sift.semantic import embedders
from sift.semantic.hosted import OPENAI_URL, rest_config
from sift.semantic.rest import RestEmbedder


def _one(config: dict[str, Any]) -> embedders.Embedder:
    return embedders.parse({"embedders": {"e": config}})["e"]


def test_openai_defaults_to_text_embedding_3_small_with_its_dimensions() -> None:
    assert _one({"source": "openAi"}).dimensions == 1536
    assert _one({"source": "openAi", "model": "text-embedding-3-large"}).dimensions == 3072
    assert _one({"source": "openAi", "dimensions": 512}).dimensions == 512


@pytest.mark.parametrize(
    "config",
    [
        {"source": "openAi", "model": "gpt-4o"},
        {"source": "openAi", "model": "text-embedding-ada-002", "dimensions": 512},
        {"source": "openAi", "dimensions": 4096},
        {"source": "openAi", "url": "ftp://example.com"},
        {"source": "ollama"},
        {"source": "ollama", "model": "nomic-embed-text", "request": {}},
    ],
)
def test_bad_preset_settings_are_refused(config: dict[str, Any]) -> None:
    with pytest.raises(SiftError) as error:
        _one(config)
    assert error.value.code == "invalid_settings_embedders"


def _client(seen: list[httpx.Request], answer: Any) -> httpx.Client:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=answer(json.loads(request.content)))

    return httpx.Client(transport=httpx.MockTransport(handle))


def test_openai_sends_a_batch_and_reads_the_data_list() -> None:
    seen: list[httpx.Request] = []
    client = _client(
        seen,
        lambda body: {
            "object": "list",
            "data": [
                {"object": "embedding", "index": i, "embedding": [float(len(t)), 1.0]}
                for i, t in enumerate(body["input"])
            ],
        },
    )
    config = {"source": "openAi", "apiKey": "sk-test", "dimensions": 256}
    backend = RestEmbedder(rest_config("openAi", config), client=client)
    vectors = backend.embed_documents(["a", "bbb"])
    assert np.allclose(vectors, [[1.0, 1.0], [3.0, 1.0]])
    assert str(seen[0].url) == OPENAI_URL
    assert json.loads(seen[0].content) == {
        "model": "text-embedding-3-small",
        "input": ["a", "bbb"],
        "dimensions": 256,
    }


def test_openai_api_key_goes_in_the_authorization_header() -> None:
    config = rest_config("openAi", {"source": "openAi", "apiKey": "sk-test"})
    assert RestEmbedder(config).client.headers["Authorization"] == "Bearer sk-test"


def test_ollama_sends_one_prompt_per_call() -> None:
    seen: list[httpx.Request] = []
    client = _client(seen, lambda body: {"embedding": [float(len(body["prompt"])), 0.5]})
    url = "http://ollama:11434/api/embeddings"
    config = {"source": "ollama", "model": "nomic-embed-text", "url": url}
    backend = RestEmbedder(rest_config("ollama", config), client=client)
    assert np.allclose(backend.embed_documents(["ab", "c"]), [[2.0, 0.5], [1.0, 0.5]])
    assert [json.loads(r.content) for r in seen] == [
        {"model": "nomic-embed-text", "prompt": "ab"},
        {"model": "nomic-embed-text", "prompt": "c"},
    ]
    assert str(seen[0].url) == url


def test_a_batched_rest_template_with_objects_per_item() -> None:
    # The generic rest source takes the same shapes the presets use.
    seen: list[httpx.Request] = []
    client = _client(
        seen,
        lambda body: {"results": [{"vector": [1.0, float(i)]} for i in range(len(body["docs"]))]},
    )
    config = {
        "url": "http://embedder/embed",
        "request": {"docs": [{"text": "{{text}}", "kind": "passage"}, "{{..}}"]},
        "response": {"results": [{"vector": "{{embedding}}"}, "{{..}}"]},
    }
    vectors = RestEmbedder(config, client=client).embed_documents(["x", "y"])
    assert np.allclose(vectors, [[1.0, 0.0], [1.0, 1.0]])
    assert json.loads(seen[0].content) == {
        "docs": [{"text": "x", "kind": "passage"}, {"text": "y", "kind": "passage"}]
    }

"""The `openAi` and `ollama` embedder sources: Meilisearch's presets for two well-known
embedding APIs, run by the `rest` source's client with a request and response template
fixed by the preset.

Configuring one never calls the service: the dimensions come from the model (OpenAI) or
from the first vector it returns (Ollama), so an index with no documents takes the
setting offline, as Meilisearch does; embedding documents or queries needs the service.
"""

from __future__ import annotations

from typing import Any

from sift.errors import SiftError

CODE = "invalid_settings_embedders"
OPENAI_URL = "https://api.openai.com/v1/embeddings"
OPENAI_MODELS = {  # model -> (default dimensions, may the dimensions be reduced)
    "text-embedding-3-small": (1536, True),
    "text-embedding-3-large": (3072, True),
    "text-embedding-ada-002": (1536, False),
}
OPENAI_DEFAULT_MODEL = "text-embedding-3-small"
OLLAMA_URL = "http://localhost:11434/api/embeddings"


def check(source: str, path: str, config: dict[str, Any], dims: int | None) -> int | None:
    """Validate a preset's own fields; returns its dimensions (None: learnt on first use)."""
    model = config.get("model")
    url = config.get("url")
    if url is not None and not (isinstance(url, str) and url.startswith(("http://", "https://"))):
        raise SiftError(f"Invalid value at {path}.url: expected an http(s) URL.", CODE)
    if source == "ollama":
        if not isinstance(model, str) or not model:
            raise SiftError(f"Missing field `model` inside {path} for source `ollama`.", CODE)
        return dims
    model = OPENAI_DEFAULT_MODEL if model is None else model
    if model not in OPENAI_MODELS:
        known = ", ".join(f"`{m}`" for m in OPENAI_MODELS)
        raise SiftError(
            f"Invalid value at {path}.model: `{model}` is not an OpenAI embedding model "
            f"Sift knows ({known}).",
            CODE,
        )
    default, reducible = OPENAI_MODELS[model]
    if dims is not None and (dims > default or (dims != default and not reducible)):
        raise SiftError(
            f"Invalid value at {path}.dimensions: `{model}` gives "
            + (f"at most {default}" if reducible else f"exactly {default}")
            + " dimensions.",
            CODE,
        )
    return dims or default


def rest_config(source: str, config: dict[str, Any]) -> dict[str, Any]:
    """The `rest` configuration a preset stands for."""
    if source == "ollama":
        return {
            "url": config.get("url") or OLLAMA_URL,
            "request": {"model": config["model"], "prompt": "{{text}}"},
            "response": {"embedding": "{{embedding}}"},
            "apiKey": config.get("apiKey"),
        }
    model = config.get("model") or OPENAI_DEFAULT_MODEL
    request: dict[str, Any] = {"model": model, "input": ["{{text}}", "{{..}}"]}
    if config.get("dimensions") is not None and OPENAI_MODELS[model][1]:
        request["dimensions"] = config["dimensions"]
    return {
        "url": config.get("url") or OPENAI_URL,
        "request": request,
        "response": {"data": [{"embedding": "{{embedding}}"}, "{{..}}"]},
        "apiKey": config.get("apiKey"),
    }

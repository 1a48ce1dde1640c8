"""Engines reached over HTTP: how to build one search request and read the engine's own
timing from the answer. The same description feeds the single-client latency loop and
the load generator, so both send byte-identical requests."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

TOP_K = 10
SIFT_INDEX = "bench"
TYPESENSE_COLLECTION = "bench"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: str = ""


@dataclass(frozen=True)
class HttpTarget:
    """One server under test. `kind` selects the wire format: "sift" (Meilisearch v1) or
    "typesense"."""

    name: str
    kind: str
    base_url: str
    headers: dict[str, str]
    settings: dict[str, Any] = field(default_factory=dict)
    # Sift only: search with Meilisearch's query-string form (GET) instead of its JSON body
    # (POST): the same request shape as Typesense's, a head and no body.
    query_string: bool = False

    def search_request(self, query: str) -> Request:
        if self.kind == "sift":
            path = f"/indexes/{SIFT_INDEX}/search"
            if self.query_string:
                params = {"q": query, "limit": TOP_K, "attributesToRetrieve": "id"}
                return Request("GET", f"{path}?{urlencode(params)}")
            body = {"q": query, "limit": TOP_K, "attributesToRetrieve": ["id"]}
            return Request("POST", path, json.dumps(body))
        if self.kind == "typesense":
            # GET, as the relevance runner and Typesense's own clients send single searches.
            params = {"q": query, "query_by": "title,text", "per_page": TOP_K,
                      "include_fields": "id"}  # fmt: skip
            path = f"/collections/{TYPESENSE_COLLECTION}/documents/search?{urlencode(params)}"
            return Request("GET", path)
        raise ValueError(f"unknown target kind {self.kind!r}")

    def noop_request(self) -> Request:
        """The cheapest request the server answers. Sift's GET /version checks the master
        key and touches neither the database nor an index: its throughput is the ceiling
        of Sift's HTTP stack on this machine. Typesense's GET /health is its nearest
        equivalent (it needs no key), used only as a single-client floor."""
        return Request("GET", "/version" if self.kind == "sift" else "/health")

    def engine_ms(self, answer: dict[str, Any]) -> float | None:
        """The engine's own time for the search, as it reports it (integer milliseconds
        for both servers)."""
        # Both are whole milliseconds; Sift truncates, so "1" means 1.0 to 1.99 ms.
        key = {"sift": "processingTimeMs", "typesense": "search_time_ms"}[self.kind]
        value = answer.get(key)
        return float(value) if value is not None else None

    def hit_count(self, answer: dict[str, Any]) -> int:
        return len(answer.get("hits", []))

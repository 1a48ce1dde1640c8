"""The three things timed: a real Sift server, a real Typesense server, and Sift's engine
in this process (for sub-millisecond engine times: processingTimeMs is whole ms)."""

from __future__ import annotations

import secrets
import shutil
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import orjson

from benchmarks.ingest.server import SiftServer, proc_status_mib
from benchmarks.runners.server_process import free_port, temp_dir
from benchmarks.runners.typesense_server import TypesenseServer
from sift.engine.index import SearchIndex
from sift.engine.query import SearchParams
from sift.engine.settings import with_defaults

INDEX = "bench"
BATCH_DOCS = 10_000  # per POST: a few MiB, well under either server's body limit
TASK_TIMEOUT_S = 1800


def _batches(
    docs: Sequence[dict[str, Any]], size: int = BATCH_DOCS
) -> Iterator[Sequence[dict[str, Any]]]:
    for start in range(0, len(docs), size):
        yield docs[start : start + size]


def _ndjson(docs: Sequence[dict[str, Any]]) -> bytes:
    return b"\n".join(orjson.dumps(d) for d in docs)


class SiftHttp:
    def __init__(self) -> None:
        self.workdir = temp_dir("bench-speed-sift-")
        self.data_dir = self.workdir / "data"
        key = secrets.token_urlsafe(24)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        args = [
            "--port", str(port),
            "--data-dir", str(self.data_dir),
            "--config-file", str(self.workdir / "absent.toml"),
            "--master-key", key,
            "--no-analytics",
            "--log-level", "warning",
        ]  # fmt: skip
        self.server = SiftServer(args, self.workdir / "server.log")
        self.http = httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=TASK_TIMEOUT_S
        )
        try:
            self.server.wait_healthy(url, 60)
        except Exception:
            self.close()
            raise
        self.rss_empty_mib = proc_status_mib(self.server.pid, "VmRSS")

    def load(self, docs: Sequence[dict[str, Any]], settings: dict[str, Any]) -> float:
        """Create the index with its settings, then POST the documents; seconds from the
        first document POST to the last task succeeded (search index built)."""
        self._wait(self.http.post("/indexes", json={"uid": INDEX, "primaryKey": "id"}))
        self._wait(self.http.patch(f"/indexes/{INDEX}/settings", json=settings))
        began = time.perf_counter()
        responses = [
            self.http.post(
                f"/indexes/{INDEX}/documents",
                content=_ndjson(batch),
                headers={"Content-Type": "application/x-ndjson"},
            )
            for batch in _batches(docs)
        ]
        for response in responses:
            self._wait(response)
        return time.perf_counter() - began

    def search(self, q: str, params: dict[str, Any]) -> tuple[float, float, int]:
        """(end-to-end ms, engine ms, hits)."""
        body = {"q": q, "limit": 20, **params}
        began = time.perf_counter()
        response = self.http.post(f"/indexes/{INDEX}/search", json=body)
        e2e = (time.perf_counter() - began) * 1000
        response.raise_for_status()
        data = response.json()
        return e2e, float(data["processingTimeMs"]), int(data.get("estimatedTotalHits", 0))

    def rss_mib(self) -> float:
        return proc_status_mib(self.server.pid, "VmRSS")

    def disk_bytes(self) -> int:
        # Database, WAL and anything else Sift keeps in its data directory.
        return sum(p.stat().st_size for p in self.data_dir.rglob("*") if p.is_file())

    def close(self) -> None:
        self.http.close()
        self.server.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def _wait(self, response: httpx.Response) -> None:
        if response.status_code != 202:
            raise RuntimeError(f"{response.request.url}: {response.status_code} {response.text}")
        uid = response.json()["taskUid"]
        deadline = time.monotonic() + TASK_TIMEOUT_S
        while time.monotonic() < deadline:
            task = self.http.get(f"/tasks/{uid}").json()
            if task["status"] == "succeeded":
                return
            if task["status"] in ("failed", "canceled"):
                raise RuntimeError(f"Sift task {uid} {task['status']}: {task.get('error')}")
            time.sleep(0.01)
        raise TimeoutError(f"Sift task {uid} not done after {TASK_TIMEOUT_S} s")


class TypesenseHttp:
    """Started the way the relevance harness's runner starts it (same binary and flags)."""

    def __init__(self, cache_dir: Path) -> None:
        self.server = TypesenseServer(cache_dir, "bench-speed-typesense-", TASK_TIMEOUT_S)
        self.http = self.server.http
        self.collection = ""

    def load(
        self,
        name: str,
        docs: Sequence[dict[str, Any]],
        fields: list[dict[str, Any]],
        batch_docs: int = BATCH_DOCS,
    ) -> float:
        """A fresh collection with `fields`, then the documents, `batch_docs` per import
        request; import is synchronous, so the time is until the last import answered."""
        self.collection = name
        schema = {"name": name, "fields": fields}
        self.http.post("/collections", json=schema).raise_for_status()
        began = time.perf_counter()
        for batch in _batches(docs, batch_docs):
            # Typesense ids are strings.
            body = b"\n".join(orjson.dumps({**d, "id": str(d["id"])}) for d in batch)
            response = self.http.post(
                f"/collections/{name}/documents/import",
                params={"action": "create", "batch_size": 1000},
                content=body,
            )
            response.raise_for_status()
            bad = [line for line in response.text.splitlines() if '"success":true' not in line]
            if bad:
                raise RuntimeError(f"{len(bad)} Typesense imports failed: {bad[0]}")
        return time.perf_counter() - began

    def search(self, q: str, params: dict[str, Any]) -> tuple[float, float, int]:
        began = time.perf_counter()
        response = self.http.get(
            f"/collections/{self.collection}/documents/search",
            params={"q": q, "per_page": 20, **params},
        )
        e2e = (time.perf_counter() - began) * 1000
        response.raise_for_status()
        data = response.json()
        return e2e, float(data["search_time_ms"]), int(data.get("found", 0))

    def close(self) -> None:
        self.server.close()


class SiftInProcess:
    """Sift's SearchIndex over the same documents and settings, searched directly."""

    def __init__(self, docs: Sequence[dict[str, Any]], settings: dict[str, Any]) -> None:
        self.index = SearchIndex(with_defaults(dict(settings)), "id")
        for batch in _batches(docs):
            self.index.upsert([(str(d["id"]), d) for d in batch])
        # The server's task worker merges segments once its queue is empty; same here.
        self.index.optimize()  # 20 batches of 10k: well past the idle-merge threshold

    def search(self, q: str, params: dict[str, Any]) -> float:
        """Engine ms, including parsing the request body as the HTTP route does."""
        began = time.perf_counter()
        self.index.search(SearchParams.from_dict({"q": q, "limit": 20, **params}))
        return (time.perf_counter() - began) * 1000

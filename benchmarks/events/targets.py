"""What the events benchmark measures searches on: a real `sift serve`, or Typesense as the
control that says what this machine's cores impose on any server.

Each target is reached over HTTP by the same two clients: wrk, sending a steady rate of
requests (click events, or a cheap authenticated GET), and one Python client timing
searches. Typesense has no click events: beside it, wrk sends its cheapest authenticated
request (`GET /debug`, its version and state, as `GET /version` is Sift's), so the
figure is a floor for Sift's `--paced-route version`, not a result to compare events with.
Sift's own floor (`--events-to typesense`) sends that same schedule to an empty Typesense
while the searches go to Sift."""

from __future__ import annotations

import json
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from benchmarks.ingest.server import SiftServer
from benchmarks.runners.server_process import free_port

# A GET path of each target for the control (the paced phase without events).
SIFT_CHEAP_PATH = "/version"
TYPESENSE_CHEAP_PATH = "/debug"
TYPESENSE_QUERY_BY = "title,brand,tags"  # the products' text fields, as Sift searches them


@dataclass
class Target:
    url: str
    auth_header: str  # for wrk's -H: with every request it sends
    client: httpx.Client  # the search client's connection, authenticated
    search: Callable[[httpx.Client, str], httpx.Response]  # one search for the words
    cheap_path: str  # the control's GET


def _sift_search(client: httpx.Client, q: str) -> httpx.Response:
    return client.post("/indexes/products/search", json={"q": q, "limit": 10})


def _typesense_search(client: httpx.Client, q: str) -> httpx.Response:
    params = {"q": q, "query_by": TYPESENSE_QUERY_BY, "per_page": 10}
    return client.get("/collections/products/documents/search", params=params)


@contextmanager
def sift(data: Path, workers: int, server_kind: str) -> Iterator[Target]:
    """A `sift serve` (uvicorn or granian) with ``data`` indexed as `products`, searchable
    on the search client's worker."""
    workdir = Path(tempfile.mkdtemp(prefix="bench-events-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    key = secrets.token_urlsafe(24)
    server = SiftServer(["--data-dir", str(workdir), "--port", str(port), "--master-key", key,
                         "--workers", str(workers), "--server", server_kind],
                        workdir / "server.log")  # fmt: skip
    try:
        server.wait_healthy(url, 180)
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
            task = client.post("/indexes/products/documents", content=data.read_bytes(),
                               headers={"Content-Type": "application/x-ndjson"}).json()  # fmt: skip
            while client.get(f"/tasks/{task['taskUid']}").json()["status"] != "succeeded":
                time.sleep(0.2)
            # With several workers, the one that indexed may not be the one answering this
            # connection: the others load the index within a second (docs/deployment.md).
            deadline = time.monotonic() + 60
            while client.post("/indexes/products/search", json={}).status_code == 404:
                if time.monotonic() > deadline:
                    raise RuntimeError("the index never became searchable")
                time.sleep(0.2)
            yield Target(url, f"Authorization: Bearer {key}", client, _sift_search,
                         SIFT_CHEAP_PATH)  # fmt: skip
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def typesense(data: Path | None, cache_dir: Path) -> Iterator[Target]:
    """Typesense 0.24.1 as every harness starts it, with ``data`` imported as `products`;
    without data, an empty server: only the target of a steady rate of its cheap GET."""
    from benchmarks.runners.typesense_server import TypesenseServer

    server = TypesenseServer(cache_dir, "bench-events-typesense-", timeout_s=60)
    try:
        http = server.http
        key = http.headers["X-TYPESENSE-API-KEY"]
        target = Target(str(http.base_url).rstrip("/"), f"X-TYPESENSE-API-KEY: {key}", http,
                        _typesense_search, TYPESENSE_CHEAP_PATH)  # fmt: skip
        if data is None:
            yield target
            return
        schema = {"name": "products", "fields": [
            {"name": "title", "type": "string"}, {"name": "brand", "type": "string"},
            {"name": "tags", "type": "string[]"}, {"name": "price", "type": "float"},
            {"name": "rating", "type": "int32"}, {"name": "in_stock", "type": "bool"},
        ]}  # fmt: skip
        http.post("/collections", json=schema).raise_for_status()
        lines = (json.loads(line) for line in data.read_text().splitlines())
        body = "\n".join(json.dumps({**doc, "id": str(doc["id"])}) for doc in lines)
        response = http.post("/collections/products/documents/import",
                             params={"action": "create"}, content=body.encode())  # fmt: skip
        response.raise_for_status()
        if any('"success":true' not in line for line in response.text.splitlines()):
            raise RuntimeError(f"Typesense refused documents: {response.text[:300]}")
        yield target
    finally:
        server.close()

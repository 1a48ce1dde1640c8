"""A real `sift serve` on 127.0.0.1 holding one collection twice (the index visitors click
in and the index only noise clicks in), both with `clickRanking` on; searched and sent
click events over HTTP as a site's pages would."""

from __future__ import annotations

import json
import secrets
import shutil
import sys
import time
from collections.abc import Sequence

import httpx
import numpy as np

from benchmarks.clicks.simulate import MAIN, NOISE, PAGE
from benchmarks.load.servers import _wait_task
from benchmarks.runners.base import Doc
from benchmarks.runners.server_process import ServerProcess, free_port, temp_dir

REFRESH_S = 0.5  # the server's click_model_interval: each round waits for a refresh
TOP = 100


class ClickServer:
    def __init__(self) -> None:
        self._dir = temp_dir("bench-clicks-")
        key = secrets.token_urlsafe(24)
        port = free_port()
        command = [
            sys.executable, "-m", "sift", "serve", "--port", str(port),
            "--data-dir", str(self._dir / "data"), "--master-key", key,
            "--click-model-interval", str(REFRESH_S),
        ]  # fmt: skip
        self._server = ServerProcess(command, self._dir / "server.log")
        self._http = httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Authorization": f"Bearer {key}"},
            timeout=120,
        )
        self._server.wait_until(
            lambda: self._http.get("/health").status_code == 200, 180, "sift serve"
        )
        self.queries: dict[str, str] = {}

    def load(self, docs: Sequence[Doc], queries: dict[str, str]) -> None:
        self.queries = queries
        body = "\n".join(json.dumps({"id": d.id, "title": d.title, "text": d.text}) for d in docs)
        http = self._http
        for index in (MAIN, NOISE):
            _wait_task(http, http.post("/indexes", json={"uid": index, "primaryKey": "id"}))
            enable = {"clickRanking": {"enabled": True}}
            _wait_task(http, http.patch(f"/indexes/{index}/settings", json=enable))
            ndjson = {"Content-Type": "application/x-ndjson"}
            added = http.post(f"/indexes/{index}/documents", content=body.encode(), headers=ndjson)
            _wait_task(http, added)

    def defaults(self, qids: Sequence[str]) -> dict[str, tuple[list[str], np.ndarray]]:
        """Each query's top 100 and scores before any click: the offline replay's input."""
        out = {}
        for qid in qids:
            hits = self._search(MAIN, qid, TOP, {"showRankingScore": True})["hits"]
            out[qid] = ([h["id"] for h in hits], np.array([h["_rankingScore"] for h in hits]))
        return out

    def search(self, index: str, qid: str, user: str) -> tuple[list[str], str]:
        headers = {"Meili-Include-Metadata": "true", "X-MS-USER-ID": user}
        found = self._search(index, qid, PAGE, {}, headers)
        return [h["id"] for h in found["hits"]], found["metadata"]["queryUid"]

    def click(self, index: str, user: str, query_uid: str, doc: str, position: int) -> None:
        event = {
            "eventType": "click",
            "eventName": "Search Result Clicked",
            "indexUid": index,
            "queryUid": query_uid,
            "objectId": doc,
            "position": position,
        }
        answer = self._http.post("/events", json=event, headers={"X-MS-USER-ID": user})
        if answer.status_code != 201:
            raise RuntimeError(f"POST /events answered {answer.status_code}: {answer.text}")

    def settle(self) -> None:
        # The model's refresh writes the buffered events first, then reads them: two
        # intervals see at least one refresh that started after the last event.
        time.sleep(2 * REFRESH_S + 0.1)

    def rankings(self, index: str, qids: Sequence[str]) -> dict[str, list[str]]:
        return {q: [h["id"] for h in self._search(index, q, TOP, {})["hits"]] for q in qids}

    def close(self) -> None:
        self._http.close()
        self._server.stop()
        shutil.rmtree(self._dir, ignore_errors=True)

    def _search(
        self, index: str, qid: str, limit: int, extra: dict, headers: dict | None = None
    ) -> dict:
        body = {"q": self.queries[qid], "limit": limit, "attributesToRetrieve": ["id"], **extra}
        answer = self._http.post(f"/indexes/{index}/search", json=body, headers=headers)
        if answer.is_error:
            raise RuntimeError(f"search answered {answer.status_code}: {answer.text[:300]}; "
                               f"server log: {self._server.log_tail()}")  # fmt: skip
        return answer.json()

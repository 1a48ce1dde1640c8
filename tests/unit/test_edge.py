"""RequestEdge's send wrapper, given the CORS layer (the hot lane), sends the same start
message as the two layers did in turn: CORS around RequestEdge (sift/http/edge.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from sift.http.cors import CORS
from sift.http.edge import RequestEdge

OWN_HEADERS = [
    [],
    [(b"content-length", b"0")],
    [(b"content-type", b"application/json"), (b"content-length", b"2")],
    [(b"X-Frame-Options", b"SAMEORIGIN"), (b"content-length", b"0")],  # its own kept
    [(b"referrer-policy", b"no-referrer"), (b"x-content-type-options", b"nosniff")],
    [(b"vary", b"Accept-Encoding"), (b"content-length", b"0")],  # CORS merges its Vary
    [(b"Vary", b"Origin")],
]


def _answering(headers: list[tuple[bytes, bytes]]) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 201, "headers": list(headers)})
        await send({"type": "http.response.body", "body": b""})

    return app


def _sent(serve: Any) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = {"type": "http", "method": "POST", "path": "/events", "headers": [],
             "query_string": b""}  # fmt: skip
    loop = asyncio.new_event_loop()  # the thread's current loop left as it was
    try:
        loop.run_until_complete(serve(scope, receive, send))
    finally:
        loop.close()
    return messages


@pytest.mark.parametrize("headers", OWN_HEADERS)
def test_the_lanes_wrapper_sends_what_the_two_layers_sent(
    headers: list[tuple[bytes, bytes]],
) -> None:
    app = _answering(headers)
    layered_edge = RequestEdge(app)
    layered = CORS(layered_edge, allow_origins=["*"], allow_methods=["*"], allow_headers=["*"])
    lane_edge = RequestEdge(app)
    lane_cors = CORS(lane_edge, allow_origins=["*"], allow_methods=["*"], allow_headers=["*"])
    lane_edge.ids = layered_edge.ids = _Ids()  # the same request id in both

    expected = _sent(layered)
    got = _sent(lambda s, r, w: lane_edge.serve(s, r, w, app, lane_cors))
    assert got == expected
    assert any(name.lower() == b"vary" for name, _ in got[0]["headers"])


class _Ids:
    def next(self) -> str:
        return "0123456789abcdef"

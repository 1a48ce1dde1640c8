"""RequestEdge's send wrapper, given the CORS layer (the hot lane), sends the same start
message as the two layers did in turn: CORS around RequestEdge (sift/http/edge.py); so
does the edge when it sends an answer it was handed (``answers``)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.background import BackgroundTask
from starlette.responses import Response, StreamingResponse

from sift.http.cors import CORS, VARY_ORIGIN
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

    # ASGI 2.4: a streamed answer does not wait on receive() for a disconnect.
    scope = {"type": "http", "method": "POST", "path": "/events", "headers": [],
             "query_string": b"", "asgi": {"spec_version": "2.4"}}  # fmt: skip
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


def _answer_of(response: Response) -> Any:
    async def answer(scope: dict[str, Any], receive: Any, send: Any) -> Response:
        return response

    return answer


@pytest.mark.parametrize("headers", OWN_HEADERS)
def test_an_answer_sent_by_the_edge_is_what_the_two_layers_sent(
    headers: list[tuple[bytes, bytes]],
) -> None:
    response = Response(b"{}", status_code=201)
    response.raw_headers = list(headers)
    layered_edge = RequestEdge(response)
    layered = CORS(layered_edge, allow_origins=["*"], allow_methods=["*"], allow_headers=["*"])
    lane_edge = RequestEdge(response)
    lane_cors = CORS(lane_edge, allow_origins=["*"], allow_methods=["*"], allow_headers=["*"])
    lane_edge.ids = layered_edge.ids = _Ids()

    expected = _sent(layered)
    got = _sent(lambda s, r, w: lane_edge.serve(s, r, w, _answer_of(response), lane_cors,
                                                answers=True))  # fmt: skip
    assert got == expected
    assert response.raw_headers == headers  # the answer's own list left as it was


def test_a_streamed_answer_or_one_with_a_background_task_goes_through_the_wrapper() -> None:
    ran: list[str] = []

    async def chunks() -> Any:
        yield b"a"
        yield b"b"

    async def note() -> None:
        ran.append("background")

    edge = RequestEdge(None)  # type: ignore[arg-type]
    edge.ids = _Ids()
    cors = CORS(edge, allow_origins=["*"], allow_methods=["*"], allow_headers=["*"])
    streamed = _sent(lambda s, r, w: edge.serve(
        s, r, w, _answer_of(StreamingResponse(chunks())), cors, answers=True))
    assert b"".join(m.get("body", b"") for m in streamed[1:]) == b"ab"
    assert streamed[0]["headers"][-2:] == [(b"x-request-id", b"0123456789abcdef"), VARY_ORIGIN]
    later = _sent(lambda s, r, w: edge.serve(
        s, r, w, _answer_of(Response(b"x", background=BackgroundTask(note))), cors,
        answers=True))
    assert [m["type"] for m in later] == ["http.response.start", "http.response.body"]
    assert ran == ["background"]


def test_an_answer_that_fails_before_it_is_sent_gets_the_edge_s_500() -> None:
    async def failing(scope: dict[str, Any], receive: Any, send: Any) -> Response:
        raise RuntimeError("boom")

    edge = RequestEdge(None)  # type: ignore[arg-type]
    edge.ids = _Ids()
    cors = CORS(edge, allow_origins=["*"], allow_methods=["*"], allow_headers=["*"])
    sent = _sent(lambda s, r, w: edge.serve(s, r, w, failing, cors, answers=True))
    assert sent[0]["status"] == 500
    assert (b"vary", b"Origin") in sent[0]["headers"]
    assert b"0123456789abcdef" in sent[1]["body"]

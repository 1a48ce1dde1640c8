"""A plain body read straight from ``receive`` is what Starlette's stream gave
(sift/http/body.py): the bytes, the 413 at the same size, a disconnect, a second read."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Coroutine
from typing import Any

import pytest
from starlette.requests import ClientDisconnect, Request

from sift.errors import SiftError
from sift.http.body import whole_body
from sift.http.encoding import read_body


def _request(messages: list[dict[str, Any]], headers: list[tuple[bytes, bytes]] = ()) -> Request:
    queue = list(messages)

    async def receive() -> dict[str, Any]:
        return queue.pop(0)

    scope = {"type": "http", "method": "POST", "path": "/events", "headers": list(headers)}
    return Request(scope, receive)


def _run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Runs ``coroutine`` on a loop of its own, the thread's current loop left as it was
    (asyncio.run and pytest-asyncio leave the main thread with none, which a later test
    that asks for the current loop would lack)."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        loop.close()


def _chunks(*bodies: bytes) -> list[dict[str, Any]]:
    return [{"type": "http.request", "body": b, "more_body": i < len(bodies) - 1}
            for i, b in enumerate(bodies)]  # fmt: skip


CASES = [
    _chunks(b'{"a":1}'),
    _chunks(b""),
    [{"type": "http.request"}],  # no body key, no more_body: an empty body
    _chunks(b'{"a":', b"", b"1}"),
    [{"type": "lifespan.other"}, *_chunks(b"[1,", b"2]")],  # skipped, as Starlette does
]


@pytest.mark.parametrize("messages", CASES)
def test_same_bytes_as_starlettes_stream(messages: list[dict[str, Any]]) -> None:
    ours = _request(messages)
    got = _run(whole_body(ours, 1 << 20))
    assert got == _run(read_body(_request(messages), 1 << 20))
    with pytest.raises(RuntimeError, match="Stream consumed"):  # as after Starlette's
        _run(ours.body())


@pytest.mark.parametrize("limit", [3, 4, 5, 8, 9])
def test_limit_as_read_body(limit: int) -> None:
    messages = _chunks(b"1234", b"5678", b"9")

    async def outcome(read: Any) -> Any:
        try:
            return await read(_request(messages), limit)
        except SiftError as exc:
            return exc.status, exc.code, str(exc)

    assert _run(outcome(whole_body)) == _run(outcome(read_body))


def test_disconnect_raises_client_disconnect() -> None:
    request = _request([*_chunks(b"12", b"")[:1], {"type": "http.disconnect"}])
    with pytest.raises(ClientDisconnect):
        _run(whole_body(request))
    assert _run(request.is_disconnected())


def test_encoded_and_read_bodies_go_to_read_body() -> None:
    packed = gzip.compress(b'{"a":1}')
    encoded = _request(_chunks(packed), [(b"content-encoding", b"gzip")])
    assert _run(whole_body(encoded)) == b'{"a":1}'
    read_before = _request(_chunks(b"[1]"))
    assert _run(read_before.body()) == b"[1]"
    assert _run(whole_body(read_before)) == b"[1]"  # Starlette's kept body


def test_a_plain_body_makes_no_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    """The point of it: no async generator for a plain body."""

    def no_stream(self: Request) -> Any:
        raise AssertionError("Request.stream() used")

    monkeypatch.setattr(Request, "stream", no_stream)
    assert _run(whole_body(_request(_chunks(b'{"a":', b"1}")))) == b'{"a":1}'

"""The one-process server's main loop: a look a second, and a signal heard at once."""

from __future__ import annotations

import asyncio
import signal
import time

import pytest
import uvicorn

from sift.http import uvicorn_server


async def _app(scope: object, receive: object, send: object) -> None:  # never called
    raise AssertionError("no request is sent")


def _server(monkeypatch: pytest.MonkeyPatch, ticks: list[tuple[float, int]]) -> uvicorn.Server:
    server = uvicorn_server.Server(uvicorn.Config(_app))
    real = server.on_tick

    async def counted(counter: int) -> bool:
        ticks.append((time.monotonic(), counter))
        return await real(counter)

    monkeypatch.setattr(server, "on_tick", counted)
    server.server_state.default_headers = []
    return server


def test_an_idle_loop_looks_once_a_second_and_refreshes_the_date_each_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ticks: list[tuple[float, int]] = []
    server = _server(monkeypatch, ticks)

    async def main() -> None:
        asyncio.get_running_loop().call_later(2.5, setattr, server, "should_exit", True)
        await server.main_loop()

    asyncio.run(main())
    assert 3 <= len(ticks) <= 4  # uvicorn's own loop looks ~26 times in 2.5 s
    assert all(counter % 10 == 0 for _, counter in ticks)  # each one refreshes the header
    assert any(name == b"date" for name, _ in server.server_state.default_headers)


def test_a_signal_ends_the_wait_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    ticks: list[tuple[float, int]] = []
    server = _server(monkeypatch, ticks)

    async def main() -> float:
        loop = asyncio.get_running_loop()
        loop.call_later(0.2, server.handle_exit, signal.SIGTERM, None)
        started = time.monotonic()
        await server.main_loop()
        return time.monotonic() - started

    took = asyncio.run(main())
    assert server.should_exit
    assert took < 0.6  # not the second the loop would otherwise sleep

"""uvicorn's server, its main loop waking once a second instead of ten times.

uvicorn's ``Server.main_loop`` sleeps 0.1 s between looks at ``should_exit`` (which its
signal handler sets) and refreshes the ``Date`` header every tenth look. On an idle
server those ten wake-ups a second were the event loop's only work, each one taking the
GIL and a core at a moment a search might need them (issue #17; docs/benchmarks/memory.md,
"The idle server's polls"). Here the loop sleeps a second between looks, refreshing the
header each time (as often as before), and the signal handler wakes it at once, so a
SIGTERM or SIGINT starts the graceful shutdown as soon as uvicorn's own would.

Only a one-process server uses it: with ``--workers N`` uvicorn's supervisor builds its
own server in each worker process.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from types import FrameType

import uvicorn
from uvicorn.main import STARTUP_FAILURE

TICK_S = 1.0  # uvicorn: 0.1 s, with the Date header refreshed every tenth tick
_EVERY_TICK = 10  # the counter's step: uvicorn refreshes the header when counter % 10 == 0


class Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None

    async def main_loop(self) -> None:
        self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter = (counter + _EVERY_TICK) % 864000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), TICK_S)
            should_exit = await self.on_tick(counter)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        if self._loop is not None and self._wake is not None:
            # A signal handler runs between two bytecodes of the main thread, which may
            # be inside the loop: the thread-safe call only queues the wake-up.
            self._loop.call_soon_threadsafe(self._wake.set)


def run(config: uvicorn.Config) -> None:
    """What ``uvicorn.run`` does for one process, with this server."""
    server = Server(config)
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    if not server.started:
        sys.exit(STARTUP_FAILURE)

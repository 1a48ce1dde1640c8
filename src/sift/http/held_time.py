"""How long the calling thread has been busy: on a core, or blocked (a lock, I/O), but
not waiting for a core that another thread or process had.

Linux keeps, per thread, the time it waited on a run queue (``run_delay``, the second
field of ``/proc/thread-self/schedstat``); a clock's wall time less that delay is what a
search placed on the event loop would have held it for. The file is opened once per
thread and read with ``pread`` (~2 µs); where there is no such file (another system, a
kernel without scheduler statistics) the delay reads 0 and the clock is the wall time.
"""

from __future__ import annotations

import os
import threading
import time

SCHEDSTAT = "/proc/thread-self/schedstat"


class _RunDelay:
    """This thread's own ``schedstat`` (the file follows the thread that opened it)."""

    def __init__(self) -> None:
        try:
            self.fd: int | None = os.open(SCHEDSTAT, os.O_RDONLY)
        except OSError:
            self.fd = None

    def seconds(self) -> float:
        if self.fd is None:
            return 0.0
        try:
            return int(os.pread(self.fd, 64, 0).split()[1]) / 1e9
        except (OSError, IndexError, ValueError):
            return 0.0

    def __del__(self) -> None:  # the thread ended: its thread-local goes, and the file
        if self.fd is not None:
            os.close(self.fd)


_local = threading.local()


def held_clock() -> float:
    """Seconds, for differences only: wall time less this thread's waits for a core."""
    delay = getattr(_local, "delay", None)
    if delay is None:
        delay = _local.delay = _RunDelay()
    return time.perf_counter() - delay.seconds()

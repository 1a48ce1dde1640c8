"""Background threads at a lower CPU priority than the threads that answer requests.

A serving process's event loop and search threads answer requests; its analytics writer,
access-log writer and task worker do work nobody waits for within the millisecond. On a
machine with few cores all of them queue for a core, and the kernel's scheduler treats
threads of equal nice alike: a search woken while the writer runs may wait its turn. Linux
keeps a nice value per thread (``setpriority(PRIO_PROCESS, tid)``: threads do not share
one, setpriority(2)), so each background thread raises its own at start by
``background_nice`` (the ``background_nice`` setting); the loop and the search threads keep
the process's. A nice value only weighs a thread's share of a contended core: an idle
machine runs it as soon as before, and a busy one still gives it ~1/1.25^n of a
normal thread's share, so it is delayed, never starved (the events' writer has its flush
every second, the benchmark's check reads them 1.5 s after the last 201).
"""

from __future__ import annotations

import logging
import os
import sys
import threading

log = logging.getLogger("sift.server")

NICE_MAX = 19  # the lowest priority Linux has

_nice = 0  # set once per process, before its threads start (sift.server.configure_process)


def configure(nice: int) -> None:
    """How much lower than the process each background thread started from now runs."""
    global _nice
    _nice = max(0, nice)


def lower_this_thread() -> bool:
    """Lower the calling thread's priority by the configured amount; whether it did. Called
    by a background thread as it starts; elsewhere (no per-thread nice, or not allowed)
    the thread keeps the process's priority."""
    # Only Linux reads PRIO_PROCESS with a thread's id as that thread; elsewhere the id
    # could name another process.
    if _nice <= 0 or not sys.platform.startswith("linux"):
        return False
    tid = threading.get_native_id()
    try:
        now = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, min(NICE_MAX, now + _nice))
    except OSError:  # a sandbox that refuses it
        log.debug("could not lower a background thread's priority", exc_info=True)
        return False
    return True

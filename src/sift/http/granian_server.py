"""Run the ASGI app under granian (``server = "granian"``), a Rust HTTP server.

granian parses HTTP and handles the connections in Rust, off the GIL, and hands each
request to the app's asyncio loop; uvicorn does the same work in Python on that loop.
Measured with the paired load benchmark (docs/benchmarks/speed.md, "granian"): the same
single-client latency, several times the no-op requests per second, and more searches per
second from 4 connections on.

What uvicorn's set-up in sift/server.py gives, here:

- workers: granian's parent binds the port and forks ``workers`` processes (one included),
  each building the app through ``sift.server:app_factory`` from the ``SIFT_*``
  environment, as uvicorn's workers do; the parent never imports the app. Unlike uvicorn
  with one worker, the port is bound before the indexes are loaded: a connection made
  during start-up waits in the backlog and is answered once the worker is ready.
- graceful shutdown: SIGTERM or SIGINT to the parent stops the workers; each stops
  accepting, lets its in-flight requests finish, then runs the app's lifespan shutdown
  (index images, the task worker) before it exits. A worker still running
  ``graceful_timeout`` + ``IMAGES_MARGIN_S`` seconds after the signal is killed (granian
  has one deadline for the whole stop, where uvicorn bounds the requests alone). A worker
  loses a signal that comes before its HTTP server runs (while it loads the app), so the
  parent repeats it every ``STOP_REPEAT_S`` to the workers still running (_Server).
- keep-alive: hyper closes an idle keep-alive connection when no request headers came
  within ``timeout_keep_alive``; it looks at the socket itself, so the reset that
  sift/http/keepalive.py prevents in uvicorn does not arise.
- access log: the same JSON line through sift.http.access_log's thread, from granian's
  ``granian.access`` logger; granian's own lines go to the root logger.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
from typing import Any

from sift.config import Config

# Not a setting: the parent's pid, for its workers (die_with_parent).
PARENT_ENV = "SIFT_GRANIAN_PARENT"
PR_SET_PDEATHSIG = 1  # linux/prctl.h

# What the lifespan shutdown may take after the requests are done: writing the index
# images of a large index takes seconds; a worker still running after that is killed.
IMAGES_MARGIN_S = 120
# How often the parent repeats its stop signal to a worker still running: a worker
# ignores the repeat once it stops, and one still loading the app sees the first repeat
# that comes after its HTTP server runs.
STOP_REPEAT_S = 1.0
# uvicorn's access line, with the fields granian gives it.
ACCESS_FORMAT = '%(addr)s - "%(method)s %(path)s %(protocol)s" %(status)d'


def available() -> bool:
    try:
        import granian  # noqa: F401
    except ImportError:
        return False
    return True


def logging_config(base: dict[str, Any]) -> dict[str, Any]:
    """Sift's logging set-up (sift/server.py) with granian's loggers routed like uvicorn's:
    its messages to the root's JSON handler, its access lines to the access-log thread."""
    level = base["root"]["level"]
    loggers = {
        **base["loggers"],
        "_granian": {"level": level, "handlers": [], "propagate": True},
        "granian.access": {"level": level, "handlers": ["access"], "propagate": False},
    }
    return {**base, "loggers": loggers}


def die_with_parent() -> None:
    """In a granian worker: be killed when the parent dies.

    granian's parent supervises worker processes even for one worker. Killed with SIGKILL
    (``kill -9``, the OOM killer) it cannot stop them, and they would go on serving the
    port, the database and the task worker's lock as orphans, which uvicorn's single
    process never left behind. The kernel sends SIGKILL to the worker instead, as if the
    whole server had been killed. Linux only; elsewhere the orphans stay."""
    parent = os.environ.get(PARENT_ENV)
    if not parent or not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        return
    if os.getppid() != int(parent):  # the parent died before the line above
        os._exit(1)


def ignore_further_stops() -> None:
    """In a granian worker whose app has begun its lifespan shutdown: the parent repeats
    its stop signal to the workers still running (_Server), and one arriving once the
    event loop has let go of its handlers would, by its default action, kill the worker
    before it has written its index images; from here on they change nothing."""
    if not os.environ.get(PARENT_ENV) or threading.current_thread() is not threading.main_thread():
        return
    for stop in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop, signal.SIG_IGN)


def run(config: Config, log_config: dict[str, Any]) -> None:
    """Serve until SIGTERM or SIGINT; the caller exported the settings to the workers."""
    from granian.constants import HTTPModes, Interfaces, Loops
    from granian.http import HTTP1Settings
    from granian.log import LogLevels

    os.environ[PARENT_ENV] = str(os.getpid())  # forked workers inherit it
    server = _server_class()(
        "sift.server:app_factory",
        factory=True,
        address=config.host,
        port=config.port,
        interface=Interfaces.ASGI,  # with the lifespan: indexes loaded before serving
        workers=max(1, config.workers),
        http=HTTPModes.http1,
        websockets=False,
        loop=Loops.uvloop,
        http1_settings=HTTP1Settings(header_read_timeout=max(1, config.timeout_keep_alive) * 1000),
        log_level=LogLevels(config.log_level),
        log_dictconfig=logging_config(log_config),
        log_access=True,
        log_access_format=ACCESS_FORMAT,
        workers_kill_timeout=config.graceful_timeout + IMAGES_MARGIN_S,
    )
    server.serve()


def _server_class() -> type:
    """granian's server, its workers' stop made reliable.

    granian 2.8.9 sends each worker SIGTERM once. A worker takes it from its event loop's
    handler to its HTTP server, and one whose server is not running yet (it is still
    importing or starting the app: seconds, longer on a loaded machine) drops it: it then
    serves until the kill timeout, ``graceful_timeout`` + ``IMAGES_MARGIN_S`` later.
    Seen as a test's 60 s wait for a server stopped 1 s after its first worker was ready
    (tests/e2e/test_granian.py). The parent here repeats the signal to the workers still
    running until they exit; granian's own join and kill timeout stay as they are."""
    from granian.server import Server

    class _Server(Server):  # type: ignore[misc, valid-type]
        def _stop_workers(self) -> None:
            stopped = threading.Event()
            repeat = threading.Thread(target=_repeat_stop, args=(self.wrks, stopped),
                                      name="sift-stop-workers", daemon=True)
            repeat.start()
            try:
                super()._stop_workers()
            finally:
                stopped.set()

    return _Server


def _repeat_stop(workers: list[Any], stopped: threading.Event) -> None:
    while not stopped.wait(STOP_REPEAT_S):
        for worker in list(workers):
            if worker.is_alive():
                worker.terminate()

"""Run the ASGI app under uvicorn (or granian, sift/http/granian_server.py): one or several
worker processes, graceful shutdown."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from typing import Any

import click
import uvicorn
from fastapi import FastAPI
from pythonjsonlogger.core import RESERVED_ATTRS

from sift.config import SETTINGS, Config, load_config
from sift.engine import kernels_aot
from sift.http import granian_server, uvicorn_server
from sift.http.keepalive import KeepAliveProtocol
from sift.storage import child_migration
from sift.tasks import cores as worker_cores
from sift.tasks import memory

# How long a thread may hold the GIL while another waits for it (CPython's default is
# 5 ms). The event loop thread answers small requests (`POST /events`, thousands a second)
# while searches run on the thread pool: each time the loop held the GIL, a search could
# wait the whole interval. With 1 ms, search p50 under paced click events slowed 1.8-4.6x
# instead of 12.7-15.4x, alternated on the loaded machine (docs/benchmarks/events.md, "Click
# events").
SWITCH_INTERVAL_S = 0.001


def configure_process() -> None:
    """Process-wide settings, before the server starts its threads."""
    memory.configure()
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    lighten_log_records()


def choose_kernels_gil(workers: int) -> str:
    """Which build of the compiled kernels this server's processes load (kernels_aot.py),
    set in the environment its workers inherit; an operator's SIFT_KERNELS_GIL stays.

    Kernels that release the GIL let one worker's concurrent searches run their loops on
    several cores; with at least as many workers as usable cores there is no core to spare,
    and releasing only adds contention for the GIL (beside 2,000 click events/s, searches
    slowed x1.68/x1.85 with released kernels, x1.30/x1.36 with held ones:
    docs/benchmarks/events.md, "Click events")."""
    chosen = os.environ.get(kernels_aot.GIL_ENV)
    if chosen is None:
        chosen = kernels_aot.gil_for_workers(workers, usable_cores())
        os.environ[kernels_aot.GIL_ENV] = chosen
    return chosen


def usable_cores() -> int:
    """The cores this process may run on (its affinity, as a container's cpuset sets)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def app_factory() -> FastAPI:
    """Entry point for each worker process; the parent passed settings via SIFT_* variables."""
    from sift.app import create_app

    granian_server.die_with_parent()  # a no-op under uvicorn
    config = load_config()
    worker_cores.pin(config.workers)  # before the app starts threads: they inherit the core
    configure_process()  # before this worker process starts its threads
    return create_app(config)


def run(config: Config) -> None:
    # uvicorn re-raises the signal it shut down on once it is done; a requested,
    # graceful shutdown should end the process with status 0, not -15.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    url = f"http://{config.host}:{config.port}"
    where = config.public()["database_url"] or config.resolved_database_url
    # The port opens only once the indexes are loaded: say so, or the wait looks like a hang.
    click.echo(
        f"Sift {_version()} starting (data: {where}): compiling the search kernels and "
        f"loading the indexes; it answers on {url} when it logs that it is ready."
    )
    # The kernels compiled ahead of time, for the next start when not there yet: with
    # them no process of this server keeps numba and LLVM (kernels_aot.py).
    build = kernels_aot.start_build()
    # Before any process of this server imports the kernels (the workers inherit it).
    choose_kernels_gil(config.workers)
    worker_cores.choose(config.workers)  # SIFT_WORKER_CORES=auto: a core per worker
    if build is not None:
        threading.Thread(target=kernels_aot.report, args=(build,), daemon=True,
                         name="sift-kernels-build").start()
    if config.server == "granian":
        if not granian_server.available():
            raise click.ClickException(
                "server = granian needs the granian package: pip install 'sift-search[granian]'"
            )
        _prepare_workers(config)
        granian_server.run(config, logging_config(config.log_level))
        return
    common = dict(
        host=config.host,
        port=config.port,
        log_level=config.log_level,
        log_config=logging_config(config.log_level),
        timeout_keep_alive=config.timeout_keep_alive,
        # uvicorn's own protocol, except that keep-alive never resets a waiting request.
        http=KeepAliveProtocol,
        timeout_graceful_shutdown=config.graceful_timeout,
        # X-Forwarded-* are read by the app itself, from the peers in `trusted_proxies` only.
        proxy_headers=False,
        server_header=False,
    )
    if config.workers <= 1:
        from sift.app import create_app

        # Before the app loads: this process then never imports Alembic (child_migration.py).
        child_migration.migrate_in_child(config.resolved_database_url)
        configure_process()  # before the server starts its threads (sift/tasks/memory.py)

        # uvicorn's own server, its main loop waking once a second (http/uvicorn_server.py).
        uvicorn_server.run(uvicorn.Config(create_app(config), **common))  # type: ignore[arg-type]
        return
    # The parent only supervises the workers: it never imports the app (the search
    # engine and numba would cost it about 200 MiB of RSS for nothing).
    _prepare_workers(config)
    uvicorn.run("sift.server:app_factory", factory=True, workers=config.workers, **common)  # type: ignore[arg-type]


def _prepare_workers(config: Config) -> None:
    """What a supervisor does before it starts worker processes (uvicorn's or granian's)."""
    _export_settings(config)  # the workers build the app from the environment
    # Once, before the workers start: each would otherwise load Alembic (~10 MiB kept) and
    # wait its turn at the migration lock on a first start.
    child_migration.run_child(config.resolved_database_url)


def _export_settings(config: Config) -> None:
    """The settings as SIFT_* variables, for worker processes that load them again."""
    for setting in SETTINGS:
        value = config.values.get(setting.name)
        # The key read from master_key_file goes as master_key: not both.
        if value is not None and setting.name != "master_key_file":
            os.environ[setting.env] = str(value)


# Libraries whose routine INFO lines are noise to an operator: alembic's plugin set-up and
# migration steps, httpx's line for each in-process call of the search page and dashboard.
QUIET = ("alembic", "httpx", "httpcore", "numba")


def logging_config(level: str) -> dict[str, Any]:
    """One JSON object per line on stderr, for Sift's records, uvicorn's and the libraries'
    alike; a record's ``extra`` fields (index, task, batch...) become keys of its object."""
    level = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.orjson.OrjsonFormatter",
                "fmt": "{asctime}{levelname}{name}{message}",
                "style": "{",
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
                # uvicorn adds an ANSI-coloured copy of some messages
                "reserved_attrs": [*RESERVED_ATTRS, "color_message", "taskName"],
            }
        },
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            },
            # The same JSON line, formatted and written off the request's path.
            "access": {
                "class": "sift.http.access_log.AccessLogHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            },
        },
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            # uvicorn's own handlers replaced by the root's: the same JSON everywhere
            "uvicorn": {"level": level, "handlers": [], "propagate": True},
            "uvicorn.error": {"level": level, "handlers": [], "propagate": True},
            "uvicorn.access": {"level": level, "handlers": ["access"], "propagate": False},
            **{name: {"level": "DEBUG" if level == "DEBUG" else "WARNING"} for name in QUIET},
        },
    }


def lighten_log_records() -> None:
    """In a serving process: skip what each log record looks up and no line shows, the
    caller's file, line and function (a walk up the stack) and the thread's and process's
    names and ids; the JSON formatter leaves them out (``RESERVED_ATTRS``). These are the
    switches of the logging HOWTO's "Optimization" section. uvicorn logs an access line
    on every request's path, where they cost ~4 µs of its ~9 (py-spy, `GET /version`)."""
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False


def _version() -> str:
    import sift

    return sift.__version__

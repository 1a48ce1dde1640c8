"""Run the ASGI app under uvicorn: one or several worker processes, graceful shutdown."""

from __future__ import annotations

import os
import signal
import sys

import click
import uvicorn
from fastapi import FastAPI

from sift.config import SETTINGS, Config, load_config


def app_factory() -> FastAPI:
    """Entry point for each worker process; the parent passed settings via SIFT_* variables."""
    from sift.app import create_app

    return create_app(load_config())


def run(config: Config) -> None:
    from sift.app import create_app

    # uvicorn re-raises the signal it shut down on once it is done; a requested,
    # graceful shutdown should end the process with status 0, not -15.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    url = f"http://{config.host}:{config.port}"
    where = config.public()["database_url"] or config.resolved_database_url
    click.echo(f"Sift {_version()} listening on {url}  (data: {where})")
    common = dict(
        host=config.host,
        port=config.port,
        log_level=config.log_level,
        timeout_keep_alive=config.timeout_keep_alive,
        timeout_graceful_shutdown=config.graceful_timeout,
        # X-Forwarded-* are read by the app itself, from the peers in `trusted_proxies` only.
        proxy_headers=False,
        server_header=False,
    )
    if config.workers <= 1:
        uvicorn.run(create_app(config), **common)  # type: ignore[arg-type]
        return
    for setting in SETTINGS:
        value = config.values.get(setting.name)
        # The key read from master_key_file goes as master_key: not both.
        if value is not None and setting.name != "master_key_file":
            os.environ[setting.env] = str(value)
    uvicorn.run("sift.server:app_factory", factory=True, workers=config.workers, **common)  # type: ignore[arg-type]


def _version() -> str:
    import sift

    return sift.__version__

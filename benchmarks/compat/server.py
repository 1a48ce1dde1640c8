"""A real `sift serve` process on the address the SDK's tests hard-code."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HOST = "127.0.0.1"
PORT = 7700
MASTER_KEY = "masterKey"


def port_is_free(host: str = HOST, port: int = PORT) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _wait_healthy(process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    url = f"http://{HOST}:{PORT}/health"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"sift exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"sift did not answer {url} within {timeout}s:\n{log.read_text()[-3000:]}")


@contextmanager
def sift_server(data_dir: Path, log: Path, timeout: float = 60.0) -> Iterator[None]:
    """Sift serving on 127.0.0.1:7700 until the block ends; refuses a busy port."""
    if not port_is_free():
        raise RuntimeError(
            f"port {PORT} is in use; stop what listens there or run with --isolate "
            "(a private network namespace, where the port is always free)"
        )
    command = [
        sys.executable,
        "-m",
        "sift",
        "serve",
        "--host",
        HOST,
        "--port",
        str(PORT),
        "--master-key",
        MASTER_KEY,
        "--data-dir",
        str(data_dir),
        # Meilisearch accepts the SDK suite's 9-byte `masterKey` only in development.
        "--env",
        "development",
        "--index-defaults",
        "meilisearch",
        "--log-level",
        "warning",
        "--no-analytics",
        "--graceful-timeout",
        "2",
        # The suite sends wrong keys on purpose, far more than a client ever should.
        "--rate-limit-auth-failures",
        "off",
    ]
    with log.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
        try:
            _wait_healthy(process, log, timeout)
            yield
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

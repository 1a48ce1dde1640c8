"""A private PostgreSQL cluster and a private Redis for one fault run.

The fault suite restarts its database and stops its Redis; it must never touch the shared
servers other people's tests use. So it runs its own: `initdb` into a temporary directory
(as the `postgres` user when running as root: PostgreSQL refuses root), `pg_ctl` on a free
port, and a `redis-server` on another. Neither persists anything beyond the run.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from benchmarks.runners.server_process import ServerProcess, free_port
from sift.storage.database import normalize_url

DATABASE = "sift"


class Unavailable(RuntimeError):
    """A tool the run needs is missing here; the message says which."""


def _postgres_bin(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{tool}"))
        found = str(candidates[-1]) if candidates else None
    if found is None:
        raise Unavailable(f"PostgreSQL's {tool} is not installed")
    return found


class PrivatePostgres:
    """A cluster in a temporary directory of its own (the `postgres` user must reach it,
    which a test's private temporary directory does not allow); its log is copied to
    ``log_dir`` when it is closed."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        root = Path(tempfile.mkdtemp(prefix="sift-faults-pg-"))
        root.chmod(0o755)
        self.root = root
        self.data = root / "pgdata"
        self.port = free_port()
        self.log = root / "postgres.log"
        self._as: list[str] = []
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            runuser = shutil.which("runuser")
            if runuser is None:
                raise Unavailable("running as root without `runuser` to become `postgres`")
            self._as = [runuser, "-u", "postgres", "--"]
            shutil.chown(root, "postgres")
        self._pg_ctl = _postgres_bin("pg_ctl")
        self._run(
            _postgres_bin("initdb"),
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-sync",
        )
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={root} "
            # Nothing here survives the run: no fsync (the OS does not crash, PostgreSQL
            # restarts do not lose committed data without it), room for every node's pool.
            "-c fsync=off -c max_connections=300"
        )
        self._run(
            self._pg_ctl, "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start"
        )
        try:
            self._create_database()
        except BaseException:
            self.close()
            raise

    def _create_database(self) -> None:
        server = sa.create_engine(normalize_url(self.url("postgres")), isolation_level="AUTOCOMMIT")
        with server.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{DATABASE}"')
        server.dispose()
        # The harness's own direct line to the database (no proxy): the lease row, sessions
        # to terminate, the batch check. Pre-pinged: the server restarts under it.
        self.admin = sa.create_engine(
            normalize_url(self.url()), isolation_level="AUTOCOMMIT", pool_pre_ping=True
        )

    def url(self, database: str = DATABASE, port: int | None = None) -> str:
        return f"postgresql://postgres@127.0.0.1:{port or self.port}/{database}"

    def _run(self, *command: str) -> None:
        done = subprocess.run([*self._as, *command], capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise Unavailable(f"{Path(command[0]).name} failed: {done.stderr.strip()[-400:]}")

    def restart(self, mode: str = "fast") -> None:
        """Stop (`fast`: sessions ended cleanly; `immediate`: as a crash) and start again;
        pg_ctl reuses the options the server was started with."""
        # -l again: pg_ctl does not remember it, and a server writing to our pipe would keep
        # this call waiting for its end.
        self._run(
            self._pg_ctl, "-D", str(self.data), "-l", str(self.log), "-m", mode, "-w", "restart"
        )

    def close(self) -> None:
        if hasattr(self, "admin"):
            self.admin.dispose()
        subprocess.run(
            [*self._as, self._pg_ctl, "-D", str(self.data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
        )
        with contextlib.suppress(OSError):
            shutil.copy(self.log, self.log_dir / "postgres.log")
        shutil.rmtree(self.root, ignore_errors=True)


class PrivateRedis:
    def __init__(self, root: Path) -> None:
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            raise Unavailable("redis-server is not installed")
        self.root = root
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process: ServerProcess | None = None
        self.start()

    def start(self) -> None:
        command = [
            str(self.binary),
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        self._process = ServerProcess(command, self.root / "redis.log")
        self._process.wait_until(self._answers, 20, "redis-server")

    def _answers(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_timeout=1).ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self._process is not None:
            self._process.stop()
            self._process = None

    def close(self) -> None:
        self.stop()


def wait_for(check: object, timeout: float, what: str, every: float = 0.1) -> float:
    """Poll ``check()`` until true; the seconds it took. Raises TimeoutError after timeout."""
    began = time.monotonic()
    while True:
        assert callable(check)
        if check():
            return time.monotonic() - began
        if time.monotonic() - began > timeout:
            raise TimeoutError(f"{what}: not within {timeout:g} s")
        time.sleep(every)

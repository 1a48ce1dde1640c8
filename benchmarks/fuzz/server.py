"""One `sift serve` on a free 127.0.0.1 port and a fresh data directory, for the
hostile-input harnesses (process handling: benchmarks.ingest.server)."""

from __future__ import annotations

import os
import resource
import tempfile
from pathlib import Path
from types import TracebackType

from benchmarks.ingest.server import SiftServer, proc_status_mib
from benchmarks.runners.server_process import free_port

MASTER_KEY = "fuzz-master-key-0123456789"
MIB = 1 << 20


class Server:
    """`memory_cap` bounds the process's address space, so a request that would eat the
    machine's memory fails in that process only."""

    def __init__(self, *, memory_cap: int | None = None) -> None:
        self.dir = tempfile.TemporaryDirectory(prefix="sift-fuzz-")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.memory_cap = memory_cap
        self.log_path = Path(self.dir.name) / "server.log"
        self.server: SiftServer | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {MASTER_KEY}"}

    def __enter__(self) -> Server:
        root = Path(self.dir.name)
        args = ["--host", "127.0.0.1", "--port", str(self.port), "--data-dir", str(root / "data")]
        args += ["--master-key", MASTER_KEY, "--config-file", str(root / "absent.toml")]
        args += ["--log-level", "warning"]  # errors only, not one access line per request
        for name in [k for k in os.environ if k.startswith("SIFT_")]:
            os.environ.pop(name)  # only the flags above configure it
        self.server = SiftServer(args, self.log_path)
        if self.memory_cap is not None:
            resource.prlimit(self.server.pid, resource.RLIMIT_AS, (self.memory_cap,) * 2)
        self.server.wait_healthy(self.url, 120)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.server is not None:
            self.server.stop()
        self.dir.cleanup()

    def alive(self) -> bool:
        return self.server is not None and self.server.process.poll() is None

    def memory_mib(self, field: str = "VmRSS") -> float:
        """VmRSS (now) or VmHWM (the peak so far) of the process, in MiB."""
        assert self.server is not None
        return proc_status_mib(self.server.pid, field)

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]

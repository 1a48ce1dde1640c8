"""Things failure tests break instead of the shared servers: a private MariaDB (its own
data directory and port, so it can be killed, restarted and have its binlog purged) and
a TCP proxy whose connections can be cut."""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.e2e.sift_process import free_port


class PrivateMariaDB:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.datadir = root / "data"
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = f"mysql://root@127.0.0.1:{self.port}"

    def install(self) -> None:
        daemon = shutil.which("mariadbd") or shutil.which("mysqld")
        installer = shutil.which("mariadb-install-db") or shutil.which("mysql_install_db")
        if daemon is None or installer is None:
            pytest.skip("no MariaDB server binaries to start a private instance")
        self.daemon = daemon
        subprocess.run(
            [installer, "--no-defaults", f"--datadir={self.datadir}", "--user=root",
             "--auth-root-authentication-method=normal", "--skip-test-db"],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip

    def start(self) -> None:
        args = [self.daemon, "--no-defaults", f"--datadir={self.datadir}", f"--port={self.port}",
                f"--socket={self.root / 'sock'}", "--bind-address=127.0.0.1",
                f"--log-bin={self.datadir / 'bin'}", "--binlog-format=ROW", "--server-id=7",
                "--user=root", "--innodb-buffer-pool-size=32M",
                f"--log-error={self.root / 'error.log'}"]  # fmt: skip
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(
                ("127.0.0.1", self.port), timeout=0.5
            ):
                return
            time.sleep(0.1)
        raise TimeoutError("private MariaDB did not start")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(30)


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a server; `cut()` drops every connection and refuses
    new ones (a database that went away) until `restore()`."""

    def __init__(self, target_port: int) -> None:
        self.target = ("127.0.0.1", target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.open = True
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stopped:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.open:
                client.close()
                continue
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.open = False
        with self.lock:
            for s in self.sockets:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
            self.sockets.clear()

    def restore(self) -> None:
        self.open = True

    def close(self) -> None:
        self.stopped = True
        self.cut()
        self.listener.close()

"""Describe the machine and code a benchmark ran on, for the results file."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path
from typing import Any


def machine_info(repo_root: Path) -> dict[str, Any]:
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "os": platform.platform(),
        "python": platform.python_version(),
        # Other jobs share the machine; a high load average explains noisy timings.
        "load_average_at_start": os.getloadavg(),
        "git_commit": _git_commit(repo_root),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return None


def _git_commit(repo_root: Path) -> str | None:
    def git(*args: str) -> str:
        command = ["git", "-C", str(repo_root), *args]
        return subprocess.run(command, capture_output=True, text=True, check=False).stdout

    commit = git("rev-parse", "--short", "HEAD").strip()
    # Sift is benchmarked from the working tree, which may hold uncommitted changes.
    dirty = bool(git("status", "--porcelain", "--untracked-files=no").strip())
    return f"{commit}+dirty" if commit and dirty else commit or None

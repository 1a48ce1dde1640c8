"""CPU seconds a server spent, its worker processes included, read from Linux's /proc.

On a shared machine a request's wall time is mostly waiting for a core, and that wait
grows with other people's load; the CPU time a server spends per request grows far less.
The paired benchmark reports both."""

from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")


def _stat(pid: int) -> list[str] | None:
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:  # gone, or not Linux
        return None
    return text.rsplit(")", 1)[1].split()  # the fields after the command name


def process_tree_cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of ``pid`` and every live descendant (uvicorn's and
    granian's workers); None where /proc cannot tell (not Linux)."""
    if _stat(pid) is None:
        return None
    parents: dict[int, int] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) is not None:
            parents[int(entry.name)] = int(fields[1])
    tree, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, of in parents.items() if of == parent]
        tree.update(children)
        frontier.extend(children)
    ticks = 0
    for member in tree:
        fields = _stat(member)
        if fields is not None:
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")

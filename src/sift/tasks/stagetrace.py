"""Wall-clock stamps of a change's way through Sift, for the sync benchmark's breakdown.

When the environment variable SIFT_STAGE_TRACE names a file, the sync runner appends one
JSON line per commit to Sift (for each source transaction in it: the source's commit
time, when the reader decoded it, when the runner took it, and its keys; then when the
window was due, when Sift's write lock was held, when the commit returned, and the task
uids) and the task worker one per batch (its task uids; when it was picked, applied,
committed and published). benchmarks/sync/stages.py joins them with the benchmark's
probes. Unset (the default), `enabled()` is false and nothing else runs.
"""

from __future__ import annotations

import os
import threading
from typing import IO, Any

import orjson

ENV = "SIFT_STAGE_TRACE"

_path = os.environ.get(ENV) or None
_out: IO[bytes] | None = None
_lock = threading.Lock()


def enabled() -> bool:
    return _path is not None


def write(record: dict[str, Any]) -> None:
    """Append one record (a line of JSON); flushed at once, so a killed server keeps it."""
    global _out
    if _path is None:
        return
    line = orjson.dumps(record) + b"\n"
    with _lock:
        if _out is None:
            _out = open(_path, "ab")  # noqa: SIM115  # open for the process's life
        _out.write(line)
        _out.flush()

"""A core per worker process of `sift serve`, where the operator asks for it.

Left to the scheduler, each worker's threads move between the cores with the rest of the
machine's work, and a search then runs with the caches of whatever ran there last. With
``SIFT_WORKER_CORES=auto`` and the workers' count at the usable cores, each worker keeps
to its own core: on the 2-core VM, beside 2,000 click events/s, the searches' p50 was
lower pinned in 9 of 12 alternations, and its ratio in 7 of 9 alternated pairs of the
events benchmark (docs/benchmarks/events.md, "Click events", thirteenth pass). It is not
the default: the same runs put the searches' p50 *alone* higher pinned (1.66 against
1.51 ms), a single client's search waits for its own worker's core when the machine's
other work lands there, and on a host shared with other services a pinned worker cannot
move to an idle core. With as many workers as cores, a worker's kernels hold the GIL
already (kernels_aot.gil_for_workers), so pinned it gives up only the library calls
that release the GIL (SQLite, numpy) running on another core.

The supervisor chooses (:func:`choose`) and leaves the cores in ``SIFT_WORKER_CORES`` for
its workers (``auto`` resolved to a list or ``off``; a list set by the operator stays).
Each worker takes the first free slot (:func:`pin`): a slot is an abstract Unix socket
named after the supervisor, bound for the worker's life, so a worker started again after
one died takes the core the dead one left, and two workers never share a slot. Linux only
(elsewhere nothing is pinned). The worker's bulk work (the task worker, the vector
graph's build) goes back to every core (:func:`unpin_thread`): its libraries may use
several."""

from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path

CORES_ENV = "SIFT_WORKER_CORES"
OFF = "off"
AUTO = "auto"

# The worker's slot, held open while the process lives (its name is the claim).
_claimed: socket.socket | None = None
# The cores the worker could use before it was pinned: its bulk work's (unpin_thread).
_spread: set[int] | None = None


def choose(workers: int) -> str:
    """The cores the workers of this supervisor are spread over (comma-separated), or
    ``off``. Opt-in: ``auto`` in the environment pins where there are at least two workers
    and no fewer workers than usable cores; a list of cores is kept as the operator set
    it; unset, nothing is pinned. The choice is left in the environment the workers
    inherit."""
    chosen = os.environ.get(CORES_ENV, OFF)
    if chosen == AUTO:
        cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
        pinned = workers >= 2 and len(cores) >= 1 and workers >= len(cores)
        chosen = ",".join(map(str, cores)) if pinned else OFF
    os.environ[CORES_ENV] = chosen
    return chosen


def pin(workers: int) -> int | None:
    """In a worker: keep every thread of this process (and the threads it starts later) to
    the core of the first free slot; the core, or None when not pinned."""
    global _claimed, _spread
    chosen = os.environ.get(CORES_ENV, OFF)
    # auto unresolved: no supervisor of sift serve chose (another launcher started it).
    if chosen in (OFF, AUTO) or not hasattr(os, "sched_setaffinity") or _claimed is not None:
        return None
    cores = [int(core) for core in chosen.split(",")]
    claimed = claim(f"sift-worker-core-{os.getppid()}", max(workers, len(cores)))
    if claimed is None:
        return None
    _claimed, slot = claimed
    _spread = os.sched_getaffinity(0)
    core = cores[slot % len(cores)]
    for task in Path("/proc/self/task").iterdir():  # uvicorn's threads started already
        with contextlib.suppress(ProcessLookupError):  # the thread ended meanwhile
            os.sched_setaffinity(int(task.name), {core})
    return core


def unpin_thread() -> None:
    """In a thread of bulk work that libraries spread over cores (indexing, embedding,
    the vector graph): run on every core the worker had, not on the request path's one."""
    if _spread is not None:
        os.sched_setaffinity(0, _spread)


def claim(name: str, slots: int) -> tuple[socket.socket, int] | None:
    """The first of ``slots`` slots under ``name`` that no living process holds, with the
    socket that holds it (closed, or its process gone, the slot is free again)."""
    for slot in range(slots):
        held = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            held.bind(f"\0{name}-{slot}")
        except OSError:  # taken
            held.close()
            continue
        return held, slot
    return None

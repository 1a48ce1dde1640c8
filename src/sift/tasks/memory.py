"""The C allocator under a long-running server: few arenas, and freed memory given back.

glibc's malloc gives each thread that allocates concurrently an arena of its own (up to 8
per core) and never returns an arena's free pages to the system unless they sit at its
very top. Sift allocates from many threads (the request thread pool, the task worker,
the vector graph builder), mostly numpy arrays that are replaced whole at each batch; so
under sustained writes the free-but-kept memory grew with every batch, and a deleted
index's memory stayed with the process (docs/deployment.md, "Memory sizing").

:func:`configure` caps the arenas and fixes the size above which a block gets its own
mapping (which ``free`` unmaps at once); glibc otherwise raises that threshold each time
such a block is freed, moving the next large arrays into the arenas. :func:`release`
hands free pages back (``malloc_trim``); the task worker calls it when its queue has
drained. It does not reach the top of the arenas other than the main one:
:func:`trim_arena` does, for the calling thread's (idle search threads call it). All do
nothing where the C library is not glibc (musl, macOS, Windows).

The fixed threshold had a cost on large indexes: a search's candidate-sized temporaries
(3-6 MiB each for 800k candidates at 1M documents) were each a fresh mapping, zeroed and
faulted in page by page and unmapped when freed: ~1,800 minor faults per search and about
twice the CPU of the same search under glibc's defaults (docs/benchmarks/scale.md, "Scale",
"The allocator under a 1M typeahead search"). So :func:`configure` also sets a 48 MiB top
pad: an arena's top keeps that much past what is in use, a request it can serve is
carved from it whatever its size, and freed blocks coalesce back into it, so the next
search reuses pages already touched. Blocks the top cannot serve are still mapped apart
at 256 KiB and unmapped when freed, and ``release`` trims the main heap to nothing. A
32 MiB mmap threshold with a 64 MiB trim threshold was as fast but raised a 200k import's
peak RSS by 8-12 MiB (freed arrays kept in the arenas), as did a 64 MiB pad; 16-32 MiB
pads kept part of the faults.

:func:`collect_garbage` is the cyclic collector's schedule under the task worker, which
pauses the collector while it applies a batch (tasks/worker.py). Python's own schedule
never ran under sustained writes: each batch ended with a generation-0 collection, which
reset the allocation count that triggers the others, so objects promoted to generation 1
(those of requests in flight at that moment) were never collected once they became
garbage, and the heap grew by about 20 MiB a minute in `python -m benchmarks soak`.

A full collection walks every object the indexes hold: a 200k-row table's index is about
875k objects (documents, their lists, per-term lists), a walk of ~1 s on the shared 2-core
machine, during which the worker publishes nothing and the server answers nothing (it
holds the GIL): that was the second-long stall in a sync source's change lag. So each
full collection ends with ``gc.freeze()``: what survived it (mostly index objects, which
live until replaced and are acyclic, so reference counting still frees them) moves to
the permanent generation, and the next full collection walks only what was allocated
since. A cycle among frozen objects that becomes garbage later (a request in flight at
the freeze) waits for a *complete* collection, which unfreezes first: when the queue has
drained, or every COMPLETE_S under writes that never stop.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import os
import platform
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

log = logging.getLogger("sift.tasks.memory")

# mallopt(3) parameters.
M_TOP_PAD = -2
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8

# 4, not 2: the main arena serves the event loop's (and the loader's) steady small
# allocations, so the top pad below did not stay whole there between two searches, and
# with two arenas in all a search thread shared it or the one other arena (glibc hands
# threads past the cap an existing arena in turn). At 1M documents a search thread on a
# shared arena faulted in its candidate-sized arrays afresh: ~210-440 minor faults per
# search (mean) and p99 24-28 ms of its CPU on the scale harness's mix, against 11-23
# faults and 12.4-16.5 ms with 4 arenas and the search threads' last-in-first-out turn
# (sift.http.search_placement; docs/benchmarks/scale.md, "Scale", branch `p99w`). Which
# arena a thread gets still follows the order in which threads first allocate.
ARENA_MAX = 4
# Arrays of 256 KiB and more (a snapshot's `alive` and field lengths past 64k documents,
# posting segments, vector matrices) are mapped apart and unmapped when freed.
MMAP_THRESHOLD = 256 * 1024
# An arena's top keeps 48 MiB past what is in use when it grows or is trimmed: a request
# the top can serve is not mapped apart whatever its size, so a 1M index's search
# temporaries (3-6 MiB each) reuse pages the last search touched instead of faulting in
# fresh mappings; release() (malloc_trim(0)) still trims the main heap to nothing.
TOP_PAD = 48 << 20


@cache
def _glibc() -> Any | None:
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:
        return None
    libc.malloc.restype = ctypes.c_void_p  # a pointer, not ctypes' default int
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    return libc


# Whether configure() set the top pad and the mmap threshold itself (no MALLOC_* in the
# environment): trim_arena() changes them for a moment and puts back these values.
_tuned = False


def configure() -> bool:
    """Tune malloc before the server starts its threads; returns whether it could. A
    ``MALLOC_ARENA_MAX``, ``MALLOC_MMAP_THRESHOLD_`` or ``MALLOC_TOP_PAD_`` in the
    environment wins."""
    global _tuned
    libc = _glibc()
    if libc is None:
        return False
    if "MALLOC_ARENA_MAX" not in os.environ:
        libc.mallopt(M_ARENA_MAX, ARENA_MAX)
    if "MALLOC_MMAP_THRESHOLD_" not in os.environ:
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    if "MALLOC_TOP_PAD_" not in os.environ:
        libc.mallopt(M_TOP_PAD, TOP_PAD)
    _tuned = not {"MALLOC_MMAP_THRESHOLD_", "MALLOC_TOP_PAD_"} & os.environ.keys()
    return True


# A stored payload at least this large is followed by release(): below it, what the
# request freed is small next to a trim's cost under a stream of small writes.
TRIM_AFTER_PAYLOAD_BYTES = 8 << 20


def release() -> bool:
    """Give the allocator's free pages back to the system; whether any were."""
    libc = _glibc()
    return bool(libc.malloc_trim(0)) if libc is not None else False


# A block that free() gives back to the arena's top in one piece: at least glibc's
# FASTBIN_CONSOLIDATION_THRESHOLD (64 KiB, where free() trims the arena's top) and below
# MMAP_THRESHOLD (so it comes from the arena, not a mapping of its own).
_TRIM_BLOCK = 128 * 1024
# The trimmed top is grown back by TOP_PAD in blocks of at most this: glibc's largest
# mmap threshold (half a 64 MiB heap), set while they are taken so that they come from
# the arena.
_REGROW_BLOCK = 24 << 20
_MAX_MMAP_THRESHOLD = 32 << 20
_trim_lock = threading.Lock()


def trim_arena() -> bool:
    """Hand back the free top of the calling thread's malloc arena; whether it could try.

    ``malloc_trim`` (release()) trims only the main arena's top: in the other arenas it
    gives back free blocks below the top, and free() leaves TOP_PAD (48 MiB) at their top
    when it trims. So the pages a thread's searches touched there stay resident for good
    (a non-main heap is at most 64 MiB, nearly all of it within the pad): 8-9 MiB of a
    soak's drained process with 4 arenas (docs/benchmarks/memory.md, "Memory over time",
    branch `arena2`). For the length of one free() in this thread the pad is 0, and the
    128 KiB block freed makes glibc trim the top of this thread's arena to nothing.

    Then the top is grown back by the pad, untouched: glibc grows a non-main heap by
    exactly what a request lacks and maps a request of MMAP_THRESHOLD or more apart when
    the top cannot serve it, so a trimmed arena's next search temporaries (MiBs each at
    1M documents) would be mapped, faulted in and unmapped at every search, as before
    the pad. Two 24 MiB blocks, taken with the threshold raised (so from the arena) and
    freed back into the top, regrow it as a fresh heap's pad is, resident only where
    their headers are written: 3 pages (3 huge pages where numpy asked for them over
    its arrays of 4 MiB and more). Small blocks instead wrote a header every 192 KiB,
    faulting in every huge page of such a range. The first search after a trim faults
    its temporaries in once; the ones after it reuse them.

    The pad is process-wide: another thread's free() of 64 KiB or more in that window
    (microseconds) also trims its own arena's top, which then stays unpadded (its large
    temporaries mapped apart) until that thread's own trim regrows it. Call it where no
    search runs (sift.http.search_placement calls it from idle search threads). Only
    after configure() set both values itself (glibc's defaults, or the environment's
    MALLOC_*, are left alone)."""
    libc = _glibc()
    if libc is None or not _tuned:
        return False
    with _trim_lock:  # two threads' windows must not overlap: each puts the values back
        libc.mallopt(M_TOP_PAD, 0)
        try:
            libc.free(libc.malloc(_TRIM_BLOCK))
        finally:
            libc.mallopt(M_TOP_PAD, TOP_PAD)
        libc.mallopt(M_MMAP_THRESHOLD, _MAX_MMAP_THRESHOLD)
        try:
            blocks = [libc.malloc(_REGROW_BLOCK) for _ in range(TOP_PAD // _REGROW_BLOCK)]
        finally:
            libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
        for block in reversed(blocks):  # the last one borders the top: each merges into it
            libc.free(block)
    return True


# A full collection walks the objects allocated since the last one (the rest are frozen):
# after a batch that left many new objects (a snapshot's batch of thousands of documents:
# walking them again later would cost as much), and at least every BATCH_FULL_S. A
# complete one walks everything (about 1 s for a 200k-document index on the shared
# 2-core machine): at most IDLE_FULL_S apart once the queue has drained, and COMPLETE_S
# apart under writes that never let it drain.
FULL_AFTER_OBJECTS = 10_000
BATCH_FULL_S = 60.0
IDLE_FULL_S = 10.0
COMPLETE_S = 600.0
_last_full = _last_complete = time.monotonic()
_lock = threading.Lock()


def freeze_startup() -> None:
    """Move what the process made before its first batch (modules, compiled kernels, the
    indexes loaded from the database: long-lived) to the permanent generation, without
    a walk. Otherwise the first batch's full collection walked the whole heap (the
    largest part of the first 200k-document import's ~1 s collection); garbage among
    them waits for the first complete collection, as a frozen cycle always does."""
    gc.freeze()


def collect_garbage(idle: bool = False) -> int:
    """After a batch, with the collector paused (or, ``idle``, once the queue has
    drained): the young generations; or every unfrozen object, then frozen, when the
    batch left many or the last full collection is old enough; or, when the last complete
    one is, everything. Returns 1, 2 (full) or 3 (complete)."""
    global _last_full, _last_complete
    now = time.monotonic()
    # With the collector paused, generation 0 counts the objects the batch left alive.
    many = gc.get_count()[0] >= FULL_AFTER_OBJECTS
    with _lock:
        complete = now - _last_complete >= (IDLE_FULL_S if idle else COMPLETE_S)
        full = complete or many or now - _last_full >= BATCH_FULL_S
        if full:
            _last_full = now
        if complete:
            _last_complete = now
    if not full:
        gc.collect(1)
        return 1
    if complete:
        gc.unfreeze()
    gc.collect(2)
    gc.freeze()  # the survivors are long-lived: the next full collections skip them
    return 3 if complete else 2


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a batch is applied, or an index
    rebuilt or loaded (sift.catalog).

    Indexing allocates millions of small objects, and each automatic collection scans
    every object the index already holds: measured, 50k documents took 2.3 s with the
    collector running and 1.5 s without, and a start's rebuild of 1M products from the
    database spent 8.5 of its 50 s of CPU in collections (66 of them full). Reference
    counting still frees everything acyclic; cycles are collected once it ends
    (collect_garbage). Nested, only the outermost pause collects.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            # Before enabling it: the first allocation after would otherwise run a
            # generation-0 collection over every object the batch made, which this
            # one walks again. Not generation 0 alone: the collector's own schedule
            # never runs while batches follow each other (sift/tasks/memory.py).
            collect_garbage()
            gc.enable()

"""The allocator settings and the collector's schedule under the task worker."""

from __future__ import annotations

import platform
from typing import Any

import pytest

from sift.tasks import memory

# The collector's tests run in a fresh interpreter each (_probe): its generations, counts
# and frozen set are process-wide, and in a whole test run other tests' threads (a task
# worker ending a batch, an index being loaded) collect or freeze beside them: in CI one
# reset generation 0's count between a test's allocations and its check (stop 36).
COLLECTOR = r"""
import gc, json, time, weakref
from sift.tasks import memory

class Node:
    other = None

memory._last_full = memory._last_complete = time.monotonic()  # no full collection due
gc.disable()  # as the worker pauses it during a batch: only the collections below run
out = {}
"""


def _collector(scenario: str) -> dict[str, Any]:
    return _probe(COLLECTOR + scenario + "\nprint(json.dumps(out))\n")


def test_the_end_of_a_batch_collects_cycles_older_than_generation_0() -> None:
    out = _collector("""
node = Node()
node.other = node
alive = weakref.ref(node)
gc.collect(0)  # in flight during a collection: promoted to generation 1
del node
gc.collect(0)  # what the worker used to run after each batch
out["after_gen0"] = alive() is not None
out["kind"] = memory.collect_garbage()
out["after_batch"] = alive() is not None
""")
    assert out == {"after_gen0": True, "kind": 1, "after_batch": False}


def test_a_batch_that_leaves_many_objects_is_collected_in_full_and_frozen() -> None:
    out = _collector("""
kept = [[i] for i in range(memory.FULL_AFTER_OBJECTS)]  # a batch's new index objects
out["kind"] = memory.collect_garbage()
out["frozen_all"] = gc.get_freeze_count() >= len(kept)
out["next"] = memory.collect_garbage()  # the next small batch: the young generations
""")
    assert out == {"kind": 2, "frozen_all": True, "next": 1}


def test_a_frozen_cycle_waits_for_the_complete_collection() -> None:
    out = _collector("""
node = Node()
node.other = node
alive = weakref.ref(node)
memory._last_full = 0.0
out["first"] = memory.collect_garbage()  # full: `node` survives it and is frozen
del node
memory._last_full = 0.0
out["second"] = memory.collect_garbage()
out["alive_after_full"] = alive() is not None  # full collections skip frozen objects
out["idle_recent"] = memory.collect_garbage(idle=True)  # the last complete one is recent
memory._last_complete = 0.0
out["idle_complete"] = memory.collect_garbage(idle=True)
out["alive_after_complete"] = alive() is not None
""")
    assert out == {"first": 2, "second": 2, "alive_after_full": True, "idle_recent": 1,
                   "idle_complete": 3, "alive_after_complete": False}


def test_an_idle_worker_collects_everything_at_most_every_few_seconds() -> None:
    out = _collector("""
memory.collect_garbage(idle=True)  # may be full or not, depending on the last one
out["just_after"] = memory.collect_garbage(idle=True)  # the young generations only
""")
    assert out == {"just_after": 1}


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc tuning is glibc's")
def test_glibc_malloc_is_tuned_and_trimmed() -> None:
    assert memory.configure()
    memory.release()  # whether pages came back depends on the heap; it must not fail


# In a process of its own: mallopt's settings are process-wide.
ALLOCATOR_PROBE = r"""
import json, resource, threading
import numpy as np
from sift.tasks import memory

def faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt

out = {"configured": memory.configure()}
def search() -> None:  # in a thread of its own, as a server's request thread searches
    for _ in range(3):  # candidate-sized temporaries (800k float64, 6.4 MB), then freed
        np.ones(800_000)
    before = faults()
    np.ones(800_000)
    out["faults_on_reuse"] = faults() - before
thread = threading.Thread(target=search)
thread.start()
thread.join()
print(json.dumps(out))
"""


def _probe(code: str) -> dict[str, Any]:
    """What a probe printed, run in a fresh interpreter without the caller's MALLOC_*
    settings (configure() leaves those alone)."""
    import json
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    probe = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, env=env)
    return json.loads(probe.stdout)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc tuning is glibc's")
def test_a_search_temporary_reuses_the_pages_the_last_one_freed() -> None:
    """With only the 256 KiB mmap threshold, each candidate-sized array was a fresh
    mapping faulted in page by page (hundreds of faults for 6.4 MB); the top pad keeps the
    pages the last search touched."""
    out = _probe(ALLOCATOR_PROBE)
    assert out["configured"]
    assert out["faults_on_reuse"] < 100


# In a process of its own as well: the probe reads the process's resident memory.
TRIM_PROBE = r"""
import json, resource, threading
import numpy as np
from sift.tasks import memory

def faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt

def anon_kib() -> int:
    for line in open("/proc/self/status"):
        if line.startswith("RssAnon:"):
            return int(line.split()[1])
    return 0

out = {"unconfigured": memory.trim_arena(), "configured": memory.configure()}
def search() -> None:  # in a thread of its own (its own arena), as a search thread
    for _ in range(3):
        np.ones(800_000)  # 6.4 MB carved from the arena's top and freed back into it
    before = anon_kib()
    out["trimmed"] = memory.trim_arena()
    out["kib_handed_back"] = before - anon_kib()
    first = faults()
    np.ones(800_000)  # faulted in afresh: the pages went back
    out["faults_after_trim"] = faults() - first
    second = faults()
    np.ones(800_000)  # the top pad is back in force: the pages stay for the next one
    out["faults_on_reuse"] = faults() - second
thread = threading.Thread(target=search)
thread.start()
thread.join()
print(json.dumps(out))
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc tuning is glibc's")
def test_a_search_thread_hands_its_arenas_free_top_back() -> None:
    """malloc_trim (release()) trims only the main arena's top; another thread's arena
    kept the 48 MiB pad's pages its searches touched, for good."""
    out = _probe(TRIM_PROBE)
    assert out["unconfigured"] is False  # glibc's own pad is left alone before configure()
    assert out["configured"] and out["trimmed"]
    assert out["kib_handed_back"] >= 4 * 1024
    assert out["faults_after_trim"] >= 300  # faulted in again (huge pages where numpy asks)
    assert out["faults_on_reuse"] < 100

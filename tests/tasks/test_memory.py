"""The allocator settings and the collector's schedule under the task worker."""

from __future__ import annotations

import gc
import platform
import weakref

import pytest

from sift.tasks import memory


class Node:
    other: Node | None = None


def test_the_end_of_a_batch_collects_cycles_older_than_generation_0() -> None:
    was_enabled = gc.isenabled()
    gc.disable()  # no automatic collection in between: only the ones below
    try:
        node = Node()
        node.other = node
        alive = weakref.ref(node)
        gc.collect(0)  # in flight during a collection: promoted to generation 1
        del node
        gc.collect(0)  # what the worker used to run after each batch
        assert alive() is not None
        memory.collect_garbage()
        assert alive() is None
    finally:
        if was_enabled:
            gc.enable()


def test_an_idle_worker_collects_everything_at_most_every_few_seconds() -> None:
    memory.collect_garbage(idle=True)  # may be full or not, depending on the last one
    assert memory.collect_garbage(idle=True) == 1  # just after: the young generations only


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc tuning is glibc's")
def test_glibc_malloc_is_tuned_and_trimmed() -> None:
    assert memory.configure()
    memory.release()  # whether pages came back depends on the heap; it must not fail

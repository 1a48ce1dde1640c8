"""A stop's merge left behind (sift.catalog._merge_before_image past its budget) while the
interpreter exits: the process ends normally and the image it wrote is whole. The thread
only reads the index's writer state and writes arrays of its own; the stop adopts a merge
only when it came in time."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

# Run in a process of its own, so that its exit is the one under test: the merge thread
# merges again and again, so it is always mid-merge (in a kernel or between two) when
# the interpreter exits.
SCRIPT = """
import sys, threading, time
from pathlib import Path
import sift.catalog
import sift.engine.index
from sift.engine import image
from sift.engine.index import SearchIndex
from sift.engine.query import SearchParams
from sift.engine.settings import default_settings

real_merge = sift.engine.index.merge_segments
started = threading.Event()

def endless_merge(*args):
    started.set()
    while True:
        real_merge(*args)

sift.engine.index.merge_segments = endless_merge
index = SearchIndex(default_settings("meilisearch"), "id")
for b in range(3):  # three batches: three segments, a merge due
    index.upsert([(str(i), {"id": i, "t": f"amber w{i % 97} x{i}"})
                  for i in range(b * 2000, (b + 1) * 2000)])
query = SearchParams(q="amber w1", limit=50)
live = [hit["id"] for hit in index.search(query)["hits"]]
sift.catalog._merge_before_image("x", index, time.monotonic() + 0.05)
assert started.is_set() and len(index._segments) == 3  # not adopted: still running
path = Path(sys.argv[1]) / "x.image"
image.save(index, path, {})
loaded = image.load(path)
assert len(loaded._segments) == 3
assert [hit["id"] for hit in loaded.search(query)["hits"]] == live
assert any(t.name == "sift-image-merge" for t in threading.enumerate())
print("image whole")
"""


def test_an_abandoned_stop_merge_neither_corrupts_the_image_nor_holds_the_exit(
        tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True,
                          text=True, timeout=300)  # a guard against a hung exit, no timing
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "image whole"
    assert [p.name for p in tmp_path.iterdir()] == ["x.image"]  # no partial file left

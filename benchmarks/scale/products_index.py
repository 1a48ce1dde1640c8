"""The seeded products index the scale benchmarks search, built in process or loaded.

`benchmarks.scale.lockstep` runs it inside each tree it compares (its worker script puts
that tree's `src` first on the path and this harness's `benchmarks` after it), and
`benchmarks.scale.stages` in this tree: one build, so both search the same index.
"""

from __future__ import annotations

import os
import pickle
import random
from typing import Any

from benchmarks.ingest.dataset import document
from benchmarks.scale.queries import FILTERABLE

BATCH = 10_000


def products_index(docs: int, seed: int, cache: str | os.PathLike[str] | None = None) -> Any:
    """``docs`` seeded products in a SearchIndex, optimized; unpickled from ``cache`` when
    it exists, else built and written there (atomically) when a path is given."""
    if cache and os.path.exists(cache):
        with open(cache, "rb") as fh:
            return pickle.load(fh)
    from sift.engine.index import SearchIndex
    from sift.engine.settings import apply_patch, default_settings

    rng = random.Random(seed)
    index = SearchIndex(apply_patch(default_settings(), {"filterableAttributes": FILTERABLE}),
                        "id")
    for start in range(0, docs, BATCH):
        batch = [document(rng, i) for i in range(start, min(start + BATCH, docs))]
        index.upsert([(str(d["id"]), d) for d in batch])
    index.optimize(force=True)
    if cache:
        partial = f"{os.fspath(cache)}.partial"
        with open(partial, "wb") as fh:
            pickle.dump(index, fh, protocol=5)
        os.replace(partial, cache)
    return index

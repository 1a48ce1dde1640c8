"""`python -m benchmarks.scale.first_use --index-cache FILE [--lazy]`: what the first uses
of a products index's filters and facets cost its searches, and what building them ahead
costs in memory.

The products index of `benchmarks.scale.lockstep` is unpickled from ``--index-cache`` (as
a server loads an image: no filter or facet view built yet), its one-letter prefixes
warmed (``warm_prefixes``), then, unless ``--lazy``, its filter and facet views built as
the server builds them before the index is searched (``SearchIndex.warm_fields``; a tree
without it, such as main, is always lazy). Then the typeahead mix runs once, in order,
first search included (the lockstep benchmark leaves its first 30 out). Printed: resident
memory after loading, after the views were built and after the mix (each after a
collection and ``malloc_trim``, so freed temporaries do not count), the CPU time of the
build, and the slowest searches by the CPU time of their thread.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import os
import pickle
import time
from pathlib import Path

from benchmarks.scale.queries import typeahead


def resident_mib() -> float:
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    with open("/proc/self/status") as fh:
        kib = next(int(line.split()[1]) for line in fh if line.startswith("VmRSS"))
    return kib / 1024


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale.first_use",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index-cache", type=Path, required=True)
    parser.add_argument("--searches", type=int, default=330)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--lazy", action="store_true",
                        help="leave the views to the searches that first read them")
    parser.add_argument("--slowest", type=int, default=6)
    args = parser.parse_args(argv)
    from sift.engine.query import SearchParams

    with args.index_cache.open("rb") as fh:
        index = pickle.load(fh)
    index.warm_prefixes()
    loaded = resident_mib()
    print(f"{args.index_cache.name}: {index.document_count():,} documents; load average "
          f"{os.getloadavg()[0]:.1f}; resident after loading {loaded:.1f} MiB")
    if not args.lazy and hasattr(index, "warm_fields"):
        began = time.thread_time()
        index.warm_fields()
        spent = (time.thread_time() - began) * 1000
        print(f" warm_fields: {spent:.0f} ms of CPU, resident {resident_mib():.1f} MiB "
              f"(+{resident_mib() - loaded:.1f})")
    else:
        print(" filter and facet views left to the searches that first read them")
    timed = []
    for i, body in enumerate(typeahead(args.searches, args.seed)):
        began = time.thread_time()
        index.search(SearchParams.from_dict(body))
        timed.append(((time.thread_time() - began) * 1000, i, body["q"], body["filter"]))
    after = resident_mib()
    print(f" after the {args.searches} searches of the mix: resident {after:.1f} MiB "
          f"(+{after - loaded:.1f} over loading); slowest, CPU ms:")
    for ms, i, q, where in sorted(timed, reverse=True)[: args.slowest]:
        print(f"  {ms:7.1f}  #{i} {q!r} ({where})")


if __name__ == "__main__":
    main()

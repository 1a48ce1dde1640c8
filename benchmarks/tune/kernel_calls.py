"""What calling a search kernel costs, per call: numba's JIT dispatcher, the kernel
compiled ahead of time called directly, and the same behind the argument check that
every call in a serving process goes through (sift.engine.kernels_guard).

Each kernel is called with the arguments ``kernels.warm_up`` gives it (one-element
arrays: the call's overhead, not its loop). Needs the ahead-of-time module built for
this source (``SIFT_KERNELS=aot``; ``python -m sift.engine.kernels_aot DIR`` builds it).

    SIFT_KERNELS=aot python -m benchmarks.tune.kernel_calls [--calls 20000]
"""

from __future__ import annotations

import argparse
import timeit
from typing import Any

from sift.engine import kernels
from sift.engine.kernels_guard import Guarded


def warm_up_calls() -> dict[str, tuple[Any, ...]]:
    """The arguments warm_up passes each kernel it calls (the last call of each)."""
    calls: dict[str, tuple[Any, ...]] = {}
    bound = {name: getattr(kernels, name) for name in kernels.PYTHON
             if hasattr(kernels, name)}

    def recorder(name: str) -> Any:
        def record(*args: Any) -> Any:
            calls[name] = args
            return bound[name](*args)
        return record

    try:
        for name in bound:
            setattr(kernels, name, recorder(name))
        kernels.warm_up()
    finally:
        for name, kernel in bound.items():
            setattr(kernels, name, kernel)
    return calls


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--calls", type=int, default=20000)
    args = ap.parse_args()
    if kernels.AHEAD is None:
        raise SystemExit("the ahead-of-time module is not loaded (SIFT_KERNELS=aot, built?)")
    rows = []
    for name, call in sorted(warm_up_calls().items()):
        guarded = getattr(kernels, name)
        if not isinstance(guarded, Guarded):
            continue
        jit = kernels._jit_version(name)
        jit(*call)
        costs = {}
        for label, fn in (("jit", jit), ("native", guarded.native), ("guarded", guarded)):
            timer = timeit.Timer(lambda fn=fn, call=call: fn(*call))
            best = min(timer.repeat(number=args.calls, repeat=5))
            costs[label] = best / args.calls * 1e6
        rows.append((name, len(call), costs))
    print("| kernel | arguments | JIT dispatch µs | exported µs | exported + check µs "
          "| check µs |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, n, c in rows:
        print(f"| {name} | {n} | {c['jit']:.2f} | {c['native']:.2f} | {c['guarded']:.2f} "
              f"| {c['guarded'] - c['native']:.2f} |")


if __name__ == "__main__":
    main()

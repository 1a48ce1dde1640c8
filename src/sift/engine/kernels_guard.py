"""The check that runs an ahead-of-time compiled kernel only on what it was built for.

Apart from the kernels_aot.py build recipe, so that changing the check does not change the
compiled module's key (which would build it again on every install).
"""

from __future__ import annotations

import logging
import pickle
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

log = logging.getLogger("sift.engine")

# ndarray.flags.num's bits (numpy's NPY_ARRAY_* flags).
_C_CONTIGUOUS, _F_CONTIGUOUS, _ALIGNED, _WRITEABLE = 0x1, 0x2, 0x100, 0x400
LAYOUT_FLAGS = {"C": _C_CONTIGUOUS, "F": _F_CONTIGUOUS, "A": 0}
# The Python scalars numba's typeof gives a scalar type of the same name (a bool is not
# an int64 to numba, nor an int a float64: it would compile another version).
_SCALARS: dict[str, tuple[type, ...]] = {
    "int64": (int, np.int64), "float64": (float, np.float64), "bool": (bool, np.bool_)}

# One argument's check: the accepted Python types; for an array its dtype, its rank, and
# the flags it must have (contiguity, alignment, writeable); None for a scalar.
Check = tuple[tuple[type, ...], np.dtype | None, int, int]


def _check(arg: dict[str, Any]) -> Check:
    if "scalar" in arg:
        name = arg["scalar"]
        return _SCALARS.get(name, (np.dtype(name).type,)), None, 0, 0
    flags = LAYOUT_FLAGS[arg["layout"]] | (_ALIGNED if arg["aligned"] else 0)
    if not arg["readonly"]:
        flags |= _WRITEABLE  # the JIT would compile a read-only array a version of its own
    return (np.ndarray,), np.dtype(arg["dtype"]), arg["ndim"], flags


class Guarded:
    """An exported kernel that runs only on the arguments it was compiled for.

    numba's wrapper of an exported function checks an array argument's item size and
    nothing else: an int32 array where a float32 one is expected, a 1-d array where a
    2-d one is, or a strided view of a contiguous one would be read as if it were the
    kind compiled for (wrong results, or reads past the buffer). Each call here checks
    the arguments' kinds as numba's JIT types them (array dtype, rank, contiguity,
    alignment, writeability; the Python type of a scalar) and calls the JIT's version
    for any other kind, as a JIT-only process would: the same results, at the cost of
    importing numba in that process (logged, once per kernel)."""

    __slots__ = ("arity", "arrays", "checks", "fallback", "name", "native", "scalars",
                 "warned")

    def __init__(self, name: str, native: Callable[..., Any], args: list[dict[str, Any]],
                 fallback: Callable[..., Any]) -> None:
        self.name = name
        self.native = native
        self.checks: tuple[Check, ...] = tuple(_check(a) for a in args)
        self.arity = len(self.checks)
        # The checks split by kind, positions kept: a search makes ~10 kernel calls of
        # 2-19 arguments each, and a check per argument in one generic loop was ~14 µs
        # of a short search's ~450.
        self.arrays = tuple((i, dtype, ndim, flags)
                            for i, (_, dtype, ndim, flags) in enumerate(self.checks)
                            if dtype is not None)
        self.scalars = tuple((i, kinds) for i, (kinds, dtype, _, _) in enumerate(self.checks)
                             if dtype is None)
        self.fallback = fallback
        self.warned = False

    def accepts(self, args: tuple[Any, ...]) -> bool:
        if len(args) != self.arity:
            return False
        for i, dtype, ndim, flags in self.arrays:
            value = args[i]
            # numpy hands out one dtype object per built-in type: mostly the same one.
            if type(value) is not np.ndarray or value.ndim != ndim or \
                    value.flags.num & flags != flags or \
                    (value.dtype is not dtype and value.dtype != dtype):
                return False
        for i, kinds in self.scalars:  # noqa: SIM110 (all() and its generator cost more)
            if type(args[i]) not in kinds:
                return False
        return True

    def __call__(self, *args: Any) -> Any:
        if self.accepts(args):
            return self.native(*args)
        if not self.warned:
            self.warned = True
            log.warning("search kernel %s called with arguments it was not compiled ahead "
                        "of time for (%s): numba's JIT compiles them", self.name,
                        ", ".join(_kind(a) for a in args))
        return self.fallback(*args)


@contextmanager
def classes_unpickled_once() -> Iterator[None]:
    """While the module is imported, ``pickle.loads`` memoizes the classes it returns.

    numba's ``pycc`` runtime takes ``pickle.loads`` once, when the module's first
    environment is unpickled at import, and then calls it every time a kernel returns an
    array, to get the array's class (``numpy.ndarray``) back from 32 bytes: ~0.65 µs an
    array, ~1.3 µs of a 2.2 µs call returning two (kernels return ~20 arrays a search).
    A pickled class is a reference by name, so the memo returns the object ``loads``
    would; anything else (the environments' lists at import) is unpickled as before.
    numba's JIT memoizes the same way (``numba.core.serialize._numba_unpickle``)."""
    loads = pickle.loads
    classes: dict[bytes, type] = {}

    def memoized(data: bytes, /, **options: Any) -> Any:
        known = classes.get(data)
        if known is not None:
            return known
        value = loads(data, **options)
        if isinstance(value, type):
            classes[bytes(data)] = value
        return value

    pickle.loads = memoized
    try:
        yield
    finally:
        pickle.loads = loads


def _kind(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"{value.dtype}[{value.ndim}d, flags {value.flags.num:#x}]"
    return type(value).__name__

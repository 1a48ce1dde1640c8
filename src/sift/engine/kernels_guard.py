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
    importing numba in that process (logged, once per kernel).

    Each kernel gets a class of its own whose ``__call__`` and ``accepts`` are written
    out for its parameters (as dataclasses writes ``__init__``): a search makes ~10
    kernel calls of 2-19 arguments each, and one generic loop over the checks behind a
    ``*args`` call cost ~2 µs a call (~0.8 µs checking three arrays, against ~0.5)."""

    __slots__ = ("fallback", "name", "native", "warned")

    def __new__(cls, name: str, native: Callable[..., Any], args: list[dict[str, Any]],
                fallback: Callable[..., Any]) -> Guarded:
        call, accepts = _written_out(tuple(_check(a) for a in args), native)
        kind = type(f"Guarded_{name}", (cls,), {"__slots__": (), "__call__": call,
                                                 "accepts": accepts})
        return super().__new__(kind)

    def __init__(self, name: str, native: Callable[..., Any], args: list[dict[str, Any]],
                 fallback: Callable[..., Any]) -> None:
        self.name = name
        self.native = native  # ``args`` are written into __call__ and accepts (__new__)
        self.fallback = fallback
        self.warned = False

    def accepts(self, args: tuple[Any, ...]) -> bool:
        """Whether ``args`` are of the kinds the kernel was compiled for (written out for
        each kernel by ``__new__``)."""
        raise NotImplementedError

    def __call__(self, *args: Any) -> Any:  # written out for each kernel by __new__
        raise NotImplementedError

    def miss(self, args: tuple[Any, ...]) -> Any:
        """A call with arguments of another kind: the JIT's version runs it."""
        if not self.warned:
            self.warned = True
            log.warning("search kernel %s called with arguments it was not compiled ahead "
                        "of time for (%s): numba's JIT compiles them", self.name,
                        ", ".join(_kind(a) for a in args))
        return self.fallback(*args)


def _written_out(checks: tuple[Check, ...], native: Callable[..., Any]
                 ) -> tuple[Callable[..., Any], Callable[..., bool]]:
    """(``__call__``, ``accepts``) of a kernel with these parameter checks, as Python
    source with one test per parameter in a row: an array's type, rank, flags and dtype
    (numpy hands out one dtype object per built-in type: mostly ``is``), a scalar's type."""
    names = [f"a{i}" for i in range(len(checks))]
    namespace: dict[str, Any] = {"ndarray": np.ndarray, "native": native}
    tests = []
    for i, (kinds, dtype, ndim, flags) in enumerate(checks):
        a = names[i]
        if dtype is None:
            namespace[f"k{i}"] = kinds
            tests.append(f"type({a}) in k{i}")
        else:
            namespace[f"d{i}"] = dtype
            tests.append(f"type({a}) is ndarray and {a}.ndim == {ndim} and "
                         f"{a}.flags.num & {flags} == {flags} and "
                         f"({a}.dtype is d{i} or {a}.dtype == d{i})")
    ok = " and ".join(f"({t})" for t in tests) or "True"
    params = "".join(f", {a}" for a in names)
    packed = "".join(f"{a}, " for a in names)
    source = (f"def call(self{params}):\n"
              f"    if {ok}:\n"
              f"        return native({packed})\n"
              f"    return self.miss(({packed}))\n"
              f"def accepts(self, args):\n"
              f"    if len(args) != {len(names)}:\n"
              f"        return False\n"
              f"    ({packed}) = args\n"
              f"    return bool({ok})\n")
    exec(compile(source, "<kernels_guard>", "exec"), namespace)
    return namespace["call"], namespace["accepts"]


class _Classes(dict[bytes, Any]):
    """Unpickled classes by their pickle; indexing it is ``pickle.loads`` (a hit stays in
    C: no Python frame a returned array)."""

    __slots__ = ("loads",)

    def __init__(self, loads: Callable[[bytes], Any]) -> None:
        super().__init__()
        self.loads = loads

    def __missing__(self, data: bytes) -> Any:
        value = self.loads(data)
        if isinstance(value, type):  # a reference by name: the same object every time
            self[data] = value
        return value


@contextmanager
def classes_unpickled_once() -> Iterator[None]:
    """While a compiled kernels module initialises, ``pickle.loads`` memoizes the classes
    it returns.

    numba's ``pycc`` runtime takes ``pickle.loads`` once, when the module's first
    environment is unpickled at its initialisation, and then calls it every time a kernel
    returns an array, to get the array's class (``numpy.ndarray``) back from 32 bytes:
    ~0.65 µs an array, ~1.3 µs of a 2.2 µs call returning two (a search's kernels return
    ~20 arrays). A pickled class is a reference by name, so the memo returns the object
    ``loads`` would; anything else (the environments' lists) is unpickled as before.
    numba's JIT memoizes the same way (``numba.core.serialize._numba_unpickle``)."""
    loads = pickle.loads
    pickle.loads = _Classes(loads).__getitem__  # type: ignore[assignment]
    try:
        yield
    finally:
        pickle.loads = loads


def _kind(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"{value.dtype}[{value.ndim}d, flags {value.flags.num:#x}]"
    return type(value).__name__

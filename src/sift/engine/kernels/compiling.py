"""How a kernel is compiled: ahead of time where kernels_aot.py built it, else numba's JIT.

``compiled`` is the decorator of every kernel module: the kernel from the ahead-of-time
module when one was built for this source (behind the check of its arguments,
kernels_guard.py), else numba's JIT, cached on disk. ``PYTHON`` records each kernel's
Python function by name: what kernels_aot.py exports, and what the JIT compiles in a
process that loaded the module (for a kernel the module lacks, or arguments of another
kind), in copies of the kernel modules' namespaces. Apart from the kernels, so that
every module of them shares one registry; a process that loads the module never imports
numba.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from types import FunctionType
from typing import Any

from sift.engine import kernels_aot

log = logging.getLogger("sift.engine")

# Each kernel's Python function, by name: what numba (JIT or ahead of time) compiles.
PYTHON: dict[str, Callable[..., Any]] = {}
# The kernels compiled ahead of time, when built for this source (kernels_aot.py):
# then this process never imports numba.
AHEAD = kernels_aot.load()


def _jit(fn: Callable[..., Any]) -> Any:
    """``njit`` with the compiled code cached on disk; where numba finds no writable
    cache location (a read-only install, no home directory), compiled at every start."""
    from numba import njit

    try:
        return njit(cache=True, nogil=True)(fn)
    except RuntimeError:  # numba: "cannot cache function ...: no locator available"
        log.warning("no writable numba cache for %s: compiling at every start "
                    "(set NUMBA_CACHE_DIR)", fn.__name__)
        return njit(nogil=True)(fn)


class _JitOnFirstCall:
    """numba's JIT version of a kernel in a process that loaded the ahead-of-time module:
    for a kernel the module does not export (one that only other kernels call), and for
    arguments of a kind it was not compiled for. Compiled if Python ever calls it, and
    only then."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.compiled: Any = None

    def __call__(self, *args: Any) -> Any:
        if self.compiled is None:
            self.compiled = _jit_version(self.name)
        return self.compiled(*args)


# The JIT's versions in a process that loaded the module, and the namespaces they are
# compiled in: copies of their modules' globals in which the kernels' names are bound to
# these versions (the modules bind them to the exported kernels, which compiled code
# cannot call).
_JIT_VERSIONS: dict[str, Any] = {}
_JIT_NAMESPACES: dict[str, dict[str, Any]] = {}


def _jit_version(name: str) -> Any:
    if name not in _JIT_VERSIONS:
        for kernel, fn in PYTHON.items():
            if kernel not in _JIT_VERSIONS:
                namespace = _JIT_NAMESPACES.setdefault(fn.__module__, dict(fn.__globals__))
                _JIT_VERSIONS[kernel] = _jit(FunctionType(
                    fn.__code__, namespace, kernel, fn.__defaults__, fn.__closure__))
        for namespace in _JIT_NAMESPACES.values():
            namespace.update({k: v for k, v in _JIT_VERSIONS.items() if k in namespace})
    return _JIT_VERSIONS[name]


def compiled(fn: Callable[..., Any]) -> Any:
    """The kernel from the ahead-of-time module when there is one (behind the check of
    its arguments, which hands any kind it was not compiled for to the JIT), else
    numba's JIT."""
    PYTHON[fn.__name__] = fn
    if AHEAD is None:
        return _jit(fn)
    jit = _JitOnFirstCall(fn.__name__)
    return AHEAD.kernel(fn.__name__, jit) or jit

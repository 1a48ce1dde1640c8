"""The search kernels compiled ahead of time into an extension module of their own.

numba compiles the kernels' loops (the package kernels/) at run time, and a process
that does so keeps numba and LLVM loaded: ~125 MiB of RSS in every worker (the import,
LLVM's code generator and numba's type registries), for loops that never change between
two starts. Here a separate process (``python -m sift.engine.kernels_aot DIR``) compiles
the same Python functions, with the signatures ``kernels.warm_up`` gives them, into a
plain extension module (numba's ``pycc``, which needs a C compiler); a serving process
imports that module instead and never imports numba. The code is numba's, from the same LLVM
pipeline without fast-math, so results are bit-for-bit those of the JIT.

The default (``SIFT_KERNELS=jit`` keeps numba's JIT): ``scripts/bootstrap`` builds the
module at install (``python -m sift.engine.kernels_aot``, into ``cache_dir()``), and
``sift serve`` starts that build in the background when the module is missing (that start
runs with the JIT, as before; every later start loads it).
The module's file name carries a key (the source of every module of the kernels
package and of tiebreak.py, whose kernels it also compiles, numba's and Python's
versions, the CPU), so a changed kernel, one moved to another module or a moved data
volume builds a fresh one.
Unlike the JIT, an exported kernel takes exactly its signature: numba's wrapper checks
only an array's item size, so an array of another dtype, rank or layout (a strided view)
would be misread, not compiled a version of its own. The build therefore writes each
exported signature beside the module (``<name>.json``), and every call goes through a
``Guarded`` kernel that checks its arguments against it (~0.3 µs for three arrays) and hands
any other kind to numba's JIT, which compiles a version for it as it always did. The
engine passes the contiguous arrays of the dtypes ``warm_up`` gives
(tests/unit/engine/test_kernels.py checks that searches add no signature), so that
fallback is for a path no test took, logged once per kernel.
A machine without a compiler falls back to the JIT by itself.

The module is built twice, its kernels releasing the GIL (``release``, as
``njit(nogil=True)``) or keeping it (``hold``); the variant is part of the file name, so
the two never collide, and ``python -m sift.engine.kernels_aot`` builds both.
``SIFT_KERNELS_GIL`` (read where the module is loaded) says which one a process loads,
``release`` by default: concurrent searches in one process then run their loops in
parallel, which helps only where the process has a core to spare. ``sift serve`` asks for
``hold`` when it starts at least as many workers as it may use cores (server.py): there a
released kernel only lets the worker's event loop and its other searches contend for the
GIL and the cores (beside 2,000 click events/s, searches slowed x1.30/x1.36 with held
kernels against x1.68/x1.85 with released ones: docs/benchmarks/events.md, "Click events").
Where only the other variant is built, a process loads that one rather than the JIT.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import json
import logging
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from sift.engine.kernels_guard import LAYOUT_FLAGS, Guarded, classes_unpickled_once

log = logging.getLogger("sift.engine")

MODE_ENV = "SIFT_KERNELS"  # "aot": ahead of time once built; anything else: numba's JIT
GIL_ENV = "SIFT_KERNELS_GIL"  # "release" (the default) or "hold": which build to load
RELEASE, HOLD = "release", "hold"
VARIANTS = (RELEASE, HOLD)
SOURCE = Path(__file__).with_name("kernels")  # the package: its modules are the key
BUILD_STALE_S = 900


def wanted() -> bool:
    # The default since every call checks its arguments (kernels_guard.py): ~127 MiB less
    # in every process, for long pasted queries ~9 % slower (docs/benchmarks.md).
    return os.environ.get(MODE_ENV, "aot").lower() != "jit"


def gil_variant() -> str:
    """The build this process loads (``SIFT_KERNELS_GIL``); anything unknown: release."""
    return HOLD if os.environ.get(GIL_ENV, RELEASE).strip().lower() == HOLD else RELEASE


def gil_for_workers(workers: int, cores: int) -> str:
    """The variant for a server of ``workers`` processes on ``cores`` usable cores: a
    worker's kernels release the GIL only where it has a core to spare."""
    return HOLD if workers >= cores else RELEASE


def compiler() -> str | None:
    """The C compiler pycc would use (as distutils picks it: ``CC``, else Python's own
    build's), or None: then no build is started, as it would fail only at its end."""
    import sysconfig

    command = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    return shutil.which(command.split()[0])


def _cpu() -> str:
    """What the compiled code may assume of the processor (it is built for this host)."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.machine() + platform.processor()
    lines = [ln for ln in info.splitlines() if ln.startswith(("model name", "flags"))]
    return platform.machine() + "".join(sorted(set(lines)))


def _numba_version() -> str:
    from importlib.metadata import version

    return version("numba")


# Kernels compiled into the module from outside the package (build() calls them).
OUTSIDE = (SOURCE.with_name("tiebreak.py"),)


def _sources() -> list[bytes]:
    """The kernels' source: each module of the package (sorted by name) and each module
    outside it whose kernels the build compiles (tiebreak's), its name and its text, so
    that a kernel changed or moved to another module makes a fresh build."""
    return [part for path in (*sorted(SOURCE.glob("*.py")), *OUTSIDE)
            for part in (path.name.encode(), path.read_bytes())]


def module_name(variant: str | None = None) -> str:
    """The module's name: how its kernels treat the GIL, then the key of what it was
    built from (the variant is in the name, so both builds sit side by side)."""
    key = hashlib.sha256()
    recipe = Path(__file__).read_bytes()  # this file: how they are compiled
    for part in (*_sources(), recipe, _numba_version().encode(), sys.version.encode(),
                 _cpu().encode()):
        key.update(part)
    return f"sift_kernels_{variant or gil_variant()}_{key.hexdigest()[:16]}"


def cache_dir() -> Path:
    """Beside numba's own cache: NUMBA_CACHE_DIR when set (the container's volume), else
    the engine's ``__pycache__`` when writable, else the user's cache directory."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return Path(os.environ["NUMBA_CACHE_DIR"]) / "sift-aot"
    here = SOURCE.parent / "__pycache__"
    if os.access(here if here.exists() else SOURCE.parent, os.W_OK):
        return here
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "sift" / "kernels"


def _path(directory: Path, variant: str | None = None) -> Path:
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    return directory / (module_name(variant) + suffix)


def _missing(directory: Path) -> list[str]:
    return [v for v in VARIANTS if not _path(directory, v).exists()]


class Ahead:
    """The loaded module and the argument kinds each exported kernel was compiled for."""

    def __init__(self, module: ModuleType, signatures: dict[str, list[dict[str, Any]]]):
        self.module = module
        self.signatures = signatures

    def kernel(self, name: str, fallback: Callable[..., Any]) -> Guarded | None:
        native = getattr(self.module, name, None)
        if native is None or name not in self.signatures:
            return None
        return Guarded(name, native, self.signatures[name], fallback)


def _signatures_path(module: Path) -> Path:
    return module.with_name(module.name.split(".")[0] + ".json")


def load(directory: Path | None = None) -> Ahead | None:
    """The compiled module for the current kernels, or None (not built, or unloadable)."""
    if not wanted():
        return None
    directory = directory or cache_dir()
    variant = gil_variant()
    path = _path(directory, variant)
    if not path.exists():
        # The other build rather than the JIT (and numba's ~125 MiB): the background
        # build at the next start makes the one asked for.
        other = HOLD if variant == RELEASE else RELEASE
        path = _path(directory, other)
        if not path.exists():
            return None
        log.info("search kernels that %s the GIL not built: loading those that %s it",
                 variant, other)
    try:
        signatures = json.loads(_signatures_path(path).read_text())
        spec = importlib.util.spec_from_file_location(path.name.split(".")[0], path)
        assert spec is not None and spec.loader is not None
        with classes_unpickled_once():  # an extension module is initialised here
            module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    except (ImportError, OSError, ValueError) as exc:
        log.warning("compiled search kernels in %s not loadable (%s): using numba's JIT",
                    path, exc)
        return None
    return Ahead(module, signatures)


def start_build(directory: Path | None = None) -> subprocess.Popen[bytes] | None:
    """Start building the module in a child process unless it is there (or the JIT is
    asked for); the caller waits on the process, or not.

    A child process: compiling imports numba and LLVM, which this process should not keep.
    Niced, and never waited for by a starting server: it takes about a minute, once, and
    the server meanwhile starts with the JIT as it always did (the next start loads it)."""
    if not wanted():
        return None
    directory = directory or cache_dir()
    if not _missing(directory):
        return None
    if compiler() is None:
        log.info("no C compiler: the search kernels are compiled by numba's JIT")
        return None
    if not _claim(directory):
        return None  # another process is building it
    env = {**os.environ, MODE_ENV: "jit"}
    command = [sys.executable, "-m", "sift.engine.kernels_aot", str(directory)]
    if shutil.which("nice"):
        command = ["nice", "-n", "10", *command]
    try:
        # The build outlives the server that started it: its messages go to a file, not a
        # pipe that closes when the server stops (numba's first warning then killed it, and
        # its claim kept every other server from building for BUILD_STALE_S), and it runs
        # in a session of its own, so Ctrl-C to the server's terminal leaves it be.
        with _build_log(directory).open("w") as messages:
            return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                                    stderr=messages, start_new_session=True)
    except OSError as exc:
        _marker(directory).unlink(missing_ok=True)
        log.warning("search kernels not compiled ahead of time (%s): using numba's JIT", exc)
        return None


def _marker(directory: Path) -> Path:
    return directory / f".{module_name(RELEASE)}.building"  # one build makes both


def _build_log(directory: Path) -> Path:
    return directory / f".{module_name(RELEASE)}.build.log"


def _claim(directory: Path) -> bool:
    """One build at a time per directory (servers starting together, a test suite's
    many servers); a claim older than BUILD_STALE_S is a build that died."""
    marker = _marker(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        return True
    except FileExistsError:
        try:
            if time.time() - marker.stat().st_mtime < BUILD_STALE_S:
                return False
            marker.touch()
            return True
        except OSError:
            return False
    except OSError:
        return False


def report(build: subprocess.Popen[bytes]) -> bool:
    """Wait for a build and log how it ended; True when the module is there."""
    if build.wait() != 0:
        directory = Path(build.args[-1])
        try:
            err = _build_log(directory).read_text(errors="replace")
        except OSError:
            err = ""
        log.warning("search kernels not compiled ahead of time: numba's JIT stays (%s)",
                    (err.strip().splitlines() or ["no message"])[-1])
        return False
    log.info("search kernels compiled ahead of time: the next start loads them")
    return True


def _one_signature(signatures: list) -> object | None:
    """The signature to export, or None when the engine passes several kinds of input.

    Signatures that differ only in a read-only array (a filter's mask from the snapshot's
    cache) or in a constant numba specialised for (``Literal[bool](False)``, compiling a
    kernel afresh) are one: the general one serves them all, as the kernels never write
    their inputs."""
    from numba.core import types

    def general(sig: object) -> tuple:
        args = (types.unliteral(a) for a in sig.args)  # type: ignore[attr-defined]
        return tuple(a.copy(readonly=False) if isinstance(a, types.Array) else a
                     for a in args)

    plain = [s for s in signatures if not any(isinstance(a, types.Literal) for a in s.args)]
    if not plain or len({general(s) for s in signatures}) != 1:
        return None
    return max(plain, key=lambda s: sum(
        isinstance(a, types.Array) and not a.mutable for a in s.args))


def build(directory: Path, variants: tuple[str, ...] = VARIANTS) -> list[Path]:
    """Compile every warmed-up kernel into ``directory`` (atomically), once per variant;
    a kernel without one signature (only other kernels call it, or it takes several)
    stays with the JIT."""
    import numpy as np
    from numba.core.codegen import AOTCPUCodegen, JITCPUCodegen
    from numba.pycc import compiler as pycc_compiler

    from sift.engine import kernels, tiebreak

    release = {"on": True}

    class GilFlags(pycc_compiler.Flags):  # type: ignore[misc, name-defined]
        """``release``: as ``njit(nogil=True)``, concurrent searches run their kernels in
        parallel; ``hold``: as plain ``njit`` (pycc's flags have no such option)."""

        def __init__(self, *args: object) -> None:
            super().__init__(*args)
            self.release_gil = release["on"]

    pycc_compiler.Flags = GilFlags
    # The JIT's instruction set: this CPU's own features, not those its model name implies
    # (a virtual machine may hide some, and code using them would not run).
    AOTCPUCodegen._customize_tm_features = JITCPUCodegen._customize_tm_features
    kernels.warm_up()  # the signatures the engine passes (tests check they are all)
    # The kernels outside the package (tiebreak's: it imports kernels, so warm_up cannot
    # call them): document ids' tie keys, and a placeholder page in tie order (a mask
    # may be a snapshot's cached, read-only one).
    tiebreak.tie_keys(["0"])
    mask = np.ones(1, np.bool_)
    cached = mask.copy()
    cached.flags.writeable = False
    for m in (mask, cached):
        tiebreak._first_marked(np.zeros(1, np.uint32), m, 1)
    directory.mkdir(parents=True, exist_ok=True)
    built = []
    for variant in variants:
        release["on"] = variant == RELEASE
        built.append(_compile(directory, variant, kernels.PYTHON))
    return built


def _compile(directory: Path, variant: str, python: dict[str, Callable[..., Any]]) -> Path:
    """One module: each warmed-up kernel with its one signature, as the flags say."""
    from numba.pycc import CC

    name = module_name(variant)
    with tempfile.TemporaryDirectory(dir=directory, prefix=".build-") as tmp:
        cc = CC(name)
        cc.output_dir = tmp
        cc.target_cpu = "host"
        cc.verbose = False
        exported: dict[str, list[dict[str, Any]]] = {}
        for kernel, fn in python.items():
            dispatcher = getattr(sys.modules[fn.__module__], kernel)  # kernels or tiebreak
            signatures = list(dispatcher.nopython_signatures)
            signature = _one_signature(signatures)
            described = None if signature is None else _describe(signature)
            if described is None:
                print(f"not exported: {kernel} {signatures}", file=sys.stderr)
            else:
                cc.export(kernel, signature)(fn)
                exported[kernel] = described
        cc.compile()
        built = next(Path(tmp).glob(name + "*"))
        final = _path(directory, variant)
        # The signatures first: a module without them is not loaded (load()).
        staged = Path(tmp) / "signatures.json"
        staged.write_text(json.dumps(exported, indent=1))
        os.replace(staged, _signatures_path(final))
        os.replace(built, final)
    return final


def _describe(signature: Any) -> list[dict[str, Any]] | None:
    """Each argument's kind as ``Guarded`` checks it, or None when one is of a kind it
    cannot check (then the kernel stays with the JIT)."""
    from numba.core import types
    from numba.np.numpy_support import as_dtype

    described: list[dict[str, Any]] = []
    for arg in signature.args:
        if isinstance(arg, types.Array) and arg.layout in LAYOUT_FLAGS:
            described.append({"dtype": as_dtype(arg.dtype).name, "ndim": arg.ndim,
                              "layout": arg.layout, "readonly": not arg.mutable,
                              "aligned": arg.aligned})
        elif isinstance(arg, types.Boolean | types.Integer | types.Float):
            described.append({"scalar": str(arg)})
        else:
            return None
    return described


def main(argv: list[str]) -> int:
    """``python -m sift.engine.kernels_aot [DIR]``: build both variants of the module
    into DIR (default: where a server looks for it) unless there; print their paths."""
    directory = Path(argv[0]) if argv else cache_dir()
    missing = _missing(directory)
    if not missing:
        for variant in VARIANTS:
            print(_path(directory, variant))
        return 0
    if compiler() is None:
        print("no C compiler (cc): the search kernels stay with numba's JIT", file=sys.stderr)
        return 1
    # This process compiles with the JIT: its own import of kernels must not load a module.
    os.environ[MODE_ENV] = "jit"
    try:
        for path in build(directory, tuple(missing)):
            print(path)
    finally:
        _marker(directory).unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

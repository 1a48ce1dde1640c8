"""The kernels compiled ahead of time (kernels_aot.py) against numba's JIT: the same
results bit for bit, and a process that loads the module never imports numba."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from sift.engine import kernels, kernels_aot
from sift.engine.kernels_aot import Ahead
from sift.engine.kernels_guard import Guarded

SEARCHES = """
import json, sys
from sift.engine import kernels
assert kernels.AHEAD is not None, "the compiled module was not loaded"
kernels.warm_up()  # as a server's start does: every kernel it calls is in the module
sys.path.insert(0, "tests/unit/engine")
from conftest import build_index, search
docs = [{"id": i, "title": f"red shoe {i} sunflower", "body": "walking shoes for trails",
         "n": i % 5} for i in range(300)]
index = build_index(docs, "sift", filterableAttributes=["n"])
out = []
for q in ("red shoe", "shoes walkng", '"red shoe" trails', "sun flower", "wal", "sho red"):
    for body in ({}, {"filter": "n < 3"}, {"matchingStrategy": "all"}):
        r = search(index, q, showRankingScore=True, **body)
        out.append([[h["id"], h["_rankingScore"]] for h in r["hits"]])
if kernels.AHEAD is not None:  # no exported kernel is called without the check
    from sift.engine import tiebreak, kernels_guard
    for name, fn in kernels.PYTHON.items():
        kernel = getattr(sys.modules[fn.__module__], name)
        assert isinstance(kernel, (kernels_guard.Guarded, kernels._JitOnFirstCall)), name
        assert isinstance(kernel, kernels_guard.Guarded) or not hasattr(
            kernels.AHEAD.module, name) or name not in kernels.AHEAD.signatures, name
print(json.dumps({"hits": out, "numba": "numba" in sys.modules}))
"""


@pytest.fixture(scope="module")
def numba_cache(kernels_build: Path | None) -> Path:
    """A cache directory holding the compiled module, once the build that tests/conftest.py
    began (as ``sift serve`` begins it) ended."""
    if kernels_build is None:
        pytest.skip("no C compiler: the kernels stay with numba's JIT")
    directory = kernels_build / "sift-aot"
    deadline = time.monotonic() + 600
    while kernels_aot._marker(directory).exists():  # removed when the build ends
        assert time.monotonic() < deadline, "the build did not end"
        time.sleep(0.5)
    log = kernels_aot._build_log(directory).read_text(errors="replace")
    assert not kernels_aot._missing(directory), f"the build failed:\n{log[-2000:]}"
    assert kernels_aot.start_build(directory) is None  # built: nothing to do
    return kernels_build


def test_a_failed_build_is_reported_with_its_last_message(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    kernels_aot._build_log(tmp_path).write_text("warning\nLinkerError: no cc\n")
    failed = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)", str(tmp_path)])
    assert not kernels_aot.report(failed)
    assert "(LinkerError: no cc)" in caplog.text


@pytest.fixture(scope="module")
def ahead(numba_cache: Path, monkeypatch_module: pytest.MonkeyPatch) -> Ahead:
    monkeypatch_module.setenv(kernels_aot.MODE_ENV, "aot")
    monkeypatch_module.setenv(kernels_aot.GIL_ENV, kernels_aot.RELEASE)
    loaded = kernels_aot.load(numba_cache / "sift-aot")
    assert loaded is not None
    return loaded


@pytest.fixture(scope="module")
def monkeypatch_module() -> pytest.MonkeyPatch:
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_searches_in_a_process_with_the_module_match_the_jit(numba_cache: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != kernels_aot.MODE_ENV}
    done = subprocess.run([sys.executable, "-c", SEARCHES], capture_output=True, text=True,
                          env={**env, "NUMBA_CACHE_DIR": str(numba_cache),
                               kernels_aot.MODE_ENV: "aot"}, timeout=300,
                          cwd=Path(__file__).parents[3])
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout.splitlines()[-1])
    assert got["numba"] is False
    expected = subprocess.run([sys.executable, "-c", SEARCHES.replace(
        'assert kernels.AHEAD is not None, "the compiled module was not loaded"\n', "")],
        capture_output=True, text=True, env={**env, kernels_aot.MODE_ENV: "jit"}, timeout=300,
        cwd=Path(__file__).parents[3])
    assert expected.returncode == 0, expected.stderr
    want = json.loads(expected.stdout.splitlines()[-1])
    assert got["hits"] == want["hits"]
    assert any(want["hits"])


def test_each_kernel_matches_the_jit_bit_for_bit(ahead: Ahead) -> None:
    native = ahead.module  # the exported kernels themselves, without the check
    jit = kernels._jit_version  # numba's JIT, whichever this process loaded
    rng = np.random.default_rng(7)
    n_docs, n = 50, 400
    docs = rng.integers(0, n_docs, n).astype(np.uint32)
    fields = rng.integers(0, 3, n).astype(np.uint16)
    pos = rng.integers(0, 40, n).astype(np.uint32)
    weight = rng.choice(np.array([1.0, 0.6, 0.45, 0.25], np.float32), n)
    offsets = np.array([0, 100, 250, n], np.int64)
    cands, index, matched = jit("dense_candidates")(docs, offsets, n_docs)
    for name in ("dense_candidates", "marked_candidates"):
        for one, other in zip(getattr(native, name)(docs, offsets, n_docs),
                              (cands, index, matched), strict=True):
            assert np.array_equal(one, other) and one.dtype == other.dtype
    field_weight = rng.random(3 * n_docs).astype(np.float32)  # field-major, 3 fields
    tf, df = jit("term_frequencies")(index, docs, fields, weight, offsets, field_weight,
                                      n_docs, cands.size)
    tf2, df2 = native.term_frequencies(index, docs, fields, weight, offsets, field_weight,
                                      n_docs, cands.size)
    assert tf.tobytes() == tf2.tobytes() and np.array_equal(df, df2)
    idfs = rng.random(3)
    assert jit("saturated_sum")(tf, idfs, 1.2).tobytes() == \
        native.saturated_sum(tf, idfs, 1.2).tobytes()
    key = rng.random(300)
    ids, tie = np.arange(300, dtype=np.uint32), rng.integers(0, 2**63, 300).astype(np.uint64)
    assert np.array_equal(jit("top_by_key")(key, 20, ids, tie),
                          native.top_by_key(key, 20, ids, tie))
    a, b = slice(0, 100), slice(100, 250)
    subset = np.ones(100, np.bool_)
    args = (index[a], fields[a], pos[a], index[b], fields[b], pos[b], subset, 20)
    keys, n_fields = jit("proximity_keys")(*args)
    keys2, n_fields2 = native.proximity_keys(*args)
    assert np.array_equal(keys, keys2) and n_fields == n_fields2
    # Every kernel a search calls is in the module (searches compare whole: above;
    # where this process loaded a module, the searches' process checks it).
    kernels.warm_up()
    if kernels.AHEAD is not None:
        return
    warmed = [name for name, fn in kernels.PYTHON.items()  # the engine's, not a test's
              if fn.__module__.startswith("sift.")
              and getattr(sys.modules[fn.__module__], name).nopython_signatures]
    assert warmed and all(hasattr(native, name) and name in ahead.signatures
                          for name in warmed)


def test_the_module_is_found_only_for_these_kernels(ahead: Ahead, numba_cache: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    assert kernels_aot.load(numba_cache / "elsewhere") is None
    monkeypatch.delenv(kernels_aot.MODE_ENV)
    assert kernels_aot.load(numba_cache / "sift-aot") is not None  # the default
    monkeypatch.setenv(kernels_aot.MODE_ENV, "jit")
    assert kernels_aot.load(numba_cache / "sift-aot") is None
    assert kernels_aot.start_build(numba_cache / "elsewhere") is None
    assert not (numba_cache / "elsewhere").exists()
    # Without a C compiler no build starts (it would fail only after a minute of work).
    monkeypatch.delenv(kernels_aot.MODE_ENV)
    monkeypatch.setenv("CC", str(numba_cache / "no-such-cc"))
    assert kernels_aot.compiler() is None
    assert kernels_aot.start_build(numba_cache / "elsewhere") is None
    assert not (numba_cache / "elsewhere").exists()


def test_the_two_builds_have_names_of_their_own(monkeypatch: pytest.MonkeyPatch) -> None:
    release = kernels_aot.module_name(kernels_aot.RELEASE)
    hold = kernels_aot.module_name(kernels_aot.HOLD)
    assert release != hold and "_release_" in release and "_hold_" in hold
    monkeypatch.delenv(kernels_aot.GIL_ENV, raising=False)
    assert kernels_aot.module_name() == release  # the default releases the GIL
    monkeypatch.setenv(kernels_aot.GIL_ENV, "hold")
    assert kernels_aot.module_name() == hold
    monkeypatch.setenv(kernels_aot.GIL_ENV, "anything else")
    assert kernels_aot.gil_variant() == kernels_aot.RELEASE


def test_a_worker_keeps_the_gil_only_without_a_core_to_spare() -> None:
    assert kernels_aot.gil_for_workers(1, 4) == kernels_aot.RELEASE
    assert kernels_aot.gil_for_workers(2, 4) == kernels_aot.RELEASE
    assert kernels_aot.gil_for_workers(2, 2) == kernels_aot.HOLD
    assert kernels_aot.gil_for_workers(3, 2) == kernels_aot.HOLD
    assert kernels_aot.gil_for_workers(1, 1) == kernels_aot.HOLD


def test_both_builds_are_made_and_either_stands_in_for_the_other(
        numba_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    built = numba_cache / "sift-aot"
    monkeypatch.setenv(kernels_aot.MODE_ENV, "aot")
    for variant in kernels_aot.VARIANTS:
        path = kernels_aot._path(built, variant)
        assert path.exists() and kernels_aot._signatures_path(path).exists()
        monkeypatch.setenv(kernels_aot.GIL_ENV, variant)
        loaded = kernels_aot.load(built)
        assert loaded is not None and loaded.module.__name__ == path.name.split(".")[0]
    for present, asked in ((kernels_aot.RELEASE, kernels_aot.HOLD),
                           (kernels_aot.HOLD, kernels_aot.RELEASE)):
        only = tmp_path / present
        only.mkdir()
        path = kernels_aot._path(built, present)
        for one in (path, kernels_aot._signatures_path(path)):
            (only / one.name).write_bytes(one.read_bytes())
        monkeypatch.setenv(kernels_aot.GIL_ENV, asked)
        loaded = kernels_aot.load(only)  # the other build, not numba's JIT
        assert loaded is not None and loaded.module.__name__ == path.name.split(".")[0]
        assert kernels_aot._missing(only) == [asked]  # a server's start builds it


GIL = """
import threading, time
import numpy as np
from sift.engine import kernels_aot
ahead = kernels_aot.load(kernels_aot.cache_dir())
assert ahead is not None and kernels_aot.gil_variant() in ahead.module.__name__
rng = np.random.default_rng(5)
n = 400_000
key, ids = rng.random(n), np.arange(n, dtype=np.uint32)
tie = rng.integers(0, 2**63, n).astype(np.uint64)
gap, done = [0.0], [False]
def spin():  # the longest this thread waited between two of its steps
    last = time.perf_counter()
    while not done[0]:
        now = time.perf_counter()
        gap[0], last = max(gap[0], now - last), now
thread = threading.Thread(target=spin)
thread.start()
time.sleep(0.05)
start = time.perf_counter()
ahead.module.top_by_key(key, n // 2, ids, tie)  # a long call (~0.2 s)
call = time.perf_counter() - start
done[0] = True
thread.join()
print(gap[0] / call)
"""


@pytest.mark.parametrize("variant", kernels_aot.VARIANTS)
def test_a_held_kernel_lets_no_other_thread_run_and_a_released_one_does(
        numba_cache: Path, variant: str) -> None:
    """A thread's longest wait between two of its steps against the kernel's call: the
    whole call where the kernel holds the GIL (~1.0), a switch interval where it releases
    it (~0.03). On a loaded machine one run can read wrong either way: the main thread
    may give the GIL away for a while just before the native call starts (0.89 seen with
    `hold`), and the OS may leave the spinning thread off a core for part of the call
    (0.38 seen with `release`). So up to three runs, the best of them judged: a wrong
    build reads wrong every time."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(numba_cache), kernels_aot.MODE_ENV: "aot",
           kernels_aot.GIL_ENV: variant}
    held = variant == kernels_aot.HOLD
    waits = []
    for _ in range(3):
        done = subprocess.run([sys.executable, "-c", GIL], capture_output=True, text=True,
                              env=env, timeout=120, cwd=Path(__file__).parents[3])
        assert done.returncode == 0, done.stderr
        waits.append(float(done.stdout.split()[-1]))
        if (waits[-1] > 0.9) if held else (waits[-1] < 0.2):
            break
    assert (max(waits) > 0.9) if held else (min(waits) < 0.2), waits


def test_one_build_at_a_time_until_a_claim_goes_stale(tmp_path: Path) -> None:
    assert kernels_aot._claim(tmp_path / "cache")
    assert not kernels_aot._claim(tmp_path / "cache")  # a second server: no second build
    marker = kernels_aot._marker(tmp_path / "cache")
    old = marker.stat().st_mtime - kernels_aot.BUILD_STALE_S - 1
    os.utime(marker, (old, old))
    assert kernels_aot._claim(tmp_path / "cache")  # the first build died long ago


def test_a_constant_specialisation_does_not_hide_a_kernel() -> None:
    """Compiled afresh, numba may add ``Literal[bool](False)`` beside ``bool``: still one
    kernel to export, with the general signature."""
    from numba.core import types

    proximity_costs = kernels._jit_version("proximity_costs")
    proximity_costs(np.zeros(1, np.int64), 1, 1, 20, False)  # as warm_up calls it
    general = proximity_costs.nopython_signatures[0]
    literal = general.return_type(*general.args[:4], types.literal(False))
    assert kernels_aot._one_signature([general, literal]) == general
    assert kernels_aot._one_signature([literal]) is None


def test_every_exported_kernel_is_called_through_its_check(ahead: Ahead) -> None:
    """The module's kernels and the signatures written beside it are the same set, one
    kind per parameter of each Python function: no exported kernel is called unchecked
    (the searches' process checks the engine's own bindings: above)."""
    from sift.engine import tiebreak  # noqa: F401  (registers its kernels)

    exported = {name for name in dir(ahead.module) if not name.startswith("__")}
    assert exported and exported == set(ahead.signatures)
    for name, args in ahead.signatures.items():
        assert len(args) == kernels.PYTHON[name].__code__.co_argcount, name
        assert isinstance(ahead.kernel(name, kernels.PYTHON[name]), Guarded)


def test_an_argument_of_another_kind_goes_to_the_jit_and_is_not_misread(
        ahead: Ahead, caplog: pytest.LogCaptureFixture) -> None:
    jit = kernels._jit(kernels.PYTHON["saturated_sum"])
    guarded = ahead.kernel("saturated_sum", jit)
    assert guarded is not None
    native = ahead.module.saturated_sum
    rng = np.random.default_rng(3)
    tf, idfs = rng.random((6, 3)), rng.random(6)  # six words (rows), a weight each
    assert guarded.accepts((tf, idfs, 1.2))
    assert guarded(tf, idfs, 1.2).tobytes() == jit(tf, idfs, 1.2).tobytes()
    as_int = (tf * 10).astype(np.int64)  # the same item size: numba's wrapper takes it
    strided = np.repeat(tf, 2, axis=1)[:, ::2]  # tf's values, every other column
    read_only = tf.copy()
    read_only.flags.writeable = False
    # Unchecked, the exported kernel reads these as contiguous float64: wrong sums.
    assert native(as_int, idfs, 1.2).tobytes() != jit(as_int, idfs, 1.2).tobytes()
    assert native(strided, idfs, 1.2).tobytes() != jit(tf, idfs, 1.2).tobytes()
    for args in ((as_int, idfs, 1.2), (strided, idfs, 1.2), (read_only, idfs, 1.2),
                 (tf.astype(np.float32), idfs, 1.2), (tf, idfs, 1), (tf, idfs, np.float32(1.2)),
                 (tf, idfs.astype(np.int64), 1.2)):
        assert not guarded.accepts(args)
        with caplog.at_level("WARNING", logger="sift.engine"):
            assert guarded(*args).tobytes() == jit(*args).tobytes()
    assert caplog.text.count("not compiled ahead of time for") == 1  # once per kernel
    # Another rank: the JIT refuses it, as it would without the module, instead of the
    # exported kernel reading a 1-d array's memory as a 2-d one's.
    with pytest.raises(Exception, match=r"(?i)typing|getitem"):
        guarded(tf.ravel(), idfs, 1.2)


FALLBACK = """
import sys
import numpy as np
from sift.engine import kernels
assert kernels.AHEAD is not None, "the compiled module was not loaded"
u32, i64 = np.uint32, np.int64
ptr = np.array([0, 3], i64)
docs, fields = np.array([3, 1, 2], u32), np.zeros(3, np.uint16)
pos, ids, yes = np.array([0, 5, 9], u32), np.zeros(1, i64), np.ones(4, np.bool_)
args = [ptr, docs, fields, pos, ptr, docs, fields, pos, np.array([0, 1], i64), ids,
        np.zeros(1, np.int8), np.ones(1, np.bool_), np.ones(1, np.float32), yes, yes, yes,
        False, False, False]
want = kernels.gather_words(*args)
assert "numba" not in sys.modules
args[1] = np.repeat(docs, 2)[::2]  # a strided view of the same docids
got = kernels.gather_words(*args)
assert "numba" in sys.modules  # compiled by the JIT, with the JIT's versions of the
for one, other in zip(want, got, strict=True):  # kernels it calls
    assert one.tobytes() == other.tobytes() and one.dtype == other.dtype
print("same")
"""


def test_the_jit_of_a_kernel_calling_others_runs_in_a_process_with_the_module(
        numba_cache: Path) -> None:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(numba_cache), kernels_aot.MODE_ENV: "aot"}
    done = subprocess.run([sys.executable, "-c", FALLBACK], capture_output=True, text=True,
                          env=env, timeout=300, cwd=Path(__file__).parents[3])
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["same"]
    assert "gather_words called with arguments it was not compiled" in done.stderr


def test_the_key_covers_every_module_of_the_kernels_package(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A kernel changed in any module of the package, or moved to another, builds a
    fresh module: the key reads each module's name and text."""
    package = tmp_path / "kernels"
    package.mkdir()
    for path in kernels_aot.SOURCE.glob("*.py"):
        (package / path.name).write_bytes(path.read_bytes())
    built = kernels_aot.module_name(kernels_aot.RELEASE)
    monkeypatch.setattr(kernels_aot, "SOURCE", package)
    assert kernels_aot.module_name(kernels_aot.RELEASE) == built  # the same source
    modules = sorted(package.glob("*.py"))
    assert len(modules) > 1
    names = set()
    for path in modules:
        text = path.read_bytes()
        path.write_bytes(text + b"# changed\n")
        names.add(kernels_aot.module_name(kernels_aot.RELEASE))
        path.write_bytes(text)
    modules[0].rename(package / f"moved_{modules[0].name}")  # the same text elsewhere
    names.add(kernels_aot.module_name(kernels_aot.RELEASE))
    assert len(names) == len(modules) + 1 and built not in names


def test_the_key_covers_the_kernels_compiled_from_outside_the_package(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """tiebreak's kernels are compiled into the module too: a change there builds a fresh
    one (before, the key read kernels.py alone, and a changed tiebreak kernel loaded the
    stale build)."""
    outside = [tmp_path / path.name for path in kernels_aot.OUTSIDE]
    for copy, path in zip(outside, kernels_aot.OUTSIDE, strict=True):
        copy.write_bytes(path.read_bytes())
    built = kernels_aot.module_name(kernels_aot.RELEASE)
    monkeypatch.setattr(kernels_aot, "OUTSIDE", tuple(outside))
    assert kernels_aot.module_name(kernels_aot.RELEASE) == built
    assert [path.name for path in outside] == ["tiebreak.py"]
    outside[0].write_bytes(outside[0].read_bytes() + b"# changed\n")
    assert kernels_aot.module_name(kernels_aot.RELEASE) != built

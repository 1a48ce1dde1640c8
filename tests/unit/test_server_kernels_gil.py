"""`sift serve` picks the build of the compiled kernels its workers load (server.py,
kernels_aot.py): held GIL where the workers have no core to spare."""

from __future__ import annotations

import os

import pytest

from sift import server
from sift.engine import kernels_aot


@pytest.mark.parametrize(("workers", "cores", "expected"), [
    (1, 4, "release"), (3, 4, "release"), (2, 2, "hold"), (4, 2, "hold"), (1, 1, "hold")])
def test_workers_against_usable_cores(monkeypatch: pytest.MonkeyPatch, workers: int,
                                      cores: int, expected: str) -> None:
    monkeypatch.delenv(kernels_aot.GIL_ENV, raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(cores)))
    assert server.usable_cores() == cores
    assert server.choose_kernels_gil(workers) == expected
    assert os.environ[kernels_aot.GIL_ENV] == expected  # what the workers inherit


def test_an_operators_choice_stays(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(kernels_aot.GIL_ENV, "release")
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0})
    assert server.choose_kernels_gil(8) == "release"
    assert os.environ[kernels_aot.GIL_ENV] == "release"

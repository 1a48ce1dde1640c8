"""The SDK's sdist and a virtualenv able to run its tests, both cached across runs."""

from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path

PACKAGE = "meilisearch-python-sdk"
# Pinned so results are comparable between runs; bump deliberately.
VERSION = "8.0.1"
CACHE = Path(__file__).resolve().parents[1] / ".cache" / "compat"
# What the SDK's dev group pins (pytest-cov only because its addopts names --cov, which we
# override anyway), plus pytest-timeout so one hung test cannot stall the whole run.
TEST_REQUIREMENTS = (
    "pytest==9.1.1",
    "pytest-asyncio==1.4.0",
    "pytest-timeout==2.4.0",
    "truststore",
)


def _run(cmd: list[str]) -> None:
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)


def sdist_dir(version: str = VERSION) -> Path:
    """The unpacked sdist (tests/, datasets/), downloaded with pip on first use."""
    name = f"meilisearch_python_sdk-{version}"
    target = CACHE / name
    if (target / "tests" / "conftest.py").exists():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    archive = CACHE / f"{name}.tar.gz"
    if not archive.exists():
        _run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--no-binary",
                ":all:",
                f"{PACKAGE}=={version}",
                "-d",
                str(CACHE),
            ]
        )
    with tarfile.open(archive) as tar:
        tar.extractall(CACHE, filter="data")
    return target


def venv_python(version: str = VERSION) -> Path:
    """A virtualenv with the SDK (and its orjson extra) plus the test requirements."""
    venv = CACHE / f"venv-{version}"
    python = venv / "bin" / "python"
    marker = venv / ".ready"
    if marker.exists():
        return python
    source = sdist_dir(version)
    _run([sys.executable, "-m", "venv", "--clear", str(venv)])
    _run([str(python), "-m", "pip", "install", "-q", f"{source}[all]", *TEST_REQUIREMENTS])
    marker.write_text(version)
    return python

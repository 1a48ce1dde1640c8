"""`python -m benchmarks memory`: how much memory a Sift node needs, for docs/deployment.md.

For each data set, `sift import` writes it into a fresh data directory, then `sift serve`
starts on it (rebuilding the search index from SQLite, as every start does) and, once
healthy and idle, its memory is read from /proc: RSS, and PSS (shared pages split among
the processes that share them). An empty data directory gives the base cost of a
process; (loaded - empty) / documents * 100,000 the cost per 100k documents of that shape.
Then the demo data set is served with `--workers 2` and every process of that server is
read the same way: what each extra worker costs.

Data sets: `cities` (the bundled demo, 34,006 short documents), `products` (100,000
generated product documents, benchmarks/ingest/dataset.py), and `articles` (the titles and
abstracts of the relevance collections, when present: see benchmarks/README.md#data).
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import orjson

from benchmarks.collections import DATA_ROOT
from benchmarks.ingest.dataset import write_dataset

CACHE = Path(__file__).resolve().parent / ".cache" / "memory"
SIFT = [sys.executable, "-m", "sift"]


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _mib(pid: int, field: str, source: str = "status") -> float:
    for line in Path(f"/proc/{pid}/{source}").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def _processes(pid: int) -> list[int]:
    """The server and its worker processes (children), parent first."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    found = [int(c) for c in children.read_text().split()] if children.exists() else []
    return [pid, *found]


def _serve(data_dir: Path, *extra: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    args = [*SIFT, "serve", "--data-dir", str(data_dir), "--port", str(port)]
    args += ["--log-level", "warning", "--config-file", str(data_dir / "none.toml"), *extra]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                time.sleep(3)  # idle: the worker has merged its segments
                return proc, url
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"sift serve exited with {proc.returncode}")
        time.sleep(0.5)
    raise RuntimeError("sift serve did not become healthy")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    proc.wait(timeout=60)


def _datasets(work: Path) -> dict[str, tuple[Path, int]]:
    from sift.demo import DATA_FILE

    out: dict[str, tuple[Path, int]] = {}
    cities = work / "cities.ndjson"
    with gzip.open(DATA_FILE, "rb") as src, cities.open("wb") as dst:
        shutil.copyfileobj(src, dst)
    out["cities"] = (cities, sum(1 for _ in cities.open("rb")))
    CACHE.mkdir(parents=True, exist_ok=True)
    out["products"] = (write_dataset(CACHE / "products-100000.ndjson", 100_000, 42), 100_000)
    if DATA_ROOT.is_dir():
        articles = work / "articles.ndjson"
        count = 0
        with articles.open("wb") as fh:
            for corpus in sorted(DATA_ROOT.glob("*/corpus.jsonl")):
                for line in corpus.open("rb"):
                    if line.strip():
                        doc = orjson.loads(line)
                        row = {"id": f"{corpus.parent.name}-{count}", "title": doc.get("title"),
                               "text": doc.get("text")}  # fmt: skip
                        fh.write(orjson.dumps(row) + b"\n")
                        count += 1
        out["articles"] = (articles, count)
    return out


def measure(work: Path) -> dict[str, object]:
    report: dict[str, object] = {}
    empty = work / "empty"
    proc, _ = _serve(empty)
    base = {"rss_mib": _mib(proc.pid, "VmRSS"), "pss_mib": _mib(proc.pid, "Pss", "smaps_rollup")}
    _stop(proc)
    report["empty"] = base
    for name, (path, count) in _datasets(work).items():
        data = work / name
        subprocess.run(
            [*SIFT, "import", name, str(path), "--data-dir", str(data), "--quiet",
             "--config-file", str(data / "none.toml"), "--primary-key", "id"],
            check=True,
        )  # fmt: skip
        proc, _ = _serve(data)
        rss = _mib(proc.pid, "VmRSS")
        report[name] = {
            "documents": count,
            "rss_mib": rss,
            "pss_mib": _mib(proc.pid, "Pss", "smaps_rollup"),
            "per_100k_mib": (rss - base["rss_mib"]) / count * 100_000,
            "sqlite_mib": (data / "sift.db").stat().st_size / 2**20,
        }
        _stop(proc)
        if name == "cities":  # the same data served by two worker processes
            proc, _ = _serve(data, "--workers", "2")
            report["cities_2_workers"] = [
                {
                    "pid": pid,
                    "rss_mib": _mib(pid, "VmRSS"),
                    "pss_mib": _mib(pid, "Pss", "smaps_rollup"),
                }
                for pid in _processes(proc.pid)
            ]
            _stop(proc)
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks memory", description=__doc__)
    parser.add_argument("--out", type=Path, help="also write the numbers to this JSON file")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    try:
        report = measure(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()

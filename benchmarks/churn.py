"""`python -m benchmarks churn`: does deleting an index give its memory back?

A fresh `sift serve` on a temporary data directory on 127.0.0.1 creates an index, adds
``--documents`` of the bundled cities to it (34,006 at most; each cycle takes the next
slice, so the collections differ as separate sites' would), deletes it, and reads its RSS
once the queue has drained; ``--cycles`` times, each with a new index uid. Lexical by
default; ``--embedder`` gives each index the bundled MiniLM model (`huggingFace`), which
needs the model runtime (`.venv-model`). Target: the RSS after the last deletion within
10 % of the RSS after the first.
"""

from __future__ import annotations

import argparse
import gzip
import json
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.soak import drain, rss_mib, serve


def run_task(url: str, method: str, path: str, **kwargs: object) -> None:
    response = httpx.request(method, url + path, timeout=120, **kwargs)  # type: ignore[arg-type]
    response.raise_for_status()
    uid = response.json()["taskUid"]
    while True:
        task = httpx.get(f"{url}/tasks/{uid}", timeout=30).json()
        if task["status"] in ("succeeded", "failed", "canceled"):
            if task["status"] != "succeeded":
                raise RuntimeError(f"task {uid}: {task}")
            return
        time.sleep(0.2)


EMBEDDER = {"default": {"source": "huggingFace",
                        "model": "sentence-transformers/all-MiniLM-L6-v2",
                        "documentTemplate": "{{doc.name}}, {{doc.country}}"}}  # fmt: skip


def churn(cycles: int, documents: int, embedder: bool, work: Path) -> dict[str, object]:
    from sift.demo import DATA_FILE

    with gzip.open(DATA_FILE, "rb") as fh:
        lines = fh.read().splitlines()
    proc, url = serve(work / "data")
    try:
        drain(url)
        empty = rss_mib(proc.pid)
        print(f"empty server: RSS {empty:.0f} MiB, pid {proc.pid}", flush=True)
        print("cycle  indexed RSS MiB  deleted RSS MiB", flush=True)
        rows = []
        for cycle in range(1, cycles + 1):
            uid = f"churn{cycle}"
            start = (cycle - 1) * documents % len(lines)
            body = b"\n".join((lines + lines)[start : start + min(documents, len(lines))])
            if embedder:
                run_task(url, "PATCH", f"/indexes/{uid}/settings", json={"embedders": EMBEDDER})
            run_task(url, "POST", f"/indexes/{uid}/documents?primaryKey=id", content=body,
                     headers={"Content-Type": "application/x-ndjson"})  # fmt: skip
            drain(url)
            indexed = rss_mib(proc.pid)
            run_task(url, "DELETE", f"/indexes/{uid}")
            drain(url)
            deleted = rss_mib(proc.pid)
            rows.append({"cycle": cycle, "indexed_rss_mib": indexed, "deleted_rss_mib": deleted})
            print(f"{cycle:>5}  {indexed:15.0f}  {deleted:15.0f}", flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=120)
    growth = rows[-1]["deleted_rss_mib"] / rows[0]["deleted_rss_mib"] - 1
    print(f"RSS after the last deletion vs after the first: {growth:+.1%} (target within 10 %)")
    return {"cycles": cycles, "documents": documents, "embedder": embedder,
            "empty_rss_mib": empty, "rows": rows, "growth": growth}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks churn", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cycles", type=int, default=8, help="indexes created and deleted")
    parser.add_argument("--documents", type=int, default=34_006, help="cities per index")
    parser.add_argument("--embedder", action="store_true", help="with the local MiniLM model")
    parser.add_argument("--output", type=Path, help="also write the figures here as JSON")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="sift-churn-") as tmp:
        result = churn(args.cycles, args.documents, args.embedder, Path(tmp))
    if args.output:
        args.output.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""`python -m benchmarks load`: query latency and HTTP throughput of Sift and its peers."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import click

from benchmarks.collections import load_collection, subset
from benchmarks.load.chart import write_chart
from benchmarks.load.generator import wrk_available, wrk_version
from benchmarks.load.queries import DEFAULT_SEED, query_sets
from benchmarks.load.report import render_markdown, to_json
from benchmarks.load.run import SpeedConfig, run_speed
from benchmarks.machine import machine_info

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_COLLECTION = REPO_ROOT.parent / "shared" / "data" / "scifact"
CACHE_DIR = REPO_ROOT / "benchmarks" / ".cache"
RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"
SMOKE_RESULTS_DIR = RESULTS_DIR / "tmp"  # git-ignored
IN_PROCESS = "bm25s,tantivy,fts5"
# Smoke: enough to go through every code path, in seconds.
SMOKE_DOCS = 300
SMOKE_QUERIES = 20
SMOKE_CONNECTIONS = "1,4"
SMOKE_DURATION_S = 1.0


def _ints(value: str) -> list[int]:
    return [int(part) for part in value.split(",") if part.strip()]


def _names(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


@click.command()
@click.option("--smoke", is_flag=True, help="Seconds: 300 docs, 20 queries per kind, Sift with "
              "one worker, 1 s per level, no Typesense; wrk only if installed.")  # fmt: skip
@click.option("--collection", type=click.Path(path_type=Path, file_okay=False),
              default=DEFAULT_COLLECTION, show_default=True, help="A BEIR folder.")  # fmt: skip
@click.option("--queries", type=int, default=300, show_default=True,
              help="Queries per kind (full, short, prefix).")  # fmt: skip
@click.option("--connections", default="1,4,16,64", show_default=True)
@click.option("--duration", type=float, default=10.0, show_default=True,
              help="Seconds per load level.")  # fmt: skip
@click.option("--sift-workers", default="1,2", show_default=True,
              help="Worker counts to load-test Sift with; empty to skip Sift.")  # fmt: skip
@click.option("--sift-log-level", default="info", show_default=True,
              help="Sift's --log-level; info, its default, logs every request.")  # fmt: skip
@click.option("--in-process", default=IN_PROCESS, show_default=True,
              help="Relevance-harness engines timed in this process; empty for none.")  # fmt: skip
@click.option("--typesense/--no-typesense", default=True, show_default=True)
@click.option("--generator", type=click.Choice(["auto", "wrk", "python"]), default="auto",
              show_default=True, help="auto: wrk when installed, else the Python one.")  # fmt: skip
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True)
@click.option("--output-dir", type=click.Path(path_type=Path, file_okay=False))
@click.option("--cache-dir", type=click.Path(path_type=Path, file_okay=False), default=CACHE_DIR)
def load(
    smoke: bool,
    collection: Path,
    queries: int,
    connections: str,
    duration: float,
    sift_workers: str,
    sift_log_level: str,
    in_process: str,
    typesense: bool,
    generator: str,
    seed: int,
    output_dir: Path | None,
    cache_dir: Path,
) -> None:
    """Single-client latency p50/p95/p99 per engine and query kind, and req/s under load."""
    if smoke:
        queries, duration, connections = SMOKE_QUERIES, SMOKE_DURATION_S, SMOKE_CONNECTIONS
        sift_workers, typesense = "1", False
    if generator == "auto":
        generator = "wrk" if wrk_available() else "python"
    elif generator == "wrk" and not wrk_available():
        raise click.UsageError("wrk is not installed (apt-get install -y wrk)")
    data = load_collection(collection)
    if smoke:
        data = subset(data, SMOKE_DOCS, SMOKE_QUERIES)
    sets = query_sets(list(data.queries.values()), queries, seed)
    config = SpeedConfig(
        in_process=_names(in_process),
        sift_workers=_ints(sift_workers),
        typesense=typesense,
        connections=_ints(connections),
        duration_s=duration,
        generator=generator,
        seed=seed,
        sift_log_level=sift_log_level,
    )
    started = datetime.now(UTC)
    meta = {
        "benchmark": "load",
        "date": started.strftime("%Y-%m-%d %H:%M UTC"),
        "smoke": smoke,
        "collection": data.name,
        "docs": len(data.docs),
        "queries_per_kind": len(sets["full"]),
        "seed": seed,
        "generator": generator if generator == "python" else wrk_version(),
        "duration_s": duration,
        "connections": config.connections,
        "machine": machine_info(REPO_ROOT),
        "query_examples": {k: v[:5] for k, v in sets.items()},
    }
    clock = time.perf_counter()
    results = run_speed(data, sets, config, cache_dir, log=lambda s: click.echo(s, err=True))
    meta["total_s"] = round(time.perf_counter() - clock, 1)

    out = output_dir or (SMOKE_RESULTS_DIR if smoke else RESULTS_DIR)
    out.mkdir(parents=True, exist_ok=True)
    stem = out / f"load-{started:%Y%m%dT%H%M%SZ}{'-smoke' if smoke else ''}"
    markdown = render_markdown(meta, results)
    to_json(stem.with_suffix(".json"), meta, results)
    stem.with_suffix(".md").write_text(markdown, encoding="utf-8")
    write_chart(stem.with_suffix(".png"), results.load)
    click.echo(markdown)
    click.echo(f"Wrote {stem}.json, .md and .png", err=True)

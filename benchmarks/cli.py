"""`python -m benchmarks ...`: one sub-command per harness.

`relevance` and `load` live here; `ingest`, `ingest-peers`, `engine-speed`, `hybrid` and
`compat` forward to their own packages (benchmarks/suites.py). Each reuses
`benchmarks.runners` and `benchmarks.collections` where it compares engines."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import click

from benchmarks.chart import write_chart
from benchmarks.collections import (
    DATA_ROOT,
    Collection,
    corpus_sizes,
    default_collection_paths,
    load_collection,
    missing_data,
    subset,
)
from benchmarks.load.cli import load
from benchmarks.machine import machine_info
from benchmarks.relevance import DEFAULT_TYPO_SEED, TOP_K, run_relevance
from benchmarks.report import render_markdown, write_json
from benchmarks.runners import RUNNERS, SMOKE_ENGINES
from benchmarks.suites import register

REPO_ROOT = Path(__file__).resolve().parents[1]
CACHE_DIR = REPO_ROOT / "benchmarks" / ".cache"
RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"
# Smoke runs are throw-away; this folder is git-ignored.
SMOKE_RESULTS_DIR = RESULTS_DIR / "tmp"
SMOKE_DOCS = 300
SMOKE_QUERIES = 20
SMOKE_COLLECTION = "scifact"


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


@click.group()
def main() -> None:
    """Sift's benchmark harnesses."""


@main.command()
@click.option("--engines", help=f"Comma-separated; default all: {','.join(RUNNERS)}.")
@click.option("--collections", help="Comma-separated BEIR folders; default every one in "
              "../shared/data.")  # fmt: skip
@click.option("--smoke", is_flag=True, help=f"{SMOKE_DOCS} docs and {SMOKE_QUERIES} queries of "
              f"one collection, quick engines only ({','.join(SMOKE_ENGINES)}).")  # fmt: skip
@click.option("--output-dir", type=click.Path(path_type=Path, file_okay=False),
              help="Where the .json/.md/.png go; default benchmarks/results "
              "(benchmarks/results/tmp for --smoke).")  # fmt: skip
@click.option("--typo-seed", type=int, default=DEFAULT_TYPO_SEED, show_default=True)
@click.option("--cache-dir", type=click.Path(path_type=Path, file_okay=False), default=CACHE_DIR,
              help="Downloaded binaries and cached embeddings.")  # fmt: skip
def relevance(
    engines: str | None,
    collections: str | None,
    smoke: bool,
    output_dir: Path | None,
    typo_seed: int,
    cache_dir: Path,
) -> None:
    """nDCG@10, Recall@100, MRR@10 and typo robustness of every engine on BEIR collections."""
    engine_names = _split(engines) or list(SMOKE_ENGINES if smoke else RUNNERS)
    unknown = [e for e in engine_names if e not in RUNNERS]
    if unknown:
        raise click.BadParameter(
            f"unknown {unknown}; known: {', '.join(RUNNERS)}", param_hint="--engines"
        )
    paths = [Path(p) for p in _split(collections)]
    if not paths:
        if not DATA_ROOT.is_dir():
            raise click.UsageError(missing_data(DATA_ROOT))
        paths = default_collection_paths(DATA_ROOT)
        if smoke:
            paths = [next((p for p in paths if p.name == SMOKE_COLLECTION), paths[0])]
    loaded: list[Collection] = [load_collection(p) for p in paths]
    if smoke:
        loaded = [subset(c, SMOKE_DOCS, SMOKE_QUERIES) for c in loaded]

    started = datetime.now(UTC)
    meta = {
        "benchmark": "relevance",
        "date": started.strftime("%Y-%m-%d %H:%M UTC"),
        "smoke": smoke,
        "top_k": TOP_K,
        "typo_seed": typo_seed,
        "machine": machine_info(REPO_ROOT),
        "collections": corpus_sizes(loaded),
    }
    clock = time.perf_counter()
    results = run_relevance(
        loaded, engine_names, cache_dir, typo_seed, log=lambda line: click.echo(line, err=True)
    )
    meta["duration_s"] = round(time.perf_counter() - clock, 1)

    out = output_dir or (SMOKE_RESULTS_DIR if smoke else RESULTS_DIR)
    out.mkdir(parents=True, exist_ok=True)
    stem = out / f"relevance-{started:%Y%m%dT%H%M%SZ}{'-smoke' if smoke else ''}"
    markdown = render_markdown(meta, results)
    write_json(stem.with_suffix(".json"), meta, results)
    stem.with_suffix(".md").write_text(markdown, encoding="utf-8")
    write_chart(stem.with_suffix(".png"), results)
    click.echo(markdown)
    click.echo(f"Wrote {stem}.json, .md and .png", err=True)


# Speed lives in its own package (benchmarks/load); registered here so it is one more
# `python -m benchmarks` sub-command.
main.add_command(load)


register(main)

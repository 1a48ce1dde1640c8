"""Write a relevance run as JSON (everything) and Markdown (the tables people read)."""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.relevance import EngineResult


def write_json(path: Path, meta: dict[str, Any], results: Sequence[EngineResult]) -> None:
    payload = {**meta, "results": [r.to_json() for r in results]}
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")


def render_markdown(meta: dict[str, Any], results: Sequence[EngineResult]) -> str:
    collections = list(dict.fromkeys(r.collection for r in results))
    engines = list(dict.fromkeys(r.engine for r in results))
    by_key = {(r.engine, r.collection): r for r in results}
    machine = meta["machine"]
    lines = [
        f"# Relevance benchmark, {meta['date']}",
        "",
        f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB, "
        f"Python {machine['python']}, commit {machine['git_commit']}. "
        f"Top {meta['top_k']} hits per query; typo seed {meta['typo_seed']}.",
        "",
        "## nDCG@10",
        "",
        *_metric_table(engines, collections, by_key, "ndcg_10"),
        "",
        "## nDCG@10 with one typo in every word of 5+ letters",
        "",
        *_metric_table(engines, collections, by_key, "typo_ndcg_10"),
        "",
    ]
    for collection in collections:
        sizes = meta["collections"][collection]
        lines += [
            f"## {collection} ({sizes['docs']} docs, {sizes['queries']} judged test queries)",
            "",
            "| engine | nDCG@10 | Recall@100 | MRR@10 | nDCG@10 typo | index s "
            "| query ms p50 | zero-hit | zero-hit typo |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for engine in engines:
            r = by_key.get((engine, collection))
            if r is None or r.status != "ok":
                continue
            query_ms = f"{r.query_ms_median:.2f}" + (" †" if r.query_time_amortised else "")
            cached = r.settings.get("embeddings_from_cache", False)
            index_s = f"{r.index_s:.1f}" + (" ‡" if cached else "")
            lines.append(
                f"| {engine} | {r.ndcg_10:.4f} | {r.recall_100:.4f} | {r.mrr_10:.4f} "
                f"| {r.typo_ndcg_10:.4f} | {index_s} | {query_ms} "
                f"| {r.zero_hit_queries} | {r.typo_zero_hit_queries} |"
            )
        lines.append("")
    if any(r.query_time_amortised for r in results):
        lines += ["† batch engine: mean time per query of one batch run, not a median.", ""]
    if any(r.settings.get("embeddings_from_cache") for r in results):
        lines += ["‡ document embeddings loaded from the cache; not the time to embed.", ""]
    not_run = [r for r in results if r.status != "ok"]
    if not_run:
        lines += ["## Not run", ""]
        lines += [
            f"- {r.engine} on {r.collection}: {r.status}: {' '.join(r.message.split())}"
            for r in not_run
        ]
        lines.append("")
    lines += ["## Engine versions and settings", "", "| engine | settings |", "|---|---|"]
    for engine in engines:
        settings = next((r.settings for r in results if r.engine == engine and r.settings), None)
        if settings:
            text = "; ".join(
                f"{k}: {v}" for k, v in settings.items() if k != "embeddings_from_cache"
            )
            escaped = text.replace("|", "\\|")  # a bare pipe would split the table cell
            lines.append(f"| {engine} | {escaped} |")
    return "\n".join(lines) + "\n"


def _metric_table(
    engines: Sequence[str],
    collections: Sequence[str],
    by_key: dict[tuple[str, str], EngineResult],
    attribute: str,
) -> list[str]:
    lines = [
        "| engine | " + " | ".join(collections) + " | mean |",
        "|---|" + "---:|" * (len(collections) + 1),
    ]
    for engine in engines:
        values = []
        for collection in collections:
            r = by_key.get((engine, collection))
            values.append(getattr(r, attribute) if r and r.status == "ok" else None)
        cells = ["—" if v is None else f"{v:.4f}" for v in values]
        # A mean over only some collections would not be comparable with the others.
        mean = "—" if None in values else f"{statistics.fmean(values):.4f}"
        lines.append(f"| {engine} | " + " | ".join(cells) + f" | {mean} |")
    return lines


def write_summary(out_dir: Path, stem_name: str, summary: dict[str, Any], markdown: str) -> Path:
    """`<stem_name>.json` (the summary) and `.md` (its tables) in `out_dir`; the stem."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / stem_name
    stem.with_suffix(".json").write_text(json.dumps(summary, indent=2) + "\n")
    stem.with_suffix(".md").write_text(markdown)
    return stem

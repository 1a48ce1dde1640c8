"""Markdown tables, the JSON results file and the chart of a speed run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchmarks.load.generator import LoadResult
from benchmarks.load.run import SpeedResults

PEER = "typesense"


def to_json(path: Path, meta: dict[str, Any], results: SpeedResults) -> None:
    payload = {
        **meta,
        "settings": results.settings,
        "skipped": results.skipped,
        "latency": [r.as_dict() for r in results.latency],
        "load": [r.as_dict() for r in results.load],
        "ratios": throughput_ratios(results),
    }
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")


def throughput_ratios(results: SpeedResults) -> list[dict[str, Any]]:
    """Per query mix and connection level: each Sift configuration's search req/s over its
    own no-op req/s (how close search gets to the HTTP stack's ceiling) and over
    Typesense's on the same mix."""
    rps = {(r.target, r.endpoint, r.mix, r.connections): r.rps for r in results.load}
    rows = []
    for (target, endpoint, mix, connections), value in rps.items():
        if endpoint != "search" or not target.startswith("sift"):
            continue
        noop = rps.get((target, "noop", "", connections))
        peer = rps.get((PEER, "search", mix, connections))
        rows.append(
            {
                "target": target,
                "mix": mix,
                "connections": connections,
                "search_over_noop": round(value / noop, 3) if noop else None,
                "search_over_typesense": round(value / peer, 3) if peer else None,
            }
        )
    return rows


def render_markdown(meta: dict[str, Any], results: SpeedResults) -> str:
    machine = meta["machine"]
    lines = [
        f"# Speed benchmark, {meta['date']}",
        "",
        f"Collection `{meta['collection']}`: {meta['docs']:,} documents; "
        f"{meta['queries_per_kind']} queries per kind (seed {meta['seed']}). "
        f"Machine: {machine['cpu']}, {machine['cores']} cores, "
        f"load average at start {_load(machine)}; commit {machine['git_commit']}. "
        f"Load generator: {meta['generator']}, {meta['duration_s']:g} s per level.",
        "",
        "## Single-client latency (ms)",
        "",
        "| engine | queries | via | p50 | p95 | p99 | engine p50 | engine p95 | engine p99 "
        "| hits/query |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results.latency:
        e = r.engine_ms or {}
        lines.append(
            f"| {r.engine} | {r.kind} | {r.transport} | {_ms(r.end_to_end_ms['p50'])} "
            f"| {_ms(r.end_to_end_ms['p95'])} | {_ms(r.end_to_end_ms['p99'])} "
            f"| {_ms(e.get('p50'))} | {_ms(e.get('p95'))} | {_ms(e.get('p99'))} "
            f"| {r.mean_hits:g} |"
        )
    lines += _latency_ratio_lines(results)
    if results.load:
        lines += ["", "## Throughput under load (req/s; latency p50 / p99 ms)", ""]
        columns = list(dict.fromkeys((r.target, r.endpoint, r.mix) for r in results.load))
        by_key = {(r.target, r.endpoint, r.mix, r.connections): r for r in results.load}
        header = " | ".join(series_label(t, e, m) for t, e, m in columns)
        lines += [f"| connections | {header} |", "|---:|" + "---:|" * len(columns)]
        for connections in dict.fromkeys(r.connections for r in results.load):
            cells = []
            for target, endpoint, mix in columns:
                row = by_key.get((target, endpoint, mix, connections))
                cells.append("—" if row is None else _load_cell(row))
            lines.append(f"| {connections} | " + " | ".join(cells) + " |")
        ratios = throughput_ratios(results)
        if ratios:
            lines += [
                "",
                "## Throughput ratios (same run)",
                "",
                "| Sift | mix | connections | search / own no-op | search / Typesense |",
                "|---|---|---:|---:|---:|",
            ]
            lines += [
                f"| {r['target']} | {r['mix']} | {r['connections']} "
                f"| {_ratio(r['search_over_noop'])} "
                f"| {_ratio(r['search_over_typesense'])} |"
                for r in ratios
            ]
    if results.skipped:
        lines += ["", *(f"- {name} skipped: {why}" for name, why in results.skipped.items())]
    return "\n".join(lines) + "\n"


def _latency_ratio_lines(results: SpeedResults) -> list[str]:
    by_key = {(r.engine, r.kind): r for r in results.latency}
    rows = []
    for (engine, kind), row in by_key.items():
        peer = by_key.get((PEER, kind))
        if engine != "sift" or peer is None:
            continue
        wall = row.end_to_end_ms["p50"] / peer.end_to_end_ms["p50"]
        rows.append(
            f"| {kind} | {wall:.2f} | {row.end_to_end_ms['p99'] / peer.end_to_end_ms['p99']:.2f} |"
        )
    if not rows:
        return []
    return [
        "",
        "Sift / Typesense, end to end over HTTP (lower is better for Sift):",
        "",
        "| queries | p50 ratio | p99 ratio |",
        "|---|---:|---:|",
        *rows,
    ]


def series_label(target: str, endpoint: str, mix: str) -> str:
    return f"{target} no-op" if endpoint == "noop" else f"{target} search ({mix})"


def _load_cell(row: LoadResult) -> str:
    cell = f"{row.rps:,.0f} ({row.latency_ms['p50']:.1f} / {row.latency_ms['p99']:.1f})"
    # Failed requests make a fast number meaningless; say so in the cell itself.
    return f"{cell} ⚠ {row.errors} errors" if row.errors else cell


def _ms(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


def _ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _load(machine: dict[str, Any]) -> str:
    return ", ".join(f"{x:.1f}" for x in machine.get("load_average_at_start", ()))

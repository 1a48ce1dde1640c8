"""Markdown tables and the targets verdict of an engine-speed run."""

from __future__ import annotations

from typing import Any

# The search issue's targets.
ENGINE_P50_MS = 2.0
ENGINE_P99_MS = 10.0
INDEX_DOCS_PER_S = 10_000

ROWS = (
    ("sift_inprocess", "Sift engine, in process (perf_counter)"),
    ("sift_engine", "Sift processingTimeMs (whole ms)"),
    ("ts_engine", "Typesense search_time_ms"),
    ("sift_e2e", "Sift end to end (HTTP)"),
    ("ts_e2e", "Typesense end to end (HTTP)"),
)


def _ok(flag: bool) -> str:
    return "met" if flag else "**not met**"


def targets(report: dict[str, Any]) -> list[tuple[str, str]]:
    """(target, verdict with the numbers) per target and corpus."""
    out = []
    for name, c in report["corpora"].items():
        lat = c["latency_ms"]
        engine = lat["sift_inprocess"]
        out.append(
            (
                f"{name}: Sift engine p50 ≤ {ENGINE_P50_MS:g} ms, p99 ≤ {ENGINE_P99_MS:g} ms",
                f"{_ok(engine['p50'] <= ENGINE_P50_MS and engine['p99'] <= ENGINE_P99_MS)} "
                f"(p50 {engine['p50']:.2f}, p99 {engine['p99']:.2f} ms in process; "
                f"processingTimeMs p50 {lat['sift_engine']['p50']:.0f}, "
                f"p99 {lat['sift_engine']['p99']:.0f})",
            )
        )
        if "ts_engine" in lat:
            # Engine time like for like: both servers report whole milliseconds, cut
            # (not rounded); Sift's in-process time has no Typesense counterpart.
            ts, sift_ms = lat["ts_engine"], lat["sift_engine"]
            faster = sift_ms["p50"] < ts["p50"] and lat["sift_e2e"]["p50"] < lat["ts_e2e"]["p50"]
            out.append(
                (
                    f"{name}: faster than Typesense (p50, engine and end to end)",
                    f"{_ok(faster)} (engine-reported p50 {sift_ms['p50']:.0f} against "
                    f"{ts['p50']:.0f} ms, end to end "
                    f"{lat['sift_e2e']['p50'] / lat['ts_e2e']['p50']:.2f}x Typesense's time)",
                )
            )
    for name in ("catalog", "products"):
        products = report["corpora"].get(name)
        if not products:
            continue
        rate = products["sift_index"]["docs_per_s"]
        out.append(
            (
                f"indexing ≥ {INDEX_DOCS_PER_S:,} docs/s via the API "
                f"({products['documents']:,} {name} documents)",
                f"{_ok(rate >= INDEX_DOCS_PER_S)} ({rate:,.0f} docs/s)",
            )
        )
    return out


def markdown(report: dict[str, Any]) -> str:
    lines = [f"Command: `{report['command']}`", ""]
    for name, c in report["corpora"].items():
        lat = c["latency_ms"]
        lines += [
            f"#### {name}: {c['documents']:,} documents, {c['queries']} queries",
            "",
            f"Sift: `{c['sift_params'] or 'q only'}`; Typesense: `{c['typesense_params']}`. "
            f"Median hits: {', '.join(f'{k} {v:,.0f}' for k, v in c['median_hits'].items())}.",
            "",
            "| latency (ms) | p50 | p95 | p99 |",
            "|---|---:|---:|---:|",
        ]
        for key, label in ROWS:
            if key in lat:
                p = lat[key]
                lines.append(f"| {label} | {p['p50']:.2f} | {p['p95']:.2f} | {p['p99']:.2f} |")
        if "ts_engine" in lat:
            ratio = "| Sift / Typesense | " + " | ".join(
                f"in process {lat['sift_inprocess'][p] / max(lat['ts_engine'][p], 1e-9):.2f}, "
                f"e2e {lat['sift_e2e'][p] / lat['ts_e2e'][p]:.2f}"
                for p in ("p50", "p95", "p99")
            )
            lines.append(ratio + " |")
        s = c["sift_index"]
        lines += [
            "",
            "| indexing and footprint | value |",
            "|---|---:|",
            f"| Sift via API (settings first, task succeeded) | {s['docs_per_s']:,.0f} docs/s |",
        ]
        if "typesense_index" in c:
            t = c["typesense_index"]["docs_per_s"]
            lines.append(f"| Typesense via API (import) | {t:,.0f} docs/s |")
            lines.append(f"| Sift / Typesense indexing rate | {s['docs_per_s'] / t:.2f} |")
        lines += [
            f"| Sift SearchIndex.upsert in process | {c['inprocess_index']['docs_per_s']:,.0f}"
            " docs/s |",
            f"| Sift RSS empty → loaded | {s['rss_empty_mib']:.0f} → "
            f"{s['rss_loaded_mib']:.0f} MiB |",
            f"| Sift RSS per 100k docs | {s['rss_per_100k_mib']:.0f} MiB |",
            f"| Sift SQLite on disk per 100k docs | {s['disk_per_100k_mib']:.0f} MiB |",
            "",
        ]
    lines += ["| target | verdict |", "|---|---|"]
    lines += [f"| {t} | {v} |" for t, v in targets(report)]
    return "\n".join(lines) + "\n"

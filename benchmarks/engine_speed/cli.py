"""`python -m benchmarks.engine_speed`: engine-side and end-to-end search latency of Sift and
Typesense 0.24.1 on the same documents and queries, plus indexing speed and Sift's memory
and disk use.

Per corpus (catalog: 200,000 products whose titles use the real, Zipf-shaped vocabulary of
the shared collections; products: 200,000 products over a 74-word vocabulary, a stress
test where every word is in ~10 % of documents; scifact): a fresh Sift server and one
Typesense server get the same documents through their APIs (settings first, so the
indexing time includes building the search index), then every query of a seeded set goes
to Sift over HTTP, to Typesense over HTTP and to Sift's SearchIndex in this process, one
after the other, so machine noise hits all three alike. `--smoke`: a few hundred
documents, no Typesense, seconds.
"""

from __future__ import annotations

import argparse
import gc
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from benchmarks.engine_speed.corpus import (
    Corpus,
    catalog_corpus,
    product_corpus,
    scifact_corpus,
)
from benchmarks.engine_speed.engines import SiftHttp, SiftInProcess, TypesenseHttp
from benchmarks.engine_speed.report import markdown
from benchmarks.machine import machine_info

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / "benchmarks" / ".cache"
RESULTS = ROOT / "benchmarks" / "results"
SCIFACT = ROOT.parent / "shared" / "data" / "scifact"
WARMUP_QUERIES = 20


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.engine_speed", description=__doc__)
    parser.add_argument("--docs", type=int, default=200_000, help="catalog/product documents")
    parser.add_argument("--corpora", default="catalog,products,scifact",
                        help="comma-separated: catalog, products, scifact")
    parser.add_argument("--queries", type=int, default=500, help="queries per corpus")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--scifact", type=Path, default=SCIFACT)
    parser.add_argument("--smoke", action="store_true", help="300 docs, 30 queries, no Typesense")
    parser.add_argument("--no-typesense", action="store_true")
    parser.add_argument("--out-dir", type=Path, default=None)
    return parser.parse_args(argv)


def percentiles(values: list[float]) -> dict[str, float]:
    p50, p95, p99 = np.percentile(np.asarray(values), [50, 95, 99])
    return {"p50": float(p50), "p95": float(p95), "p99": float(p99)}


def run_corpus(corpus: Corpus, typesense: TypesenseHttp | None) -> dict[str, Any]:
    n = len(corpus.docs)
    print(f"[{corpus.name}] {n:,} docs, {len(corpus.queries)} queries", flush=True)
    result: dict[str, Any] = {"documents": n, "queries": len(corpus.queries)}
    sift = SiftHttp()
    try:
        seconds = sift.load(corpus.docs, corpus.sift_settings)
        gc.collect()
        rss = sift.rss_mib()
        result["sift_index"] = {
            "seconds": seconds,
            "docs_per_s": n / seconds,
            "rss_empty_mib": sift.rss_empty_mib,
            "rss_loaded_mib": rss,
            "rss_per_100k_mib": (rss - sift.rss_empty_mib) * 100_000 / n,
            "disk_mib": sift.disk_bytes() / (1 << 20),
            "disk_per_100k_mib": sift.disk_bytes() / (1 << 20) * 100_000 / n,
        }
        print(f"  sift API load {n / seconds:,.0f} docs/s, RSS +{rss - sift.rss_empty_mib:.0f} MiB")
        if typesense is not None:
            seconds = typesense.load(corpus.name, corpus.docs, corpus.typesense_fields)
            result["typesense_index"] = {"seconds": seconds, "docs_per_s": n / seconds}
            print(f"  typesense API load {n / seconds:,.0f} docs/s", flush=True)
        began = time.perf_counter()
        local = SiftInProcess(corpus.docs, corpus.sift_settings)
        result["inprocess_index"] = {"docs_per_s": n / (time.perf_counter() - began)}

        for q in corpus.queries[:WARMUP_QUERIES]:  # caches, lazy imports, connections
            sift.search(q, corpus.sift_params)
            local.search(q, corpus.sift_params)
            if typesense is not None:
                typesense.search(q, corpus.typesense_params)
        times: dict[str, list[float]] = {
            k: [] for k in ("sift_e2e", "sift_engine", "sift_inprocess", "ts_e2e", "ts_engine")
        }
        hits: dict[str, list[int]] = {"sift": [], "typesense": []}
        for q in corpus.queries:
            e2e, engine, found = sift.search(q, corpus.sift_params)
            times["sift_e2e"].append(e2e)
            times["sift_engine"].append(engine)
            hits["sift"].append(found)
            times["sift_inprocess"].append(local.search(q, corpus.sift_params))
            if typesense is not None:
                e2e, engine, found = typesense.search(q, corpus.typesense_params)
                times["ts_e2e"].append(e2e)
                times["ts_engine"].append(engine)
                hits["typesense"].append(found)
        result["latency_ms"] = {k: percentiles(v) for k, v in times.items() if v}
        result["median_hits"] = {k: float(np.median(v)) for k, v in hits.items() if v}
        result["sample_queries"] = corpus.queries[:10]
        result["sift_params"] = corpus.sift_params
        result["typesense_params"] = corpus.typesense_params
        del local
    finally:
        sift.close()
    return result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    docs = 300 if args.smoke else args.docs
    n_queries = 30 if args.smoke else args.queries
    use_typesense = not (args.smoke or args.no_typesense)
    command = "python -m benchmarks.engine_speed" + (" " + " ".join(argv) if argv else "")
    if argv is None:
        import sys

        command = "python -m benchmarks.engine_speed " + " ".join(sys.argv[1:])
    report: dict[str, Any] = {
        "command": command.strip(),
        "machine": machine_info(ROOT) if not args.smoke else {"python": platform.python_version()},
        "seed": args.seed,
        "smoke": args.smoke,
        "corpora": {},
    }
    wanted = set(args.corpora.split(","))
    shared = args.scifact.parent
    corpora = []
    skipped = []
    if "catalog" in wanted:
        if (shared / "scifact" / "corpus.jsonl").is_file():
            corpora.append(lambda: catalog_corpus(docs, n_queries, args.seed, shared))
        else:
            skipped.append(f"catalog: no collections under {shared}")
    if "products" in wanted:
        corpora.append(lambda: product_corpus(docs, n_queries, args.seed))
    if "scifact" in wanted:
        if (args.scifact / "corpus.jsonl").is_file():
            max_docs = 300 if args.smoke else None
            corpora.append(lambda: scifact_corpus(args.scifact, n_queries, args.seed, max_docs))
        else:
            skipped.append(f"scifact: no corpus.jsonl under {args.scifact}")
    if skipped:
        report["skipped"] = "; ".join(skipped)
    typesense = TypesenseHttp(CACHE) if use_typesense else None
    try:
        for build in corpora:
            corpus = build()
            report["corpora"][corpus.name] = run_corpus(corpus, typesense)
            del corpus
            gc.collect()
    finally:
        if typesense is not None:
            typesense.close()

    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    out_dir = args.out_dir or (RESULTS / "tmp" if args.smoke else RESULTS)
    out_dir.mkdir(parents=True, exist_ok=True)
    table = markdown(report)
    (out_dir / f"engine-speed-{stamp}.json").write_bytes(
        orjson.dumps(report, option=orjson.OPT_INDENT_2)
    )
    (out_dir / f"engine-speed-{stamp}.md").write_text(table)
    print(table)
    # docs/benchmarks.md is edited by hand from this file: a run never rewrites the docs.
    print(f"written to {out_dir}/engine-speed-{stamp}.{{json,md}}")
    return report

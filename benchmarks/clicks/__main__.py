"""`python -m benchmarks clicks [--collections a,b] [--max-queries N] [--seed S]`.

Per collection: a real server, a seeded sample of judged queries split into clicked and
never-clicked halves, 20 rounds of simulated sessions through the search API and
`POST /events`, nDCG@10 after 0, 1, 2, 5, 10 and 20 sessions per query; the same with
noise-only clicks in a second index. Then the offline replay of every parameter set on
each collection's default rankings (`--grid`; each set's objective the mean over
`--session-seeds`), and the leave-one-collection-out choice.
Writes benchmarks/results/clicks-<time>.json, .md and .png."""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.clicks.chart import write_curves
from benchmarks.clicks.offline import finalists, grid, label, objective, replay
from benchmarks.clicks.server import ClickServer
from benchmarks.clicks.simulate import Visitors, run_sessions
from benchmarks.collections import DATA_ROOT, Collection, load_collection
from benchmarks.machine import machine_info
from sift.insights.clickmodel import ClickParams

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "results"
CHECKPOINTS = (1, 2, 5, 10, 20)
COLLECTIONS = ("scifact", "nfcorpus", "cisi", "npl")


def split(collection: Collection, max_queries: int, seed: int) -> tuple[list[str], list[str]]:
    """A seeded sample of the judged queries, halved: clicked, never clicked."""
    qids = sorted(collection.queries)
    rng = random.Random(f"{seed}:{collection.name}")
    sample = rng.sample(qids, min(max_queries, len(qids)))
    half = len(sample) // 2
    return sample[:half], sample[half:]


def run_collection(
    collection: Collection,
    max_queries: int,
    seed: int,
    offline: bool,
    sets: list[ClickParams],
    split_seed: int | None = None,
    session_seeds: list[int] | None = None,
) -> dict[str, Any]:
    clicked, never = split(collection, max_queries, seed if split_seed is None else split_seed)
    visitors = Visitors()
    server = ClickServer()
    try:
        started = time.perf_counter()
        server.load(collection.docs, collection.queries)
        loaded = time.perf_counter()
        defaults = server.defaults([*clicked, *never])
        out: dict[str, Any] = {
            "collection": collection.name,
            "queries": {"clicked": len(clicked), "never_clicked": len(never)},
            "index_s": round(loaded - started, 1),
        }
        if not offline:
            curve = run_sessions(
                server, clicked, never, collection.qrels, visitors, seed, (0, *CHECKPOINTS)
            )
            out["server"] = {"params": asdict(ClickParams()), "curve": curve}
            out["server_s"] = round(time.perf_counter() - loaded, 1)
    finally:
        server.close()
    tuned = time.perf_counter()
    out["grid"] = []
    for p in sets:
        curves = {s: replay(defaults, clicked, never, collection.qrels, p, visitors, s,
                            CHECKPOINTS) for s in session_seeds or [seed]}  # fmt: skip
        out["grid"].append({
            "params": asdict(p), "label": label(p), "curve": curves[next(iter(curves))],
            "objective": statistics.fmean(objective(c) for c in curves.values()),
            "by_seed": {str(s): _ends(c) for s, c in curves.items()},
        })  # fmt: skip
    out["grid_s"] = round(time.perf_counter() - tuned, 1)
    return out


def _ends(curve: list[dict[str, Any]]) -> dict[str, float]:
    """A replay's changes after the last checkpoint: clicked gain, noise-only and
    never-clicked change."""
    first, last = curve[0], curve[-1]
    return {"gain": last["clicked"] - first["clicked"],
            "noise": last["noise_clicked"] - first["clicked"],
            "never": last["never_clicked"] - first["never_clicked"]}  # fmt: skip


def leave_one_out(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """For each collection: the parameter set with the best mean objective on the other
    collections, and what it gives on this one (offline replay)."""
    folds = []
    for held in results:
        others = [r for r in results if r is not held]
        if not others or not held["grid"]:
            break
        labels = [g["label"] for g in held["grid"]]
        score = {
            lab: statistics.fmean(next(g["objective"] for g in r["grid"] if g["label"] == lab)
                                  for r in others)
            for lab in labels
        }  # fmt: skip
        best = max(labels, key=lambda lab: score[lab])
        curve = next(g["curve"] for g in held["grid"] if g["label"] == best)
        by_seed = next(g["by_seed"] for g in held["grid"] if g["label"] == best)
        folds.append({"held_out": held["collection"], "chosen": best,
                      "first": curve[0], "last": curve[-1], "by_seed": by_seed})  # fmt: skip
    return folds


def markdown(meta: dict[str, Any], results: list[dict[str, Any]], folds: list[dict]) -> str:
    lines = [f"# Clicks benchmark, {meta['date']}", "",
             f"Seed {meta['seed']}, up to {meta['max_queries']} queries per collection "
             "(half clicked, half never clicked), visitors: " + json.dumps(meta["visitors"]),
             ""]  # fmt: skip
    if any("server" in r for r in results):
        lines += ["## Real server (shipped parameters)", "",
                  "| collection | queries c/n | sessions | clicked | never clicked | noise only |",
                  "|---|---|---|---|---|---|"]  # fmt: skip
        for r in results:
            if "server" not in r:
                continue
            q = r["queries"]
            for p in r["server"]["curve"]:
                lines.append(
                    f"| {r['collection']} | {q['clicked']}/{q['never_clicked']} | "
                    f"{p['sessions']} | {p['clicked']:.4f} | {p['never_clicked']:.4f} | "
                    f"{p['noise_clicked']:.4f} |"
                )
        lines.append("")
    lines += ["## Leave one collection out (offline replay)", "",
              "| held out | chosen on the other three | clicked 0 -> 20 | never clicked | "
              "noise only after 20 | per session seed: gain / noise-only change |",
              "|---|---|---|---|---|---|"]  # fmt: skip
    for f in folds:
        a, b = f["first"], f["last"]
        seeds = ", ".join(f"{s}: {e['gain']:+.3f} / {e['noise']:+.3f}"
                          for s, e in f["by_seed"].items())  # fmt: skip
        lines.append(
            f"| {f['held_out']} | {f['chosen']} | {a['clicked']:.4f} -> {b['clicked']:.4f} "
            f"({b['clicked'] - a['clicked']:+.4f}) | {a['never_clicked']:.4f} -> "
            f"{b['never_clicked']:.4f} | {b['noise_clicked']:.4f} | {seeds} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="benchmarks clicks", description=__doc__)
    parser.add_argument("--collections", default=",".join(COLLECTIONS))
    parser.add_argument("--max-queries", type=int, default=100)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--split-seed", type=int, default=None,
                        help="the seed that samples the clicked and never-clicked queries "
                        "(default: --seed); fixing it varies only the sessions")  # fmt: skip
    parser.add_argument("--offline-only", action="store_true",
                        help="only the parameter grid (one server per collection for the "
                        "default rankings), no simulated sessions through the server")  # fmt: skip
    parser.add_argument("--methods", default="ipw,coec,chance,examined",
                        help="the position-bias corrections whose parameters the offline "
                        "replay compares ('' for none: the real server alone)")  # fmt: skip
    parser.add_argument("--grid", choices=("full", "finalists"), default="full",
                        help="every parameter set of those methods, or the short list "
                        "of the sets that won a fold before (offline.finalists)")  # fmt: skip
    parser.add_argument("--session-seeds", default=None,
                        help="replay each set with these session seeds (comma-separated; "
                        "default --seed) and choose by the mean objective")  # fmt: skip
    parser.add_argument("--output-dir", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    started = datetime.now(UTC)
    meta = {
        "benchmark": "clicks",
        "date": started.strftime("%Y-%m-%d %H:%M UTC"),
        "seed": args.seed,
        "split_seed": args.seed if args.split_seed is None else args.split_seed,
        "session_seeds": args.session_seeds or str(args.seed),
        "grid": args.grid,
        "max_queries": args.max_queries,
        "visitors": asdict(Visitors()),
        "machine": machine_info(ROOT),
    }
    methods = [m for m in args.methods.split(",") if m]
    sets = [p for p in (finalists() if args.grid == "finalists" else grid(methods))
            if p.method in methods]  # fmt: skip
    seeds = [int(s) for s in args.session_seeds.split(",")] if args.session_seeds else None
    results = []
    clock = time.perf_counter()
    for name in [c.strip() for c in args.collections.split(",") if c.strip()]:
        collection = load_collection(DATA_ROOT / name)
        results.append(run_collection(collection, args.max_queries, args.seed, args.offline_only,
                                      sets, args.split_seed, seeds))  # fmt: skip
        print(f"{name}: done after {time.perf_counter() - clock:.0f} s", flush=True)
    meta["duration_s"] = round(time.perf_counter() - clock, 1)
    folds = leave_one_out(results)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    stem = args.output_dir / f"clicks-{started:%Y%m%dT%H%M%SZ}"
    stem.with_suffix(".json").write_text(
        json.dumps({"meta": meta, "results": results, "leave_one_out": folds}, indent=1)
    )
    text = markdown(meta, results, folds)
    stem.with_suffix(".md").write_text(text)
    write_curves(stem.with_suffix(".png"), results)
    print(text)
    print(f"Wrote {stem}.json, .md and .png")


if __name__ == "__main__":
    main()

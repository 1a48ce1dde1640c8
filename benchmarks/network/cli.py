"""`python -m benchmarks network`: scale-out of nodes sharing one PostgreSQL.

Writes benchmarks/results/network-<time>.json and .md. Needs a PostgreSQL server it may
create a database on (a private one, dropped afterwards).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.machine import machine_info
from benchmarks.network.run import RunConfig, run
from benchmarks.report import write_summary

REPO_ROOT = Path(__file__).resolve().parents[2]
RESULTS = REPO_ROOT / "benchmarks" / "results"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks network", description=__doc__)
    parser.add_argument("--documents", type=int, default=30_000,
                        help="products to load (default 30,000; 300,000 for the full run)")
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--replication", type=int, default=1,
                        help="nodes holding each shard (default 1: memory divided by nodes)")
    parser.add_argument("--queries", type=int, default=70)
    parser.add_argument("--rounds", type=int, default=3, help="timed passes over the queries")
    parser.add_argument("--rules", choices=("sift", "meilisearch"), default="sift",
                        help="the index's ranking rules")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--postgres-url", default=os.environ.get(
        "SIFT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--workdir", type=Path, help="keep the nodes' logs here")
    parser.add_argument("--out-dir", type=Path, default=RESULTS)
    return parser.parse_args(argv)


def render_markdown(summary: dict) -> str:
    config = summary["config"]
    rss = summary["rss_mib"]
    base = rss["empty"]
    reference = rss["reference"] - base
    lines = [
        f"# Network scale-out, {config['documents']} documents, {config['nodes']} nodes, "
        f"replication {config['replication']}, `{config['rules']}` ranking rules",
        "",
        f"The `empty` node holds no shard: its RSS ({base} MiB) is a process's base cost; "
        "the index's share is RSS minus that.",
        "",
        "| node | documents held | RSS MiB | RSS - base | vs reference's |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, value in rss.items():
        if name == "empty":
            continue
        held = summary["held_documents"].get(name, config["documents"])
        share = value - base
        lines.append(f"| {name} | {held} | {value} | {share:.1f} | {share / reference:.2f} |")
    agreement = summary["agreement"]
    medians = summary["latency_median_ms"]
    lines += [
        "",
        f"Agreement with the reference over {sum(agreement.values())} queries: "
        f"{agreement['identical']} identical, {agreement['ties']} differing only among "
        f"equal scores, {agreement['same_hits']} with the same hits in another order, "
        f"{agreement['different']} different; on average {summary['mean_overlap']:.0%} of a "
        "page's hits in common.",
        "",
        f"Median latency (ms, HTTP on 127.0.0.1): reference local {medians['reference_local']}, "
        f"network {medians['network']} ({summary['network_over_reference']}x, "
        f"+{summary['added_ms']} ms), a node's own shards only {medians['node_local']}; "
        f"of the network search, the statistics round (coordinator's performanceDetails) "
        f"{medians.get('statistics_round', 'not run')}.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="sift-network-"))
    config = RunConfig(args.documents, args.nodes, args.replication, args.queries, args.rounds,
                       args.rules, args.seed, args.postgres_url, workdir)  # fmt: skip
    # A background job ignores SIGINT: SIGTERM stops the run and its nodes, drops the database.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = datetime.now(UTC)
    summary = run(config, log=lambda line: print(line, file=sys.stderr, flush=True))
    summary["machine"] = machine_info(REPO_ROOT)
    markdown = render_markdown(summary)
    stem = write_summary(args.out_dir, f"network-{started:%Y%m%dT%H%M%SZ}", summary, markdown)
    print(markdown)
    print(f"Wrote {stem}.json and .md; logs in {workdir}", file=sys.stderr)

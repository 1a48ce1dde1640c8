"""The other harnesses as `python -m benchmarks <name> [their options]` sub-commands.

Each harness keeps its own argument parser; these commands only forward the arguments,
so `python -m benchmarks` is the one entry point for every measurement.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from collections.abc import Callable

import click

PASSTHROUGH = {"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []}

SUITES = {
    "ingest": ("benchmarks.ingest.cli", "API ingestion: docs/s and peak RSS of one Sift server."),
    "ingest-peers": ("benchmarks.ingest_peers.cli", "Ingestion of 200k documents, every engine."),
    "engine-speed": (
        "benchmarks.engine_speed.cli",
        "Engine-side latency at 200k docs vs Typesense.",
    ),
    "hybrid": ("benchmarks.hybrid.__main__", "Hybrid (lexical + semantic) nDCG@10 and latency."),
    "compat": ("benchmarks.compat.cli", "The meilisearch-python-sdk test suite against Sift."),
    "faults": ("benchmarks.faults.cli", "Fault injection against nodes sharing PostgreSQL."),
    "fuzz": ("benchmarks.fuzz.cli", "Schemathesis and hostile bodies: 0 x 5xx, 0 resets."),
    "deep-bodies": ("benchmarks.fuzz.deep", "Peak RSS of one deeply nested body, per route."),
    "sync": ("benchmarks.sync.cli", "Sync sources: snapshot rows/s, change lag, kill -9."),
    "memory": ("benchmarks.memory_sizing", "Memory of a node: per process, per 100k documents."),
    "memory-targets": ("benchmarks.memory_targets",
                       "Idle RSS with the demo (trees A/B), 200k peak RSS beside Typesense."),
    "idle-cost": ("benchmarks.idle_cost",
                  "An idle server's CPU and wake-ups per thread (trees A/B)."),
    "memory-growth": ("benchmarks.memory_growth",
                      "RSS of one process as a products index grows (10k, 100k, 1M)."),
    "import-peak": ("benchmarks.import_peak",
                    "Where a 200k import's memory goes: each stage's transient, what stays."),
    "events": ("benchmarks.events.__main__", "Click events/s, and what they cost searches."),
    "clicks": ("benchmarks.clicks.__main__", "Ranking learnt from simulated clicks: nDCG@10."),
    "network": ("benchmarks.network.cli", "Nodes sharing PostgreSQL: RSS, agreement, latency."),
    "network-text": ("benchmarks.network.text_agreement",
                     "Shards with added statistics vs one index, on a real collection."),
    "churn": ("benchmarks.churn", "Indexes created, filled and deleted: RSS after each."),
    "soak": ("benchmarks.soak", "Searches and writes for minutes: req/s, p50/p99, RSS."),
    "scale": ("benchmarks.scale.cli", "Products at 10k/100k/1M: typeahead latency, restart, RSS."),
}


def _forward(module_name: str) -> Callable[[click.Context], None]:
    def command(ctx: click.Context) -> None:
        module = importlib.import_module(module_name)
        sys.argv = [f"benchmarks {ctx.info_name}", *ctx.args]
        if inspect.signature(module.main).parameters:
            module.main(ctx.args)
        else:  # a harness whose main() reads sys.argv itself
            module.main()

    return command


def register(group: click.Group) -> None:
    for name, (module_name, summary) in SUITES.items():
        command = click.pass_context(_forward(module_name))
        group.add_command(click.command(name, context_settings=PASSTHROUGH, help=summary)(command))

"""Throughput and latency against connection count, one line per server and endpoint."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; CI and servers have no display

import matplotlib.pyplot as plt

from benchmarks.load.generator import LoadResult
from benchmarks.load.report import series_label


def write_chart(path: Path, rows: Sequence[LoadResult]) -> bool:
    if not rows:
        return False
    series = list(dict.fromkeys((r.target, r.endpoint, r.mix) for r in rows))
    figure, (rps_axis, latency_axis) = plt.subplots(1, 2, figsize=(13, 4.8))
    for target, endpoint, mix in series:
        mine = sorted((r for r in rows if (r.target, r.endpoint, r.mix) == (target, endpoint, mix)),
                      key=lambda r: r.connections)  # fmt: skip
        xs = [r.connections for r in mine]
        label = series_label(target, endpoint, mix)
        # No-op lines dashed: they are a ceiling, not an engine.
        style = "--" if endpoint == "noop" else "-"
        rps_axis.plot(xs, [r.rps for r in mine], style, marker="o", label=label)
        line = latency_axis.plot(xs, [r.latency_ms["p50"] for r in mine], style, marker="o",
                                 label=f"{label} p50")[0]  # fmt: skip
        latency_axis.plot(xs, [r.latency_ms["p99"] for r in mine], ":", marker="^",
                          color=line.get_color(), label=f"{label} p99")  # fmt: skip
    levels = sorted({r.connections for r in rows})
    for axis in (rps_axis, latency_axis):
        axis.set_xscale("log", base=2)
        axis.set_xticks(levels, [str(c) for c in levels])
        axis.set_xlabel("concurrent connections")
        axis.grid(alpha=0.3, which="both")
    # Log: the no-op ceiling and the slowest search differ by more than tenfold.
    rps_axis.set_yscale("log")
    rps_axis.set_ylabel("requests per second (log)")
    rps_axis.set_title("Throughput")
    latency_axis.set_yscale("log")
    latency_axis.set_ylabel("latency (ms, log)")
    latency_axis.set_title("Latency p50 (solid) and p99 (dotted)")
    # One legend for both panels: they plot the series in the same order, so the colours
    # match, and inside the throughput panel it would hide lines.
    latency_axis.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.01, 1))
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return True

"""nDCG@10 against sessions per query, one panel per collection: clicked queries, never
clicked queries and noise-only clicks, from the real server's run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only

import matplotlib.pyplot as plt

SERIES = (("clicked", "clicked queries"), ("never_clicked", "never-clicked queries"),
          ("noise_clicked", "clicked queries, noise-only clicks"))  # fmt: skip


def write_curves(path: Path, results: list[dict[str, Any]]) -> None:
    runs = [r for r in results if "server" in r]
    if not runs:
        return
    figure, axes = plt.subplots(1, len(runs), figsize=(4 * len(runs), 3.6), squeeze=False)
    for axis, run in zip(axes[0], runs, strict=True):
        curve = run["server"]["curve"]
        xs = [p["sessions"] for p in curve]
        for key, name in SERIES:
            axis.plot(xs, [p[key] for p in curve], marker="o", label=name)
        axis.set_title(run["collection"])
        axis.set_xlabel("sessions per query")
        axis.grid(alpha=0.3)
    axes[0][0].set_ylabel("nDCG@10")
    axes[0][-1].legend(loc="lower right", fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)

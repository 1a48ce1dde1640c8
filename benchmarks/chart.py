"""Bar chart of nDCG@10 per engine and collection, clean queries beside typo queries."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; CI and servers have no display

import matplotlib.pyplot as plt

from benchmarks.relevance import EngineResult


def write_chart(path: Path, results: Sequence[EngineResult]) -> None:
    ok = [r for r in results if r.status == "ok"]
    if not ok:
        return
    collections = list(dict.fromkeys(r.collection for r in ok))
    engines = list(dict.fromkeys(r.engine for r in ok))
    by_key = {(r.engine, r.collection): r for r in ok}
    width = 0.8 / len(engines)
    figure, axes = plt.subplots(1, 2, figsize=(15, 5), sharey=True)
    for axis, attribute, title in (
        (axes[0], "ndcg_10", "nDCG@10"),
        (axes[1], "typo_ndcg_10", "nDCG@10, one typo per word of 5+ letters"),
    ):
        for n, engine in enumerate(engines):
            xs, ys = [], []
            for c, collection in enumerate(collections):
                result = by_key.get((engine, collection))
                if result is not None:
                    xs.append(c + (n - (len(engines) - 1) / 2) * width)
                    ys.append(getattr(result, attribute))
            axis.bar(xs, ys, width=width, label=engine)
        axis.set_xticks(range(len(collections)), collections)
        axis.set_title(title)
        axis.set_ylim(0, 1)
        axis.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("nDCG@10")
    # Outside the axes: inside, it hides the tallest bars.
    axes[1].legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)

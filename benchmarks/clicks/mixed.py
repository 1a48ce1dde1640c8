"""`python -m benchmarks.clicks.mixed [--collections a,b] [--seeds 17,18]`: noise-only
queries inside an index whose other queries get real clicks, by the offline replay.

The clicks benchmark's noise index holds noise alone, which the click model's estimated
prior reads as "no preference" for the whole index. Here the clicked queries (seed-17
split) are halved in one index: every other one gets the simulated visitors' sessions,
the rest uniformly random clicks, 20 rounds. Printed per collection and session seed:
the gain on the real half and the change on the noise half, for the parameters of the
first pass (fixed prior 1, z 1.65, weight 0.5) and the shipped ones."""

from __future__ import annotations

import argparse
import random

from benchmarks.clicks.__main__ import split
from benchmarks.clicks.offline import OfflineEngine, Ranking, label
from benchmarks.clicks.server import ClickServer
from benchmarks.clicks.simulate import MAIN, Visitors, ndcg, noise_session, session
from benchmarks.collections import DATA_ROOT, load_collection
from sift.insights.clickmodel import ClickParams

SETS = (ClickParams(shrink="none", z=1.65, weight=0.5), ClickParams())


def mixed(
    defaults: dict[str, Ranking],
    clicked: list[str],
    qrels: dict[str, dict[str, int]],
    params: ClickParams,
    seed: int,
    rounds: int = 20,
) -> tuple[float, float]:
    """(gain on the real half, change on the noise half) after `rounds` sessions."""
    real, noisy = clicked[::2], clicked[1::2]
    rng = random.Random(seed)
    engine = OfflineEngine(defaults, params)
    before = engine.rankings(MAIN, clicked)
    for n in range(1, rounds + 1):
        for qid in clicked:
            user = f"visitor-{n}-{qid}"
            shown, uid = engine.search(MAIN, qid, user)
            if qid in real:
                picks = session(shown, qrels[qid], Visitors(), rng)
            else:
                picks = noise_session(shown, rng)
            for position in picks:
                engine.click(MAIN, user, uid, shown[position], position)
        engine.settle()
    after = engine.rankings(MAIN, clicked)
    return (ndcg(qrels, after, real) - ndcg(qrels, before, real),
            ndcg(qrels, after, noisy) - ndcg(qrels, before, noisy))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(prog="benchmarks.clicks.mixed", description=__doc__)
    parser.add_argument("--collections", default="scifact,nfcorpus,cisi,npl")
    parser.add_argument("--seeds", default="17,18")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    print("| collection | parameters | real half: gain per seed | noise half: change per seed |")
    print("|---|---|---|---|")
    for name in [c.strip() for c in args.collections.split(",") if c.strip()]:
        collection = load_collection(DATA_ROOT / name)
        clicked, _ = split(collection, 100, 17)
        server = ClickServer()
        try:
            server.load(collection.docs, collection.queries)
            defaults = server.defaults(clicked)
        finally:
            server.close()
        for params in SETS:
            ends = [mixed(defaults, clicked, collection.qrels, params, s) for s in seeds]
            print(f"| {name} | {label(params)} | "
                  + " / ".join(f"{g:+.3f}" for g, _ in ends) + " | "
                  + " / ".join(f"{z:+.3f}" for _, z in ends) + " |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()

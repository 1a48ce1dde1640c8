"""One search across the network: each shard asked of exactly one node, in parallel.

:func:`plan` assigns every shard to one of its owners: this node when it owns the shard
(no hop), else one owner at random among those that answered lately (spreading the load
over replicas). Each chosen node gets one request restricted to its shards with the
``_shard`` filter. A node that cannot be reached, times out or fails (5xx) is marked down
and its shards are planned again over the other owners; a shard no owner could answer is
reported in ``remoteErrors``, as Meilisearch does (best effort). An answer that says the
request itself is wrong (4xx) ends the search with that error.

Without shards (remotes only), every remote is asked once for everything it has.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from sift.cluster import statistics
from sift.cluster.health import RemoteHealth
from sift.cluster.topology import Topology
from sift.engine import partition
from sift.errors import SiftError
from sift.inputs import shown

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)
LocalSearch = Callable[[dict[str, Any]], dict[str, Any]]
# The list an answer of each route holds (any other route: a search's `hits`).
_LISTED = {"facet-search": "facetHits", "documents/fetch": "results"}


@dataclass(frozen=True)
class Leg:
    """One request of a network search: a node and the shards it answers for (None: all
    it has, in a network without shards)."""

    remote: str
    shards: tuple[str, ...] | None


@dataclass
class LegResult:
    remote: str
    result: dict[str, Any]
    shards: tuple[str, ...] | None = None


def plan(
    topology: Topology,
    usable: Callable[[str], bool],
    shards: list[str] | None = None,
    rng: random.Random | None = None,
) -> tuple[list[Leg], list[str]]:
    """Legs covering ``shards`` (default: all) once each, and the shards no usable owner
    has. ``usable`` says whether a remote may be asked now."""
    rng = rng or random.Random()
    if not topology.shards:
        return [Leg(name, None) for name in topology.remotes if usable(name)], []
    chosen: dict[str, list[str]] = {}
    orphans: list[str] = []
    for shard in sorted(topology.shards if shards is None else shards):
        owners = [o for o in topology.shards[shard] if usable(o)]
        if not owners:
            orphans.append(shard)
            continue
        remote = topology.self_name if topology.self_name in owners else rng.choice(owners)
        chosen.setdefault(remote, []).append(shard)  # type: ignore[arg-type]
    return [Leg(remote, tuple(names)) for remote, names in chosen.items()], orphans


def shard_filter(body: dict[str, Any], shards: tuple[str, ...] | None) -> dict[str, Any]:
    """``body`` restricted to ``shards``: ``_shard IN [...]`` ANDed with its own filter."""
    if shards is None:
        return body
    parts: list[Any] = [partition.shard_filter(shards)]
    own = body.get("filter")
    if own is not None:
        parts.extend(own if isinstance(own, list) else [own])
    return {**body, "filter": parts}


class RemoteFailed(Exception):
    """The remote could not answer (unreachable, too slow, 5xx): ask a replica."""

    def __init__(self, error: SiftError) -> None:
        super().__init__(error.message)
        self.error = error


class NetworkSearch:
    """Runs searches across a topology; one per node, sharing an HTTP connection pool."""

    def __init__(self, health: RemoteHealth, timeout: float, workers: int = 16) -> None:
        self.health = health
        self.timeout = timeout
        self.pool = ThreadPoolExecutor(workers, thread_name_prefix="sift-network")

    @cached_property
    def client(self) -> httpx.Client:
        """Made at the first search that asks a remote (sift/cluster/forward.py says why)."""
        import httpx

        return httpx.Client(timeout=self.timeout, limits=httpx.Limits(max_connections=64))

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        if "client" in self.__dict__:
            self.client.close()

    def run(
        self,
        topology: Topology,
        index_uid: str,
        body: dict[str, Any],
        local: LocalSearch,
        route: str = "search",
        per_shard: bool = False,
    ) -> tuple[list[LegResult], dict[str, dict[str, Any]]]:
        """Every shard's results once (as far as some owner answers) and, per remote whose
        documents are missing from them, Meilisearch's error object. ``per_shard`` asks
        each shard in a request of its own (a node owning two gets two), for callers
        that order results shard by shard."""
        results: list[LegResult] = []
        errors: dict[str, dict[str, Any]] = {}
        tried: set[str] = set()
        covered: set[str] = set()
        legs, _ = plan(topology, self._usable(topology, tried))
        while legs:
            if per_shard:
                legs = [Leg(leg.remote, (s,)) for leg in legs for s in leg.shards or ()] or legs
            futures = [
                (leg, self.pool.submit(self._one, topology, leg, index_uid, body, local, route))
                for leg in legs
            ]
            retry: list[str] = []
            for leg, future in futures:
                try:
                    results.append(LegResult(leg.remote, future.result(), leg.shards))
                except RemoteFailed as failed:
                    self.health.failed(leg.remote)
                    tried.add(leg.remote)
                    errors[leg.remote] = failed.error.to_dict()
                    retry.extend(leg.shards or ())
                    continue
                if leg.remote != topology.self_name:
                    self.health.answered(leg.remote)
                covered.update(leg.shards or ())
            legs, _ = plan(topology, self._usable(topology, tried), retry) if retry else ([], [])
        # A failure a replica made up for is no error of the answer; a shard nobody
        # answered is, under each of its owners.
        missing = set(topology.shards) - covered
        owners_of_missing = {o for shard in missing for o in topology.shards[shard]}
        if topology.shards:
            errors = {name: e for name, e in errors.items() if name in owners_of_missing}
        else:  # each remote is its own shard: one not asked (down lately) is missing too
            answered = {r.remote for r in results}
            for name in topology.remotes:
                if name not in answered:
                    errors.setdefault(name, SiftError(
                        f"Remote `{name}` is unavailable.", "remote_could_not_send_request"
                    ).to_dict())
        for shard in sorted(missing):
            for owner in topology.shards[shard]:
                errors.setdefault(owner, SiftError(
                    f"Remote `{owner}` is unavailable: shard `{shard}` has no owner that "
                    "answered.",
                    "remote_could_not_send_request",
                ).to_dict())
        return results, errors

    def ask(
        self, topology: Topology, remote: str, index_uid: str, body: dict[str, Any],
        local: LocalSearch,
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """One query on one named node (``federationOptions.remote``): its result, or
        the error that goes to ``remoteErrors``."""
        try:
            result = self._one(topology, Leg(remote, None), index_uid, body, local)
        except RemoteFailed as failed:
            self.health.failed(remote)
            return None, failed.error.to_dict()
        if remote != topology.self_name:
            self.health.answered(remote)
        return result, None

    def _usable(self, topology: Topology, tried: set[str]) -> Callable[[str], bool]:
        def usable(name: str) -> bool:
            if name in tried:
                return False
            return name == topology.self_name or self.health.available(name)

        return usable

    def _one(
        self, topology: Topology, leg: Leg, index_uid: str, body: dict[str, Any],
        local: LocalSearch, route: str = "search",
    ) -> dict[str, Any]:
        query = leg_query(body, leg)
        if leg.remote == topology.self_name:
            return local(query)
        answer = self.post(topology, leg.remote, f"/indexes/{index_uid}/{route}", query)
        return _read(leg.remote, answer, _LISTED.get(route, "hits"))

    def with_statistics(
        self, topology: Topology, index_uid: str, body: dict[str, Any], local: LocalSearch
    ) -> dict[str, Any]:
        """``body`` carrying the sum of the corpus statistics of the nodes a search of it
        will ask (cluster/statistics.py): one round, every node at once. ``body`` as it
        is when one node answers every shard (its own statistics are the sum) or a node
        could not give its own (each shard then scores with its own, as without the
        round). Any owner of a shard gives its statistics: replicas hold the same
        documents, so the search may ask another one."""
        legs, _ = plan(topology, self._usable(topology, set()))
        if len(legs) <= 1:
            return body
        def one(leg: Leg) -> dict[str, Any]:
            asked = statistics.request(leg_query(body, leg), leg.shards)
            if leg.remote == topology.self_name:
                return local(asked)
            path = f"/indexes/{index_uid}/{statistics.ROUTE}"
            return statistics.answer(leg.remote, self.post(topology, leg.remote, path, asked))

        futures = [self.pool.submit(one, leg) for leg in legs]
        parts = []
        for leg, future in zip(legs, futures, strict=True):
            try:
                parts.append(future.result())
            except (RemoteFailed, SiftError) as exc:
                log.warning("no corpus statistics from %s (%s): scoring per shard", leg.remote,
                            exc)
                return body
        return statistics.attach(body, parts)

    def post(self, topology: Topology, remote: str, path: str, body: dict[str, Any]
             ) -> httpx.Response:
        """``body`` posted to ``remote`` with its search key; RemoteFailed when it cannot
        be reached in time."""
        node = topology.remotes[remote]
        key = node.search_api_key
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        import httpx

        try:
            return self.client.post(f"{node.url}{path}", json=body, headers=headers)
        except httpx.TimeoutException:
            raise RemoteFailed(SiftError(
                f"Remote `{remote}` did not answer in time.", "remote_timeout"
            )) from None
        except httpx.HTTPError as exc:
            raise RemoteFailed(SiftError(
                f"Could not reach remote `{remote}`: {exc.__class__.__name__}.",
                "remote_could_not_send_request",
            )) from None


def leg_query(body: dict[str, Any], leg: Leg) -> dict[str, Any]:
    """What one leg's node is asked: ``body`` on its shards, searched there only."""
    return {**shard_filter(body, leg.shards), "useNetwork": False}


def _read(name: str, answer: httpx.Response, listed: str) -> dict[str, Any]:
    try:
        body = answer.json()
    except ValueError:
        body = None
    message = body.get("message") if isinstance(body, dict) else None
    if answer.status_code >= 500:
        raise RemoteFailed(SiftError(
            f"Remote `{name}` failed: {message or answer.status_code}", "remote_remote_error"
        ))
    if answer.status_code in (401, 403):
        raise SiftError(
            f"Remote `{name}` refused the search: {message}. Check its `searchApiKey` in "
            "/network.",
            "remote_invalid_api_key",
        )
    if answer.status_code >= 400:
        raise SiftError(f"Remote `{name}` answered: {message}", "remote_bad_request")
    if not isinstance(body, dict) or not isinstance(body.get(listed), list):
        raise RemoteFailed(SiftError(
            f"Remote `{name}` answered something that is not a search result: "
            f"{shown(body)}",
            "remote_bad_response",
        ))
    return body

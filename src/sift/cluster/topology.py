"""The network topology of Meilisearch's ``/network``: this node, the leader, the remotes
and the shards they own, and how a ``PATCH /network`` body changes it.

Pure data: nothing here reads the database or the network. The rules follow Meilisearch's
documentation: remotes and shards not named in a patch are kept, ``null`` removes one,
a removed remote leaves every shard, a shard's ``remotes`` replaces its owners before
``addRemotes`` then ``removeRemotes`` apply, and a network with a leader needs shards,
each owned by at least one known remote.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from sift.engine.partition import Partition
from sift.engine.settings import describe
from sift.errors import SiftError

T = TypeVar("T")

_TOP_FIELDS = ("self", "leader", "remotes", "shards")
_REMOTE_FIELDS = ("url", "searchApiKey", "writeApiKey")
_SHARD_FIELDS = ("remotes", "addRemotes", "removeRemotes")


@dataclass(frozen=True)
class Remote:
    url: str
    search_api_key: str | None = None
    write_api_key: str | None = None

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Remote:
        """The stored form (what :meth:`to_dict` wrote)."""
        return cls(raw["url"], raw.get("searchApiKey"), raw.get("writeApiKey"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "searchApiKey": self.search_api_key,
            "writeApiKey": self.write_api_key,
        }


@dataclass(frozen=True)
class Topology:
    self_name: str | None = None
    leader: str | None = None
    remotes: dict[str, Remote] = field(default_factory=dict)
    shards: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def sharded(self) -> bool:
        """Meilisearch's test for sharding: a leader is set (which requires shards)."""
        return self.leader is not None and bool(self.shards)

    def owned_shards(self) -> frozenset[str] | None:
        """The shards this node holds, or None for all documents (no sharding, or this
        node has no name in the network)."""
        if not self.sharded or self.self_name is None:
            return None
        return frozenset(name for name, owners in self.shards.items() if self.self_name in owners)

    def partition(self) -> Partition | None:
        """How this node's indexes split documents: None without sharding."""
        if not self.sharded:
            return None
        return Partition(tuple(self.shards), self.owned_shards())

    def to_dict(self) -> dict[str, Any]:
        return {
            "self": self.self_name,
            "leader": self.leader,
            "remotes": {name: r.to_dict() for name, r in self.remotes.items()},
            "shards": {name: {"remotes": list(owners)} for name, owners in self.shards.items()},
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Topology:
        """The stored form (what :meth:`to_dict` wrote)."""
        return cls(
            raw.get("self"),
            raw.get("leader"),
            {name: Remote.from_dict(r) for name, r in (raw.get("remotes") or {}).items()},
            {name: tuple(s["remotes"]) for name, s in (raw.get("shards") or {}).items()},
        )


def _name_or_null(body: dict[str, Any], key: str, code: str) -> str | None:
    value = body[key]
    if value is not None and not isinstance(value, str):
        raise SiftError(
            f"Invalid value type at `.{key}`: expected a string, but found {describe(value)}",
            code,
        )
    return value


def _optional_key(raw: dict[str, Any], name: str, key: str, code: str) -> str | None:
    value = raw.get(key)
    if value is not None and not isinstance(value, str):
        raise SiftError(
            f"Invalid value type at `.remotes.{name}.{key}`: expected a string, but found "
            f"{describe(value)}",
            code,
        )
    return value


def _object(raw: Any, where: str, allowed: tuple[str, ...], code: str) -> dict[str, Any]:
    """`raw` as an object of `allowed` fields, or Meilisearch's error naming `where`."""
    if not isinstance(raw, dict):
        raise SiftError(
            f"Invalid value type at `{where}`: expected an object, but found {describe(raw)}",
            code,
        )
    for key in raw:
        if key not in allowed:
            raise SiftError(
                f"Unknown field `{key}` inside `{where}`: expected one of "
                + ", ".join(f"`{k}`" for k in allowed),
                "bad_request",
            )
    return raw


def _patch_remote(name: str, raw: Any, old: Remote | None) -> Remote:
    raw = _object(raw, f".remotes.{name}", _REMOTE_FIELDS, "invalid_network_remotes")
    url = raw.get("url", old.url if old else None)
    if url is None:
        raise SiftError(f"Missing field `.remotes.{name}.url`", "missing_network_url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise SiftError(
            f"Invalid value at `.remotes.{name}.url`: expected an http(s) URL, but found "
            f"{describe(url)}",
            "invalid_network_url",
        )
    search = (
        _optional_key(raw, name, "searchApiKey", "invalid_network_search_api_key")
        if "searchApiKey" in raw
        else (old.search_api_key if old else None)
    )
    write = (
        _optional_key(raw, name, "writeApiKey", "invalid_network_write_api_key")
        if "writeApiKey" in raw
        else (old.write_api_key if old else None)
    )
    return Remote(url.rstrip("/"), search, write)


def _names(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SiftError(
            f"Invalid value type at `{where}`: expected an array of strings, but found "
            f"{describe(value)}",
            "invalid_network_shards",
        )
    return value


def _patch_shard(name: str, raw: Any, old: tuple[str, ...] | None) -> tuple[str, ...]:
    raw = _object(raw, f".shards.{name}", _SHARD_FIELDS, "invalid_network_shards")
    owners = list(old or ())
    if raw.get("remotes") is not None:
        owners = list(dict.fromkeys(_names(raw["remotes"], f".shards.{name}.remotes")))
    for added in _names(raw.get("addRemotes"), f".shards.{name}.addRemotes"):
        if added not in owners:
            owners.append(added)
    removed = set(_names(raw.get("removeRemotes"), f".shards.{name}.removeRemotes"))
    return tuple(o for o in owners if o not in removed)


def _patched(body: dict[str, Any], key: str, current: Mapping[str, T],
             patch_one: Callable[[str, Any, T | None], T], code: str) -> dict[str, T]:  # fmt: skip
    """``remotes`` or ``shards`` after a PATCH: ``null`` clears the map, a ``null`` entry
    removes that name, an object entry is merged into the name's current value."""
    raw = body.get(key)
    if key in body and raw is None:
        return {}
    merged = dict(current)
    if raw is None:
        return merged
    if not isinstance(raw, dict):
        raise SiftError(
            f"Invalid value type at `.{key}`: expected an object, but found {describe(raw)}", code
        )
    for name, item in raw.items():
        if item is None:
            merged.pop(name, None)
        else:
            merged[name] = patch_one(name, item, merged.get(name))
    return merged


def apply_patch(current: Topology, body: Any) -> Topology:
    """The topology after a ``PATCH /network`` body, or the error Meilisearch gives."""
    if not isinstance(body, dict):
        raise SiftError(
            f"Invalid value type: expected an object, but found {describe(body)}", "bad_request"
        )
    for key in body:
        if key not in _TOP_FIELDS:
            raise SiftError(
                f"Unknown field `{key}`: expected one of "
                + ", ".join(f"`{k}`" for k in _TOP_FIELDS),
                "bad_request",
            )
    result = current
    if "self" in body:
        result = replace(result, self_name=_name_or_null(body, "self", "invalid_network_self"))
    if "leader" in body:
        result = replace(result, leader=_name_or_null(body, "leader", "invalid_network_leader"))
    remotes = _patched(body, "remotes", result.remotes, _patch_remote, "invalid_network_remotes")
    # A removed remote leaves every shard it owned.
    kept = {name: tuple(o for o in own if o in remotes) for name, own in result.shards.items()}
    shards = _patched(body, "shards", kept, _patch_shard, "invalid_network_shards")
    result = replace(result, remotes=remotes, shards=shards)
    _check(result)
    return result


def _check(topology: Topology) -> None:
    for name, owners in topology.shards.items():
        unknown = [o for o in owners if o not in topology.remotes]
        if unknown:
            raise SiftError(
                f"Shard `{name}` names the remote `{unknown[0]}`, which is not in `.remotes`.",
                "invalid_network_shards",
            )
        if not owners:
            raise SiftError(
                f"Shard `{name}` would have no remote: every shard needs at least one.",
                "invalid_network_shards",
            )
    if topology.leader is not None:
        if topology.leader not in topology.remotes:
            raise SiftError(
                f"The leader `{topology.leader}` is not in `.remotes`.", "invalid_network_leader"
            )
        if not topology.shards:
            raise SiftError(
                "A network with a `leader` needs at least one shard in `.shards`.",
                "invalid_network_shards",
            )

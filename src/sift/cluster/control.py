"""``POST /network/control`` (Meilisearch v1.30+): messages that steer a running
``networkTopologyChange`` between the nodes of a network.

Meilisearch documents three: ``exportNoIndexForRemote`` (the named remote will export no
more documents to this node), ``importFinishedForRemote`` (the named remote finished
importing its documents) and ``statusChangeForRemote``. In Sift the leader's database
holds every document, so only the leader exports, through its outbox, in order: the
first message is the one its topology task needs. The leader ends each remote's share of
a change with it (tasks/topology.py); the remote then enqueues a
``networkTopologyChange`` task of its own, behind the writes of that change, whose
success tells that the change is applied there. The other two have nothing to steer in
Sift (no remote waits on another's import; a remote's availability is measured, not
declared: cluster/health.py) and are refused by name.

Pure: parsing and checking a body against this node's topology; the route enqueues.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sift.cluster.origin import network_version
from sift.cluster.topology import Topology
from sift.engine.settings import describe
from sift.errors import SiftError

PATH = "/network/control"
EXPORT_DONE = "exportNoIndexForRemote"
_NOT_STEERED = ("importFinishedForRemote", "statusChangeForRemote")
_ORIGIN_FIELDS = ("remoteName", "taskUid", "networkVersion")


@dataclass(frozen=True)
class ControlMessage:
    """One message: the leader's task it is about, and the remote it speaks of."""

    origin_remote: str
    origin_task: int
    network_version: str | None
    remote: str

    def origin(self) -> dict[str, Any]:
        """The ``network.origin`` of the task it enqueues, as Meilisearch shows one."""
        shown: dict[str, Any] = {"remoteName": self.origin_remote, "taskUid": self.origin_task}
        if self.network_version is not None:
            shown["networkVersion"] = self.network_version
        return shown


def export_done(leader: str, task_uid: int, version: str) -> dict[str, Any]:
    """The body the leader sends a remote at the end of its share of a change."""
    return {
        "origin": {"remoteName": leader, "taskUid": task_uid, "networkVersion": version},
        "message": {"type": EXPORT_DONE, "remote": leader},
    }


def _fields(raw: Any, where: str, allowed: tuple[str, ...], code: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise SiftError(
            f"Invalid value type at `{where}`: expected an object, but found {describe(raw)}",
            code,
        )
    unknown = [key for key in raw if key not in allowed]
    if unknown:
        raise SiftError(
            f"Unknown field `{unknown[0]}` inside `{where}`: expected one of "
            + ", ".join(f"`{k}`" for k in allowed),
            code,
        )
    return raw


def _string(raw: dict[str, Any], key: str, where: str, code: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value:
        found = "nothing" if key not in raw else describe(value)
        raise SiftError(
            f"Invalid value at `{where}.{key}`: expected a string, but found {found}", code
        )
    return value


def parse(body: Any) -> ControlMessage:
    """A control body, or the error naming what is wrong with it."""
    body = _fields(body, "", ("origin", "message"), "bad_request")
    for key in ("origin", "message"):
        if key not in body:
            raise SiftError(f"Missing field `.{key}`.", "bad_request")
    code = "invalid_network_control_origin"
    origin = _fields(body["origin"], ".origin", _ORIGIN_FIELDS, code)
    remote_name = _string(origin, "remoteName", ".origin", code)
    task = origin.get("taskUid")
    if isinstance(task, bool) or not isinstance(task, int) or task < 0:
        raise SiftError(
            f"Invalid value at `.origin.taskUid`: expected a task uid (an integer of 0 or "
            f"more), but found {describe(task)}",
            code,
        )
    version = origin.get("networkVersion")
    if version is not None:
        version = network_version(version, ".origin.networkVersion")
    code = "invalid_network_control_message"
    message = _fields(body["message"], ".message", ("type", "remote", "successful", "status"),
                      code)  # fmt: skip
    kind = message.get("type")
    if kind in _NOT_STEERED:
        raise SiftError(
            f"`{kind}` steers nothing in Sift: only the leader exports documents (from its "
            f"database, which holds them all) and no remote waits on another; "
            f"`{EXPORT_DONE}` is the message Sift takes.",
            code,
        )
    if kind != EXPORT_DONE:
        raise SiftError(
            f"Invalid value at `.message.type`: expected `{EXPORT_DONE}`, "
            + ", ".join(f"`{k}`" for k in _NOT_STEERED)
            + f", but found {describe(kind)}",
            code,
        )
    return ControlMessage(remote_name, task, version, _string(message, "remote", ".message", code))


def check(message: ControlMessage, topology: Topology, version: str) -> None:
    """Refuse a message this node's network cannot take: about a remote it does not know,
    or a change of another version than its own (a message late or early: the remote
    takes the leader's network before the writes of the change, in the outbox's order)."""
    if message.origin_remote not in topology.remotes:
        raise SiftError(
            f"`.origin.remoteName`: `{message.origin_remote}` is not a remote of this "
            f"node's network.",
            "invalid_network_control_origin",
        )
    if message.remote not in topology.remotes:
        raise SiftError(
            f"`.message.remote`: `{message.remote}` is not a remote of this node's network.",
            "invalid_network_control_message",
        )
    if message.network_version is not None and message.network_version != version:
        raise SiftError(
            f"The message is about the network version `{message.network_version}`, but "
            f"this node's network is at `{version}`.",
            "network_version_mismatch",
        )

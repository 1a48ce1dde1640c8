"""Network control messages (cluster/control.py): parsed as Meilisearch documents them,
the one Sift steers taken, the others refused by name, and checked against the node's
network (its remotes and its version)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from sift.cluster import control
from sift.cluster.topology import Remote, Topology
from sift.errors import SiftError

VERSION = str(uuid.uuid4())
NETWORK = Topology("ms-01", "ms-00", {n: Remote(f"http://{n}") for n in ("ms-00", "ms-01")},
                   {"a": ("ms-00", "ms-01")})  # fmt: skip


def _code(body: Any) -> str:
    with pytest.raises(SiftError) as raised:
        control.check(control.parse(body), NETWORK, VERSION)
    return raised.value.code


def test_the_leaders_message_is_parsed_and_shows_its_origin() -> None:
    body = control.export_done("ms-00", 12, VERSION)
    message = control.parse(body)
    assert message == control.ControlMessage("ms-00", 12, VERSION, "ms-00")
    assert message.origin() == body["origin"]
    control.check(message, NETWORK, VERSION)
    # networkVersion is optional in Meilisearch's origin; then no version is checked.
    del body["origin"]["networkVersion"]
    unversioned = control.parse(body)
    assert unversioned.origin() == {"remoteName": "ms-00", "taskUid": 12}
    control.check(unversioned, NETWORK, str(uuid.uuid4()))
    # A version is kept in its canonical form.
    upper = control.export_done("ms-00", 1, VERSION.upper())
    assert control.parse(upper).network_version == VERSION


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (None, "bad_request"),
        ({"message": {}}, "bad_request"),
        ({"origin": {"remoteName": "ms-00", "taskUid": 1}}, "bad_request"),
        ({**control.export_done("ms-00", 1, VERSION), "more": 1}, "bad_request"),
        ({"origin": [], "message": {}}, "invalid_network_control_origin"),
        ({"origin": {"remoteName": "", "taskUid": 1}, "message": {}},
         "invalid_network_control_origin"),
        ({"origin": {"remoteName": "ms-00", "taskUid": True}, "message": {}},
         "invalid_network_control_origin"),
        ({"origin": {"remoteName": "ms-00", "taskUid": 1, "x": 1}, "message": {}},
         "invalid_network_control_origin"),
        ({"origin": {"remoteName": "ms-00", "taskUid": 1, "networkVersion": 5},
          "message": {}}, "invalid_network_version"),
        ({"origin": {"remoteName": "ms-00", "taskUid": 1}, "message": "go"},
         "invalid_network_control_message"),
        ({"origin": {"remoteName": "ms-00", "taskUid": 1},
          "message": {"type": "statusChangeForRemote", "remote": "ms-00", "status": "x"}},
         "invalid_network_control_message"),
        ({"origin": {"remoteName": "ms-00", "taskUid": 1},
          "message": {"type": "exportNoIndexForRemote", "remote": 7}},
         "invalid_network_control_message"),
        ({"origin": {"remoteName": "ms-07", "taskUid": 1},
          "message": {"type": "exportNoIndexForRemote", "remote": "ms-00"}},
         "invalid_network_control_origin"),
        ({"origin": {"remoteName": "ms-00", "taskUid": 1},
          "message": {"type": "exportNoIndexForRemote", "remote": "ms-07"}},
         "invalid_network_control_message"),
        (control.export_done("ms-00", 1, str(uuid.uuid4())), "network_version_mismatch"),
    ],
)
def test_a_message_it_cannot_take_is_refused_with_its_code(body: Any, code: str) -> None:
    assert _code(body) == code


def test_the_messages_sift_does_not_steer_are_refused_by_name() -> None:
    body = {"origin": {"remoteName": "ms-00", "taskUid": 1},
            "message": {"type": "importFinishedForRemote", "remote": "ms-01",
                        "successful": True}}  # fmt: skip
    with pytest.raises(SiftError, match="`importFinishedForRemote` steers nothing"):
        control.parse(body)

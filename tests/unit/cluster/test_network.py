"""Two nodes' views of one database's /network: a change on one reaches the other."""

from __future__ import annotations

from pathlib import Path

import pytest

from sift.cluster import Network
from sift.errors import SiftError
from sift.ops import experimental
from sift.storage.database import Database


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'sift.db'}")
    database.migrate()
    return database


def test_a_change_on_one_node_reaches_the_other_and_its_listeners(db: Database) -> None:
    first, second = Network(db, "ms-00"), Network(db, "ms-01")
    heard: list[object] = []
    second.on_change(lambda: heard.append(second.partition()))
    with pytest.raises(SiftError) as refused:
        first.require_enabled()
    assert refused.value.code == "feature_not_enabled"
    experimental.switch(db, {"network": True})
    first.refresh()
    task = first.update({
        "leader": "ms-00",
        "remotes": {"ms-00": {"url": "http://a"}, "ms-01": {"url": "http://b"}},
        "shards": {"x": {"remotes": ["ms-00"]}, "y": {"remotes": ["ms-01"]}},
    })
    # With a leader, each change is a networkTopologyChange task (Meilisearch v1.30+),
    # holding the shard maps it moves between.
    assert task is not None and task.type == "networkTopologyChange"
    assert task.params["shards"]["before"] == {}
    assert second.topology.shards == {}  # not yet read
    second.refresh()
    assert second.enabled and second.topology.self_name == "ms-01"
    assert second.topology.owned_shards() == {"y"}
    assert len(heard) == 1 and heard[0] is not None
    second.refresh()  # nothing new: no listener call
    assert len(heard) == 1
    assert second.update({"leader": "ms-01"}) is not None  # naming a leader: a task
    assert first.update({"leader": None}) is None  # no leader: the network is the answer
    experimental.switch(db, {"network": False})
    second.refresh()
    assert heard[-1] is None  # off: every document is held again
    first.stop()
    second.stop()

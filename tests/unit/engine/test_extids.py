"""ExternalIds: a docid's external id, from the term table or kept as a string."""

from __future__ import annotations

import numpy as np

from conftest import MakeIndex
from sift.engine.extids import ExternalIds
from sift.engine.terms import TermTable


def test_ids_that_are_terms_and_ids_that_are_not() -> None:
    terms = TermTable()
    terms.add(["12", "sku", "ab"])
    ext = ExternalIds(terms)
    ids = ["12", "SKU-12", "ab"]
    ext.extend(ids, terms.ids(ids))
    assert len(ext) == 3 and list(ext) == ids and [ext[i] for i in range(3)] == ids
    assert ext._other == {1: "SKU-12"}  # only the id that is no term keeps its string
    assert ext[-1] == "ab" and ext.index("SKU-12") == 1
    ext.extend(["7"], np.array([-1]))
    assert list(ext) == [*ids, "7"]


def test_a_snapshot_reads_its_ids_while_the_index_grows(make_index: MakeIndex) -> None:
    index = make_index([{"id": 1, "t": "apple"}, {"id": "Ab-1", "t": "pear"}])
    before = index.snapshot
    index.upsert([(str(i), {"id": i, "t": "plum"}) for i in range(2, 3000)])
    assert [before.ext_ids[d] for d in range(2)] == ["1", "Ab-1"]
    assert index.snapshot.ext_ids[2999] == "2999" and len(index.snapshot.ext_ids) == 3000

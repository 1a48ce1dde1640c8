"""ExternalIds: a docid's external id, from the term table or from the others' table."""

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
    assert list(ext._others) == ["SKU-12"]  # only the id that is no term is a row there
    assert ext[-1] == "ab" and ext.index("SKU-12") == 1
    ext.extend(["7"], np.array([-1]))
    assert list(ext) == [*ids, "7"]


def test_ids_shared_with_docids_and_many_that_are_no_term() -> None:
    # The index's case when ids are not searchable: every id a row of the others' table,
    # one table for both directions, an id removed and assigned again keeping its row.
    from sift.engine.docids import DocIds

    terms, others = TermTable(), TermTable()
    ext, docids = ExternalIds(terms, others), DocIds(terms, others)
    ids = [f"p-{i}" for i in range(3000)] + ["a" * 600, "é-ü"]
    tids = terms.ids(ids)
    ext.extend(ids, tids)
    docids.assign(ids, 0, tids)
    assert list(ext) == ids and [ext[d] for d in (0, 2999, 3000, 3001)] == \
        [ids[0], ids[2999], ids[3000], ids[3001]]
    assert [docids.get(e) for e in ids] == list(range(len(ids))) and len(others) == len(ids)
    assert docids.held(["p-5", "p-x", "é-ü"]) == ["p-5", "é-ü"]
    assert docids.pop("p-5") == 5 and docids.get("p-5") is None and "p-5" not in docids
    assert docids.held(["p-5", "p-6"]) == ["p-6"]
    ext.extend(["p-5"], terms.ids(["p-5"]))
    docids.assign(["p-5"], len(ids), terms.ids(["p-5"]))
    assert docids.get("p-5") == len(ids) and ext[len(ids)] == "p-5" and len(others) == len(ids)


def test_a_snapshot_reads_its_ids_while_the_index_grows(make_index: MakeIndex) -> None:
    index = make_index([{"id": 1, "t": "apple"}, {"id": "Ab-1", "t": "pear"}])
    before = index.snapshot
    index.upsert([(str(i), {"id": i, "t": "plum"}) for i in range(2, 3000)])
    assert [before.ext_ids[d] for d in range(2)] == ["1", "Ab-1"]
    assert index.snapshot.ext_ids[2999] == "2999" and len(index.snapshot.ext_ids) == 3000

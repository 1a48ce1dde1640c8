"""DocIds: external ids that are terms sit in an array by term id, others in an array by
their row in a second term table."""

from __future__ import annotations

from conftest import MakeIndex, ids, search
from sift.engine.docids import DocIds
from sift.engine.terms import TermTable


def test_ids_that_are_terms_and_ids_that_are_not() -> None:
    terms = TermTable()
    terms.add(["12", "sku"])
    docids = DocIds(terms)
    docids.assign(["12", "SKU-12"], 5)
    assert docids.get("12") == 5 and docids.get("SKU-12") == 6 and len(docids) == 2
    assert "12" in docids and "sku" not in docids and docids.get("sku", -1) == -1
    # Only the id that is no term is a row of the others' table.
    assert list(docids._others) == ["SKU-12"] and docids._by_other[0] == 6
    # A term equal to an id already held in the dict, made afterwards: still found.
    terms.add(["SKU-12"])
    assert docids.get("SKU-12") == 6 and docids.pop("SKU-12") == 6
    assert docids.pop("SKU-12") is None and len(docids) == 1
    docids.assign(["SKU-12"], 7)  # now a term: in the array
    assert docids.get("SKU-12") == 7 and docids._by_other[0] == -1
    assert docids.pop("12") == 5 and "12" not in docids and len(docids) == 1


def test_index_finds_replaces_and_deletes_by_either_kind_of_id(make_index: MakeIndex) -> None:
    index = make_index([{"id": 1, "t": "apple"}, {"id": "Ab-1", "t": "pear"}])
    index.upsert([("1", {"id": 1, "t": "plum"}), ("Ab-1", {"id": "Ab-1", "t": "fig"})])
    assert ids(search(index, "apple ")) == [] and ids(search(index, "pear ")) == []
    assert sorted(map(str, ids(search(index, "")))) == ["1", "Ab-1"]
    index.delete(["Ab-1"])
    assert ids(search(index, "fig ")) == [] and index.document_count() == 1
    assert ids(search(index, "plum ")) == [1]

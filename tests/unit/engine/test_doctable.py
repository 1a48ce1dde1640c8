"""DocTable: a published table never changes, whatever the writer does after."""

from __future__ import annotations

import numpy as np
import pytest

from sift.engine.doctable import CHUNK, WHOLE, DocTable


def test_a_published_table_keeps_its_documents_while_the_writer_goes_on() -> None:
    table = DocTable()
    for docid in range(CHUNK + 5):  # two chunks
        table[docid] = {"id": docid}
    first = table.published()
    table[3] = {"id": 3, "new": True}
    table.pop(CHUNK + 1)
    table[CHUNK + 5] = {"id": CHUNK + 5}
    second = table.published()
    table.pop(0)

    assert first[3] == {"id": 3} and first[CHUNK + 1] == {"id": CHUNK + 1}
    assert CHUNK + 5 not in first and len(first) == CHUNK + 5
    assert second[3] == {"id": 3, "new": True} and CHUNK + 1 not in second
    assert second[0] == {"id": 0} and len(second) == CHUNK + 5
    assert 0 not in table and len(table) == CHUNK + 4
    with pytest.raises(KeyError):
        table[0]
    with pytest.raises(KeyError):
        table.pop(CHUNK + 1)


def test_items_and_iteration_are_in_docid_order_without_the_removed() -> None:
    table = DocTable()
    for docid in (5, 2, 3 * CHUNK):
        table[docid] = {"id": docid}
    table.pop(2)
    assert list(table.items()) == [(5, {"id": 5}), (3 * CHUNK, {"id": 3 * CHUNK})]
    assert list(table) == [5, 3 * CHUNK] and len(table) == 2
    assert 7 not in table and 10 * CHUNK not in table and "x" not in table
    assert np.int64(5) in table and -1 not in table


def test_extending_writes_across_chunks_and_counts_only_new_slots() -> None:
    table = DocTable()
    table[5] = {"id": "old"}
    published = table.published()
    docs = [{"id": str(i)} for i in range(3, 3 + 2 * CHUNK)]
    table.extend(3, docs)
    assert len(table) == 2 * CHUNK
    assert table[5] == {"id": "5"} and published[5] == {"id": "old"}
    assert [d for _, d in table.items()] == docs


def test_replacing_and_removing_keeps_every_other_document_and_drops_dead_bytes() -> None:
    table = DocTable()
    docs = {docid: {"id": docid, "text": "x" * (docid % 7)} for docid in range(CHUNK)}
    table.extend(0, list(docs.values()))
    for docid in range(0, CHUNK, 3):  # replaced: their first JSON is dead
        docs[docid] = {"id": docid, "new": docid}
        table[docid] = docs[docid]
    for docid in range(1, CHUNK, 2):  # removed: past half dead, the chunk is compacted
        del docs[docid]
        table.pop(docid)
    chunk = table._chunks[0]
    assert chunk.dead * 2 <= len(chunk.blob)
    assert dict(table.items()) == docs and len(table) == len(docs) == chunk.live


def test_a_document_orjson_cannot_write_is_kept_as_it_came_between_json_ones() -> None:
    class Odd(dict):  # a subclass: orjson is told to refuse those (see _EXACT)
        pass

    odd = {"id": 1, "value": Odd(a=1)}
    table = DocTable()
    table.extend(0, [{"id": 0}, odd, {"id": 2}])
    assert table[1] is odd and [d for d, _ in table.items()] == [0, 1, 2] and len(table) == 3
    assert list(table.json_items())[1] == (1, b'{"id":1,"value":{"a":1}}')
    table.extend(1, [{"id": 1}])  # replaced by JSON
    assert table[1] == {"id": 1} and len(table) == 3 and not table._chunks[0].odd
def test_many_reads_a_page_as_item_access_would() -> None:
    from datetime import datetime

    table = DocTable()
    odd = {"id": 7, "at": datetime(2026, 12, 6)}  # kept as it came (see _encoded)
    table[2 * CHUNK + 1] = {"id": 1, "text": "é"}
    table[3] = {"id": 3}
    table[7] = odd
    page = [2 * CHUNK + 1, 3, 7, 3]
    assert table.many(page) == [table[d] for d in page]
    assert table.many([]) == []
    for missing in ([3, 4], [5 * CHUNK], [-1]):
        with pytest.raises(KeyError):
            table.many(missing)


def test_extending_with_the_documents_json_keeps_those_bytes() -> None:
    # The task worker hands the payload's lines: kept as given, not written again (the
    # space below is not what orjson writes), across a chunk's end.
    table = DocTable()
    docs = [{"id": i} for i in range(CHUNK + 3)]
    encoded = [b'{"id": %d}' % i for i in range(CHUNK + 3)]
    table.extend(CHUNK - 2, docs, encoded)
    assert [table._get(CHUNK - 2 + i) for i in range(len(docs))] == encoded
    assert [d for _, d in table.items()] == docs and len(table) == len(docs)


@pytest.mark.parametrize("doc", [
    {"id": "a-1", "text": "x, y}"}, {"id": 12, "n": [1]}, {"id": -3.5e2}, {"id": "é ü"},
    {"id": 'quo"te', "t": 1}, {"id": "back\\slash"}, {"id": None}, {"id": True, "x": 1},
    {"id": [1, 2]}, {"id": {"id": 1}}, {"text": "x", "id": 4}, {"text": {"id": 5}},
    {"idx": 1, "id": 2}, {}, {"ïd": 1, "id": 2},
])
def test_many_leading_projects_as_the_whole_document(doc: dict) -> None:
    """A page retrieving one attribute gets from many_leading what it would from the
    whole document: the attribute's value, or its absence."""
    table = DocTable()
    table.extend(0, [{"id": 0}, doc, {"k": 1}])
    for name in ("id", "ïd", "text"):
        got = table.many_leading([1, 0, 2], name)
        whole = table.many([1, 0, 2])
        assert [{k: v for k, v in d.items() if k == name} for d in got] == \
            [{k: v for k, v in d.items() if k == name} for d in whole]
    with pytest.raises(KeyError):
        table.many_leading([3], "id")


def test_many_leading_parses_whole_a_document_kept_as_it_came() -> None:
    table = DocTable()
    table[0] = {"id": 7, "when": object()}  # not JSON: kept as given
    doc = table.many_leading([0], "id")[0]
    assert doc["id"] == 7 and "when" in doc


def test_many_leading_cuts_a_document_that_opens_with_the_attribute() -> None:
    table = DocTable()
    table.extend(0, [{"id": "a-1", "text": "long"}, {"id": 3, "text": "long"}])
    assert table.many_leading([0, 1], "id") == [{"id": "a-1"}, {"id": 3}]


def test_leading_values_parse_what_they_cut_and_mark_the_rest_whole() -> None:
    """The values of the documents that open with the attribute, parsed as orjson parses
    them; WHOLE for the others (another first member, a value not cut, kept as given)."""
    table = DocTable()
    table.extend(0, [{"id": "a-1", "t": "x"}, {"id": -3.5e2}, {"t": 1, "id": 2},
                     {"id": [1]}, {"id": 'q"uote'}, {"id": 12}])
    table[6] = {"id": 7, "when": object()}  # not JSON: kept as given
    assert table.leading_values([5, 0, 1, 2, 3, 4, 6], "id") == \
        [12, "a-1", -350.0, WHOLE, WHOLE, WHOLE, WHOLE]
    with pytest.raises(KeyError):
        table.leading_values([0, 9], "id")

"""SearchIndex write path, response shapes, distinct, facets, filters, concurrency."""

from __future__ import annotations

import threading

import orjson
import pytest

from conftest import MakeIndex, ids, search
from sift.engine.index import SearchIndex
from sift.engine.query import SearchParams
from sift.engine.settings import default_settings
from sift.errors import SiftError

SHOES = [{"id": i, "name": f"shoe model {i}", "brand": "acme" if i % 2 else "zeta",
          "price": i * 10} for i in range(1, 8)]


def test_upsert_replaces_and_delete_removes(make_index: MakeIndex) -> None:
    index = make_index([{"id": 1, "t": "apple"}, {"id": 2, "t": "banana"}])
    index.upsert([("1", {"id": 1, "t": "cherry"})])
    assert ids(search(index, "apple ")) == []
    assert ids(search(index, "cherry ")) == [1]
    index.delete(["2", "missing"])
    assert ids(search(index, "banana ")) == []
    assert index.document_count() == 1
    assert index.field_distribution() == {"id": 1, "t": 1}
    index.clear()
    assert index.document_count() == 0 and ids(search(index, "")) == []


def test_repeated_ids_in_one_batch_keep_the_last(make_index: MakeIndex) -> None:
    index = make_index([])
    index.upsert([("1", {"id": 1, "t": "old"}), ("1", {"id": 1, "t": "new"})])
    assert ids(search(index, "new ")) == [1] and index.document_count() == 1


def test_upsert_keeps_the_documents_json_it_is_given_unless_an_id_repeats() -> None:
    index = SearchIndex(default_settings(), "id")
    index.upsert([("1", {"id": "1"}), ("2", {"id": "2"})], [b'{"id": "1"}', b'{"id":  "2"}'])
    assert index._docs._get(1) == b'{"id":  "2"}'  # as given, not written again
    # A repeated id: the later document wins at its place, its JSON written by the index.
    index.upsert([("3", {"id": "3", "a": 1}), ("3", {"id": "3", "a": 2})], [b"x", b"y"])
    assert index._docs._get(2) == orjson.dumps({"id": "3", "a": 2})
    assert ids(search(index, "3")) == ["3"]


def test_many_batches_merge_segments(make_index: MakeIndex) -> None:
    index = make_index([])
    for i in range(30):
        index.upsert([(str(i), {"id": i, "t": f"word{i} common"})])
    index.delete([str(i) for i in range(0, 30, 2)])
    res = search(index, "common ", limit=100)
    assert sorted(ids(res)) == list(range(1, 30, 2))
    assert len(index.snapshot.segments) <= 9


def test_set_settings_reindexes(make_index: MakeIndex) -> None:
    index = make_index([{"id": 1, "title": "alpha", "body": "omega"}])
    settings = default_settings("meilisearch")
    settings["searchableAttributes"] = ["title"]
    index.set_settings(settings)
    assert ids(search(index, "omega ")) == [] and ids(search(index, "alpha ")) == [1]


def test_offset_limit_shape(make_index: MakeIndex) -> None:
    res = search(make_index(SHOES), "shoe ", offset=2, limit=2)
    assert list(res) == ["hits", "query", "processingTimeMs", "limit", "offset",
                         "estimatedTotalHits"]
    assert (res["limit"], res["offset"], res["estimatedTotalHits"]) == (2, 2, 7)
    assert len(res["hits"]) == 2


def test_a_response_with_facets_and_timings_keeps_meilisearchs_key_order(
        make_index: MakeIndex) -> None:
    """Every key the single search adds, in Meilisearch's order (respond._KEY_ORDER)."""
    from sift.engine.pipeline.respond import _KEY_ORDER

    index = make_index(SHOES)
    settings = default_settings("meilisearch")
    settings["filterableAttributes"] = ["brand"]
    index.set_settings(settings)
    res = search(index, "shoe ", facets=["brand"], showPerformanceDetails=True)
    assert list(res) == [k for k in _KEY_ORDER if k in res]
    assert {"facetDistribution", "facetStats", "performanceDetails"} <= set(res)


def test_page_shape(make_index: MakeIndex) -> None:
    res = search(make_index(SHOES), "shoe ", page=2, hitsPerPage=3)
    assert list(res) == ["hits", "query", "processingTimeMs", "hitsPerPage", "page",
                         "totalPages", "totalHits"]
    assert (res["page"], res["hitsPerPage"], res["totalPages"], res["totalHits"]) == (2, 3, 3, 7)
    assert len(res["hits"]) == 3
    assert search(make_index(SHOES), "shoe ", page=0)["hits"] == []


def test_max_total_hits_caps_results(make_index: MakeIndex) -> None:
    index = make_index(SHOES, pagination={"maxTotalHits": 3})
    res = search(index, "shoe ", limit=10)
    assert len(res["hits"]) == 3 and res["estimatedTotalHits"] == 3


def test_distinct_attribute_setting_and_parameter(make_index: MakeIndex) -> None:
    index = make_index(SHOES, distinctAttribute="brand")
    assert sorted(h["brand"] for h in search(index, "shoe ")["hits"]) == ["acme", "zeta"]
    index = make_index(SHOES, filterableAttributes=["brand"])
    assert len(search(index, "shoe ", distinct="brand")["hits"]) == 2
    with pytest.raises(SiftError) as err:
        search(make_index(SHOES), "shoe ", distinct="brand")
    assert err.value.code == "invalid_search_distinct"


def test_filter_facets_and_filter_ids(make_index: MakeIndex) -> None:
    index = make_index(SHOES, filterableAttributes=["brand", "price"])
    res = search(index, "shoe ", filter="price > 30", facets=["brand", "price"])
    assert sorted(ids(res)) == [4, 5, 6, 7]
    assert res["facetDistribution"]["brand"] == {"acme": 2, "zeta": 2}
    assert res["facetStats"]["price"] == {"min": 40.0, "max": 70.0}
    assert sorted(index.filter_ids("brand = acme")) == ["1", "3", "5", "7"]
    with pytest.raises(SiftError) as err:
        index.filter_ids("color = red")
    assert err.value.code == "invalid_document_filter"
    with pytest.raises(SiftError) as err:
        search(index, "shoe ", filter="color = red")
    assert err.value.code == "invalid_search_filter"
    with pytest.raises(SiftError) as err:
        search(index, "shoe ", facets=["color"])
    assert err.value.code == "invalid_search_facets"


def test_sort_errors(make_index: MakeIndex) -> None:
    index = make_index(SHOES, sortableAttributes=["price"])
    for sort, code in ((["brand:asc"], "invalid_search_sort"), (["price"], "invalid_search_sort"),
                       (["_geoPoint(1,2):asc"], "invalid_search_sort")):
        with pytest.raises(SiftError) as err:
            search(index, "shoe ", sort=sort)
        assert err.value.code == code


def test_facet_search(make_index: MakeIndex) -> None:
    index = make_index(SHOES, filterableAttributes=["brand"])
    res = index.facet_search({"facetName": "brand", "facetQuery": "ac", "q": "shoe"})
    assert res["facetHits"] == [{"value": "acme", "count": 4}] and res["facetQuery"] == "ac"
    with pytest.raises(SiftError) as err:
        index.facet_search({"facetQuery": "ac"})
    assert err.value.code == "missing_facet_search_facet_name"
    with pytest.raises(SiftError) as err:
        index.facet_search({"facetName": "name"})
    assert err.value.code == "invalid_facet_search_facet_name"


def test_searches_stay_consistent_while_writing() -> None:
    index = SearchIndex(default_settings("sift"), "id")
    index.upsert([(str(i), {"id": i, "t": "stable word"}) for i in range(50)])
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader() -> None:
        try:
            while not stop.is_set():
                res = index.search(SearchParams.from_dict({"q": "stable", "limit": 100}))
                assert len(res["hits"]) == 50
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    for batch in range(20):
        index.upsert([(f"x{batch}-{i}", {"id": f"x{batch}-{i}", "t": "other"})
                      for i in range(20)])
        index.delete([f"x{batch}-0"])
    stop.set()
    for t in threads:
        t.join()
    assert not errors


def test_readers_never_see_a_half_applied_settings_change() -> None:
    index = SearchIndex(default_settings("meilisearch"), "id")
    index.upsert([(str(i), {"id": i, "t": "stable word"}) for i in range(200)])
    seen: list[int] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            seen.append(index.search(SearchParams.from_dict({"q": "stable"}))[
                "estimatedTotalHits"])

    thread = threading.Thread(target=reader)
    thread.start()
    for mode in ("sift", "meilisearch", "sift"):
        index.set_settings(default_settings(mode))
    stop.set()
    thread.join()
    assert seen and set(seen) == {200}


def test_vocabulary_grows_batch_by_batch(make_index: MakeIndex) -> None:
    index = make_index([{"id": 1, "t": "zebra"}])
    old = index.view
    index.upsert([("2", {"id": 2, "t": "zeppelin"}), ("3", {"id": 3, "t": "aardvark"})])
    index.upsert([("4", {"id": 4, "t": "zucchini"})])
    assert sorted(ids(search(index, "z"))) == [1, 2, 4]
    assert ids(search(index, "zepelin ")) == [2]  # typo against a later batch's term
    assert ids(search(index, "aard")) == [3]
    vocab = index.view.snapshot.vocabulary
    in_order = vocab.by_id[vocab.ids].tolist()
    assert in_order == sorted(in_order)
    assert old.snapshot.vocabulary.prefix_range("zu")[1] - \
        old.snapshot.vocabulary.prefix_range("zu")[0] == 0  # old readers see old terms


def test_field_lengths_of_a_published_view_stay_as_they_were(make_index: MakeIndex) -> None:
    index = make_index([{"id": 1, "t": "one two"}])
    old = index.view.snapshot
    before = old.field_len.copy()
    for i in range(2, 40):  # batches grow the lengths in place, past the old rows
        index.upsert([(str(i), {"id": i, "t": "three " * i})])
    assert (old.field_len == before).all() and old.field_len.shape == before.shape
    index.upsert([("40", {"id": 40, "t": "x", "new_field": "a b c"})])  # one more column
    now = index.view.snapshot
    assert now.field_len.shape == (now.alive.size, len(now.field_names))
    assert now.field_len[0, : before.shape[1]].tolist() == before[0].tolist()
    assert now.field_len[-1].tolist()[-1] == 3  # the new column's words


def test_optimize_merges_into_one_segment_and_keeps_results(make_index: MakeIndex) -> None:
    index = make_index([])
    for i in range(12):
        index.upsert([(str(i), {"id": i, "t": f"word{i} common"})])
    index.delete(["3"])
    before = sorted(ids(search(index, "common ", limit=100)))
    assert len(index.snapshot.segments) > 1
    assert index.optimize()
    assert len(index.snapshot.segments) == 1
    assert sorted(ids(search(index, "common ", limit=100))) == before
    assert not index.optimize()  # nothing left to merge


@pytest.mark.parametrize("mode", ["sift", "meilisearch"])
@pytest.mark.parametrize("batches", [2, 3, 5])
def test_a_search_scores_the_same_over_any_number_of_segments(make_index: MakeIndex,
                                                              batches: int, mode: str) -> None:
    # Segments are gathered in pairs (kernels.gather_words): odd counts, several pairs.
    docs = [{"id": i, "t": f"red shoe {i % 7} sunflower", "u": f"walking shoes {i} trails"}
            for i in range(40)]
    whole = make_index(docs, mode, filterableAttributes=["id"])
    split = make_index([], mode, filterableAttributes=["id"])
    for k in range(batches):
        split.upsert([(str(d["id"]), d) for d in docs[k::batches]])
    assert len(whole.snapshot.segments) == 1 and len(split.snapshot.segments) == batches
    for q in ("red shoe", "shoes walkng", '"red shoe" trails', "sun flower", "wal", "sho red"):
        for body in ({}, {"filter": "id < 20"}, {"attributesToSearchOn": ["u"]}):
            expected = search(whole, q, showRankingScore=True, limit=40, **body)["hits"]
            got = search(split, q, showRankingScore=True, limit=40, **body)["hits"]
            # Docids differ (the batches index documents in another order): equal scores
            # may come in another order, every document's score is bit for bit the same.
            assert {h["id"]: h["_rankingScore"] for h in got} == \
                {h["id"]: h["_rankingScore"] for h in expected}


def test_idle_optimize_leaves_a_large_index_alone_for_a_trickle(make_index: MakeIndex) -> None:
    index = make_index([{"id": i, "t": f"w{i}"} for i in range(200)])
    index.upsert([("new", {"id": "new", "t": "fresh"})])
    assert len(index.snapshot.segments) == 2
    assert not index.optimize()  # 1 row beside 200: not worth rewriting
    assert index.optimize(force=True) and len(index.snapshot.segments) == 1


def test_held_changes_reach_readers_only_when_released(make_index: MakeIndex) -> None:
    index = make_index([{"id": 1, "t": "apple", "kind": "fruit"}], filterableAttributes=["kind"])
    index.hold()
    index.upsert([("2", {"id": 2, "t": "apple", "kind": "fruit"})])
    index.delete(["1"])
    assert ids(search(index, "apple ")) == [1] and index.document_count() == 1
    # Readers still filter the old document; the writer's own reads see its changes.
    assert index.filter_ids("kind = fruit") == ["1"]
    assert index.filter_ids("kind = fruit", unpublished=True) == ["2"]
    index.release()
    assert ids(search(index, "apple ")) == [2] and index.filter_ids("kind = fruit") == ["2"]


def test_a_release_without_publishing_leaves_readers_where_they_were(
    make_index: MakeIndex,
) -> None:
    index = make_index([{"id": 1, "t": "apple"}])
    index.hold()
    index.clear()
    index.release(publish=False)
    assert ids(search(index, "apple ")) == [1]


def test_a_held_index_keeps_the_published_documents_whole(make_index: MakeIndex) -> None:
    # The documents are shared with the published view in copy-on-write chunks
    # (doctable.py): a removal while held, even after the writer built its own view for a
    # delete by filter, must not take a document from under the readers.
    index = make_index([{"id": 1, "t": "apple", "kind": "fruit"}], filterableAttributes=["kind"])
    index.hold()
    index.upsert([("2", {"id": 2, "t": "apple pie", "kind": "fruit"})])
    assert sorted(index.filter_ids("kind = fruit", unpublished=True)) == ["1", "2"]
    index.delete(["1"])
    assert index.filter_ids("kind = fruit", unpublished=True) == ["2"]
    assert search(index, "apple ")["hits"] == [{"id": 1, "t": "apple", "kind": "fruit"}]
    index.release()
    assert search(index, "apple ")["hits"] == [{"id": 2, "t": "apple pie", "kind": "fruit"}]


def test_filters_see_the_published_state_while_changes_are_held(make_index: MakeIndex) -> None:
    index = make_index([{"id": 1, "t": "a"}, {"id": 2, "t": "a"}], filterableAttributes=["t"])
    index.hold()
    index.upsert([("1", {"id": 1, "t": "b"})])  # replaced: a new docid
    index.delete(["2"])
    index.clear()  # a new field store: the published view keeps the old one
    index.upsert([("3", {"id": 3, "t": "a"})])
    assert ids(search(index, "", filter="t = a")) == [1, 2]
    index.release()
    assert ids(search(index, "", filter="t = a")) == [3]
    assert ids(search(index, "", filter="t = b")) == []


def test_warm_fields_rebuilds_the_views_a_write_dropped() -> None:
    """A write drops the filter and facet views of the fields it touched; warm_fields
    builds them again, so the next filtered, faceted search builds nothing."""
    settings = {**default_settings(), "filterableAttributes": ["brand", "price"]}
    index = SearchIndex(settings, "id")
    index.upsert([(str(i), {"id": i, "brand": f"b{i % 3}", "price": i}) for i in range(50)])
    price = index.field_store._fields["price"]
    assert price._numeric is None
    index.warm_fields()
    built = price._numeric
    assert built is not None and index.field_store._fields["brand"]._string_groups is not None
    params = SearchParams.from_dict({"filter": "price < 20", "facets": ["brand", "price"]})
    first = index.search(params)
    assert price._numeric is built  # the search read what warm_fields built
    index.upsert([("50", {"id": 50, "brand": "b0", "price": 5})])
    # An add keeps the built groups; its rows are merged in on the next read.
    assert price._numeric is built and price._number_tail
    assert price.numeric() is not built and not price._number_tail
    index.hold()
    index.upsert([("1", {"id": 1, "brand": "b2", "price": 70})])  # a replacement, held
    index.release()  # the replaced document leaves the field store here
    index.warm()
    assert price._numeric is not None and price._real is not None
    again = index.search(params)
    assert again["facetDistribution"]["brand"] != first["facetDistribution"]["brand"]
    assert again["estimatedTotalHits"] == first["estimatedTotalHits"]  # +50, -1


def test_warm_words_builds_the_new_vocabularys_typo_rows() -> None:
    """A write publishes a new vocabulary; warm_words builds its typo rows, so the next
    search allowed a typo reads them instead of building them."""
    index = SearchIndex(default_settings(), "id")
    index.upsert([(str(i), {"id": i, "title": f"shoe{i} running"}) for i in range(20)])
    vocabulary = index.view.snapshot.vocabulary
    assert "typo_rows" not in vocabulary.__dict__
    index.warm_words()
    built = vocabulary.__dict__["typo_rows"]
    index.search(SearchParams.from_dict({"q": "runnign"}))
    assert vocabulary.typo_rows is built
    index.upsert([("20", {"id": 20, "title": "sandal"})])
    assert "typo_rows" not in index.view.snapshot.vocabulary.__dict__

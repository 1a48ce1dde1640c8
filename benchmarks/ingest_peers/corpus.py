"""The product NDJSON of `benchmarks.ingest.dataset`, and the two workloads made of it:

- products: the seven product fields as a shop indexes them, filterable brand, tags,
  in_stock and price, sortable price and rating, facets on brand and tags
  (`benchmarks.ingest.dataset`'s product settings, the ones `engine-speed` uses); only
  Sift and Typesense take it, since the other runners' `Doc` holds a title and a text;
- text: `{id, title, text}` for every engine (the runners' `Doc`: text = brand + tags)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from benchmarks.ingest.dataset import write_dataset
from benchmarks.runners.base import Doc

CACHE = Path(__file__).resolve().parents[1] / ".cache" / "ingest"
WORKLOADS = ("products", "text")
FULL_FIELD_ENGINES = ("sift", "typesense")


def dataset_path(count: int, seed: int) -> Path:
    """The same file `python -m benchmarks.ingest` writes and reuses for (count, seed)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    return write_dataset(CACHE / f"products-{count}-seed{seed}.ndjson", count, seed)


def engine_workload(engine: str, workload: str) -> str:
    """What `engine` runs when `workload` is asked for: an engine without a full-field path
    (its runner takes a `Doc`) stays on the text workload."""
    return workload if engine in FULL_FIELD_ENGINES else "text"


def load_products(path: Path) -> list[dict[str, Any]]:
    with path.open("rb") as fh:
        return [orjson.loads(line) for line in fh if line.strip()]


def product_doc(product: dict[str, object]) -> Doc:
    """The runners index `title` and `text`: the product title stays the title, brand and
    tags become the text. Price, rating and stock are not text and are left out."""
    tags = product.get("tags") or []
    assert isinstance(tags, list)
    text = " ".join([str(product["brand"]), *(str(t) for t in tags)])
    return Doc(id=str(product["id"]), title=str(product["title"]), text=text)


def runner_docs_path(path: Path) -> Path:
    """The runners' documents as NDJSON (`{id, title, text}`), next to the product file: what
    Sift ingests, so every engine receives the same fields (Sift used to get all seven
    product fields while the others got three)."""
    target = path.with_name(path.stem + ".runner-docs.ndjson")
    if not target.exists() or target.stat().st_mtime < path.stat().st_mtime:
        partial = target.with_suffix(".partial")
        with partial.open("wb") as out:
            for doc in load_docs(path):
                out.write(orjson.dumps({"id": doc.id, "title": doc.title, "text": doc.text}))
                out.write(b"\n")
        partial.replace(target)
    return target


def load_docs(path: Path) -> list[Doc]:
    with path.open("rb") as fh:
        return [product_doc(orjson.loads(line)) for line in fh if line.strip()]

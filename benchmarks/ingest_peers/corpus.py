"""The product NDJSON of `benchmarks.ingest.dataset`, turned into the runners' `Doc`s."""

from __future__ import annotations

from pathlib import Path

import orjson

from benchmarks.ingest.dataset import write_dataset
from benchmarks.runners.base import Doc

CACHE = Path(__file__).resolve().parents[1] / ".cache" / "ingest"


def dataset_path(count: int, seed: int) -> Path:
    """The same file `python -m benchmarks.ingest` writes and reuses for (count, seed)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    return write_dataset(CACHE / f"products-{count}-seed{seed}.ndjson", count, seed)


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

"""`sift import` progress: the embedding step of the batch shows up, --quiet is silent."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
from click.testing import CliRunner
from rich.progress import Progress

from sift.cli import main
from sift.config import Config, load_config
from sift.ops import importer
from sift.semantic.embedders import Embedder
from sift.services import Services

EMBEDDER = {
    "source": "rest",
    "url": "http://127.0.0.1:1/embed",
    "dimensions": 3,
    "documentTemplate": "{{doc.title}}",
    "request": {"input": "{{text}}"},
    "response": {"embedding": "{{embedding}}"},
}


def _config(tmp_path: Path) -> Config:
    return load_config(
        {"data_dir": str(tmp_path / "data"), "config_file": str(tmp_path / "none.toml")},
        environ={},
    )


def _args(tmp_path: Path, file: Path, *extra: str) -> list[str]:
    return [
        "import",
        "books",
        str(file),
        "--data-dir",
        str(tmp_path / "data"),
        "--config-file",
        str(tmp_path / "none.toml"),
        *extra,
    ]


def test_quiet_prints_nothing_and_the_summary_needs_no_terminal(tmp_path: Path) -> None:
    file = tmp_path / "books.json"
    file.write_bytes(b'[{"id": 1, "title": "Dune"}, {"id": 2, "title": "Emma"}]')
    quiet = CliRunner().invoke(main, _args(tmp_path, file, "--quiet"), env={"SIFT_API_KEY": None})
    assert quiet.exit_code == 0, quiet.output
    assert quiet.output == ""
    loud = CliRunner().invoke(main, _args(tmp_path, file), env={"SIFT_API_KEY": None})
    assert loud.exit_code == 0, loud.output
    assert "imported 2 documents into `books`" in loud.output


def test_the_batch_bar_follows_the_innermost_step() -> None:
    progress = Progress(disable=True)
    bar = importer._BatchBar(progress)
    bar.show(
        {
            "steps": [
                {"currentStep": "embedding documents", "finished": 0, "total": 2},
                {"currentStep": "document", "finished": 30, "total": 120},
            ],
            "percentage": 12.5,
        }
    )
    (task,) = [t for t in progress.tasks if t.visible]
    assert (task.description, task.completed, task.total) == ("embedding documents", 30, 120)
    bar.show(None)
    assert not [t for t in progress.tasks if t.visible]


def test_direct_import_shows_the_embedding_progress(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _config(tmp_path)
    shown = threading.Event()
    views: list[dict[str, Any]] = []

    class Model:
        def embed_documents(self, texts: list[str]) -> np.ndarray:
            # Hold the embedding until the importer has shown it: no race with its polling.
            shown.wait(10)
            return np.asarray([[len(t), 1.0, 0.0] for t in texts], dtype=np.float32)

    monkeypatch.setattr(Embedder, "backend", lambda self, cache_dir=None: Model())
    services = Services.build(config)
    assert services.worker._become_leader()
    services.enqueue("settingsUpdate", "books", {}, {"settings": {"embedders": {"e": EMBEDDER}}})
    assert services.worker.run_once()
    services.stop()

    real_show = importer._BatchBar.show

    def record(self: importer._BatchBar, view: dict[str, Any] | None) -> None:
        if view and view["steps"] and view["steps"][0]["currentStep"] == "embedding documents":
            views.append(view)
            shown.set()
        real_show(self, view)

    monkeypatch.setattr(importer._BatchBar, "show", record)
    file = tmp_path / "books.ndjson"
    file.write_bytes(b"\n".join(orjson.dumps({"id": i, "title": f"t{i}"}) for i in range(100)))
    result = importer.import_file(
        config,
        "books",
        file,
        url=None,
        api_key=None,
        primary_key=None,
        fmt=None,
        batch_bytes=1 << 20,
        show_progress=True,
        summary=False,
    )
    assert result.tasks[0]["status"] == "succeeded"
    assert views and views[0]["steps"][1]["total"] == 100

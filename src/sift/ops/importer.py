"""`sift import`: load a JSON, NDJSON or CSV file into an index, with a progress bar.

Two ways in, one set of semantics:

- through a running server (``--url``): the file is parsed here, re-cut into NDJSON
  batches of about ``batch_bytes`` and each batch is POSTed as one task; then every
  task is awaited and its failure, if any, reported with the server's message;
- straight into the data directory: the file becomes one task, enqueued through
  :class:`Services` and run by the same :class:`Worker` the server runs, so parsing,
  validation and durability are exactly the server's. No server may be running on
  the same data at the same time: its search indexes would not see the import.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote

import click
import httpx
import orjson
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)

from sift.config import Config
from sift.errors import SiftError
from sift.tasks.payload import iter_documents

FORMATS_BY_SUFFIX = {".json": "json", ".ndjson": "ndjson", ".jsonl": "ndjson", ".csv": "csv"}
FINISHED = ("succeeded", "failed", "canceled")


class ImportFailed(click.ClickException):
    """The import did not fully succeed; the CLI prints the message and exits with 1."""


@dataclass
class ImportResult:
    documents: int = 0  # documents read from the file
    tasks: list[dict[str, Any]] = field(default_factory=list)  # final task views, uid order


def detect_format(file: str | Path, fmt: str | None) -> str:
    if fmt is not None:
        return fmt
    suffix = Path(file).suffix.lower()
    if suffix not in FORMATS_BY_SUFFIX:
        raise click.UsageError(
            f"cannot tell the format of {file!s} from its extension; use --format json|ndjson|csv"
        )
    return FORMATS_BY_SUFFIX[suffix]


class _CountingReader(io.RawIOBase):
    """A raw stream over `fh` that reports every byte read, for the progress bar."""

    def __init__(self, fh: BinaryIO, on_read: Callable[[int], None]) -> None:
        self._fh, self._on_read = fh, on_read

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._fh.read(len(buffer))
        buffer[: len(data)] = data
        self._on_read(len(data))
        return len(data)


def ndjson_batches(docs: Iterable[dict[str, Any]], batch_bytes: int) -> Iterator[tuple[bytes, int]]:
    """Group documents into NDJSON bodies of about `batch_bytes`; yields (body, documents)."""
    lines: list[bytes] = []
    size = 0
    for doc in docs:
        line = orjson.dumps(doc)
        # Close the batch before it would overflow, so a body stays near batch_bytes
        # (a single document larger than batch_bytes still goes, alone).
        if lines and size + len(line) + 1 > batch_bytes:
            yield b"\n".join(lines), len(lines)
            lines, size = [], 0
        lines.append(line)
        size += len(line) + 1
    if lines:
        yield b"\n".join(lines), len(lines)


def _progress(show: bool) -> Progress:
    return Progress(
        TextColumn("{task.description:<10}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        disable=not show,
    )


def _bytes_progress(show: bool) -> Progress:
    return Progress(
        TextColumn("{task.description:<10}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        disable=not show,
    )


class _BatchBar:
    """A second bar under the task bar: the step the server's worker is on (embedding
    documents, indexing) and its count, from the processing batch's `progress`."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._bar: Any = None

    def show(self, view: dict[str, Any] | None) -> None:
        steps = (view or {}).get("steps") or []
        if not steps:
            if self._bar is not None:
                self._progress.update(self._bar, visible=False)
            return
        inner = steps[-1]
        description = steps[0]["currentStep"]
        if self._bar is None:
            self._bar = self._progress.add_task(description, total=None)
        self._progress.update(
            self._bar,
            description=description,
            completed=inner["finished"],
            total=inner["total"] or None,
            visible=True,
        )


def check_primary_key(path: Path, fmt: str, params: dict[str, Any], existing: str | None) -> None:
    """Refuse, before anything is written, a file whose primary key the index could not
    infer: the server would create the index and then fail the task, leaving an empty index
    behind (as Meilisearch does)."""
    from sift.tasks.documents import infer_primary_key

    if existing or params.get("primaryKey"):
        return
    with path.open("rb") as fh:
        try:
            first = next(iter_documents(fh, fmt), None)
        except SiftError as exc:
            raise ImportFailed(f"{path}: {exc.message}") from None
    if first is None:
        return
    try:
        infer_primary_key(first)
    except SiftError as exc:
        fields = ", ".join(f"`{name}`" for name in first) or "none"
        raise ImportFailed(
            f"{path}: no primary key: the first document's fields are {fields} and "
            f"{'none ends' if exc.code.endswith('no_candidate_found') else 'several end'} "
            f"in `id` ({exc.code}). Name the field that identifies each document with "
            "--primary-key FIELD. Nothing was imported."
        ) from None


def _failures(tasks: list[dict[str, Any]]) -> str | None:
    lines = []
    for task in tasks:
        if task["status"] != "succeeded":
            error = task.get("error") or {}
            reason = error.get("message") or task["status"]
            code = f" ({error['code']})" if error.get("code") else ""
            lines.append(f"task {task['uid']} {task['status']}: {reason}{code}")
    return "\n".join(lines) or None


def import_file(
    config: Config,
    index: str,
    file: str | Path,
    *,
    url: str | None,
    api_key: str | None,
    primary_key: str | None,
    fmt: str | None,
    batch_bytes: int,
    show_progress: bool = True,
    summary: bool | None = None,
) -> ImportResult:
    """Import `file` into `index`; raises ImportFailed unless every task succeeded.

    ``show_progress`` draws the bars (reading or sending, then the tasks and the step
    the worker is on, such as embedding documents); ``summary`` prints the closing
    line (default: as ``show_progress``)."""
    fmt = detect_format(file, fmt)
    params: dict[str, Any] = {"primaryKey": primary_key} if primary_key else {}
    if url:
        result = _import_url(
            url, api_key, index, Path(file), fmt, params, batch_bytes, show_progress
        )
    else:
        result = _import_direct(config, index, Path(file), fmt, params, show_progress)
    failed = _failures(result.tasks)
    if failed:
        raise ImportFailed(failed)
    if show_progress if summary is None else summary:
        Console(stderr=True).print(
            f"imported {result.documents} documents into `{index}` in {len(result.tasks)} task(s)"
        )
    return result


def _import_url(
    url: str,
    api_key: str | None,
    index: str,
    path: Path,
    fmt: str,
    params: dict[str, Any],
    batch_bytes: int,
    show: bool,
) -> ImportResult:
    headers = {"Content-Type": "application/x-ndjson"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    result = ImportResult()
    uids: list[int] = []
    # Generous read timeout: the server stores a whole batch before it answers 202.
    timeout = httpx.Timeout(600.0, connect=10.0)
    try:
        with httpx.Client(base_url=url, headers=headers, timeout=timeout) as client:
            found = client.get(f"/indexes/{quote(index, safe='')}")
            existing = found.json().get("primaryKey") if found.status_code == 200 else None
            check_primary_key(path, fmt, params, existing)
            with _bytes_progress(show) as progress, path.open("rb") as raw:
                bar = progress.add_task("sending", total=path.stat().st_size)
                fh = io.BufferedReader(_CountingReader(raw, lambda n: progress.advance(bar, n)))
                endpoint = f"/indexes/{quote(index, safe='')}/documents"
                try:
                    for body, count in ndjson_batches(iter_documents(fh, fmt), batch_bytes):
                        response = client.post(endpoint, params=params, content=body)
                        if response.status_code != 202:
                            raise ImportFailed(_refused(response, uids))
                        uids.append(response.json()["taskUid"])
                        result.documents += count
                except SiftError as exc:
                    raise ImportFailed(_partial(f"{path}: {exc.message}", uids)) from None
            result.tasks = _await_tasks(client, uids, show)
    except httpx.HTTPError as exc:
        raise ImportFailed(_partial(f"cannot talk to {url}: {exc}", uids)) from None
    return result


def _partial(message: str, uids: list[int]) -> str:
    # Batches already acknowledged will still be applied by the server: say which.
    if uids:
        return f"{message}\n(already enqueued, still applied by the server: tasks {uids})"
    return message


def _refused(response: httpx.Response, uids: list[int]) -> str:
    try:
        body = response.json()
        reason = f"{body['message']} ({body['code']})"
    except (ValueError, KeyError, TypeError):
        reason = response.text[:500]
    return _partial(f"the server refused a batch with {response.status_code}: {reason}", uids)


def _await_tasks(client: httpx.Client, uids: list[int], show: bool) -> list[dict[str, Any]]:
    finished: list[dict[str, Any]] = []
    with _progress(show) as progress:
        bar = progress.add_task("tasks", total=len(uids))
        step = _BatchBar(progress)

        def fetch(uid: int) -> dict[str, Any]:
            task = client.get(f"/tasks/{uid}").raise_for_status().json()
            if show and task["status"] == "processing" and task.get("batchUid") is not None:
                batch = client.get(f"/batches/{task['batchUid']}")
                if batch.status_code == 200:
                    step.show(batch.json().get("progress"))
            return task

        for uid in uids:
            finished.append(_poll(lambda uid=uid: fetch(uid)))
            step.show(None)
            progress.advance(bar)
    return finished


def _poll(fetch: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Poll until the task finishes, backing off from 20 ms to 500 ms."""
    delay = 0.02
    while True:
        task = fetch()
        if task["status"] in FINISHED:
            return task
        time.sleep(delay)
        delay = min(delay * 1.5, 0.5)


def _import_direct(
    config: Config, index: str, path: Path, fmt: str, params: dict[str, Any], show: bool
) -> ImportResult:
    from sift.http.responses import validate_index_uid
    from sift.services import Services
    from sift.storage import indexes as index_rows
    from sift.storage import tasks as task_rows
    from sift.tasks.views import task_view

    try:
        validate_index_uid(index)
    except SiftError as exc:
        raise ImportFailed(exc.message) from None
    services = Services.build(config)
    try:
        with services.db.read() as conn:
            record = index_rows.get(conn, index)
        check_primary_key(path, fmt, params, record.primary_key if record else None)
    except ImportFailed:
        services.stop()
        raise
    # The server's own worker: requeues interrupted tasks, then runs them in uid order.
    # Only the worker: an import has no use for the server's other background services.
    services.worker.start()
    try:
        with _bytes_progress(show) as progress, path.open("rb") as raw:
            bar = progress.add_task("reading", total=path.stat().st_size)
            fh = io.BufferedReader(_CountingReader(raw, lambda n: progress.advance(bar, n)))
            params = {"method": "replace", **params}
            try:
                task = services.enqueue_documents(index, fh, fmt, params)
            except SiftError as exc:  # malformed file: nothing was committed
                raise ImportFailed(f"{path}: {exc.message}") from None

        with _progress(show) as progress:
            bar = progress.add_task("tasks", total=1)
            step = _BatchBar(progress)

            def fetch() -> dict[str, Any]:
                with services.db.read() as conn:
                    record = task_rows.get(conn, task.uid)
                assert record is not None
                progress = services.worker.progress_of(record.batch_uid)  # this process
                if progress is not None:  # runs the worker
                    step.show(progress)
                return task_view(record)

            final = _poll(fetch)
            step.show(None)
            progress.advance(bar)
    finally:
        services.stop()
    documents = (task.details or {}).get("receivedDocuments", 0)
    return ImportResult(documents=documents, tasks=[final])

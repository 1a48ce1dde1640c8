"""The server's logs: one JSON object per line, for Sift's records and the libraries' alike."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sift.http import access_log
from sift.http.access_log import AccessLogHandler, DeferredLogger, deferred
from sift.server import logging_config
from tests.conftest import make_client


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """The server's logging set-up, writing to a buffer; the test run's own set-up after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    quiet = {name: logging.getLogger(name).level for name in ("alembic", "httpx", "uvicorn.error")}
    config = logging_config("info")
    config["handlers"]["stderr"]["stream"] = buffer = io.StringIO()
    logging.config.dictConfig(config)
    yield buffer
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, level in quiet.items():
        logging.getLogger(name).setLevel(level)


def lines(buffer: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_extra_fields_become_keys_and_quotes_stay_valid_json(captured: io.StringIO) -> None:
    logging.getLogger("sift.catalog").info(
        'index "books" rebuilt', extra={"index": "books", "documents": 3}
    )
    (record,) = lines(captured)
    assert record["message"] == 'index "books" rebuilt'
    assert record["level"] == "INFO" and record["logger"] == "sift.catalog"
    assert record["index"] == "books" and record["documents"] == 3
    assert "time" in record


def test_uvicorn_lines_are_json_without_the_coloured_copy(captured: io.StringIO) -> None:
    logging.getLogger("uvicorn.error").info(
        "Started server process [%d]", 7, extra={"color_message": "\x1b[36m7\x1b[0m"}
    )
    (record,) = lines(captured)
    assert record["message"] == "Started server process [7]"
    assert "color_message" not in record


def test_routine_library_lines_are_left_out(captured: io.StringIO) -> None:
    logging.getLogger("alembic.runtime.migration").info("Running upgrade 0001 -> 0002")
    logging.getLogger("httpx").info("HTTP Request: POST http://sift.internal/indexes/x/search")
    logging.getLogger("alembic.runtime.migration").warning("something to act on")
    assert [r["message"] for r in lines(captured)] == ["something to act on"]


def test_access_lines_are_the_same_json_written_by_their_own_thread(
    captured: io.StringIO,
) -> None:
    access = logging.getLogger("uvicorn.access")
    [handler] = [h for h in access.handlers if isinstance(h, AccessLogHandler)]
    handler.target.setStream(captured)
    try:
        access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", "/version", "1.1", 200)
        handler.close()  # drains the queue
    finally:  # the test run's own set-up again
        access.removeHandler(handler)
        access.propagate = True
    (record,) = lines(captured)
    assert record["message"] == '127.0.0.1:5000 - "GET /version HTTP/1.1" 200'
    assert record["level"] == "INFO" and record["logger"] == "uvicorn.access"
    assert "time" in record


class CountingStream(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def test_queued_access_lines_are_written_at_once() -> None:
    """One write for what was queued: each write is a system call that gives the GIL to
    the event loop and makes this thread wait to have it back."""
    stream = CountingStream()
    handler = AccessLogHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler._stop.set()  # no writer thread starts; this test drains the queue itself
    for path in ("/a", "/b", "/c"):
        handler.emit(logging.makeLogRecord({"msg": path}))
    handler._write_queued()
    assert stream.getvalue() == "/a\n/b\n/c\n"
    assert stream.writes == 1


def test_the_writer_thread_starts_with_the_first_record() -> None:
    """A process that logs no access line (the workers' supervisor) has no writer."""
    stream = io.StringIO()
    handler = AccessLogHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    assert handler._writer is None
    handler.handle(logging.makeLogRecord({"msg": "/a"}))
    assert handler._writer is not None and handler._writer.name == "access-log"
    handler.close()
    assert stream.getvalue() == "/a\n"


def _written(stream: CountingStream, text: str) -> bool:
    """Whether ``text`` reached ``stream`` within a few seconds (the writer's thread)."""
    deadline = time.monotonic() + 5
    while stream.getvalue() != text and time.monotonic() < deadline:
        time.sleep(0.005)
    return stream.getvalue() == text


def _closed_within(handler: AccessLogHandler, seconds: float) -> bool:
    """close() from another thread; whether it returned in time (not stuck on the writer)."""
    closing = threading.Thread(target=handler.close, daemon=True)
    closing.start()
    closing.join(seconds)
    return not closing.is_alive()


def test_an_idle_writer_blocks_instead_of_polling(monkeypatch: pytest.MonkeyPatch) -> None:
    """No line, no wake-up (`sift serve --log-level warning` queues none): the writer
    waits on the queue, and close wakes it to drain and exit."""
    monkeypatch.setattr(access_log, "EVERY_S", 0.001)  # a poll would look ~100 times
    handler = AccessLogHandler(CountingStream())
    looks = []
    write_queued = handler._write_queued
    handler._write_queued = lambda *first: (looks.append(first), write_queued(*first))[1]
    handler.start()
    time.sleep(0.1)
    assert looks == []
    assert _closed_within(handler, 5)


def test_a_line_to_an_idle_writer_is_written_at_once_then_batched(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The first line after a quiet spell is not held for ``EVERY_S``; the lines that come
    while the writer sleeps after it go out together, in order, in one write."""
    monkeypatch.setattr(access_log, "EVERY_S", 60.0)
    stream = CountingStream()
    handler = AccessLogHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.start()
    handler.handle(logging.makeLogRecord({"msg": "/a"}))
    assert _written(stream, "/a\n") and stream.writes == 1
    for path in ("/b", "/c", "/d"):
        handler.handle(logging.makeLogRecord({"msg": path}))
    assert stream.writes == 1  # the writer sleeps its EVERY_S: no write per line
    assert _closed_within(handler, 5)  # close cuts the sleep short and drains the queue
    assert stream.getvalue() == "/a\n/b\n/c\n/d\n"
    assert stream.writes == 2


def test_the_serving_process_starts_the_writer_before_its_other_threads(
    captured: io.StringIO, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app's start-up starts the writer, ahead of the threads the app starts: glibc
    gives its two malloc arenas to threads in turn, and with the writer started by the
    first request the task worker shared the event loop's arena (a 200k import's peak
    RSS 1.5-2 MiB higher). Logging configured alone (the workers' supervisor) starts none."""
    handler = logging.getLogger("uvicorn.access").handlers[0]
    assert isinstance(handler, AccessLogHandler) and handler._writer is None
    started: list[str] = []
    start = threading.Thread.start

    def recorded(thread: threading.Thread) -> None:
        started.append(thread.name)
        start(thread)

    monkeypatch.setattr(threading.Thread, "start", recorded)
    try:
        with make_client(tmp_path):
            assert handler._writer is not None and handler._writer.is_alive()
        app_threads = [i for i, name in enumerate(started) if name.startswith(("sift-", "AnyIO"))]
        assert "sift-worker" in started
        assert started.index("access-log") < min(app_threads)
    finally:
        handler.close()


def test_a_deferred_access_line_is_the_line_the_logger_writes(captured: io.StringIO) -> None:
    """`sift serve`'s protocol logs through deferred(): the record is made on the
    writer's thread, with the time of the call, and the line is the logger's own."""
    access = logging.getLogger("uvicorn.access")
    [handler] = [h for h in access.handlers if isinstance(h, AccessLogHandler)]
    handler.target.setStream(captured)
    pytest_own = [h for h in access.handlers if h is not handler]  # pytest's capture
    for other in pytest_own:
        access.removeHandler(other)
    stand_in = deferred(access)
    assert isinstance(stand_in, DeferredLogger)
    args = ("127.0.0.1:5000", "POST", "/events", "1.1", 201)
    try:
        access.info('%s - "%s %s HTTP/%s" %d', *args)
        stand_in.info('%s - "%s %s HTTP/%s" %d', *args)
        access.setLevel(logging.WARNING)  # the level still counts, read at each call
        stand_in.info('%s - "%s %s HTTP/%s" %d', *args)
        handler.close()  # drains the queue
    finally:  # the test run's own set-up again
        access.removeHandler(handler)
        for other in pytest_own:
            access.addHandler(other)
        access.propagate = True
        access.setLevel(logging.NOTSET)
    direct, queued = lines(captured)
    assert set(direct) == set(queued) == {"time", "level", "logger", "message"}
    assert {**direct, "time": None} == {**queued, "time": None}
    assert queued["message"] == '127.0.0.1:5000 - "POST /events HTTP/1.1" 201'


def test_a_deferred_record_keeps_the_time_of_the_call() -> None:
    handler = AccessLogHandler(io.StringIO())
    handler.setFormatter(logging.Formatter("%(created)f %(msecs)d %(message)s"))
    handler._stop.set()  # no writer thread starts; this test drains the queue itself
    logger = logging.getLogger("test.deferred")
    before = time.time()
    handler.defer(logger, "%s", ("/a",))
    after = time.time()
    time.sleep(0.01)
    handler._write_queued()
    created, msecs, message = handler.target.stream.getvalue().split()
    assert before - 1e-6 <= float(created) <= after + 1e-6
    assert int(msecs) == int((float(created) % 1) * 1000) and message == "/a"


def test_records_that_others_see_are_not_deferred() -> None:
    """A filter, a second handler or propagation would see the record on the loop: the
    logger itself then, unchanged."""
    logger = logging.getLogger("test.not-deferred")
    logger.propagate = False
    handler = AccessLogHandler(io.StringIO())
    logger.addHandler(handler)
    try:
        assert isinstance(deferred(logger), DeferredLogger)
        logger.addFilter(lambda record: True)
        assert deferred(logger) is logger
        logger.filters.clear()
        logger.propagate = True
        assert deferred(logger) is logger
        logger.propagate = False
        logger.addHandler(logging.NullHandler())
        assert deferred(logger) is logger
    finally:
        logger.handlers.clear()
        handler.close()


"""The server's logs: one JSON object per line, for Sift's records and the libraries' alike."""

from __future__ import annotations

import io
import json
import logging
import logging.config
from collections.abc import Iterator

import pytest

from sift.http.access_log import AccessLogHandler, DeferredAccessLogger, deferred
from sift.server import logging_config


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


def test_a_deferred_access_line_is_the_line_the_logger_writes(
    captured: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The record made on the writer's thread from the queued parts gives the same JSON,
    time included, as the record uvicorn's call would have made on the event loop."""
    access = logging.getLogger("uvicorn.access")
    handler = next(h for h in access.handlers if isinstance(h, AccessLogHandler))
    handler.target.setStream(captured)
    monkeypatch.setattr("time.time", lambda: 1_765_000_000.25)
    line = ('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "POST", "/indexes/a/search", "1.1", 200)
    try:
        stand_in = deferred(access)
        assert isinstance(stand_in, DeferredAccessLogger)
        access.info(*line)
        stand_in.info(*line)
        handler.close()  # drains the queue
    finally:  # the test run's own set-up again
        access.removeHandler(handler)
        access.propagate = True
    direct, queued = captured.getvalue().splitlines()
    assert queued == direct
    assert json.loads(queued)["time"].endswith(",250")


def test_deferred_lines_go_through_the_logger_when_it_has_other_handlers() -> None:
    """Another handler (or a filter) on the logger: the line takes the logger's own path,
    so that every handler sees it, as before."""
    logger = logging.getLogger("test.access.deferred")
    logger.propagate = False
    queued = AccessLogHandler(io.StringIO())
    queued._stop.set()  # no writer thread; the test reads the queue
    seen: list[str] = []
    other = logging.Handler()
    other.emit = lambda record: seen.append(record.getMessage())  # type: ignore[method-assign]
    logger.addHandler(queued)
    logger.setLevel(logging.INFO)
    try:
        stand_in = DeferredAccessLogger(logger, queued)
        stand_in.info("%s %d", "/a", 200)
        assert queued._queue.qsize() == 1 and isinstance(queued._queue.get(), tuple)
        logger.addHandler(other)
        stand_in.info("%s %d", "/b", 200)
        assert seen == ["/b 200"]
        assert isinstance(queued._queue.get(), logging.LogRecord)  # through the logger
        logger.setLevel(logging.WARNING)
        stand_in.info("%s %d", "/c", 200)
        assert queued._queue.empty() and seen == ["/b 200"]
    finally:
        logger.handlers.clear()


def test_only_a_logger_with_an_access_handler_is_deferred() -> None:
    logger = logging.getLogger("test.access.plain")
    assert deferred(logger) is logger


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


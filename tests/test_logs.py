"""Structured logs: one JSON line per request; errors with their context."""

import json
import logging

import pytest
from django.test import override_settings
from django.urls import path

from companion.logs import JsonFormatter


def broken_view(request):
    raise RuntimeError("the disk is on fire")


urlpatterns = [path("broken/", broken_view)]


def formatted(records, logger):
    return [json.loads(JsonFormatter().format(r)) for r in records if r.name == logger]


def test_each_request_logs_one_json_line_with_status_and_duration(client, db, caplog):
    with caplog.at_level(logging.INFO, logger="companion.request"):
        response = client.get("/glossary/", headers={"X-Request-ID": "abc123"})
    [line] = formatted(caplog.records, "companion.request")
    assert line["status"] == 200 and line["method"] == "GET" and line["path"] == "/glossary/"
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["request_id"] == "abc123" == response["X-Request-ID"]
    assert line["level"] == "INFO" and line["time"].endswith("Z")


def test_a_404_is_logged_with_its_status(client, db, caplog):
    with caplog.at_level(logging.INFO, logger="companion.request"):
        client.get("/episodes/nothing-here/")
    assert [line["status"] for line in formatted(caplog.records, "companion.request")] == [404]


@override_settings(ROOT_URLCONF=__name__)
def test_a_server_error_is_logged_with_the_request_and_traceback(client, db, caplog):
    client.raise_request_exception = False
    with caplog.at_level(logging.INFO):
        response = client.get("/broken/")
    assert response.status_code == 500
    [error] = formatted(caplog.records, "django.request")
    assert error["level"] == "ERROR" and error["path"] == "/broken/" and error["method"] == "GET"
    assert "the disk is on fire" in error["exception"] and error["request_id"]
    [access] = formatted(caplog.records, "companion.request")
    assert access["status"] == 500 and access["request_id"] == error["request_id"]


def test_hostile_values_stay_inside_their_json_string(db):
    record = logging.LogRecord("companion.request", logging.INFO, __file__, 1, "GET %s", ('/x"\n{"admin": true}',), None)
    line = JsonFormatter().format(record)
    assert "\n" not in line
    assert json.loads(line)["message"] == 'GET /x"\n{"admin": true}'


@pytest.mark.parametrize("value", ["", "x" * 500])
def test_a_missing_or_huge_request_id_is_replaced_or_cut(client, db, caplog, value):
    response = client.get("/healthz", headers={"X-Request-ID": value})
    assert 0 < len(response["X-Request-ID"]) <= 64


def record(level=logging.INFO, message="GET / 200"):
    return logging.LogRecord("companion.request", level, __file__, 1, message, (), None)


def test_request_lines_are_written_in_batches_and_warnings_at_once():
    import io

    from companion.logs import BatchingStreamHandler

    stream = io.StringIO()
    handler = BatchingStreamHandler(stream, lines=3, seconds=60)
    handler.emit(record())
    handler.emit(record())
    assert stream.getvalue() == ""
    handler.emit(record())
    assert stream.getvalue().count("\n") == 3
    handler.emit(record())
    handler.emit(record(logging.WARNING, "slow"))
    assert stream.getvalue().splitlines()[-2:] == ["GET / 200", "slow"]


def test_a_quiet_worker_still_writes_its_lines_within_the_seconds():
    import io
    import time

    from companion.logs import BatchingStreamHandler

    stream = io.StringIO()
    handler = BatchingStreamHandler(stream, lines=100, seconds=0.1)
    handler.emit(record())
    deadline = time.monotonic() + 5
    while not stream.getvalue() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert stream.getvalue() == "GET / 200\n"


def fork():
    """os.fork() for a child that only logs a line and exits (the warning about threads is for children that go on)."""
    import os
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return os.fork()


def test_a_forked_worker_flushes_its_own_lines(tmp_path):
    """gunicorn forks its workers from a master that may have logged already: the flusher thread doesn't
    survive the fork, so each worker must start its own, or a quiet worker's lines would wait forever."""
    import os
    import time

    from companion.logs import BatchingStreamHandler

    path = tmp_path / "lines.log"
    with open(path, "a") as stream:
        handler = BatchingStreamHandler(stream, lines=100, seconds=0.1)
        handler.emit(record(message="from the master"))  # starts the master's flusher
        pid = fork()
        if pid == 0:
            try:
                handler.emit(record(message="from the worker"))
                time.sleep(1)  # only a flusher thread of this process can write it now
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
        handler.flush()
    assert "from the worker\n" in path.read_text()


def test_request_ids_differ_between_forked_workers():
    import os

    from companion.logs import request_id

    read_end, write_end = os.pipe()
    pid = fork()
    if pid == 0:
        try:
            os.write(write_end, request_id("").encode())
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    os.close(write_end)
    worker_id = os.read(read_end, 100).decode()
    os.close(read_end)
    assert len(worker_id) == 32 and int(worker_id, 16) >= 0
    assert worker_id != request_id("")


def test_records_still_name_their_process_for_gunicorns_own_lines():
    """settings.py stops collecting fields our lines never show, but gunicorn's format shows the process."""
    line = logging.Formatter("[%(process)d] [%(levelname)s] %(message)s").format(record(message="Booting worker"))
    assert line.endswith("[INFO] Booting worker") and "None" not in line


@pytest.fixture
def only_a_batching_handler():
    """
    The production set-up: one BatchingStreamHandler with the JSON formatter on the root
    logger. pytest adds its own capturing handlers when the test starts, so the test
    calls the returned function to leave ours alone.
    """
    import io

    from companion.logs import BatchingStreamHandler

    root = logging.getLogger()
    saved = root.handlers[:], root.level
    stream = io.StringIO()
    handler = BatchingStreamHandler(stream, lines=1000, seconds=60)
    handler.setFormatter(JsonFormatter())

    def alone():
        root.handlers[:] = [handler]
        root.setLevel(logging.INFO)
        return handler, stream

    yield alone
    root.handlers[:], level = saved
    root.setLevel(level)


REQUESTS = [
    ("GET", "/episodes/138-the-great-purges/", 200, None, "a" * 32, 147_420),
    ("HEAD", '/x"\n{"admin": true}/é—☃/\u2028', 304, 7, "r\"id", 0),
    ("POST", "/notes/", 500, 12345678901234567890, "", None),
]


@pytest.mark.parametrize("method, path, status, user_id, rid, size", REQUESTS)
def test_the_direct_request_line_is_the_line_the_formatter_writes(only_a_batching_handler, method, path, status, user_id, rid, size):
    """log_request skips the LogRecord where only our handler would see it: the line must be the same."""
    import time

    from companion.logs import log_request, sole_batching_handler

    handler, stream = only_a_batching_handler()
    assert sole_batching_handler() is handler
    log_request(method, path, status, time.perf_counter(), user_id, rid, size)
    handler.flush()
    direct = stream.getvalue()
    assert direct.endswith("\n") and direct.count("\n") == 1
    # The same request through the logging machinery (a second handler turns the direct path off).
    records = []
    capture = logging.Handler()
    capture.emit = records.append
    logging.getLogger().addHandler(capture)
    try:
        log_request(method, path, status, time.perf_counter(), user_id, rid, size)
    finally:
        logging.getLogger().removeHandler(capture)
    handler.flush()
    through_logging = stream.getvalue()[len(direct):]
    [record] = records
    assert through_logging == JsonFormatter().format(record) + "\n"
    first, second = json.loads(direct), json.loads(through_logging)
    assert list(first) == list(second)  # the same keys in the same order
    for entry in (first, second):
        entry.pop("time"), entry.pop("duration_ms")
    assert first == second
    assert second["path"] == path and second["user_id"] == user_id and second["bytes"] == size


def test_a_filter_or_the_text_format_takes_the_usual_path(only_a_batching_handler):
    import time

    from companion.logs import log_request, sole_batching_handler

    handler, stream = only_a_batching_handler()
    assert sole_batching_handler() is handler
    handler.addFilter(lambda record: False)  # an operator's filter must still apply
    assert sole_batching_handler() is None
    log_request("GET", "/", 200, time.perf_counter(), None, "x", 1)
    handler.flush()
    assert stream.getvalue() == ""
    handler.filters.clear()
    handler.setFormatter(logging.Formatter("%(message)s"))
    assert sole_batching_handler() is None
    log_request("GET", "/", 200, time.perf_counter(), None, "x", 1)
    handler.flush()
    assert stream.getvalue() == "GET / 200\n"

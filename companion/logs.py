"""
Structured logs: one JSON object per line, so a log shipper needs no parsing rules.

RequestLogMiddleware writes one line per request (method, path, status,
duration, user); so does the page memory in front of Django
(companion/page_memory.py) for the repeats it answers itself, through the
same log_request(). Django's own "django.request" logger adds the traceback
and the request for server errors. The formatter is a few lines of the
standard library, which is all JSON lines need.

A line is written on every request, so it is kept cheap: the time is
formatted once a second, one encoder is reused, and the console handler
writes lines in batches (BatchingStreamHandler: within a second, and
warnings and errors at once) (docs/load-benchmark.md).
"""

import json
import logging
import math
import os
import random
import threading
import time
import weakref
from functools import lru_cache
from json.encoder import encode_basestring_ascii

from django.db import DatabaseError

request_log = logging.getLogger("companion.request")
# Set in the environ of a request whose line the page memory in front writes itself (companion/page_memory.py).
LOGGED_HERE = "companion.page_memory.logged_here"

STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
ENCODER = json.JSONEncoder(default=str)


def json_scalar(value):
    """A string, a whole or finite number or None as ENCODER writes it, without building an encoder per call."""
    if value is None:
        return "null"
    if type(value) is str:
        return encode_basestring_ascii(value)
    if type(value) is int or (type(value) is float and math.isfinite(value)):
        return repr(value)
    return ENCODER.encode(value)


class JsonFormatter(logging.Formatter):
    converter = time.gmtime

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.second, self.second_text = None, ""

    def timestamp(self, created):
        """UTC to the millisecond; the part to the second is formatted once a second."""
        second = int(created)
        if second != self.second:
            self.second_text = time.strftime("%Y-%m-%dT%H:%M:%S", self.converter(second))
            self.second = second
        return f"{self.second_text}.{int((created - second) * 1000):03d}Z"

    def request_line(self, created, method, path, status, duration_ms, user_id, request_id, size):
        """
        The line format() writes for log_request's record, without making the record:
        the same keys in the same order (tests/test_logs.py compares the two).
        """
        return (
            f'{{"time": "{self.timestamp(created)}", "level": "INFO", '
            f'"logger": "{request_log.name}", {request_line_head(method, path, status)}, '
            f'"duration_ms": {json_scalar(duration_ms)}, "user_id": {json_scalar(user_id)}, '
            f'"request_id": {json_scalar(request_id)}, "bytes": {json_scalar(size)}}}'
        )

    def format(self, record):
        entry = {
            "time": self.timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in STANDARD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = value
        request = entry.pop("request", None)
        if request is not None and hasattr(request, "path"):
            # django.request passes the request itself: keep what identifies it.
            entry.setdefault("method", request.method)
            entry.setdefault("path", request.path)
            entry.setdefault("request_id", getattr(request, "request_id", None))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return ENCODER.encode(entry)


# A thread doesn't survive gunicorn's fork: each worker starts its handlers' flushers again.
# (Asked of the fork once rather than of os.getpid() on every line: a system call per request.)
BATCHING_HANDLERS = weakref.WeakSet()


def restart_flushers_after_fork():
    for handler in BATCHING_HANDLERS:
        handler.flusher_started = False


os.register_at_fork(after_in_child=restart_flushers_after_fork)


class BatchingStreamHandler(logging.StreamHandler):
    """
    A StreamHandler that writes its lines in batches: when `lines` are waiting,
    when the oldest has waited `seconds`, or at once for a warning or worse.

    One write a request was most of a log line's cost on a cached page (the
    way nginx's access_log buffer= saves it). A quiet worker's lines go out
    within `seconds` all the same: a thread of each process flushes them.
    """

    def __init__(self, stream=None, lines=64, seconds=1.0):
        super().__init__(stream)
        self.lines, self.seconds = lines, seconds
        self.waiting, self.since = [], 0.0
        self.flusher_started = False
        BATCHING_HANDLERS.add(self)

    def emit(self, record):
        try:
            line = self.format(record)
        except Exception:
            self.handleError(record)
            return
        self.add(line, record.levelno)

    def add(self, line, levelno):
        """Queue a formatted line (log_request's direct path comes in here too)."""
        with self.lock:
            if not self.waiting:
                self.since = time.monotonic()
            self.waiting.append(line + self.terminator)
            if levelno >= logging.WARNING or len(self.waiting) >= self.lines:
                self.write_waiting()
            if not self.flusher_started:
                self.flusher_started = True
                threading.Thread(target=self.flush_now_and_then, daemon=True, name="log-flusher").start()

    def write_waiting(self):
        if self.waiting:
            lines, self.waiting = "".join(self.waiting), []
            self.stream.write(lines)
            self.stream.flush()

    def flush(self):
        with self.lock:
            self.write_waiting()

    def flush_now_and_then(self):
        while True:
            time.sleep(self.seconds / 2)
            with self.lock:
                if self.waiting and time.monotonic() - self.since >= self.seconds:
                    self.write_waiting()


def request_id(header):
    """
    The caller's X-Request-ID (cut to 64 characters), or a new random one.

    An id only ties a request's lines together, it guards nothing, so it comes
    from the random module (reseeded in each forked worker) rather than from
    os.urandom, a system call on every request.
    """
    return header[:64] or f"{random.getrandbits(128):032x}"


@lru_cache(maxsize=256)
def request_line_head(method, path, status):
    """The part of a request's line its method, path and status fix: worked out once for a busy page."""
    return (f'"message": {json_scalar(f"{method} {path} {status}")}, "method": {json_scalar(method)}, '
            f'"path": {json_scalar(path)}, "status": {json_scalar(status)}')


def sole_batching_handler():
    """
    The BatchingStreamHandler with our JsonFormatter that alone receives request
    lines, with no filter on the way; None when the logging set-up is anything
    else (a test's capturing handler, the text format, an extra handler).
    """
    handlers, logger = [], request_log
    while logger:
        if logger.filters:
            return None
        handlers += logger.handlers
        logger = logger.parent if logger.propagate else None
    if len(handlers) != 1:
        return None
    handler = handlers[0]
    if (type(handler) is BatchingStreamHandler and type(handler.formatter) is JsonFormatter
            and not handler.filters and handler.level <= logging.INFO):
        return handler
    return None


def log_request(method, path, status, started, user_id, request_id, size):
    """
    The one line per request; started is time.perf_counter() when it came in.

    Where the line would go only to our batching handler, it is formatted and
    queued directly: the same line, without a LogRecord and the logging
    machinery, which were half a cached page's log cost (docs/load-benchmark.md).
    """
    if not request_log.isEnabledFor(logging.INFO):
        return
    duration_ms = round((time.perf_counter() - started) * 1000, 2)
    handler = sole_batching_handler()
    if handler is not None:
        line = handler.formatter.request_line(time.time(), method, path, status, duration_ms, user_id, request_id, size)
        handler.add(line, logging.INFO)
        return
    request_log.info(
        "%s %s %s", method, path, status,
        extra={
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": duration_ms,
            "user_id": user_id,
            "request_id": request_id,
            "bytes": size,
        },
    )


class RequestLogMiddleware:
    """First in the stack, so static files and errors are timed and logged too."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = request_id(request.headers.get("X-Request-ID", ""))
        started = time.perf_counter()
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        if request.META.get(LOGGED_HERE):
            return response
        user = getattr(request, "user", None)
        try:
            user_id = user.pk if user is not None and user.is_authenticated else None
        except DatabaseError:  # the session couldn't be read: log the request (a 503) all the same
            user_id = None
        log_request(
            request.method, request.path, response.status_code, started, user_id, request.request_id,
            len(response.content) if not response.streaming else None,
        )
        return response

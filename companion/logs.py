"""
Structured logs: one JSON object per line, so a log shipper needs no parsing rules.

RequestLogMiddleware writes one line per request (method, path, status,
duration, user); Django's own "django.request" logger adds the traceback and
the request for server errors. The formatter is a few lines of the standard
library, which is all JSON lines need.
"""

import json
import logging
import time
import uuid

from django.db import DatabaseError

request_log = logging.getLogger("companion.request")

STANDARD_ATTRIBUTES = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record):
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
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
        return json.dumps(entry, default=str)


JsonFormatter.converter = time.gmtime


class RequestLogMiddleware:
    """First in the stack, so static files and errors are timed and logged too."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = request.headers.get("X-Request-ID", "")[:64] or uuid.uuid4().hex
        started = time.perf_counter()
        response = self.get_response(request)
        user = getattr(request, "user", None)
        try:
            user_id = user.pk if user is not None and user.is_authenticated else None
        except DatabaseError:  # the session couldn't be read: log the request (a 503) all the same
            user_id = None
        request_log.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "user_id": user_id,
                "request_id": request.request_id,
                "bytes": len(response.content) if not response.streaming else None,
            },
        )
        response["X-Request-ID"] = request.request_id
        return response

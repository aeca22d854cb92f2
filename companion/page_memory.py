"""
Repeat requests for shared pages, answered from the worker's memory before Django.

PageMemory wraps the WSGI application (companion/wsgi.py). When Django answers
a GET with a page marked for shared caches (`Cache-Control: public`, no
cookie set: companion/shared_pages.py), the worker keeps the status, headers
and body for PAGE_FRESH_SECONDS; a repeat of the same request is answered
from that copy, a matching If-None-Match with a 304, without building a
request object, running the middleware or touching the database. Every
header (CSP, framing, nosniff, ETag, Cache-Control) was worked out once,
when the page was rendered; each answer still gets its own X-Request-ID, an Age
(so browsers and proxies count max-age from when Django answered) and its
line in the request log.

What counts as "the same request": scheme (and X-Forwarded-Proto), host,
path, query string and HX-Request; a page that varies on anything else is
not kept. Requests with the session or flash-message cookie, and requests
asking for a fresh answer (`Cache-Control: no-cache` or `max-age=0`: a
reload, or a reverse proxy fetching after a purge) always go to Django. So
an anonymous reader may see a page up to PAGE_FRESH_SECONDS old;
signed-in readers and proxies never do.

A big page's bytes are also kept in an in-memory file (memfd), which the
server sends with sendfile, the way WhiteNoise's files go out, rather than
copying them through Python on every answer.
"""

import os
import time
import weakref
from collections import OrderedDict

from django.conf import settings
from django.utils.http import parse_etags

from .logs import LOGGED_HERE, log_request, request_id
from .shared_pages import reader_cookie_names

HEADERS_LEFT_OUT = {"x-request-id", "x-page-cache"}
# What a 304 carries of the page's headers (RFC 9110 15.4.5): the browser keeps the rest from its
# copy, and each header line costs gunicorn's Python a little on the smallest answer there is.
IN_A_304 = {"cache-control", "content-location", "etag", "expires", "vary"}
VARY_KEPT = {"hx-request"}


def request_path(environ):
    """The path as Django's request.path has it (WSGI gives it as latin-1)."""
    return environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")


# Smaller answers go out as bytes: a file's extra system calls would cost more than the copy.
SENDFILE_FROM_BYTES = 32 * 1024


class BodyFile:
    """
    A kept page's bytes in an anonymous in-memory file, for the server's
    wsgi.file_wrapper: gunicorn hands it to the kernel with sendfile. The page
    keeps it while it is kept (close() does nothing; the descriptor is closed
    when the page is dropped). One worker thread answers one request at a
    time, so the file's one position is that request's: answer() rewinds it.
    """

    def __init__(self, body):
        self.fd = os.memfd_create("companion-page", os.MFD_CLOEXEC)
        weakref.finalize(self, os.close, self.fd)
        view = memoryview(body)
        while view:
            view = view[os.write(self.fd, view):]

    def fileno(self):
        return self.fd

    def seek(self, offset, whence=os.SEEK_SET):
        return os.lseek(self.fd, offset, whence)

    def tell(self):
        return os.lseek(self.fd, 0, os.SEEK_CUR)

    def read(self, size=-1):
        if size is None or size < 0:
            size = os.fstat(self.fd).st_size - self.tell()
        return os.read(self.fd, size)

    def close(self):
        """The answer is sent; the file stays with its page."""


class Page:
    __slots__ = ("kept_at", "fresh_until", "etag", "status", "headers", "headers_304", "body", "file")

    def __init__(self, kept_at, fresh_until, status, headers, body, file=None):
        self.kept_at, self.fresh_until = kept_at, fresh_until
        self.status = status
        self.headers = [*headers, ("X-Page-Cache", "memory")]
        self.headers_304 = [(name, value) for name, value in headers if name.lower() in IN_A_304]
        self.etag = next((value for name, value in headers if name.lower() == "etag"), None)
        self.body = body
        self.file = file

    def body_for(self, environ):
        """The body as the server sends it best: a file for sendfile when it is big and the server
        takes one, else the bytes."""
        wrapper = environ.get("wsgi.file_wrapper")
        if len(self.body) < SENDFILE_FROM_BYTES or wrapper is None or environ.get("wsgi.multithread", True):
            return [self.body]
        if self.file is None:
            try:
                self.file = BodyFile(self.body)
            except OSError:  # no memfd here (or no descriptor left): bytes will do
                return [self.body]
        self.file.seek(0)
        return wrapper(self.file)


def keepable(status, headers):
    """A 200 that shared caches may keep, with a length, no cookie and no Vary we don't key on."""
    if not status.startswith("200"):
        return False
    names = {name.lower(): value for name, value in headers}
    cache_control = names.get("cache-control", "")
    vary = {name.strip().lower() for name in names.get("vary", "").split(",") if name.strip()}
    return (
        "public" in cache_control
        and "set-cookie" not in names
        and "content-length" in names
        and vary <= VARY_KEPT
    )


class PageMemory:
    def __init__(self, application):
        self.application = application
        self.pages = OrderedDict()  # request key -> Page

    def __call__(self, environ, start_response):
        seconds = settings.PAGE_FRESH_SECONDS
        if not seconds or not self.may_answer(environ):
            return self.application(environ, start_response)
        started = time.perf_counter()
        key = (
            environ["wsgi.url_scheme"],
            environ.get("HTTP_X_FORWARDED_PROTO", ""),
            environ.get("HTTP_HOST", ""),
            environ.get("PATH_INFO", ""),
            environ.get("QUERY_STRING", ""),
            environ.get("HTTP_HX_REQUEST", ""),
        )
        page = self.pages.get(key)
        if page is not None and page.fresh_until > time.monotonic():
            return self.answer(environ, start_response, page, started)
        if page is None and "HTTP_IF_NONE_MATCH" in environ:
            return self.fill_then_answer(environ, start_response, key, seconds, started)
        answered = []

        def capture(status, headers, exc_info=None):
            answered[:] = [status, headers]
            return start_response(status, headers, exc_info)

        response = self.application(environ, capture)
        status, headers = answered
        if keepable(status, headers) and isinstance(getattr(response, "content", None), bytes):
            page = self.keep(key, seconds, status, headers, response.content)
        elif page is not None and status.startswith("304") and ("ETag", page.etag) in headers:
            # Django just confirmed the copy is current (the ETag is worked out from the database).
            self.keep(key, seconds, page.status, page.headers[:-1], page.body, page.file)
        return response

    def fill_then_answer(self, environ, start_response, key, seconds, started):
        """
        A reader revalidating a page this worker has no copy of (a new worker, say):
        ask Django for the whole page, keep it, and answer the reader's If-None-Match
        from it, so readers who only revalidate fill the memory too. Django's own
        log line is left out: this request's line says what the reader got.
        """
        inner = {name: value for name, value in environ.items() if name != "HTTP_IF_NONE_MATCH"}
        inner[LOGGED_HERE] = True
        answered = []
        response = self.application(inner, lambda status, headers, exc_info=None: answered.extend([status, headers]))
        try:
            status, headers = answered
            if not (keepable(status, headers) and isinstance(getattr(response, "content", None), bytes)):
                # Not a shared page after all: the whole answer, which a conditional request may always get.
                start_response(status, headers)
                log_request(environ["REQUEST_METHOD"], request_path(environ), int(status[:3]), started, None,
                            dict(headers).get("X-Request-ID", ""), len(getattr(response, "content", b"")))
                return [response.content] if hasattr(response, "content") else list(response)
            page = self.keep(key, seconds, status, headers, response.content)
        finally:
            response.close()
        return self.answer(environ, start_response, page, started)

    def answer(self, environ, start_response, page, started):
        """The kept page, or a 304 when the reader has it; logged like any request."""
        method = environ["REQUEST_METHOD"]
        rid = request_id(environ.get("HTTP_X_REQUEST_ID", ""))
        if_none_match = environ.get("HTTP_IF_NONE_MATCH")
        if if_none_match and page.etag and (if_none_match == page.etag or page.etag in parse_etags(if_none_match)):
            status, headers, size, body = "304 Not Modified", page.headers_304, 0, [b""]
        elif method == "GET":
            status, headers, size, body = page.status, page.headers, len(page.body), page.body_for(environ)
        else:
            status, headers, size, body = page.status, page.headers, 0, [b""]
        # How long ago Django answered: caches downstream count the max-age from then.
        age = int(time.monotonic() - page.kept_at)
        start_response(status, [*headers, ("Age", str(age)), ("X-Request-ID", rid)])
        log_request(method, request_path(environ), int(status[:3]), started, None, rid, size)
        return body

    def keep(self, key, seconds, status, headers, body, file=None):
        headers = [(name, value) for name, value in headers if name.lower() not in HEADERS_LEFT_OUT]
        now = time.monotonic()
        page = Page(now, now + seconds, status, headers, body, file)
        self.pages[key] = page
        self.pages.move_to_end(key)
        while len(self.pages) > settings.PAGE_FRESH_ENTRIES:
            self.pages.popitem(last=False)
        return page

    @staticmethod
    def may_answer(environ):
        """A GET or HEAD with nothing of the reader's, and not asking for a fresh answer."""
        if environ["REQUEST_METHOD"] not in ("GET", "HEAD"):
            return False
        cookies = environ.get("HTTP_COOKIE", "")
        if cookies and any(f"{name}=" in cookies for name in reader_cookie_names()):
            return False
        cache_control = environ.get("HTTP_CACHE_CONTROL", "")
        return not ("no-cache" in cache_control or "max-age=0" in cache_control)

"""
Fetch a feed, or a file a feed points at, over HTTP(S) — carefully.

A feed is untrusted: its transcript and chapter URLs could name any host,
any size, any scheme. So: http and https only (redirects included), a
timeout, a byte cap read in chunks (a lying or absent Content-Length changes
nothing), and hosts on loopback or private networks refused unless the
FEED_FETCH_ALLOW_PRIVATE setting says otherwise (the tests serve fixtures
from 127.0.0.1). Every failure is a FetchError whose message is for a person.
"""

import ipaddress
import socket
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from django.conf import settings

from companion.params import int_or_none

TIMEOUT = 20  # seconds, per connection and per read
TOTAL_TIMEOUT = 120  # seconds for the whole body: a server dripping bytes is cut off too
USER_AGENT = "Companion feed import"
_CHUNK = 64 * 1024


class FetchError(Exception):
    """A URL we could not read; the message names it and says why."""


def _check_url(url):
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FetchError(f"{url}: only http:// and https:// URLs are fetched, not {parts.scheme or 'a bare path'}.")
    if not parts.hostname:
        raise FetchError(f"{url}: the URL has no host.")
    if getattr(settings, "FEED_FETCH_ALLOW_PRIVATE", False):
        return
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, parts.port or 80)}
    except (socket.gaierror, UnicodeError) as error:
        raise FetchError(f"{url}: the host {parts.hostname} cannot be found ({error}).") from None
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global:
            raise FetchError(f"{url}: {parts.hostname} is a local or private address; not fetched.")


class _SafeRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects only to http(s) URLs that pass the same checks."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        _check_url(newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_opener = urllib.request.build_opener(_SafeRedirects)


def fetch_url(url, *, max_bytes, timeout=TIMEOUT, what="file"):
    """The body of a GET on url, at most max_bytes long, or a FetchError."""
    url = (url or "").strip()
    _check_url(url)
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with _opener.open(request, timeout=timeout) as response:
            # A missing or unreadable length is no reason to refuse: the bytes are counted below.
            declared = int_or_none(response.headers.get("Content-Length", "").strip())
            if declared is not None and declared > max_bytes:
                raise FetchError(_too_big(url, what, max_bytes, declared))
            body, deadline = bytearray(), time.monotonic() + TOTAL_TIMEOUT
            while chunk := response.read(_CHUNK):
                body += chunk
                if len(body) > max_bytes:
                    raise FetchError(_too_big(url, what, max_bytes))
                if time.monotonic() > deadline:
                    raise FetchError(f"{url}: still downloading after {TOTAL_TIMEOUT} seconds; given up.")
            return bytes(body)
    except FetchError:
        raise
    except urllib.error.HTTPError as error:
        raise FetchError(f"{url}: the server answered {error.code} {error.reason}.") from None
    except urllib.error.URLError as error:
        reason = error.reason
        if isinstance(reason, FetchError):
            raise reason from None
        raise FetchError(f"{url}: could not be reached ({reason}).") from None
    except TimeoutError:
        raise FetchError(f"{url}: no answer within {timeout} seconds.") from None
    except (OSError, ValueError) as error:  # connection reset, malformed URL, bad chunking …
        raise FetchError(f"{url}: could not be read ({error}).") from None


def _too_big(url, what, max_bytes, size=None):
    size = f"is {size:,} bytes" if size else "is larger than that"
    return f"{url}: the {what} {size}; the limit is {max_bytes // (1024 * 1024)} MB ({max_bytes:,} bytes)."

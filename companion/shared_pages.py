"""
Pages every anonymous reader sees alike, marked so that shared caches may keep them.

A view decorated with @shared_when_anonymous renders, for an anonymous reader
with no flash message waiting, a page that depends on nothing of theirs:
base.html then leaves out the CSRF token (it would hand one reader's secret to
all) and no per-reader state is put in the page (the player keeps its resume
position in the browser). SharedPageMiddleware, at the top of the stack,
looks at the finished answer and, if it still holds (no cookie was set, no
CSP nonce was used, a 200 or a 304), sends

    Cache-Control: public, max-age=SHARED_PAGE_MAX_AGE, stale-while-revalidate=SHARED_PAGE_STALE_SECONDS

with an ETag, and without the `Vary: Cookie` that reading the session adds:
a reader who merely carries a cookie (the CSRF cookie a form gave them) gets
the same page as everyone, and a reverse proxy or CDN can keep one copy for
all (docs/shared-cache.md). Signed-in readers, and anonymous ones with a
flash message, get `private, no-cache`: their page is their own, revalidated
each time. Shared caches must not answer requests that carry the session or
flash-message cookie from their copy (the sample Varnish config passes them).
Signing in or out answers with `Clear-Site-Data: "cache"`, so the browser
drops the public pages it kept and never shows a reader the page of someone
signed out (or in).

The page memory in front of Django (companion/page_memory.py) keeps these
same answers, and purge() tells configured proxies that content changed.
"""

import hashlib
import logging
import urllib.parse
from functools import wraps
from http.client import HTTPConnection, HTTPSConnection

from django.conf import settings
from django.contrib.messages import get_messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.db import transaction
from django.middleware.csp import get_nonce
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import quote_etag

log = logging.getLogger(__name__)
SAFE_METHODS = ("GET", "HEAD")


def shared_cache_control():
    return (
        f"public, max-age={settings.SHARED_PAGE_MAX_AGE}, "
        f"stale-while-revalidate={settings.SHARED_PAGE_STALE_SECONDS}"
    )


def reader_cookie_names():
    """Cookies that make a page a reader's own: the session and waiting flash messages."""
    return (settings.SESSION_COOKIE_NAME, CookieStorage.cookie_name)


def shared_when_anonymous(view):
    """The view's page is the same for every anonymous reader: shared caches may keep it."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        shared = (
            request.method in SAFE_METHODS
            and not request.user.is_authenticated
            and not len(get_messages(request))
        )
        request.shared_by_readers = shared
        response = view(request, *args, **kwargs)
        if not shared:
            # Revalidated every time, and kept by no one but the reader's browser.
            patch_cache_control(response, private=True, no_cache=True)
        return response

    return wrapper


class SharedPageMiddleware:
    """
    Headers for pages shared between anonymous readers, set once the whole stack has answered.

    First below the request log, so it sees the cookies, Vary and CSP headers
    every other middleware added.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if getattr(request, "signed_in_or_out", False):
            # The browser may hold public pages from before: they must not show the wrong reader.
            response["Clear-Site-Data"] = '"cache"'
        if not getattr(request, "shared_by_readers", False):
            if not response.has_header("Cache-Control") and self.is_personal(request, response):
                # A signed-in reader's answers, and answers setting a cookie (a form's CSRF
                # token: Django sets it again whenever a page uses it), are theirs alone
                # unless the view said otherwise.
                patch_cache_control(response, private=True)
            return response
        if response.status_code not in (200, 304) or response.cookies or get_nonce(request):
            # Something of this reader's got in after all: never shared.
            patch_cache_control(response, private=True, no_cache=True)
            return response
        if response.status_code == 200 and not response.has_header("ETag") and not response.streaming:
            response["ETag"] = quote_etag(hashlib.md5(response.content, usedforsecurity=False).hexdigest())
            response = get_conditional_response(request, etag=response["ETag"], response=response)
        response["Cache-Control"] = shared_cache_control()
        vary = [name for name in response.get("Vary", "").split(",") if name.strip() and name.strip().lower() != "cookie"]
        if vary:
            response["Vary"] = ",".join(vary).strip()
        elif response.has_header("Vary"):
            del response["Vary"]
        response.shared_by_readers = True
        return response

    @staticmethod
    def is_personal(request, response):
        user = getattr(request, "user", None)
        return bool(response.cookies) or (user is not None and user.is_authenticated)


def note_sign_in_or_out(sender, request, **kwargs):
    """user_logged_in / user_logged_out: the answer tells the browser to drop its cached pages."""
    if request is not None:
        request.signed_in_or_out = True


# ---- telling a proxy in front that content changed ---------------------------------

def purge_after_commit(sender, **kwargs):
    """
    A row of a content app (SHARED_CACHE_CONTENT_APPS) was saved or deleted: once
    its transaction commits, ask the proxies to drop every page. Edits are rare on a
    read-mostly site, and a page unchanged since is rebuilt from the origin's
    page cache; a map of which change touches which page would only go stale.
    """
    if not settings.SHARED_CACHE_PURGE_URLS or sender._meta.app_label not in settings.SHARED_CACHE_CONTENT_APPS:
        return
    connection = transaction.get_connection()
    # Once per transaction, however many rows it writes (a relink saves hundreds).
    if not any(callback is purge for _, callback, _ in connection.run_on_commit):
        transaction.on_commit(purge)


def purge(prefix="/"):
    """
    Send `BAN <prefix>` to each proxy in SHARED_CACHE_PURGE_URLS: it drops every
    page whose path starts with the prefix (docs/varnish.vcl). A proxy that
    can't be reached is logged, not raised: its copies then expire within
    max-age plus the stale grace, as without purging.
    """
    for url in settings.SHARED_CACHE_PURGE_URLS:
        parts = urllib.parse.urlsplit(url)
        connection_class = HTTPSConnection if parts.scheme == "https" else HTTPConnection
        connection = connection_class(parts.hostname, parts.port, timeout=settings.SHARED_CACHE_PURGE_TIMEOUT)
        try:
            connection.request("BAN", prefix, headers={"Host": parts.netloc})
            status = connection.getresponse().status
            if status >= 300:
                log.warning("proxy %s answered %s to BAN %s", url, status, prefix)
        except OSError as error:
            log.warning("proxy %s could not be purged: %s", url, error)
        finally:
            connection.close()

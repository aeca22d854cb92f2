"""
Pages a shared cache may keep: their headers, the page memory in front of
Django, and purging a proxy when content changes (companion/shared_pages.py,
companion/page_memory.py).
"""

import gc
import http.server
import logging
import os
import re
import socket
import threading

import pytest
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.http import HttpResponse
from django.middleware.csp import get_nonce
from django.middleware.csrf import get_token
from django.test import RequestFactory, override_settings
from django.urls import path

from companion import page_memory
from companion.page_memory import PageMemory
from companion.shared_pages import shared_when_anonymous


@shared_when_anonymous
def page_that_sets_a_cookie(request):
    get_token(request)
    return HttpResponse("<p>A form</p>")


@shared_when_anonymous
def page_that_uses_its_nonce(request):
    return HttpResponse(f"<script nonce='{get_nonce(request)}'></script>")


urlpatterns = [
    path("sets-a-cookie/", page_that_sets_a_cookie),
    path("uses-its-nonce/", page_that_uses_its_nonce),
]


@pytest.fixture
def episode(small_episode):
    return small_episode["episode"]


@pytest.fixture
def reader(django_user_model):
    return django_user_model.objects.create_user("gil", password="pw-long-enough-1")


# ---- the headers -----------------------------------------------------------------------

def test_an_anonymous_page_is_public_for_a_minute_with_a_grace_and_an_etag(client, episode):
    response = client.get(episode.get_absolute_url())
    assert response["Cache-Control"] == "public, max-age=60, stale-while-revalidate=30"
    assert response["ETag"]


def test_a_cookie_the_reader_merely_carries_changes_nothing(client, episode):
    """The CSRF cookie a form once gave them: same page, same headers, no Vary: Cookie."""
    plain = client.get(episode.get_absolute_url())
    client.cookies["csrftoken"] = "nvte0v7Kwucy8nkktyV9rpyH52FAaMGy"
    with_cookie = client.get(episode.get_absolute_url())
    assert with_cookie.content == plain.content and with_cookie["ETag"] == plain["ETag"]
    assert "public" in with_cookie["Cache-Control"]
    assert "cookie" not in with_cookie.get("Vary", "").lower()
    assert not with_cookie.cookies


@pytest.mark.parametrize("address", ["/glossary/", "/glossary/nkvd/", "/people/", "/people/joseph-stalin/",
                                     "/search/?q=Stalin", "/timeline/"])
def test_other_reading_pages_are_public_and_answer_304_to_their_etag(client, small_episode, address):
    first = client.get(address)
    assert first.status_code == 200 and first["Cache-Control"].startswith("public, max-age=")
    again = client.get(address, headers={"if-none-match": first["ETag"]})
    assert again.status_code == 304 and again.content == b""
    assert again["Cache-Control"] == first["Cache-Control"]


def test_a_shared_page_carries_no_csp_nonce(client, episode):
    response = client.get(episode.get_absolute_url())
    assert "nonce" not in response.content.decode() and "nonce" not in response["Content-Security-Policy"]


def test_signed_in_pages_are_private_and_vary_on_the_cookie(client, episode, reader):
    client.force_login(reader)
    for address in (episode.get_absolute_url(), "/glossary/", "/search/?q=Stalin"):
        response = client.get(address)
        assert response["Cache-Control"] == "private, no-cache", address
        assert "Cookie" in response["Vary"]


def test_an_anonymous_reader_with_a_flash_message_gets_a_private_page(client, episode):
    from django.contrib.messages import constants
    from django.contrib.messages.storage.base import Message
    from django.contrib.messages.storage.cookie import CookieStorage
    from django.http import HttpRequest

    storage = CookieStorage(HttpRequest())
    client.cookies[storage.cookie_name] = storage._encode([Message(constants.SUCCESS, "Signed out.")])
    response = client.get("/glossary/")
    assert "Signed out." in response.content.decode()
    assert response["Cache-Control"] == "private, no-cache"


def test_signing_in_and_out_clears_the_pages_the_browser_kept(client, reader):
    """A public page kept by the browser before signing in would show the wrong reader's menu."""
    assert "Clear-Site-Data" not in client.get("/accounts/login/")
    signed_in = client.post("/accounts/login/", {"username": "gil", "password": "pw-long-enough-1"})
    assert signed_in.status_code == 302 and signed_in["Clear-Site-Data"] == '"cache"'
    assert "Clear-Site-Data" not in client.get("/glossary/")
    assert client.post("/accounts/logout/")["Clear-Site-Data"] == '"cache"'


@override_settings(ROOT_URLCONF=__name__)
@pytest.mark.parametrize("address", ["/sets-a-cookie/", "/uses-its-nonce/"])
def test_a_page_that_turned_out_personal_is_never_public(client, db, address):
    """A cookie set or a nonce used while rendering makes the page this reader's own."""
    response = client.get(address)
    assert response["Cache-Control"] == "private, no-cache"


# ---- every Cache-Control the site sends ---------------------------------------------------

DELTA_SECONDS = {"max-age", "s-maxage", "stale-while-revalidate", "stale-if-error"}
FLAGS = {"public", "private", "no-cache", "no-store", "no-transform", "must-revalidate",
         "proxy-revalidate", "must-understand", "immutable"}


def parse_cache_control(value):
    """{directive: seconds or True}, failing on anything RFC 9111 (and 5861, 8246) doesn't define."""
    directives = {}
    for part in value.split(","):
        name, _, argument = part.strip().partition("=")
        assert name == name.lower() and name not in directives, value
        if name in DELTA_SECONDS:
            assert re.fullmatch(r"[0-9]+", argument), f"{name} needs seconds: {value!r}"
            directives[name] = int(argument)
        else:
            assert name in FLAGS and not argument, f"not a directive: {part.strip()!r} in {value!r}"
            directives[name] = True
    assert not ("public" in directives and "private" in directives), value
    return directives


def test_the_parser_refuses_what_the_site_once_sent():
    with pytest.raises(AssertionError):
        parse_cache_control("no-cache, private=False")
    assert parse_cache_control("public, max-age=60") == {"public": True, "max-age": 60}


@pytest.fixture
def every_answer(client, small_episode, reader, django_user_model):
    """(who, address, response) for every kind of answer: pages, feeds, exports, errors, redirects."""
    from tests.factories import make_anchored_note

    episode = small_episode["episode"]
    note = make_anchored_note(episode, reader, 1, body="A note to see.")
    staff = django_user_model.objects.create_user("mo", password="pw-long-enough-1", is_staff=True)
    slug = episode.slug
    readable = ["/", "/episodes/", "/series/", episode.series.get_absolute_url(), f"/episodes/{slug}/",
                f"/episodes/{slug}/?t=5", f"/episodes/{slug}/notes/", "/glossary/", "/glossary/nkvd/",
                "/people/", "/people/joseph-stalin/", "/sources/", "/sources/education-of-a-true-believer/",
                "/search/?q=Stalin", "/search/?q=zzzzqx", "/timeline/", "/timeline.json", "/feed.xml",
                f"/episodes/{slug}/transcript.txt", f"/episodes/{slug}/words.json", f"/episodes/{slug}/chapters.json",
                f"/episodes/{slug}/notes.atom", f"/notes/{note.pk}/annotation.jsonld", "/sitemap.xml",
                "/robots.txt", "/healthz", "/no-such-page/", "/accounts/login/", "/accounts/signup/",
                "/accounts/password_reset/", f"/episodes/{slug}/notes/new/"]
    answers = [(None, address, client.get(address)) for address in readable]
    answers.append((None, "login form sent", client.post("/accounts/login/", {"username": "gil", "password": "x"})))
    client.force_login(reader)
    answers += [("reader", address, client.get(address)) for address in readable + ["/accounts/password_change/"]]
    client.force_login(staff)
    answers += [("staff", address, client.get(address)) for address in ["/moderation/", f"/episodes/{slug}/review/"]]
    return answers


def test_every_cache_control_the_site_sends_is_well_formed(every_answer):
    sent = [(who, address, response["Cache-Control"]) for who, address, response in every_answer
            if response.has_header("Cache-Control")]
    assert len(sent) > 30
    for who, address, value in sent:
        directives = parse_cache_control(value)
        if "public" in directives:
            assert directives.get("max-age", 0) > 0, (address, value)


def test_every_anonymous_reading_page_is_public_and_every_signed_in_one_private(every_answer):
    for who, address, response in every_answer:
        if not address.startswith("/") or response.status_code != 200 or response["Content-Type"].split(";")[0] != "text/html":
            continue
        directives = parse_cache_control(response.get("Cache-Control", f"missing on {address}"))
        form = address.startswith("/accounts/") or address.endswith("/new/")  # it carries a CSRF token
        if who is not None or form:
            assert "private" in directives, (who, address)
        else:
            assert "public" in directives and response.has_header("ETag"), address


# ---- the page memory in front of Django -----------------------------------------------------

@pytest.fixture
def memory(settings, db):
    """PageMemory over Django's WSGI handler, as companion/wsgi.py builds it; connections kept open as the test client does."""
    settings.PAGE_FRESH_SECONDS = 60
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield PageMemory(WSGIHandler())
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def call(application, address, method="GET", **headers):
    """(status code, headers, body) of one WSGI call."""
    environ = RequestFactory().generic(method, address, headers=headers).environ
    answered = {}

    def start_response(status, header_list, exc_info=None):
        answered["status"], answered["headers"] = int(status[:3]), dict(header_list)

    result = application(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        getattr(result, "close", lambda: None)()
    return answered["status"], answered["headers"], body


def test_a_repeat_is_answered_from_memory_without_queries_and_with_every_header(memory, episode, django_assert_num_queries):
    address = episode.get_absolute_url()
    _, first_headers, first = call(memory, address)
    with django_assert_num_queries(0):
        status, headers, body = call(memory, address)
    assert status == 200 and body == first and headers["X-Page-Cache"] == "memory"
    for name in ("ETag", "Cache-Control", "Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options"):
        assert headers[name] == first_headers[name], name
    assert headers["X-Request-ID"] != first_headers["X-Request-ID"]
    assert headers["Age"] == "0" and "Age" not in first_headers


def test_a_copy_says_how_old_it_is(memory, episode, monkeypatch):
    """Browsers and proxies count max-age from when Django answered, so a reader's bound stays max-age + grace."""
    import companion.page_memory as page_memory

    call(memory, episode.get_absolute_url())
    now = page_memory.time.monotonic()
    monkeypatch.setattr(page_memory.time, "monotonic", lambda: now + 3.7)
    assert call(memory, episode.get_absolute_url())[1]["Age"] == "3"


def test_a_reader_who_has_the_page_gets_a_304_from_memory(memory, episode, django_assert_num_queries):
    address = episode.get_absolute_url()
    _, headers, _ = call(memory, address)
    with django_assert_num_queries(0):
        status, not_modified, body = call(memory, address, if_none_match=headers["ETag"])
    assert status == 304 and body == b"" and "Content-Length" not in not_modified
    assert not_modified["ETag"] == headers["ETag"] and not_modified["Cache-Control"] == headers["Cache-Control"]
    assert not_modified["Vary"] == headers["Vary"] and not_modified["X-Request-ID"]
    # A list of tags, as a browser holding several versions sends.
    assert call(memory, address, if_none_match=f'"other", {headers["ETag"]}')[0] == 304
    assert call(memory, address, if_none_match='"other"')[0] == 200


def test_a_worker_with_no_copy_fills_its_memory_from_a_revalidation(memory, episode, caplog, django_assert_num_queries):
    """A new worker that only sees If-None-Match (readers revalidating) still ends up answering from memory."""
    # The tag comes from another worker: Django without this memory. (Not the test Client, which
    # reconnects close_old_connections after its request and so closes PostgreSQL's test connection.)
    etag = call(WSGIHandler(), episode.get_absolute_url())[1]["ETag"]
    caplog.clear()
    status, headers, body = call(memory, episode.get_absolute_url(), if_none_match=etag)
    assert status == 304 and body == b"" and headers["ETag"] == etag
    [line] = [record for record in caplog.records if record.name == "companion.request"]
    assert line.status == 304  # one line, with what the reader got
    with django_assert_num_queries(0):
        assert call(memory, episode.get_absolute_url(), if_none_match=etag)[0] == 304
        assert call(memory, episode.get_absolute_url())[1]["X-Page-Cache"] == "memory"


def test_a_revalidated_page_that_is_not_shared_comes_whole(memory, db):
    status, headers, body = call(memory, "/accounts/login/", if_none_match='"an old tag"')
    assert status == 200 and b"csrfmiddlewaretoken" in body and "csrftoken" in headers["Set-Cookie"]
    assert headers["X-Request-ID"] and memory.pages == {}


def test_a_head_request_gets_the_headers_only(memory, episode):
    call(memory, episode.get_absolute_url())
    status, headers, body = call(memory, episode.get_absolute_url(), method="HEAD")
    assert status == 200 and body == b"" and headers["X-Page-Cache"] == "memory"


def test_memory_answers_are_logged_like_any_request(memory, episode, caplog):
    call(memory, episode.get_absolute_url())
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="companion.request"):
        call(memory, episode.get_absolute_url(), x_request_id="from-the-proxy")
    [line] = [record for record in caplog.records if record.name == "companion.request"]
    assert (line.status, line.path, line.request_id, line.user_id) == (200, episode.get_absolute_url(), "from-the-proxy", None)


@pytest.mark.parametrize("headers", [
    {"cookie": "sessionid=abc"},
    {"cookie": "csrftoken=x; messages=y"},
    {"cache_control": "no-cache"},  # a proxy fetching after a purge, or a hard reload
    {"cache_control": "max-age=0"},  # a reload
    {"hx_request": "true"},  # another variant: the first one kept was the full page
    {"host": "other.example"},  # not a host this page was answered for
])
def test_requests_the_copy_does_not_fit_go_to_django(memory, episode, headers, settings):
    settings.ALLOWED_HOSTS = ["testserver", "other.example"]
    call(memory, episode.get_absolute_url())
    _, answer, _ = call(memory, episode.get_absolute_url(), **headers)
    assert answer.get("X-Page-Cache") != "memory"


def test_private_pages_are_never_kept(memory, episode, client, reader):
    client.force_login(reader)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    for _ in range(2):
        _, headers, body = call(memory, episode.get_absolute_url(), cookie=cookie)
        assert headers.get("X-Page-Cache") != "memory" and b"gil" in body
    assert memory.pages == {}


def test_the_copy_expires_after_its_fresh_seconds(memory, episode, settings, monkeypatch):
    import companion.page_memory as page_memory

    settings.PAGE_FRESH_SECONDS = 5
    call(memory, episode.get_absolute_url())
    now = page_memory.time.monotonic()
    monkeypatch.setattr(page_memory.time, "monotonic", lambda: now + 6)
    assert call(memory, episode.get_absolute_url())[1].get("X-Page-Cache") != "memory"


def test_a_304_from_django_renews_the_copy(memory, episode, settings, monkeypatch):
    """Readers who revalidate keep the fast path: Django's 304 proves the copy is current."""
    import companion.page_memory as page_memory

    settings.PAGE_FRESH_SECONDS = 5
    _, headers, _ = call(memory, episode.get_absolute_url())
    now = page_memory.time.monotonic()
    monkeypatch.setattr(page_memory.time, "monotonic", lambda: now + 6)
    status, answer, _ = call(memory, episode.get_absolute_url(), if_none_match=headers["ETag"])
    assert status == 304 and answer.get("X-Page-Cache") != "memory"  # asked Django
    assert call(memory, episode.get_absolute_url())[1]["X-Page-Cache"] == "memory"


def test_the_memory_can_be_turned_off(memory, episode, settings):
    settings.PAGE_FRESH_SECONDS = 0
    call(memory, episode.get_absolute_url())
    assert call(memory, episode.get_absolute_url())[1].get("X-Page-Cache") != "memory"


def test_the_memory_keeps_the_latest_pages_only(memory, small_episode, settings):
    settings.PAGE_FRESH_ENTRIES = 2
    for address in ("/glossary/", "/people/", "/sources/"):
        call(memory, address)
    assert [key[3] for key in memory.pages] == ["/people/", "/sources/"]


def call_with_file_wrapper(application, address, multithread=False):
    """One WSGI call as gunicorn's sync worker makes it: (headers, what the application returned)."""
    from gunicorn.http.wsgi import FileWrapper

    environ = RequestFactory().get(address).environ | {"wsgi.file_wrapper": FileWrapper, "wsgi.multithread": multithread}
    answered = {}
    result = application(environ, lambda status, header_list, exc_info=None: answered.update(header_list))
    return answered, result


def sent_by_sendfile(result):
    """What gunicorn would send from the file: from its position to its end, read as sendfile reads it."""
    descriptor = result.filelike.fileno()
    start = os.lseek(descriptor, 0, os.SEEK_CUR)
    return os.pread(descriptor, os.fstat(descriptor).st_size - start, start)


def test_a_big_kept_page_goes_to_the_server_as_a_file_it_can_sendfile(memory, episode, monkeypatch):
    monkeypatch.setattr(page_memory, "SENDFILE_FROM_BYTES", 1)
    address = episode.get_absolute_url()
    _, _, rendered = call(memory, address)
    for _ in range(2):  # each answer starts from the top of the file, whatever the last one left
        headers, result = call_with_file_wrapper(memory, address)
        assert headers["X-Page-Cache"] == "memory" and int(headers["Content-Length"]) == len(rendered)
        assert sent_by_sendfile(result) == rendered
        os.lseek(result.filelike.fileno(), 0, os.SEEK_END)  # as sendfile leaves it
        result.close()  # as the server does: the page keeps its file
    # A server that iterates the wrapper instead (sendfile off) gets the same bytes.
    _, result = call_with_file_wrapper(memory, address)
    assert b"".join(result) == rendered


def test_small_pages_and_threaded_servers_get_bytes(memory, episode, monkeypatch):
    address = episode.get_absolute_url()
    call(memory, address)
    monkeypatch.setattr(page_memory, "SENDFILE_FROM_BYTES", 10**9)
    assert isinstance(call_with_file_wrapper(memory, address)[1], list)
    monkeypatch.setattr(page_memory, "SENDFILE_FROM_BYTES", 1)
    # Threads of one worker would share the file's one position.
    assert isinstance(call_with_file_wrapper(memory, address, multithread=True)[1], list)


def test_a_dropped_page_closes_its_file(memory, small_episode, settings, monkeypatch):
    monkeypatch.setattr(page_memory, "SENDFILE_FROM_BYTES", 1)
    settings.PAGE_FRESH_ENTRIES = 1
    call(memory, "/glossary/")
    _, result = call_with_file_wrapper(memory, "/glossary/")
    descriptor = result.filelike.fileno()
    assert "memfd:companion-page" in os.readlink(f"/proc/self/fd/{descriptor}")
    del result
    call(memory, "/people/")  # pushes the glossary out of the memory
    gc.collect()
    assert not os.path.exists(f"/proc/self/fd/{descriptor}") or "companion-page" not in os.readlink(f"/proc/self/fd/{descriptor}")


# ---- purging a proxy ------------------------------------------------------------------------

class Proxy(http.server.BaseHTTPRequestHandler):
    received = []

    def do_BAN(self):
        self.received.append((self.command, self.path))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def proxy(settings):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    Proxy.received = []
    settings.SHARED_CACHE_PURGE_URLS = [f"http://127.0.0.1:{server.server_port}"]
    yield Proxy.received
    server.shutdown()
    server.server_close()
    thread.join()


def test_an_edit_bans_every_page_once_its_transaction_commits(episode, proxy, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        episode.title = "The Great Purges, revised"
        episode.save()
        for sentence in episode.sentences.all():
            sentence.save()
        assert proxy == []  # not before the commit
    assert len(callbacks) == 1
    assert proxy == [("BAN", "/")]


def test_a_rolled_back_edit_purges_nothing(episode, proxy, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        episode.save()
    assert len(callbacks) == 1 and proxy == []  # never run: nothing was committed


def test_rows_that_appear_on_no_shared_page_purge_nothing(proxy, django_capture_on_commit_callbacks, django_user_model):
    with django_capture_on_commit_callbacks(execute=True):
        django_user_model.objects.create_user("hal", password="pw-long-enough-1")
    assert proxy == []


def test_without_a_proxy_configured_nothing_is_sent(episode, settings, django_capture_on_commit_callbacks):
    settings.SHARED_CACHE_PURGE_URLS = []
    with django_capture_on_commit_callbacks() as callbacks:
        episode.save()
    assert callbacks == []


def test_a_proxy_that_is_down_is_logged_not_raised(episode, settings, django_capture_on_commit_callbacks, caplog):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.SHARED_CACHE_PURGE_URLS = [f"http://127.0.0.1:{port}"]
    with caplog.at_level(logging.WARNING, logger="companion.shared_pages"):
        with django_capture_on_commit_callbacks(execute=True):
            episode.save()
    assert "could not be purged" in caplog.text

"""
Every kind of page, checked by tools nobody here wrote: axe-core in Chromium
(accessibility, light and dark) and the Nu HTML Checker (markup).

Both come from package.json (`npm ci`). Without them the checks are skipped
with the reason, except under CI=true, where a missing tool is a failure.
"""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.db import OperationalError
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from playwright.sync_api import expect

from companion.views import server_error
from alignment.models import AlignmentRun
from episodes.models import Episode
from notes.models import Note
from tests.factories import make_anchored_note, make_flag, make_reply, make_user

ROOT = Path(settings.BASE_DIR)
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
VNU = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
JAVA = shutil.which("java")
EPISODE = "/episodes/138-the-great-purges/"
NO_AXE = "axe-core (node_modules/axe-core: run `npm ci`)"
NO_VNU = "the Nu HTML Checker (node_modules/vnu-jar: run `npm ci`) or Java 17+ to run it"


def require(present, what):
    """Skip loudly without a checker; under CI a missing checker fails the run."""
    if present:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {what} is missing.")
    pytest.skip(f"SKIPPED: {what} is missing")


def test_the_checkers_are_pinned_exactly():
    """package.json names exact versions and the lock holds the same ones."""
    wanted = json.loads((ROOT / "package.json").read_text())["devDependencies"]
    locked = json.loads((ROOT / "package-lock.json").read_text())["packages"]
    assert set(wanted) == {"axe-core", "vnu-jar"}
    for name, version in wanted.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), (name, version)
        assert locked[f"node_modules/{name}"]["version"] == version


# ---- the pages -------------------------------------------------------------------------

@pytest.fixture
def demo(site):
    """The demo episode with its narration, a listener with notes, and a moderator with a queue."""
    episode = Episode.objects.get(slug="138-the-great-purges")
    sentences = list(episode.sentences.order_by("position")[:6])
    reader = make_user("reader", display_name="Reader")
    newcomer = make_user("newcomer")
    moderator = make_user("moderator", is_staff=True)
    # Someone who never signs in here, so the reset link stays valid (a sign-in would spend it).
    forgetful = make_user("forgetful", email="forgetful@example.org")
    reset = reverse("password_reset_confirm", args=[urlsafe_base64_encode(force_bytes(forgetful.pk)),
                                                    default_token_generator.make_token(forgetful)])
    note = make_anchored_note(episode, reader, sentences[1].position, exact=sentences[1].text[:20],
                              body="Which *lists*? See [the archive](https://example.org/).")
    make_reply(note, newcomer, body="A reply from a first-time listener.", status=Note.Status.PENDING)
    flagged = make_anchored_note(episode, newcomer, sentences[4].position, body="Buy now!")
    make_flag(flagged, reader, detail="Looks like an advert.")
    # An alignment that left two sentences for an editor to review.
    AlignmentRun.objects.create(episode=episode, audio="narration.mp3", status=AlignmentRun.Status.DONE,
                                progress=1, started=timezone.now(), finished=timezone.now())
    episode.sentences.filter(position__in=[3, 5]).update(confidence=0.2)
    return {"url": site, "note": note, "series": episode.series.get_absolute_url(), "reset": reset,
            "users": {"reader": reader, "moderator": moderator}}


def pages(demo):
    """(address, who is signed in) for every kind of HTML page, in the states a reader meets."""
    note = demo["note"]
    return [
        ("/", None),
        ("/episodes/", None),
        ("/episodes/?order=number", None),
        ("/series/", None),
        (demo["series"], None),
        (EPISODE, None),
        (EPISODE + "?t=600", None),
        (EPISODE, "reader"),
        (EPISODE + "notes/", None),
        (EPISODE + "notes/?passage=1-9", None),  # a segment's note badge leads here
        (EPISODE + "notes/", "reader"),
        (EPISODE + "notes/new/?paragraph=1", "reader"),
        (f"/notes/{note.pk}/edit/", "reader"),
        ("/notes/mine/", "reader"),
        ("/glossary/", None),
        ("/glossary/?q=trial", None),
        ("/glossary/nkvd/", None),
        ("/people/", None),
        ("/people/nikolai-yezhov/", None),
        ("/sources/", None),
        ("/sources/khlevniuk-stalin-new-biography/", None),
        ("/search/?q=Ezhov", None),
        ("/search/?q=purged&group=moments", None),
        ("/search/?q=zzzzqx", None),
        ("/timeline/", None),
        ("/timeline/?person=nikolai-yezhov", None),
        ("/moderation/", "moderator"),
        ("/suggestions/", "moderator"),
        (EPISODE + "review/", "moderator"),
        (EPISODE + "review/?show=review", "moderator"),
        (EPISODE + "edit/", "moderator"),
        ("/accounts/login/", None),
        ("/accounts/signup/", None),
        ("/accounts/password_reset/", None),
        ("/accounts/password_reset/done/", None),
        (demo["reset"], None),  # redirects to the form for a new password
        ("/accounts/reset/MQ/no-such-token/", None),  # a spent or mistyped link
        ("/accounts/reset/done/", None),
        ("/accounts/password_change/", "reader"),
        ("/accounts/password_change/done/", "reader"),
    ]


# Named URLs that are not HTML pages a reader sees, and why.
NOT_PAGES = {
    "episodes:audio": "audio file",
    "episodes:words": "JSON",
    "episodes:transcript_export": "VTT, SRT, JSON, text",
    "notes:feed": "Atom",
    "notes:annotation": "JSON-LD",
    "notes:annotations": "JSON-LD",
    "notes:highlights": "JSON for static/js/highlights.js",
    "notes:thread": "a partial for the episode page's note panel; redirects to the notes page",
    "notes:reply": "POST only",
    "notes:delete": "POST only",
    "notes:flag": "POST only",
    "notes:moderation_act": "POST only",
    "notes:moderation_bulk": "POST only",
    "alignment:review_start": "POST only",
    "episodes:edit_sentence": "a sentence's row for htmx; without it, a redirect to the editor",
    "episodes:link_words": "POST only",
    "logout": "POST only",
    "timeline:json": "JSON for TimelineJS",
    "episodes:podcast_feed": "RSS",
    "episodes:chapters": "JSON",
    "healthz": "plain text",
    "favicon": "a redirect to the icon",
    "suggestions:decide": "POST only",
    "robots_txt": "plain text",
    "sitemap": "XML",
}


def named_urls(resolver=None, namespace=""):
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.app_name == "admin":
                continue  # Django's own admin
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from named_urls(pattern, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield namespace + pattern.name


def test_every_named_page_is_on_the_checkers_list():
    """A new page is checked too: each named URL is on the list or named as not a page."""
    placeholders = {"note": SimpleNamespace(pk=1), "series": "/series/the-soviet-union/",
                    "reset": "/accounts/reset/MQ/set-password/"}
    checked = {resolve(url.split("?")[0]).view_name for url, _ in pages(placeholders)}
    unchecked = set(named_urls()) - checked - set(NOT_PAGES)
    assert unchecked == set(), f"add these pages to tests/test_checkers.py: {sorted(unchecked)}"


def client_for(demo, who):
    client = Client()
    if who:
        client.force_login(demo["users"][who])
    return client


def failed(error):
    """What handler500 answers for a page that raised `error`."""
    try:
        raise error
    except type(error):
        return server_error(RequestFactory().get("/"))


def error_pages():
    """{label: HTML} of the pages a reader meets when something goes wrong, as the site answers them."""
    client = Client()
    not_found = client.get("/no-such-page/")
    assert not_found.status_code == 404
    unreadable = client.get("/search/", {"q": "Kirov", "page": "²"})
    assert unreadable.status_code == 400
    limit = settings.RATE_LIMITS["signup"][0]
    for _ in range(limit + 1):
        throttled = client.post("/accounts/signup/", {"username": "x y", "password1": "a", "password2": "b"})
    assert throttled.status_code == 429
    broken, unavailable = failed(ValueError("a bug")), failed(OperationalError("database is down"))
    assert (broken.status_code, unavailable.status_code) == (500, 503)
    return {"400": unreadable.content, "404": not_found.content, "429": throttled.content,
            "500": broken.content, "503": unavailable.content}


def rendered(demo):
    """{label: HTML} of every page, plus forms sent back with errors."""
    html = {}
    for url, who in pages(demo):
        response = client_for(demo, who).get(url, follow=True)
        assert response.status_code == 200, (url, who, response.status_code)
        html[f"{url} ({who or 'anonymous'})"] = response.content
    assert b"Choose a new password" in html[f"{demo['reset']} (anonymous)"]  # the link's form, not its refusal
    invalid = client_for(demo, None).post("/accounts/signup/", {"username": "x y", "password1": "a", "password2": "b"})
    assert invalid.status_code in (200, 400)
    html["/accounts/signup/ (errors)"] = invalid.content
    invalid = client_for(demo, None).post("/accounts/login/", {"username": "reader", "password": "not it"})
    assert invalid.status_code == 200 and b"form-errors" in invalid.content
    html["/accounts/login/ (errors)"] = invalid.content
    invalid = client_for(demo, "reader").post(EPISODE + "notes/new/", {"body": ""})
    assert invalid.status_code == 400
    html[EPISODE + "notes/new/ (errors)"] = invalid.content
    invalid = client_for(demo, "reader").post(f"/notes/{demo['note'].pk}/reply/", {"body": ""})
    assert invalid.status_code == 400
    html[f"/notes/{demo['note'].pk}/reply/ (errors)"] = invalid.content
    return html | error_pages()


# ---- markup: the Nu HTML Checker -------------------------------------------------------

# htmx's hx-* attributes are the vocabulary our stack is written in (STYLE.md 3
# and 6, django-htmx); HTML reserves custom attributes to data-*, so the checker
# calls each one "not allowed". Only that message, for hx- names, is set aside:
# any other error on the same elements still fails.
HTMX_ATTRIBUTE = re.compile(r"Attribute “hx-[a-z-]+” not allowed on element “[a-z]+” at this point\.")


def vnu_errors(documents, folder):
    """Check every document in one JVM start; returns {label: [messages]} for errors."""
    files = {}
    for index, (label, content) in enumerate(documents.items()):
        path = folder / f"page-{index}.html"
        path.write_bytes(content)
        files[path.name] = label
    result = subprocess.run(
        ["java", "-jar", str(VNU), "--format", "json", "--also-check-svg", *map(str, folder.glob("*.html"))],
        capture_output=True, text=True, timeout=300,
    )
    assert result.stderr.lstrip().startswith("{"), f"vnu did not answer in JSON: {result.stderr[-2000:]}"
    messages = json.loads(result.stderr)["messages"]
    errors = {}
    for message in messages:
        if HTMX_ATTRIBUTE.fullmatch(message["message"]):
            continue
        if message["type"] == "error" or message.get("subType") == "fatal":
            label = files.get(message.get("url", "").rpartition("/")[2], message.get("url"))
            errors.setdefault(label, []).append(f"line {message.get('lastLine')}: {message['message']}")
    return errors


@pytest.mark.django_db(transaction=True)
def test_the_nu_html_checker_finds_no_errors_on_any_page(demo, tmp_path):
    require(VNU.exists() and JAVA, NO_VNU)
    errors = vnu_errors(rendered(demo), tmp_path)
    assert errors == {}, json.dumps(errors, indent=1, ensure_ascii=False)


def test_the_nu_html_checker_does_report_a_broken_page(tmp_path):
    """The harness can fail: a stray end tag, a duplicate id and an empty action are reported, htmx or not."""
    require(VNU.exists() and JAVA, NO_VNU)
    broken = (b'<!doctype html><html lang="en"><title>x</title><p id="a">one</div><p id="a">two'
              b'<form action="" hx-get="/search/" hx-target="#results"></form>')
    errors = vnu_errors({"broken": broken, "fine": b'<!doctype html><html lang="en"><title>x</title>'}, tmp_path)
    assert list(errors) == ["broken"]
    assert [error.split(": ", 1)[1].split(" ")[0] for error in errors["broken"]] == ["Stray", "Duplicate", "Bad"]


# ---- accessibility: axe-core in Chromium ------------------------------------------------

# axe reports WCAG 2.x A/AA rules and its best practices; nothing is switched off.
AXE_RUN = """async () => {
  const results = await axe.run(document, {resultTypes: ['violations']});
  return results.violations.map(v => ({
    rule: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' | ' + n.failureSummary.replace(/\\s+/g, ' ')),
    count: v.nodes.length,
  }));
}"""


def axe_violations(page):
    """
    Run axe on the page as it stands. Its source is evaluated through the
    DevTools protocol, which the page's CSP does not govern, so the page keeps
    its own strict CSP (a <script> tag with the source would be refused).
    """
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    return page.evaluate(AXE_RUN)


def sign_in(page, demo, who):
    """Change who is signed in; as signing in or out on the site does (Clear-Site-Data), drop the pages the browser kept."""
    page.context.clear_cookies()
    page.context.new_cdp_session(page).send("Network.clearBrowserCache")
    if who:
        client = client_for(demo, who)
        page.context.add_cookies(
            [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": demo["url"]}]
        )


def open_popover(page):
    mention = page.locator('a.mention[href="/glossary/nkvd/"]').first
    mention.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#pop-term-nkvd")).to_be_visible()


def open_citation_preview(page):
    marker = page.locator(".fnref a").first
    marker.focus()
    page.keyboard.press("Enter")
    expect(page.locator(".popover-source:popover-open")).to_be_visible()


def show_all_names(page):
    """Every name underlined, the chapter list open, and a name's other mentions lit up by hovering it."""
    page.get_by_role("switch", name="Show all names").click()
    page.locator(".chapter-list summary").click()
    segment = page.locator(".segment:has(.mention-repeat)").first
    entity = segment.locator(".mention-repeat").first.get_attribute("data-entity")
    segment.locator(f'a.mention[data-popover="{entity}"]').hover()
    assert page.evaluate("CSS.highlights.get('same-name').size") > 0


def start_playing(page):
    page.wait_for_function("() => document.getElementById('audio').readyState >= 1")
    page.locator("#player [data-action=toggle]").click()
    page.wait_for_function("() => document.querySelector('.sentence[aria-current=\"true\"]') !== null")
    page.wait_for_function("() => !document.getElementById('audio').paused")
    # In the middle of the window, so axe can measure the highlight's contrast
    # (text under the sticky player is left "incomplete").
    page.evaluate("document.querySelector('.sentence[aria-current=\"true\"]').scrollIntoView({block: 'center'})")


def open_note_dialog(page):
    page.evaluate("""() => {
      const sentence = document.getElementById('s-2');
      const range = document.createRange();
      range.selectNodeContents(sentence);
      getSelection().removeAllRanges();
      getSelection().addRange(range);
      sentence.dispatchEvent(new MouseEvent('mouseup', {bubbles: true}));
    }""")
    page.get_by_role("button", name="Annotate").click()
    expect(page.locator("#note-dialog")).to_be_visible()


def open_passage_tools(page):
    """A sentence reached by keyboard, with its tools beside it."""
    page.get_by_role("switch", name="Show all names").focus()
    page.keyboard.press("Tab")
    page.keyboard.press("ArrowDown")
    expect(page.locator("#passage-tools")).to_be_visible()


def open_player_sheet(page):
    """On a phone: the player's sheet (copy link, download) open over the page."""
    page.wait_for_function("() => document.getElementById('audio').readyState >= 1")
    page.get_by_role("button", name=re.compile("^More")).click()
    expect(page.get_by_role("button", name="Copy link to this moment")).to_be_visible()


def open_now_strip(page):
    """On a phone, while listening: the Now strip above the player opened to its whole list."""
    start_playing(page)
    page.evaluate("document.getElementById('audio').pause()")
    page.locator("#now .now-toggle").click()
    expect(page.locator("#now .now-list li").nth(1)).to_be_visible()


def open_site_menu(page):
    """On a phone: the header's menu open."""
    page.get_by_role("button", name="Menu").click()
    expect(page.get_by_role("link", name="Timeline")).to_be_visible()


def send_back_with_errors(fields):
    """Fill the page's form so the server sends it back with errors shown."""
    def send(page):
        form = page.locator("main form.account-form")
        for name, value in fields.items():
            form.locator(f'[name="{name}"]').fill(value)
        form.locator("button[type=submit]").click()
        expect(page.locator(".form-errors")).to_be_visible()
    return send


STATES = {
    "popover open": open_popover,
    "citation preview open": open_citation_preview,
    "all names shown": show_all_names,
    "playing": start_playing,
    "note dialog open": open_note_dialog,
    "passage tools shown": open_passage_tools,
    "player sheet open": open_player_sheet,
    "Now strip open": open_now_strip,
    "site menu open": open_site_menu,
    "wrong password": send_back_with_errors({"username": "reader", "password": "not the password"}),
    "passwords differ": send_back_with_errors(
        {"username": "newcomer", "password1": "a long listening password", "password2": "another one entirely"}
    ),
}


def visits(demo, phone=False):
    """Every page, then the episode page in the states only a browser reaches (and those only a phone has)."""
    yield from ((url, who, None) for url, who in pages(demo))
    yield EPISODE, None, "popover open"
    yield EPISODE, None, "citation preview open"
    yield EPISODE, None, "all names shown"
    yield EPISODE, None, "playing"
    yield EPISODE, "reader", "note dialog open"
    yield EPISODE, "reader", "passage tools shown"
    if phone:
        yield EPISODE, None, "player sheet open"
        yield EPISODE, None, "Now strip open"
        yield "/", None, "site menu open"
    yield "/accounts/login/", None, "wrong password"
    yield "/accounts/signup/", None, "passwords differ"


def answer(body):
    return lambda route: route.fulfill(body=body, content_type="text/html; charset=utf-8")


def axe_in_each_scheme(page, schemes, label, found):
    """axe on the page as it stands, once per colour scheme (a media switch, not a reload)."""
    for scheme in schemes:
        page.emulate_media(color_scheme=scheme)
        if violations := axe_violations(page):
            found[f"{label} [{scheme}]"] = violations
    page.emulate_media(color_scheme=schemes[0])


def axe_on_error_pages(page, site, schemes, found):
    """The error pages, answered at a URL of the live site so their CSS and the CSP origin apply."""
    for label, content in error_pages().items():
        url = f"{site}/checkers/error-{label}/"
        page.route(url, answer(content))
        page.goto(url)
        expect(page.locator("main h1")).to_have_count(1)
        axe_in_each_scheme(page, schemes, f"error page {label}", found)
    page.unroute_all()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width, schemes", [(1200, ("light", "dark")), (375, ("light",))],
                         ids=["desktop-light-dark", "phone-light"])
def test_axe_finds_no_violations_on_any_page(demo, page, width, schemes):
    """Light and dark at a desktop width (each page loaded once, checked in both), and a phone's width."""
    require(AXE.exists(), NO_AXE)
    page.set_viewport_size({"width": width, "height": 900 if width > 600 else 740})
    page.goto(demo["url"] + "/")
    page.emulate_media(color_scheme="dark")
    assert page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches")
    page.emulate_media(color_scheme=schemes[0])
    found = {}
    try:
        for url, who, state in visits(demo, phone=width < 600):
            sign_in(page, demo, who)
            response = page.goto(demo["url"] + url)
            assert response.status == 200, url
            if state:
                STATES[state](page)
            axe_in_each_scheme(page, schemes, f"{url} ({who or 'anonymous'}{', ' + state if state else ''})", found)
            if state == "playing":
                page.evaluate("document.getElementById('audio').pause()")
            elif state == "all names shown":
                page.evaluate("localStorage.removeItem('companion:show-all-names')")  # the browser is shared
        page.context.clear_cookies()
        axe_on_error_pages(page, demo["url"], schemes, found)
    finally:
        page.context.clear_cookies()
    assert found == {}, summary(found) + json.dumps(found, indent=1)


def summary(found):
    """'rule: N nodes on M pages' lines, so a failure reads at a glance."""
    nodes, pages = {}, {}
    for violations in found.values():
        for violation in violations:
            nodes[violation["rule"]] = nodes.get(violation["rule"], 0) + violation["count"]
            pages[violation["rule"]] = pages.get(violation["rule"], 0) + 1
    return "".join(f"{rule}: {nodes[rule]} nodes on {pages[rule]} pages\n" for rule in sorted(nodes))


@pytest.mark.browser
def test_axe_does_report_a_broken_page(page):
    """The harness can fail: an unlabelled field and an image without alt text are reported."""
    require(AXE.exists(), NO_AXE)
    page.set_content('<html lang="en"><title>x</title><main><img src="data:,"><input type="text"></main></html>')
    rules = {violation["rule"] for violation in axe_violations(page)}
    assert {"image-alt", "label"} <= rules


@pytest.mark.browser
def test_axe_checks_each_colour_scheme_without_a_reload(page):
    """Text readable in light but not in dark is reported for dark alone."""
    require(AXE.exists(), NO_AXE)
    page.set_content('<html lang="en"><title>x</title><style>@media (prefers-color-scheme: dark) {'
                     ' p { color: #222; background: #000; } }</style><main><p>Low contrast at night.</p></main></html>')
    found = {}
    axe_in_each_scheme(page, ("light", "dark"), "page", found)
    rules = {label: {violation["rule"] for violation in found.get(f"page [{label}]", [])} for label in ("light", "dark")}
    assert "color-contrast" in rules["dark"] and "color-contrast" not in rules["light"]

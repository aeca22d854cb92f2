"""
Playwright driving Debian's Chromium, for the few things that need a browser.

Without /usr/bin/chromium the browser tests are skipped with one loud line,
except under CI=true, where a missing browser is a failure.
"""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
NO_CHROMIUM = "SKIPPED: no Chromium (apt-get install chromium)"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    # The player tests press play without a user gesture.
    "--autoplay-policy=no-user-gesture-required",
]


def chromium_available():
    return CHROMIUM.exists() and os.access(CHROMIUM, os.X_OK)


@pytest.fixture(scope="session")
def playwright_session():
    if not chromium_available():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but {CHROMIUM} is missing: install it (apt-get install chromium).")
        pytest.skip(NO_CHROMIUM)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls
    # made by fixtures in the same thread are still synchronous.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        yield playwright


def launch(playwright, **options):
    """Chromium with a fresh profile of its own; returns (context, profile folder)."""
    profile = tempfile.mkdtemp(prefix="companion-chromium-")
    options.setdefault("viewport", {"width": 1200, "height": 900})
    context = playwright.chromium.launch_persistent_context(
        profile,
        executable_path=str(CHROMIUM),
        headless=True,
        args=CHROMIUM_ARGS,
        **options,
    )
    return context, profile


@pytest.fixture(scope="session")
def browser_context(playwright_session):
    context, profile = launch(playwright_session)
    yield context
    context.close()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def no_script_page(playwright_session):
    """A page in a browser with JavaScript switched off."""
    context, profile = launch(playwright_session, java_script_enabled=False)
    yield context.new_page()
    context.close()
    shutil.rmtree(profile, ignore_errors=True)


def sign_in(context, url, user):
    """Give the browser a session for the user at the server's address, as logging in would."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": url}])


@pytest.fixture
def staff_browser(browser_context, live_server):
    """The shared browser signed in as an editor (staff, superuser); signed out afterwards."""
    from tests.factories import make_user

    sign_in(browser_context, live_server.url, make_user("editor", is_staff=True, is_superuser=True))
    yield
    browser_context.clear_cookies()


def problems_of(page):
    """A list that fills with the page's console errors and uncaught exceptions (CSP violations among them)."""
    problems = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


# A phone: its width and height, a touch screen, and the mobile viewport rules.
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}


@pytest.fixture
def phone_page(playwright_session):
    """A tab in a browser set up as a phone (390×844, touch), failing the test on any console error."""
    context, profile = launch(playwright_session, **PHONE)
    page = context.new_page()
    problems = problems_of(page)
    yield page
    context.close()
    shutil.rmtree(profile, ignore_errors=True)
    assert problems == [], f"Browser reported errors: {problems}"


@pytest.fixture
def page(browser_context):
    """
    A fresh tab that fails the test on any console error or CSP violation. The
    browser's HTTP cache starts empty: reading pages are public for a minute,
    and the tests share the context and the server's address.
    """
    page = browser_context.new_page()
    page.context.new_cdp_session(page).send("Network.clearBrowserCache")
    problems = problems_of(page)
    yield page
    page.close()
    assert problems == [], f"Browser reported errors: {problems}"

"""From the timeline to the moment an event is told, in a real browser."""

import re

import pytest
from playwright.sync_api import expect

from timeline.models import Event

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_events_listen_link_opens_the_episode_at_the_sentence_that_tells_it(site, page):
    page.goto(site + "/timeline/")
    link = page.locator("#kirov-assassinated .event-listen")
    expect(link).to_contain_text(re.compile(r"^Listen from \d+:\d\d in 138: The Great Purges$"))
    link.click()
    expect(page).to_have_url(re.compile(r"/episodes/138-the-great-purges/\?t=[\d.]+#s-23$"))
    start = float(page.get_attribute("#s-23", "data-start"))
    page.wait_for_function(f"() => Math.abs(document.getElementById('audio').currentTime - {start}) < 0.25")
    expect(page.locator("#s-23")).to_have_attribute("aria-current", "true")
    expect(page.locator("#s-23")).to_contain_text("December 1, 1934, when Sergei Kirov was killed")


def test_the_timeline_and_its_filters_load_under_the_csp(site, page):
    violations, errors = [], []
    page.expose_function("reportViolation", lambda text: violations.append(text))
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', "
        "e => window.reportViolation(e.violatedDirective + ' ' + e.blockedURI))"
    )
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(site + "/timeline/")
    page.select_option("#timeline-person", "nikolai-yezhov")
    page.click("text=Show events")
    expect(page).to_have_url(re.compile(r"/timeline/\?person=nikolai-yezhov&term=$"))
    count = Event.objects.filter(people__slug="nikolai-yezhov").count()
    expect(page.locator(".count")).to_contain_text(f"{count} events involving Nikolai Yezhov")
    page.goto(site + "/people/nikolai-yezhov/")
    page.click("text=Only these on the timeline")
    expect(page.locator(".event")).to_have_count(count)
    assert violations == [] and errors == []

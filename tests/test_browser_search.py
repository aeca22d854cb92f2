"""Search in a real browser: results as you type, shareable URLs, keyboard reachable."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_results_appear_as_you_type_and_the_url_follows(site, page):
    page.goto(site + "/")
    page.get_by_role("searchbox", name="Search").fill("Kirov")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/search/\?q=Kirov"))
    box = page.get_by_role("searchbox", name="Search the glossary, people, sources and transcripts")
    expect(box).to_be_focused()
    box.fill("")
    box.press_sequentially("Ezhov", delay=40)
    expect(page).to_have_url(re.compile(r"/search/\?q=Ezhov$"))
    expect(page.locator("#group-people")).to_contain_text("People")
    expect(page.locator("#results")).to_contain_text("Nikolai Yezhov")
    expect(page.locator("#results mark", has_text="Yezhov").first).to_be_visible()
    # Back returns to the earlier query's results.
    page.go_back()
    expect(page).to_have_url(re.compile(r"q=Kirov"))
    expect(page.locator("#results")).to_contain_text("Sergei Kirov")


def test_a_transcript_hit_opens_the_episode_at_its_sentence(site, page):
    page.goto(site + "/search/?q=Smolny&group=moments")
    hit = page.locator(".hit a").first
    target = hit.get_attribute("href").split("#")[1]
    hit.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(f"/episodes/138-the-great-purges/.*#{target}$"))
    assert page.evaluate("id => document.getElementById(id).matches(':target')", target)

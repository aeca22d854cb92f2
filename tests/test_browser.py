"""The reading room in a real browser: popovers by keyboard and hover, links back to the sentence."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EPISODE = "/episodes/138-the-great-purges/"


def test_episode_138_opens_with_its_transcript(site, page):
    page.goto(site + "/")
    page.get_by_role("link", name="The Great Purges", exact=True).click()
    page.wait_for_url(re.compile(EPISODE))
    assert page.locator("h1").inner_text() == "The Great Purges"
    assert page.locator(".sentence").count() > 100


@pytest.mark.parametrize("trigger, says", [
    ('a.mention[href="/glossary/nkvd/"]', "NKVD"),  # a term
    (".fnref a", "Stalin and the Crisis of Proletarian Dictatorship"),  # a citation's source
], ids=["term", "citation"])
def test_a_popover_opens_with_keyboard_and_closes_on_escape(site, page, trigger, says):
    page.goto(site + EPISODE)
    link = page.locator(trigger).first
    popover = page.locator(f"#{link.get_attribute('data-popover')}")
    link.focus()
    page.keyboard.press("Enter")
    popover.wait_for(state="visible")
    assert says in popover.inner_text()
    expect(link).to_have_attribute("aria-expanded", "true")
    assert page.url.endswith(EPISODE)  # Enter opened the popover instead of leaving
    # Focus moved into the popover, onto its link to the full entry.
    assert page.evaluate("document.activeElement.closest('.popover')?.id") == popover.get_attribute("id")
    page.keyboard.press("Escape")
    popover.wait_for(state="hidden")
    expect(link).to_have_attribute("aria-expanded", "false")
    expect(link).to_be_focused()


def test_a_person_popover_opens_on_hover(site, page):
    page.goto(site + EPISODE)
    mention = page.locator('a.mention[href="/people/sergei-kirov/"]').first
    mention.scroll_into_view_if_needed()
    mention.hover()
    popover = page.locator("#pop-person-sergei-kirov")
    popover.wait_for(state="visible")
    text = popover.inner_text()
    assert "Sergei Kirov" in text and "1886–1934" in text
    # Only one popover at a time.
    page.locator('a.mention[href="/glossary/nkvd/"]').first.hover()
    page.locator("#pop-term-nkvd").wait_for(state="visible")
    expect(page.locator(".popover:popover-open")).to_have_count(1)


def test_a_person_page_links_back_to_the_exact_sentence(site, page):
    page.goto(site + EPISODE)
    mention = page.locator('a.mention[href="/people/leonid-nikolaev/"]').first
    position = mention.evaluate("link => link.closest('.sentence').id")
    mention.focus()
    page.keyboard.press("Enter")  # opens the popover
    page.locator("#pop-person-leonid-nikolaev a").click()  # its link to the biography
    page.wait_for_url(re.compile("/people/leonid-nikolaev/$"))
    page.locator(f'.mention-list a[href$="#{position}"]').first.click()
    # A timed episode's mentions link to their moment (?t=…), as the X-Ray ticks do.
    page.wait_for_url(re.compile(rf"{EPISODE}(\?t=[\d.]+)?#{position}$"))
    target = page.locator(f"#{position}")
    assert target.evaluate("el => el.matches(':target')")
    # Scrolled into view (smoothly, so wait for it to arrive).
    page.wait_for_function(
        """id => { const box = document.getElementById(id).getBoundingClientRect();
                   return box.top >= 0 && box.top < innerHeight; }""",
        arg=position,
    )


def test_the_people_filter_narrows_as_you_type(site, page):
    page.goto(site + "/people/")
    everyone = page.locator("#results dt").count()
    page.get_by_role("searchbox", name="Filter people").press_sequentially("ezhov", delay=30)
    expect(page.locator("#results dt")).to_have_count(1)
    assert "Nikolai Yezhov" in page.locator("#results").inner_text()
    expect(page).to_have_url(re.compile(r"/people/\?q=ezhov$"))
    assert everyone > 20
    # The page was not reloaded: the input kept focus and its value.
    expect(page.get_by_role("searchbox", name="Filter people")).to_be_focused()

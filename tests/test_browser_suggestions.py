"""The editor's queue of suggested entries in a real browser: a new entry, an alias, a rejection."""

import pytest
from playwright.sync_api import expect

from episodes.models import Mention, Person
from episodes.transcripts import import_transcript
from suggestions.models import Suggestion
from tests.factories import make_episode, make_person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = (
    "In March 1932 Martemian Ryutin wrote a platform against Stalin.\n\n"
    "Ryutin was arrested by the OGPU, and the OGPU kept him in Suzdal.\n\n"
    "Jagoda ran the secret police while Ryutin waited."
)


@pytest.fixture
def episode():
    """Imported the way an editor imports: the suggestions task runs once the import commits."""
    episode = make_episode(number=201, slug="201-ryutin", title="Ryutin")
    make_person("Joseph Stalin", aliases="Stalin")
    make_person("Genrikh Yagoda", aliases="Yagoda")
    import_transcript(episode, TEXT)
    return episode


def row(page, name):
    return page.locator("li.suggestion").filter(has=page.get_by_role("heading", name=name, exact=True))


def test_accept_one_as_a_new_entry_one_as_an_alias_and_reject_one(live_server, page, staff_browser, episode):
    page.goto(live_server.url + "/suggestions/")
    expect(row(page, "Martemian Ryutin").locator("mark").first).to_have_text("Martemian Ryutin")

    # An alias: the near-miss is offered already ("Jagoda" looks like "Yagoda").
    jagoda = row(page, "Jagoda")
    expect(jagoda.get_by_label("Another name of")).to_have_value("Genrikh Yagoda")
    jagoda.get_by_role("button", name="Add as alias").click()
    expect(page.locator("#flash")).to_contain_text("now an alias of Genrikh Yagoda")
    expect(row(page, "Jagoda")).to_contain_text("Accepted")
    assert Mention.objects.filter(sentence__episode=episode, person__name="Genrikh Yagoda").exists()
    page.goto(live_server.url + episode.get_absolute_url())
    expect(page.locator("a.mention", has_text="Jagoda")).to_have_count(1)

    # A rejection, remembered: a new import of the same text doesn't bring it back.
    page.goto(live_server.url + "/suggestions/")
    row(page, "OGPU").get_by_role("button", name="Reject").click()
    expect(page.locator("#flash")).to_contain_text("won’t be suggested again")
    import_transcript(episode, TEXT.replace("while Ryutin waited", "while Ryutin waited in prison"))
    page.goto(live_server.url + "/suggestions/")
    expect(row(page, "Martemian Ryutin")).to_have_count(1)
    expect(row(page, "OGPU")).to_have_count(0)

    # A new entry: written in the admin, from a form the suggestion filled in.
    row(page, "Martemian Ryutin").get_by_role("link", name="Write a new person").click()
    expect(page.locator("#id_name")).to_have_value("Martemian Ryutin")
    page.locator("#id_slug").fill("martemian-ryutin")
    page.locator("#id_role").fill("Party official who wrote the 1932 platform against Stalin.")
    page.locator("#id_aliases").fill("Ryutin")
    page.get_by_role("button", name="Save", exact=True).click()
    # The new name links in the episode: the admin shows what it would link before saving.
    expect(page.get_by_text("Martemian Ryutin").first).to_be_visible()
    page.get_by_role("button", name="Apply").click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    ryutin = Suggestion.objects.get(episode=episode, name="Martemian Ryutin")
    assert ryutin.status == Suggestion.Status.ACCEPTED and ryutin.person == Person.objects.get(slug="martemian-ryutin")
    page.goto(live_server.url + "/suggestions/")
    expect(row(page, "Martemian Ryutin")).to_have_count(0)

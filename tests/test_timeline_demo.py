"""The demo's timeline: events.yaml loaded with the demo, its quotes, and a bad file refused."""

import shutil

import pytest
import yaml
from django.conf import settings

from episodes.demo import DemoContentError, load_demo
from timeline.models import Event
from episodes.models import Episode

pytestmark = pytest.mark.django_db

DEMO = settings.DEMO_CONTENT_DIR


@pytest.fixture
def demo(demo_content):
    """The demo, loaded once for this module; each test's changes roll back."""
    return Episode.objects.get(pk=demo_content.pk)


def demo_copy(tmp_path):
    """The demo folder copied, so a test can spoil one file."""
    target = tmp_path / "demo"
    shutil.copytree(DEMO, target)
    return target


def snapshot():
    """Everything an events load writes: rows and links."""
    return (
        sorted(Event.objects.values_list("slug", "title", "date", "precision", "end_date", "description")),
        sorted(Event.people.through.objects.values_list("event__slug", "person__slug")),
        sorted(Event.terms.through.objects.values_list("event__slug", "term__slug")),
        sorted(Event.sentences.through.objects.values_list("event__slug", "sentence_id")),
    )


def test_the_demo_has_at_least_twelve_dated_events_linked_to_the_episode(demo):
    events = list(Event.objects.with_links())
    assert len(events) >= 12
    assert all(event.told_in and event.people.all() and event.terms.all() for event in events)
    assert {event.told_in[0].episode for event in events} == {demo}
    dates = {event.slug: event.date_label for event in events}
    assert dates["kirov-assassinated"] == "1 December 1934"
    assert dates["nikolaev-executed"] == "29 December 1934"
    assert dates["trial-of-the-sixteen"] == "19–24 August 1936"
    assert dates["nkvd-order-00447"] == "30 July 1937"


def test_every_quote_in_events_yaml_resolves_to_the_sentence_holding_it(demo):
    entries = yaml.safe_load((DEMO / "events.yaml").read_text(encoding="utf-8"))
    for entry in entries:
        told_in = [sentence.text for sentence in Event.objects.get(slug=entry["slug"]).sentences.all()]
        assert len(told_in) == len(entry["quotes"]), entry["slug"]
        for quote in entry["quotes"]:
            assert sum(quote in text for text in told_in) == 1, (entry["slug"], quote)


def test_demo_events_link_the_people_and_terms_named_in_the_yaml(demo):
    entries = {entry["slug"]: entry for entry in yaml.safe_load((DEMO / "events.yaml").read_text())}
    for event in Event.objects.all():
        entry = entries[event.slug]
        assert sorted(event.people.values_list("slug", flat=True)) == sorted(entry["people"])
        assert sorted(event.terms.values_list("slug", flat=True)) == sorted(entry["terms"])


def test_reloading_the_demo_changes_no_event(demo):
    before = snapshot()
    load_demo(DEMO)
    assert snapshot() == before


def test_events_follow_their_sentences_when_the_transcript_is_reimported(demo, tmp_path):
    """Quotes, not positions: a sentence added at the top moves every position, not the links."""
    folder = demo_copy(tmp_path)
    transcript = folder / "138-the-great-purges.txt"
    text = transcript.read_text(encoding="utf-8")
    text = text.replace("Hello everyone and welcome", "A new opening sentence. Hello everyone and welcome", 1)
    transcript.write_text(text, encoding="utf-8")
    load_demo(folder)
    kirov = Event.objects.get(slug="kirov-assassinated")
    sentences = list(kirov.sentences.order_by("position"))
    assert "December 1, 1934, when Sergei Kirov was killed" in sentences[0].text
    assert sentences[0].position == 24  # was 23


@pytest.mark.parametrize(
    "spoil, message",
    [
        (lambda e: e[0].update(quotes=["words the episode never says"]), "is in 0 sentences"),
        (lambda e: e[0].update(quotes=["Stalin"]), "it must be in exactly one"),
        (lambda e: e[0].update(people=["nobody-at-all"]), "unknown people nobody-at-all"),
        (lambda e: e[0].update(terms=["no-such-term"]), "unknown terms no-such-term"),
        (lambda e: e[0].update(date="17 November 1929"), "not a date"),
        (lambda e: e[0].update(end_date="1930"), "same precision"),
        (lambda e: e[0].update(end_date="1929-11-01"), "event_end_not_before_start"),
        (lambda e: e[0].update(description=""), "'description' is required"),
        (lambda e: e[0].update(quote="a misspelt key"), "unknown keys quote"),
        (lambda e: e[0].pop("quotes"), "'quotes' should list"),
        (lambda e: e.append("just a string"), "each event should be a mapping"),
    ],
)
def test_a_bad_event_stops_the_load_and_changes_nothing(demo, tmp_path, spoil, message):
    folder = demo_copy(tmp_path)
    entries = yaml.safe_load((folder / "events.yaml").read_text(encoding="utf-8"))
    Event.objects.filter(slug=entries[-1]["slug"]).update(title="Edited meanwhile")
    spoil(entries)
    (folder / "events.yaml").write_text(yaml.safe_dump(entries, allow_unicode=True), encoding="utf-8")
    before = snapshot()
    with pytest.raises(DemoContentError, match=message):
        load_demo(folder)
    assert snapshot() == before


def test_events_yaml_that_is_not_a_list_is_refused(demo, tmp_path):
    folder = demo_copy(tmp_path)
    (folder / "events.yaml").write_text("slug: not-a-list\n", encoding="utf-8")
    with pytest.raises(DemoContentError, match="should hold a list"):
        load_demo(folder)

"""The demo content loads, idempotently, and meets the bar we set for it."""

import re

import pytest
import yaml
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils.html import escape

from episodes.models import Citation, Episode, Mention, Person, Source, Term

pytestmark = pytest.mark.django_db

DEMO = settings.DEMO_CONTENT_DIR


@pytest.fixture
def loaded():
    call_command("load_demo", "--no-narration", verbosity=0)
    return Episode.objects.get(slug="138-the-great-purges")


def counts():
    return [model.objects.count() for model in (Episode, Term, Person, Source, Citation, Mention)]


def test_demo_loads_episode_138_with_enough_content(loaded):
    assert (loaded.number, loaded.title, loaded.series.title, loaded.part) == (138, "The Great Purges", "The Soviet Union", 8)
    assert loaded.tagline == "It was time to clean house."
    assert loaded.sentences.count() > 100
    assert Term.objects.count() >= 30
    assert Person.objects.count() >= 20
    assert Source.objects.count() >= 6
    assert all(source.citations.exists() for source in Source.objects.all())


def test_loading_twice_changes_nothing(loaded):
    before = counts()
    html = loaded.transcript_html
    call_command("load_demo", "--no-narration", verbosity=0)
    loaded.refresh_from_db()
    assert counts() == before
    assert loaded.transcript_html == html


def test_every_person_the_episode_names_is_linked(loaded):
    for slug in ["joseph-stalin", "sergei-kirov", "nikolai-yezhov", "grigory-zinoviev", "lev-kamenev",
                 "leon-trotsky", "nikolai-bukharin", "genrikh-yagoda", "lavrentiy-beria", "lev-kopelev"]:
        assert Mention.objects.visible().filter(person__slug=slug).exists(), slug


def test_the_nkvd_order_is_linked_under_the_episodes_wording(loaded):
    mention = Mention.objects.get(sentence__text__contains="Order Number 447", term__isnull=False,
                                  start__gt=0, term__category="document")
    assert "447" in mention.matched_text
    assert "00447" in mention.term.name + mention.term.aliases


def test_definitions_fit_the_popover():
    for entry in yaml.safe_load((DEMO / "terms.yaml").read_text()):
        assert len(entry["definition"]) <= 300, entry["slug"]


def test_no_alias_belongs_to_two_entries():
    seen = {}
    for name in ("terms.yaml", "people.yaml"):
        for entry in yaml.safe_load((DEMO / name).read_text()):
            for alias in [entry["name"], *entry.get("aliases", [])]:
                key = alias.casefold()
                assert seen.setdefault(key, entry["slug"]) == entry["slug"], alias


def test_a_broken_content_file_changes_nothing(loaded, tmp_path):
    for name in ("episode.yaml", "terms.yaml", "people.yaml", "sources.yaml", "events.yaml", "138-the-great-purges.txt"):
        (tmp_path / name).write_bytes((DEMO / name).read_bytes())
    (tmp_path / "people.yaml").write_text("- name: [unclosed\n")
    before = counts()
    with pytest.raises(CommandError, match="not valid YAML"):
        call_command("load_demo", "--no-narration", directory=tmp_path, verbosity=0)
    assert counts() == before


def test_a_citation_that_matches_no_sentence_is_refused(loaded, tmp_path):
    for name in ("episode.yaml", "terms.yaml", "people.yaml", "events.yaml", "138-the-great-purges.txt"):
        (tmp_path / name).write_bytes((DEMO / name).read_bytes())
    (tmp_path / "sources.yaml").write_text(
        "- slug: ghost\n  title: Ghost\n  citations:\n    - sentence_contains: words nobody said\n"
    )
    with pytest.raises(CommandError, match="in 0 sentences"):
        call_command("load_demo", "--no-narration", directory=tmp_path, verbosity=0)
    assert not Source.objects.filter(slug="ghost").exists()


def test_an_overlong_definition_is_refused(loaded, tmp_path):
    for name in ("episode.yaml", "people.yaml", "sources.yaml", "events.yaml", "138-the-great-purges.txt"):
        (tmp_path / name).write_bytes((DEMO / name).read_bytes())
    (tmp_path / "terms.yaml").write_text(
        f"- name: Long\n  slug: long\n  category: concept\n  definition: {'x' * 301}\n"
    )
    with pytest.raises(CommandError, match="at most 300 characters"):
        call_command("load_demo", "--no-narration", directory=tmp_path, verbosity=0)
    assert not Term.objects.filter(slug="long").exists()


def test_the_episode_has_chapters_at_its_turns_of_topic(loaded):
    chapters = list(loaded.chapters.select_related("sentence").order_by("sentence__position"))
    assert len(chapters) >= 8
    assert chapters[0].sentence.position == 1
    assert [c.sentence.paragraph for c in chapters] == sorted(c.sentence.paragraph for c in chapters)
    # They are the transcript's headings, in order.
    headings = re.findall(r'<h3 class="chapter-title" id="chapter-\d+">([^<]+)</h3>', loaded.transcript_html)
    assert headings == [escape(c.title) for c in chapters]


def test_loading_twice_keeps_one_set_of_chapters(loaded):
    before = list(loaded.chapters.values_list("title", "sentence__position"))
    call_command("load_demo", "--no-narration", verbosity=0)
    assert list(loaded.chapters.values_list("title", "sentence__position")) == before


def test_a_chapter_whose_quote_is_not_in_exactly_one_sentence_is_refused(loaded, tmp_path):
    for name in ("terms.yaml", "people.yaml", "sources.yaml", "events.yaml", "138-the-great-purges.txt"):
        (tmp_path / name).write_bytes((DEMO / name).read_bytes())
    data = yaml.safe_load((DEMO / "episode.yaml").read_text())
    data["chapters"].append({"title": "Everywhere", "quote": "Stalin"})
    (tmp_path / "episode.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))
    before = list(loaded.chapters.values_list("pk", flat=True))
    with pytest.raises(CommandError, match="'Stalin' is in [0-9]+ sentences"):
        call_command("load_demo", "--no-narration", directory=tmp_path, verbosity=0)
    assert list(loaded.chapters.values_list("pk", flat=True)) == before

"""
Admin edits write in proportion: a citation, source or mention edit re-renders
(or relinks) only the episodes it is in, in a fixed number of queries however
big the show; names and aliases, which may match anywhere, still relink all.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from episodes.linking import relink_all
from episodes.models import Citation, Episode, Mention
from tests.factories import make_citation, make_episode, make_person, make_sentences, make_source

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def content_types_uncached():
    """The counts below include the admin log's content type lookups, whatever tests ran before in this worker."""
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()


@pytest.fixture
def show():
    """Six episodes, Stalin named in each; a source cited in the second and the fifth."""
    episodes = [make_episode(number=number) for number in range(1, 7)]
    sentences = [make_sentences(episode, f"Stalin spoke in episode {episode.number}.")[0] for episode in episodes]
    source = make_source(title="Stalin", author="Stephen Kotkin")
    citations = [make_citation(sentences[1], source, locator="p. 1"), make_citation(sentences[4], source)]
    make_person("Joseph Stalin", aliases="Stalin")
    relink_all()
    return {"episodes": episodes, "sentences": sentences, "source": source, "citations": citations}


def rendered():
    """When each episode's transcript was last rendered, by number."""
    return dict(Episode.objects.values_list("number", "transcript_rendered_at"))


def save(client, url, data, capture):
    """POST an admin form, running what it queues once committed; returns the number of queries."""
    with CaptureQueriesContext(connection) as queries, capture(execute=True):
        response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    return len(queries)


def changed(before):
    after = rendered()
    return sorted(number for number in after if after[number] != before[number])


def citation_form(citation, **values):
    return {"sentence": citation.sentence_id, "source": citation.source_id, "quoted_text": "",
            "locator": citation.locator} | values


def test_a_citation_edit_re_renders_only_the_episode_citing(admin_client, show, django_capture_on_commit_callbacks):
    citation = show["citations"][0]
    before = rendered()
    url = reverse("admin:episodes_citation_change", args=[citation.pk])
    queries = save(admin_client, url, citation_form(citation, locator="p. 134"), django_capture_on_commit_callbacks)
    assert changed(before) == [2]
    assert "p. 134" in Episode.objects.get(number=2).transcript_html
    assert queries == 28  # six episodes or six hundred: it was a relink of every one


def test_a_citation_moved_to_another_episode_re_renders_both(admin_client, show, django_capture_on_commit_callbacks):
    citation, target = show["citations"][0], show["sentences"][2]
    before = rendered()
    url = reverse("admin:episodes_citation_change", args=[citation.pk])
    save(admin_client, url, citation_form(citation, sentence=target.pk), django_capture_on_commit_callbacks)
    assert changed(before) == [2, 3]
    assert "Kotkin" not in Episode.objects.get(number=2).transcript_html
    assert "Kotkin" in Episode.objects.get(number=3).transcript_html


def test_deleting_a_citation_re_renders_its_episode(admin_client, show, django_capture_on_commit_callbacks):
    citation = show["citations"][1]
    before = rendered()
    url = reverse("admin:episodes_citation_delete", args=[citation.pk])
    save(admin_client, url, {"post": "yes"}, django_capture_on_commit_callbacks)
    assert changed(before) == [5] and not Citation.objects.filter(pk=citation.pk).exists()


def source_form(source, citations, **values):
    data = {
        "slug": source.slug, "author": source.author, "title": source.title, "year": source.year or "",
        "publisher": "", "kind": source.kind, "url": "", "isbn": "", "note": "",
        "citations-TOTAL_FORMS": len(citations), "citations-INITIAL_FORMS": len(citations),
        "citations-MIN_NUM_FORMS": 0, "citations-MAX_NUM_FORMS": 1000,
    } | values
    for index, citation in enumerate(citations):
        data |= {f"citations-{index}-{name}": value for name, value in {
            "id": citation.pk, "source": source.pk, "sentence": citation.sentence_id,
            "quoted_text": citation.quoted_text, "locator": citation.locator,
        }.items()}
    return data


def test_a_source_edit_re_renders_only_the_episodes_citing_it(admin_client, show, django_capture_on_commit_callbacks):
    source = show["source"]
    before = rendered()
    url = reverse("admin:episodes_source_change", args=[source.pk])
    data = source_form(source, show["citations"], author="Stephen Kotkin and others")
    queries = save(admin_client, url, data, django_capture_on_commit_callbacks)
    assert changed(before) == [2, 5]
    assert "Kotkin and others" in Episode.objects.get(number=5).transcript_html
    assert queries == 43


def test_a_citation_added_on_the_source_page_re_renders_its_episode_too(
    admin_client, show, django_capture_on_commit_callbacks
):
    source, sentence = show["source"], show["sentences"][5]
    data = source_form(source, show["citations"])
    data |= {"citations-TOTAL_FORMS": 3, "citations-2-source": source.pk, "citations-2-sentence": sentence.pk,
             "citations-2-quoted_text": "", "citations-2-locator": "p. 9", "citations-2-id": ""}
    before = rendered()
    save(admin_client, reverse("admin:episodes_source_change", args=[source.pk]), data,
         django_capture_on_commit_callbacks)
    assert changed(before) == [2, 5, 6]
    assert "p. 9" in Episode.objects.get(number=6).transcript_html


def test_a_mention_edit_relinks_only_its_episode(admin_client, show, django_capture_on_commit_callbacks):
    mention = Mention.objects.get(sentence=show["sentences"][3])
    before = rendered()
    url = reverse("admin:episodes_mention_change", args=[mention.pk])
    data = {"sentence": mention.sentence_id, "kind": Mention.Kind.SUPPRESSED, "start": mention.start,
            "end": mention.end, "term": "", "person": mention.person_id}
    queries = save(admin_client, url, data, django_capture_on_commit_callbacks)
    assert changed(before) == [4]
    assert "/people/joseph-stalin/" not in Episode.objects.get(number=4).transcript_html
    assert "/people/joseph-stalin/" in Episode.objects.get(number=3).transcript_html
    assert queries == 44


def test_an_alias_edit_still_relinks_every_episode(admin_client, show, django_capture_on_commit_callbacks):
    person = show["sentences"][0].mentions.get().person
    before = rendered()
    url = reverse("admin:episodes_person_change", args=[person.pk])
    data = {"name": person.name, "full_name": "", "slug": person.slug, "aliases": "Stalin\nKoba",
            "born": "", "died": "", "role": person.role, "biography": "", "reference": "",
            "_apply_links": "Apply",  # past the preview of the links it changes (episodes/admin_links.py)
            "scopedalias_set-TOTAL_FORMS": "0", "scopedalias_set-INITIAL_FORMS": "0",
            "ambiguityrule_set-TOTAL_FORMS": "0", "ambiguityrule_set-INITIAL_FORMS": "0"}
    save(admin_client, url, data, django_capture_on_commit_callbacks)
    assert changed(before) == [1, 2, 3, 4, 5, 6]

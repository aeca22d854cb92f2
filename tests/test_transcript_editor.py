"""The staff's transcript editor: a sentence's text fixed in place keeps its timing, links and citations."""

import pytest
from django.urls import reverse

from episodes.editing import edit_sentence
from episodes.models import Episode, Mention
from tests.factories import make_mention, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def timed(small_episode):
    episode = small_episode["episode"]
    episode.save_timings([(0.0, 2.5, []), (2.8, 4.9, []), (5.2, 11.75, [])], Episode.Timing.TIMED)
    return small_episode


def url(sentence):
    return reverse("episodes:edit_sentence", args=[sentence.episode.slug, sentence.pk])


def test_listeners_are_refused(client, timed):
    client.force_login(make_user("listener"))
    assert client.get(reverse("episodes:edit", args=[timed["episode"].slug])).status_code == 403
    second = timed["sentences"][1]
    assert client.post(url(second), {"text": "Vandalised."}).status_code == 403
    second.refresh_from_db()
    assert second.text == "Stalin signed the lists."


def test_a_typo_fix_keeps_the_sentences_timing_and_links(admin_client, timed):
    second = timed["sentences"][1]
    response = admin_client.post(url(second), {"text": "Stalin  signed the death lists."}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "§2 saved." in response.content.decode() and "Stalin signed the death lists." in response.content.decode()
    second.refresh_from_db()
    assert (second.text, second.start, second.end) == ("Stalin signed the death lists.", 2.8, 4.9)
    assert second.mentions.filter(person=timed["stalin"]).exists()  # the linker found Stalin again
    episode = timed["episode"]
    episode.refresh_from_db()
    assert "death lists" in episode.transcript_html


def test_an_editors_link_moves_with_its_words_or_is_dropped_and_said_so(timed):
    third = timed["sentences"][2]
    start = third.text.index("barbaric")
    make_mention(third, timed["nkvd"], start, start + len("barbaric methods"))
    third.refresh_from_db()
    summary = edit_sentence(third, "Kopelev later wrote of barbaric methods.")
    added = Mention.objects.get(sentence=third, kind=Mention.Kind.ADDED)
    assert third.text[added.start:added.end] == "barbaric methods"
    summary = edit_sentence(third, "Kopelev later wrote of it.")
    assert "“barbaric methods”" in summary
    assert not Mention.objects.filter(sentence=third, kind=Mention.Kind.ADDED).exists()


def test_an_empty_sentence_is_refused(admin_client, timed):
    second = timed["sentences"][1]
    response = admin_client.post(url(second), {"text": "   "}, headers={"HX-Request": "true"})
    assert response.status_code == 400 and "can&#x27;t be empty" in response.content.decode()


def test_without_javascript_the_form_comes_in_place_and_saving_redirects(admin_client, timed):
    second = timed["sentences"][1]
    page = admin_client.get(url(second), follow=True).content.decode()
    assert 'name="text"' in page and "Stalin signed the lists." in page
    response = admin_client.post(url(second), {"text": "Stalin signed every list."}, follow=True)
    assert "§2 saved." in response.content.decode()


# --- Linking and unlinking by selection ------------------------------------------------------


def link(client, sentence, **data):
    return client.post(reverse("episodes:link_words", args=[sentence.episode.slug, sentence.pk]), data,
                       headers={"HX-Request": "true"})


def test_words_are_linked_as_the_editors_and_survive_a_relink(admin_client, timed):
    from episodes.linking import relink_episode

    second = timed["sentences"][1]
    response = link(admin_client, second, words="the lists", entry="NKVD", action="link")
    assert response.status_code == 200 and "“the lists” in §2 now links to NKVD." in response.content.decode()
    relink_episode(timed["episode"])
    mention = Mention.objects.get(sentence=second, term=timed["nkvd"])
    assert (mention.kind, mention.matched_text) == (Mention.Kind.ADDED, "the lists")


def test_the_selected_occurrence_is_the_one_linked(admin_client, timed):
    third = timed["sentences"][2]
    second_nkvd = third.text.rindex("NKVD")
    link(admin_client, third, words="NKVD", at=str(second_nkvd), entry="Joseph Stalin", action="link")
    mention = Mention.objects.get(sentence=third, person=timed["stalin"], kind=Mention.Kind.ADDED)
    assert mention.start == second_nkvd


def test_unlinking_the_linkers_link_suppresses_it_for_good(admin_client, timed):
    from episodes.linking import relink_episode

    second = timed["sentences"][1]
    assert second.mentions.filter(person=timed["stalin"], kind=Mention.Kind.AUTO).exists()
    response = link(admin_client, second, words="Stalin", action="unlink")
    assert "no longer links to Joseph Stalin" in response.content.decode()
    relink_episode(timed["episode"])
    assert not second.mentions.visible().filter(person=timed["stalin"]).exists()


@pytest.mark.parametrize("data, message", [
    ({"words": "Trotsky", "entry": "NKVD", "action": "link"}, "“Trotsky” isn&#x27;t in §2."),
    ({"words": "lists", "entry": "Beria", "action": "link"}, "No glossary entry or person is called “Beria”"),
    ({"words": "lists", "action": "unlink"}, "Nothing is linked in “lists”."),
    ({"words": "", "entry": "NKVD", "action": "link"}, "Select or type the words first."),
])
def test_what_cant_be_linked_is_refused_with_the_reason(admin_client, timed, data, message):
    before = Mention.objects.count()
    response = link(admin_client, timed["sentences"][1], **data)
    assert response.status_code == 400 and message in response.content.decode()
    assert Mention.objects.count() == before


def test_listeners_cannot_link(client, timed):
    client.force_login(make_user("listener"))
    assert link(client, timed["sentences"][1], words="lists", entry="NKVD", action="link").status_code == 403


def test_selected_words_become_an_alias_after_a_preview_that_names_what_it_takes(
    admin_client, timed, django_capture_on_commit_callbacks
):
    """'Stalin signed' as an alias of the NKVD would take "Stalin" from Joseph Stalin: said before saving."""
    second, third = timed["sentences"][1], timed["sentences"][2]
    nkvd = timed["nkvd"]
    response = link(admin_client, second, words="Stalin signed", entry="NKVD", action="alias")
    page = response.content.decode()
    assert response.status_code == 200 and "Make “Stalin signed” an alias of NKVD?" in page
    assert "1 link added, 1 removed, in 1 episode" in page
    assert "1 link would be taken from another entry" in page
    assert "“Stalin signed” would link to NKVD, no longer to Joseph Stalin." in page
    nkvd.refresh_from_db()
    assert nkvd.alias_list == ["People's Commissariat for Internal Affairs"]  # nothing saved by the preview
    assert second.mentions.filter(person=timed["stalin"]).exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = link(admin_client, second, words="Stalin signed", entry="NKVD", action="add_alias")
    assert "“Stalin signed” is now an alias of NKVD" in response.content.decode()
    nkvd.refresh_from_db()
    assert "Stalin signed" in nkvd.alias_list
    mention = second.mentions.get(term=nkvd)
    assert (mention.kind, mention.matched_text) == (Mention.Kind.AUTO, "Stalin signed")  # the linker's: it's an alias
    assert third.mentions.filter(person=timed["stalin"]).exists()  # elsewhere Stalin is still Stalin


def test_without_javascript_the_alias_preview_is_a_page(admin_client, timed):
    second = timed["sentences"][1]
    response = admin_client.post(reverse("episodes:link_words", args=[second.episode.slug, second.pk]),
                                 {"words": "the lists", "entry": "NKVD", "action": "alias"})
    page = response.content.decode()
    assert response.status_code == 200 and "<h1" in page and 'value="add_alias"' in page


def test_an_alias_for_no_known_entry_is_refused(admin_client, timed):
    response = link(admin_client, timed["sentences"][1], words="the lists", entry="Beria", action="alias")
    assert response.status_code == 400 and "No glossary entry or person is called “Beria”" in response.content.decode()


def test_listeners_cannot_add_aliases(client, timed):
    client.force_login(make_user("listener"))
    assert link(client, timed["sentences"][1], words="lists", entry="NKVD", action="add_alias").status_code == 403
    timed["nkvd"].refresh_from_db()
    assert "lists" not in timed["nkvd"].alias_list


def test_an_alias_of_words_not_in_the_sentence_is_refused(admin_client, timed):
    response = link(admin_client, timed["sentences"][1], words="Kopelev", entry="NKVD", action="alias")
    assert response.status_code == 400 and "“Kopelev” isn&#x27;t in §2." in response.content.decode()

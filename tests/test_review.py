"""The editor's timing review: staff only, doubtful sentences first, starts edited safely."""

import pytest
from django.urls import reverse

from alignment.models import AlignmentRun
from episodes.models import Episode, Sentence
from tests.factories import make_episode, make_sentences, make_user

pytestmark = pytest.mark.django_db

REVIEW = "/episodes/138-the-great-purges/review/"


@pytest.fixture
def episode():
    """Four aligned sentences; the third is doubtful."""
    episode = make_episode(title="The Great Purges", slug="138-the-great-purges")
    make_sentences(episode, "The NKVD arrested thousands.", "Stalin signed the lists.",
                   "Nobody felt safe.", "The trials began.")
    episode.save_timings([(1.0, 3.0, []), (3.5, 6.0, []), (6.5, 9.0, []), (9.5, 12.0, [])],
                         Episode.Timing.ALIGNED)
    for position, confidence in [(1, 0.9), (2, 0.8), (3, 0.2), (4, 0.7)]:
        Sentence.objects.filter(episode=episode, position=position).update(confidence=confidence)
    return episode


@pytest.fixture
def editor(client):
    user = make_user("editor", is_staff=True)
    client.force_login(user)
    return user


def sentence(episode, position):
    return episode.sentences.get(position=position)


def post_url(s):
    return reverse("alignment:review_start", args=[s.episode.slug, s.pk])


def state(episode):
    return list(episode.sentences.order_by("position").values_list("start", "start_set_by_editor"))


# --- Who may see and change it ------------------------------------------------------------


def test_a_stranger_is_asked_to_log_in(client, episode):
    response = client.get(REVIEW)
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    response = client.post(post_url(sentence(episode, 2)), {"start": "4.0"})
    assert response.status_code == 302
    assert sentence(episode, 2).start == 3.5


def test_a_listener_is_refused(client, episode):
    client.force_login(make_user("listener"))
    assert client.get(REVIEW).status_code == 403
    assert client.post(post_url(sentence(episode, 2)), {"start": "4.0"}).status_code == 403
    assert sentence(episode, 2).start == 3.5


def test_an_htmx_request_from_a_stranger_is_sent_to_log_in(client, episode):
    response = client.post(post_url(sentence(episode, 2)), {"start": "4.0"}, headers={"HX-Request": "true"})
    assert response.headers["HX-Redirect"].startswith("/accounts/login/")


# --- The page ------------------------------------------------------------------------------


def test_doubtful_sentences_are_highlighted_and_listed_first(client, editor, episode):
    html = client.get(REVIEW).content.decode()
    assert "To review: 1 of 4 sentences" in html
    assert html.index('href="#review-s-3"') < html.index('id="review-s-1"')
    assert 'class="review-row needs-review" id="review-s-3"' in html
    assert 'class="review-row" id="review-s-1"' in html
    assert "confidence 0.20 (low)" in html


def test_the_filter_shows_only_the_doubtful(client, editor, episode):
    html = client.get(REVIEW + "?show=review").content.decode()
    assert 'id="review-s-3"' in html and 'id="review-s-1"' not in html
    assert "Show all 4" in html


def test_a_start_an_editor_set_no_longer_needs_review(client, editor, episode):
    Sentence.objects.filter(episode=episode, position=3).update(start_set_by_editor=True)
    html = client.get(REVIEW).content.decode()
    assert "No sentence needs review." in html and "set by an editor" in html


def test_each_sentence_can_be_played_from_its_start_without_javascript(client, editor, episode):
    episode.audio_url = "https://example.com/138.mp3"
    episode.save()
    html = client.get(REVIEW).content.decode()
    assert 'href="https://example.com/138.mp3#t=3.500" data-play' in html
    assert 'id="review-audio"' in html


def test_the_latest_run_is_shown(client, editor, episode):
    AlignmentRun.objects.create(episode=episode, audio="/a.wav", status="running", progress=0.4, stage="Aligning")
    html = client.get(REVIEW).content.decode()
    assert '<progress max="1" value="0.4">40%</progress> Aligning' in html


def test_skipped_audio_is_shown_on_a_strip_with_a_way_to_listen(client, editor, episode):
    """Each stretch the aligner matched to no text is marked on the strip and playable (no JS needed)."""
    episode.audio_url = "https://example.com/138.mp3"
    episode.save()
    AlignmentRun.objects.create(episode=episode, audio="/a.wav", status="done", progress=1,
                                result={"duration": 200.0, "skipped": [[0.0, 30.0], [100.0, 150.0]],
                                        "low_confidence": [3]})
    html = client.get(REVIEW).content.decode()
    assert "Skipped audio: 2 stretches" in html
    assert 'class="skipped-mark" x="0.00%" width="15.00%"' in html
    assert 'class="skipped-mark" x="50.00%" width="25.00%"' in html
    assert 'href="https://example.com/138.mp3#t=100.00" data-play-at="100.00"' in html
    assert "100.0–150.0 s</span> (not in the script)" in html
    # The strip comes before the list of sentences to review, which still leads with the doubtful.
    assert html.index("Skipped audio") < html.index("To review: 1 of 4")


def test_no_strip_without_skipped_audio(client, editor, episode):
    AlignmentRun.objects.create(episode=episode, audio="/a.wav", status="done", progress=1,
                                result={"duration": 200.0, "skipped": []})
    assert "Skipped audio" not in client.get(REVIEW).content.decode()


def test_the_page_costs_the_same_queries_however_long_the_episode(
        client, editor, episode, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):
        assert client.get(REVIEW).status_code == 200
    make_sentences(episode, *[f"Sentence number {n}." for n in range(60)], paragraph=2)
    with django_assert_max_num_queries(5):
        assert client.get(REVIEW).status_code == 200


# --- Changing a start ----------------------------------------------------------------------


def test_a_typed_start_is_saved_marked_and_rendered(client, editor, episode):
    second = sentence(episode, 2)
    response = client.post(post_url(second), {"start": "3.74"})
    assert response.status_code == 302 and response.url == REVIEW + "#review-s-2"
    second.refresh_from_db()
    assert (second.start, second.start_set_by_editor) == (3.74, True)
    episode.refresh_from_db()
    assert 'data-start="3.740"' in episode.transcript_html
    assert "§2 now starts at 3.74 s." in client.get(response.url).content.decode()


def test_minutes_and_seconds_are_understood(client, editor, episode):
    Sentence.objects.filter(episode=episode, position=4).update(start=70, end=80)
    client.post(post_url(sentence(episode, 4)), {"start": "1:05.5"})
    assert sentence(episode, 4).start == 65.5


@pytest.mark.parametrize("nudge, expected", [("0.1", 3.6), ("-0.1", 3.4)])
def test_a_nudge_moves_the_stored_start_a_tenth(client, editor, episode, nudge, expected):
    client.post(post_url(sentence(episode, 2)), {"start": "5.0", "nudge": nudge})
    second = sentence(episode, 2)
    assert (second.start, second.start_set_by_editor) == (expected, True)


def test_htmx_gets_the_row_back_with_a_notice(client, editor, episode):
    response = client.post(post_url(sentence(episode, 2)), {"nudge": "0.1"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<li class="review-row" id="review-s-2"') and "<html" not in html
    assert 'data-start="3.600"' in html and "set by an editor" in html
    assert '<div id="flash" hx-swap-oob="innerHTML"><p class="message message-success">§2 now starts at 3.60 s.</p></div>' in html


@pytest.mark.parametrize("value, message", [
    ("soon", "Enter the start in seconds"),
    ("", "Enter the start in seconds"),
    ("nan", "Enter the start in seconds"),
    ("inf", "Enter the start in seconds"),
    ("1e999", "Enter the start in seconds"),
    ("-1", "A start can&#x27;t be negative."),
    ("99999999", "longer than any episode"),
    ("1e308", "longer than any episode"),
    ("6.2", "can&#x27;t be after the sentence&#x27;s end (6.00 s)"),
    ("0.9", "after the previous sentence&#x27;s (§1 at 1.00 s)"),
    ("1.0", "after the previous sentence&#x27;s (§1 at 1.00 s)"),
    ("<script>alert(1)</script>", "Enter the start in seconds"),
    ("٣", "Enter the start in seconds"),  # float() reads any script's digits
    ("３.５", "Enter the start in seconds"),
])
def test_a_bad_start_is_refused_clearly_and_changes_nothing(client, editor, episode, value, message):
    before = state(episode)
    rendered = episode.transcript_html
    response = client.post(post_url(sentence(episode, 2)), {"start": value})
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html and 'aria-invalid="true"' in html
    assert "<script>alert" not in html
    assert state(episode) == before
    episode.refresh_from_db()
    assert episode.transcript_html == rendered


def test_a_start_past_the_next_sentence_is_refused(client, editor, episode):
    Sentence.objects.filter(episode=episode, position=2).update(end=20)
    response = client.post(post_url(sentence(episode, 2)), {"start": "7.0"}, headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert "before the next sentence&#x27;s (§3 at 6.50 s)" in response.content.decode()
    assert sentence(episode, 2).start == 3.5


@pytest.mark.parametrize("nudge", ["5", "0.1; DROP TABLE", ""])
def test_only_a_tenth_can_be_nudged(client, editor, episode, nudge):
    response = client.post(post_url(sentence(episode, 2)), {"nudge": nudge})
    assert response.status_code == 400 and "A nudge is 0.1 s either way." in response.content.decode()
    assert sentence(episode, 2).start == 3.5


def test_another_episodes_sentence_is_not_found_here(client, editor, episode):
    other = make_episode(title="The Winter War", slug="139-winter-war")
    (stranger,) = make_sentences(other, "The Finns held.")
    url = reverse("alignment:review_start", args=[episode.slug, stranger.pk])
    assert client.post(url, {"start": "2.0"}).status_code == 404
    stranger.refresh_from_db()
    assert stranger.start is None and not stranger.start_set_by_editor


def test_a_start_can_only_be_posted(client, editor, episode):
    assert client.get(post_url(sentence(episode, 2))).status_code == 405

"""Words for listeners on the pages they listen from: what the server sends (issue 17)."""

import datetime
import re

import pytest
from django.template import Context, Template

from accounts.forms import SignupForm
from tests.factories import make_episode, make_person, make_sentences, make_term, make_user

pytestmark = pytest.mark.django_db

EPISODE = "/episodes/138-the-great-purges/"


@pytest.fixture
def narrated(small_episode):
    """The small episode, timed and read by the demo's synthetic voice."""
    episode = small_episode["episode"]
    episode.audio_url = "https://example.org/138.mp3"
    episode.audio_is_synthetic = True
    episode.duration = datetime.timedelta(minutes=17, seconds=44)
    episode.save()
    episode.estimate_timings()
    return episode


def page(client, url=EPISODE):
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_a_listener_hears_about_the_demo_voice_not_the_editors_work(client, narrated):
    html = page(client)
    assert "Computer-read demo narration" in html
    assert "replace with the episode" not in html
    assert "badge-estimated" not in html and ">Estimated<" not in html


def test_an_editor_sees_the_timing_status_and_what_to_replace(client, narrated):
    client.force_login(make_user("editor", is_staff=True))
    html = page(client)
    note = html[html.index('class="editor-note"'):]
    note = note[:note.index("</p>")]
    assert 'class="badge badge-estimated">Estimated<' in note
    assert "Synthetic narration — replace with the episode’s audio." in note
    assert f'href="/admin/episodes/episode/{narrated.pk}/change/"' in note


def test_a_signed_in_listener_sees_no_editors_note(client, narrated):
    client.force_login(make_user("listener"))
    assert 'class="editor-note"' not in page(client)


def test_the_transcript_downloads_sit_behind_one_menu(client, narrated):
    html = page(client)
    menu = re.search(r'<details class="downloads">\s*<summary>Download transcript</summary>(.*?)</details>', html, re.S)
    assert menu, "no Download transcript menu"
    links = re.findall(r'href="/episodes/138-the-great-purges/transcript\.(\w+)"', menu[1])
    assert links == ["txt", "vtt", "srt", "json", "html"]
    assert html.count("transcript.vtt") == 1  # nowhere else on the page
    assert "WebVTT ·" not in html


def test_an_untimed_episode_offers_its_text_alone(client, small_episode):
    menu = re.search(r'<details class="downloads">.*?</details>', page(client), re.S)[0]
    assert re.findall(r'transcript\.(\w+)"', menu) == ["txt"]


def test_the_player_comes_first_in_the_tab_order_after_the_skip_link(client, narrated):
    html = page(client)
    assert html.index('class="skip-link"') < html.index('id="player"') < html.index('class="site-header"')
    # The sheet that holds the moment link on a phone needs no script to open.
    assert 'popovertarget="player-sheet"' in html and 'id="player-sheet" popover' in html


def test_an_episode_without_audio_says_so_in_its_header_and_has_no_player(client, small_episode):
    html = page(client)
    assert 'id="player"' not in html
    assert '<p class="no-audio">No audio for this episode yet.</p>' in html


def test_each_entrys_preview_carries_its_line_for_the_now_panel(client, small_episode):
    html = page(client)
    assert 'id="pop-term-nkvd" role="dialog" aria-labelledby="pop-term-nkvd-title" data-gist="The Soviet interior ministry and secret police."' in html
    assert 'data-gist="General Secretary of the Communist Party."' in html


def test_a_terms_line_is_its_definitions_first_sentence_and_a_persons_their_role():
    term = make_term("Yezhovshchina", definition="The worst years of the terror, 1937–38. Named after Yezhov.")
    assert term.gist == "The worst years of the terror, 1937–38."
    assert make_person("Nikolai Yezhov", role="Head of the NKVD, 1936–38.").gist == "Head of the NKVD, 1936–38."


@pytest.mark.parametrize("seconds, said", [(20, "1 min"), (1064, "18 min"), (3599, "1 h 00 min"), (3900, "1 h 05 min")])
def test_a_running_time_reads_as_a_listener_says_it(seconds, said):
    template = Template("{% load episodes %}{{ duration|listening_time }}")
    assert template.render(Context({"duration": datetime.timedelta(seconds=seconds)})) == said


def test_the_home_page_says_what_this_is_and_offers_to_listen(client, narrated):
    html = page(client, "/")
    hero = html[html.index('class="show-hero"'):html.index("</section>", html.index('class="show-hero"'))]
    assert re.search(r'<img class="show-artwork" src="/static/show-artwork\.svg"', hero)
    assert "Listen to an episode and read along" in hero
    assert '<a class="button listen" href="/episodes/138-the-great-purges/#play">' in hero
    assert '<span class="duration">18 min</span>' in hero
    # "Continue at 12:34" comes from the browser (static/js/continue.js): the page itself is the same for all.
    assert re.search(r'<a class="continue" href="/episodes/138-the-great-purges/" data-continue="138-the-great-purges" hidden>', hero)


def test_an_episode_without_audio_is_offered_for_reading(client):
    episode = make_episode(number=7, slug="7-quiet", title="Quiet")
    make_sentences(episode, "Nothing to hear.")
    html = page(client, "/")
    assert '<a class="button listen" href="/episodes/7-quiet/">Read Quiet</a>' in html
    assert "data-continue" not in html


def test_sign_up_help_is_in_plain_words():
    form = SignupForm()
    helps = {name: str(form.fields[name].help_text) for name in ("username", "password1", "password2")}
    assert "Required. 150 characters or fewer" not in helps["username"]
    assert helps["username"].startswith("The name you log in with.")
    assert "<li>" not in helps["password1"] and helps["password1"].startswith("At least 8 characters.")
    assert form.fields["password2"].label == "Password again"


def test_the_sign_up_page_shows_the_plain_help(client):
    html = page(client, "/accounts/signup/")
    assert "The name you log in with." in html and "At least 8 characters." in html
    assert "Letters, digits and @/./+/-/_ only." not in html


"""The catalogue: episode and series lists, previous/next links, X-Ray strips, the home page's ways in."""

import datetime
import re

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext

from episodes.models import Episode, Mention, Series
from episodes.moments import moment_parameter
from episodes.views import EPISODES_PER_PAGE
from episodes.xray import QUOTED_PER_EPISODE, STRIPS_PER_PAGE, snippet, strips_for
from tests.factories import make_episode, make_mention, make_person, make_sentences, make_series, make_term

pytestmark = pytest.mark.django_db


def get(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def titles(html):
    return re.findall(r'<h[23]><a href="/episodes/[^"]+/">([^<]+)</a>', html)


def soviet_union(numbers=(131, 132, 133, 134, 135, 136, 137, 138)):
    """The series as the show runs it: parts 1–8 are episodes 131–138."""
    series = make_series("The Soviet Union")
    return [
        make_episode(number=number, slug=f"{number}-part-{part}", title=f"Soviet Union part {part}",
                     series=series, part=part)
        for part, number in enumerate(numbers, start=1)
    ]


# /episodes/


def test_episodes_come_newest_first_by_default(client):
    make_episode(number=1, title="First", published=datetime.date(2020, 1, 1))
    make_episode(number=2, title="Second", published=datetime.date(2020, 1, 8))
    assert titles(get(client, "/episodes/")) == ["Second", "First"]


def test_episodes_can_be_listed_by_number(client):
    for number in (3, 1, 2):
        make_episode(number=number, title=f"Number {number}")
    assert titles(get(client, "/episodes/?order=number")) == ["Number 1", "Number 2", "Number 3"]


def test_an_unknown_order_falls_back_to_newest(client):
    make_episode(number=1, title="First")
    make_episode(number=2, title="Second")
    assert titles(get(client, "/episodes/?order=%3Cscript%3E")) == ["Second", "First"]


def test_episodes_without_a_number_come_last_by_number_and_are_called_extras(client):
    make_episode(number=None, slug="trailer", title="Trailer")
    make_episode(number=2, title="Two")
    make_episode(number=1, title="One")
    html = get(client, "/episodes/?order=number")
    assert titles(html) == ["One", "Two", "Trailer"]
    assert "Extra" in html and "Episode None" not in html


def test_the_episode_list_is_paged(client):
    for number in range(1, EPISODES_PER_PAGE + 11):
        make_episode(number=number, title=f"Number {number}")
    first = get(client, "/episodes/?order=number")
    assert len(titles(first)) == EPISODES_PER_PAGE
    assert 'rel="next" href="?order=number&amp;page=2"' in first
    second = get(client, "/episodes/?order=number&page=2")
    assert titles(second) == [f"Number {n}" for n in range(EPISODES_PER_PAGE + 1, EPISODES_PER_PAGE + 11)]
    assert 'rel="prev"' in second and "Page 2 of 2" in second


def test_a_page_number_past_either_end_shows_the_nearest_page(client):
    make_episode(number=1, title="One")
    for page in ["0", "999999", "9" * 5000]:
        assert titles(get(client, f"/episodes/?page={page}")) == ["One"]


@pytest.mark.parametrize("page", ["abc", "²", "٢", "２", "-1", "1.0", " 1"])
def test_a_page_that_is_not_a_number_is_a_400_saying_so(client, page):
    make_episode(number=1, title="One")
    response = client.get("/episodes/", {"page": page})
    assert response.status_code == 400
    assert "“page” must be a whole number written with the digits 0–9." in response.content.decode()


def test_the_episode_list_keeps_its_query_count_flat(client, django_assert_max_num_queries):
    series = make_series("The Soviet Union")
    for number in range(1, 121):
        make_episode(number=number, series=series, part=number)
    with django_assert_max_num_queries(2):  # count, page (series joined)
        get(client, "/episodes/")


# /series/


def test_series_list_shows_each_series_with_its_size_and_numbers(client):
    soviet_union()
    make_series("Empty series")
    html = get(client, "/series/")
    assert 'href="/series/the-soviet-union/"' in html
    assert "8 episodes · numbers 131–138" in html
    assert "Empty series" in html


def test_a_series_page_lists_its_parts_in_order(client):
    series = make_series("The Soviet Union", description="Eight episodes on the 1930s.")
    # Created out of order, and with an extra that has no part.
    make_episode(number=138, slug="138", title="The Great Purges", series=series, part=8)
    make_episode(number=None, slug="bonus", title="A bonus", series=series)
    make_episode(number=131, slug="131", title="The first part", series=series, part=1)
    html = get(client, series.get_absolute_url())
    assert titles(html) == ["The first part", "The Great Purges", "A bonus"]
    assert "Part 1 · Episode 131" in html and "Part 8 · Episode 138" in html
    assert "<p>Eight episodes on the 1930s.</p>" in html


def test_an_unknown_series_is_not_found(client):
    assert client.get("/series/no-such-series/").status_code == 404


def test_series_pages_keep_their_query_count_flat(client, django_assert_max_num_queries):
    soviet_union(range(101, 141))
    with django_assert_max_num_queries(1):
        get(client, "/series/")
    with django_assert_max_num_queries(2):
        get(client, "/series/the-soviet-union/")


# Previous and next


def test_neighbours_are_the_nearest_numbers_and_parts():
    parts = soviet_union()
    make_episode(number=140, slug="140", title="Elsewhere")
    found = parts[7].neighbours  # episode 138, part 8
    assert found["previous"] == parts[6] and found["next"].number == 140
    assert found["previous_part"] == parts[6] and found["next_part"] is None


def test_neighbours_skip_gaps_in_numbering():
    series = make_series("The Soviet Union")
    make_episode(number=100, slug="100", series=series, part=1)
    middle = make_episode(number=120, slug="120", series=series, part=3)
    make_episode(number=150, slug="150", series=series, part=7)
    make_episode(number=None, slug="extra")
    found = middle.neighbours
    assert (found["previous"].number, found["next"].number) == (100, 150)
    assert (found["previous_part"].part, found["next_part"].part) == (1, 7)


def test_an_episode_without_a_number_has_no_numbered_neighbours():
    make_episode(number=1, slug="one")
    trailer = make_episode(number=None, slug="trailer")
    assert trailer.neighbours == dict.fromkeys(["previous", "next", "previous_part", "next_part"])


def test_episode_page_links_previous_and_next_with_rel(client):
    soviet_union((137, 138, 139))
    html = get(client, "/episodes/138-part-2/")
    pager = re.search(r'<nav class="episode-pager" aria-label="Previous and next episodes">.*?</nav>', html, re.S)
    assert pager, "no previous/next navigation"
    assert 'rel="prev" href="/episodes/137-part-1/"' in pager.group()
    assert 'rel="next" href="/episodes/139-part-3/"' in pager.group()


def test_episode_page_links_the_parts_either_side_within_the_series(client):
    soviet_union((137, 138, 139))
    html = get(client, "/episodes/138-part-2/")
    pager = re.search(r'<nav class="series-pager" aria-label="Parts of The Soviet Union">.*?</nav>', html, re.S)
    assert pager, "no series navigation"
    assert re.search(r'rel="prev" href="/episodes/137-part-1/"[^>]*>← Part 1<', pager.group())
    assert re.search(r'rel="next" href="/episodes/139-part-3/"[^>]*>Part 3 →<', pager.group())
    assert 'href="/series/the-soviet-union/">All parts<' in pager.group()


def test_the_first_and_last_episodes_link_one_way_only(client):
    soviet_union((1, 2))
    first, last = get(client, "/episodes/1-part-1/"), get(client, "/episodes/2-part-2/")
    assert 'rel="next"' in first and 'rel="prev"' not in first
    assert 'rel="prev"' in last and 'rel="next"' not in last


def test_an_only_episode_has_no_pager(client):
    make_episode(number=1, slug="only")
    html = get(client, "/episodes/only/")
    assert "episode-pager" not in html and "series-pager" not in html


def test_a_new_episode_appears_as_next_on_a_cached_page(client):
    """The anonymous page cache must not keep serving a page without its new neighbour."""
    make_episode(number=1, slug="one")
    assert 'rel="next"' not in get(client, "/episodes/one/")
    make_episode(number=2, slug="two")
    assert 'rel="next" href="/episodes/two/"' in get(client, "/episodes/one/")


def test_the_episode_page_adds_one_query_for_its_neighbours(client):
    """Measured against a lone extra (no number, no series: nothing to look up), so what other parts of the page ask for doesn't count here."""
    def queries(path):
        get(client, path)  # the show and the transcript, then kept by the worker
        caches["pages"].clear()
        with CaptureQueriesContext(connection) as captured:
            get(client, path)
        caches["pages"].clear()
        return len(captured)

    make_episode(number=None, slug="alone")
    alone = queries("/episodes/alone/")
    Episode.objects.all().delete()
    soviet_union(range(101, 141))
    assert queries("/episodes/120-part-20/") == alone + 1


# X-Ray strips


@pytest.fixture
def timed():
    """A timed 10-minute episode mentioning the NKVD at 1:00 and 7:30 (twice in one sentence)."""
    episode = make_episode(number=138, slug="138-the-great-purges", title="The Great Purges",
                           duration=datetime.timedelta(minutes=10), timing=Episode.Timing.TIMED)
    sentences = make_sentences(episode, "Hello.", "Then the NKVD arrested thousands of people across the land.",
                               "Nothing.", "The NKVD and the NKVD again.")
    for sentence, start in zip(sentences, [0, 60, 200, 450.2]):
        sentence.start, sentence.end = start, start + 5
        sentence.save()
    nkvd = make_term("NKVD")
    make_mention(sentences[1], nkvd, 9, 13)
    make_mention(sentences[3], nkvd, 4, 8)
    make_mention(sentences[3], nkvd, 17, 21)
    episode.render_transcript()
    return {"episode": episode, "nkvd": nkvd, "sentences": sentences}


def svg_links(html):
    return re.findall(r'<a href="([^"]+)" aria-label="([^"]+)"><title>[^<]+</title>'
                      r'<rect class="xray-hit" x="([\d.]+)%"', html)


def test_a_passage_is_quoted_once_with_every_mention_marked(client, timed):
    html = get(client, "/glossary/nkvd/")
    assert re.findall(r'<a class="in-context" href="([^"]+)">(.*?)</a></li>', html) == [
        ("/episodes/138-the-great-purges/?t=60#s-2",
         '<span class="moment">1:00</span> Then the <mark>NKVD</mark> arrested thousands of people across the land.'),
        ("/episodes/138-the-great-purges/?t=450.2#s-4",
         '<span class="moment">7:30</span> The <mark>NKVD</mark> and the <mark>NKVD</mark> again.'),
    ]
    assert "All 2 passages in context" in html and "(3 mentions)" in html


def test_a_timed_strip_places_ticks_by_time_and_links_to_the_moment(client, timed):
    html = get(client, "/glossary/nkvd/")
    assert svg_links(html) == [
        ("/episodes/138-the-great-purges/?t=60#s-2",
         "1:00 — ‘Then the NKVD arrested thousands of people…’", "10.00"),
        ("/episodes/138-the-great-purges/?t=450.2#s-4",
         "7:30 — ‘The NKVD and the NKVD again.’", "75.03"),
    ]
    assert "Where in the episode’s 10:00 of audio" in html


def test_one_tick_per_sentence_however_many_mentions_it_holds(timed):
    (strip,) = strips_for(timed["nkvd"])
    assert len(strip.mentions) == 3 and len(strip.ticks) == 2


def test_a_tick_lands_on_its_own_sentence(client, timed):
    """The moment's ?t= is rounded up, so the page highlights that sentence, not the one before."""
    (strip,) = strips_for(timed["nkvd"])
    html = get(client, strip.ticks[1].url.split("#")[0])
    assert 'id="s-4" autofocus tabindex="-1" aria-current="true"' in html


def test_moment_parameters_round_up_to_the_millisecond():
    assert moment_parameter(754.2) == "754.2"
    assert moment_parameter(60.0) == "60"
    assert moment_parameter(12.3456) == "12.346"
    assert float(moment_parameter(0.1 + 0.2)) >= 0.1 + 0.2


def test_an_untimed_strip_places_ticks_by_sentence_and_says_so(client):
    episode = make_episode(number=5, slug="five")
    sentences = make_sentences(episode, *[f"Sentence {n}." for n in range(1, 10)], "The NKVD came.")
    make_mention(sentences[9], make_term("NKVD"), 4, 8)
    html = get(client, "/glossary/nkvd/")
    assert svg_links(html) == [("/episodes/five/#s-10", "Sentence 10 — ‘The NKVD came.’", "95.00")]
    assert "no timings yet, so by sentence" in html and "10 sentences" in html


def test_a_timed_episode_without_a_duration_scales_to_its_last_sentence(timed):
    Episode.objects.filter(pk=timed["episode"].pk).update(duration=None)
    (strip,) = strips_for(timed["nkvd"])
    assert strip.by_time and strip.length == 455.2  # the last sentence's end
    assert round(strip.ticks[1].percent, 2) == round(450.2 / 455.2 * 100, 2)


def test_suppressed_mentions_leave_no_tick(client, timed):
    Mention.objects.filter(sentence=timed["sentences"][1]).update(kind=Mention.Kind.SUPPRESSED)
    (strip,) = strips_for(timed["nkvd"])
    assert [tick.sentence.position for tick in strip.ticks] == [4]


def test_strips_follow_episode_order_and_the_list_links_to_the_same_moments(client, timed):
    earlier = make_episode(number=100, slug="earlier", title="Earlier")
    (sentence,) = make_sentences(earlier, "The NKVD was founded.")
    make_mention(sentence, timed["nkvd"], 4, 8)
    html = get(client, "/glossary/nkvd/")
    assert html.index("100: Earlier") < html.index("138: The Great Purges")
    assert 'class="in-context" href="/episodes/138-the-great-purges/?t=450.2#s-4"' in html


def test_strips_use_no_inline_styles(client, timed):
    """The CSP forbids style attributes: ticks are placed by SVG x attributes."""
    html = get(client, "/glossary/nkvd/")
    assert "style=" not in html and "<svg" in html


def test_a_tick_label_is_escaped(client):
    episode = make_episode(number=5, slug="five")
    (sentence,) = make_sentences(episode, 'The NKVD said "<script>alert(1)</script>".')
    make_mention(sentence, make_term("NKVD"), 4, 8)
    html = get(client, "/glossary/nkvd/")
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html


def test_snippets_cut_at_word_boundaries():
    episode = make_episode(number=5, slug="five")
    text = "In the long winter of that terrible year the NKVD arrested a great many people in every town."
    (sentence,) = make_sentences(episode, text)
    mention = make_mention(sentence, make_term("NKVD"), text.index("NKVD"), text.index("NKVD") + 4)
    assert snippet(mention) == "…of that terrible year the NKVD arrested a great many people in…"


@pytest.mark.parametrize("url", ["/people/joseph-stalin/", "/glossary/nkvd/"])
def test_entry_pages_keep_their_query_count_flat_over_many_episodes(client, django_assert_max_num_queries, url):
    """20 episodes, half timed, each mentioning both several times: still a handful of queries."""
    stalin, nkvd = make_person("Joseph Stalin"), make_term("NKVD")
    for number in range(1, 21):
        timed = number % 2 == 0
        episode = make_episode(number=number, duration=datetime.timedelta(minutes=30) if timed else None,
                               timing=Episode.Timing.TIMED if timed else Episode.Timing.NONE)
        sentences = make_sentences(episode, *[f"Joseph Stalin and the NKVD, {n}." for n in range(12)])
        for position, sentence in enumerate(sentences):
            if timed:
                sentence.start, sentence.end = position * 100, position * 100 + 50
                sentence.save()
            make_mention(sentence, stalin, 0, 13)
            make_mention(sentence, nkvd, 22, 26)
    # entry, (related terms), episodes with counts, the page's episodes, their mentions,
    # sentence counts (for the untimed), events (the timeline's)
    with django_assert_max_num_queries(7):
        html = get(client, url)
    assert html.count('role="listitem"') == 20 * 12


def test_strips_come_a_page_of_episodes_at_a_time(client):
    nkvd = make_term("NKVD")
    for number in range(1, STRIPS_PER_PAGE + 6):
        (sentence,) = make_sentences(make_episode(number=number, title=f"Number {number}"), "The NKVD came.")
        make_mention(sentence, nkvd, 4, 8)
    first = get(client, "/glossary/nkvd/")
    assert first.count('class="xray"') == STRIPS_PER_PAGE
    assert f"In {STRIPS_PER_PAGE + 5} episodes." in first
    assert 'rel="next" href="?mentions=2#mentions-heading"' in first
    second = get(client, "/glossary/nkvd/?mentions=2")
    assert second.count('class="xray"') == 5 and f"{STRIPS_PER_PAGE + 5}: Number {STRIPS_PER_PAGE + 5}" in second
    assert get(client, "/glossary/nkvd/?mentions=999").count('class="xray"') == 5  # the last page
    assert client.get("/glossary/nkvd/?mentions=²").status_code == 400


def test_ticks_too_close_to_tell_apart_share_one_mark(client):
    episode = make_episode(number=5, slug="five")
    nkvd = make_term("NKVD")
    # 300 sentences, the NKVD in the first 3 (within 1%) and in the last one.
    sentences = make_sentences(episode, *[f"The NKVD, {n}." for n in range(300)])
    for sentence in [*sentences[:3], sentences[-1]]:
        make_mention(sentence, nkvd, 4, 8)
    (strip,) = strips_for(nkvd)
    assert [(tick.sentence.position, tick.nearby) for tick in strip.ticks] == [(1, 2), (300, 0)]
    assert "Sentence 1 — ‘The NKVD, 0.’ and 2 more nearby" in get(client, "/glossary/nkvd/")


def test_long_lists_quote_the_first_few_and_say_so(client):
    episode = make_episode(number=5, slug="five")
    nkvd = make_term("NKVD")
    for sentence in make_sentences(episode, *[f"The NKVD, {n}." for n in range(QUOTED_PER_EPISODE + 5)]):
        make_mention(sentence, nkvd, 4, 8)
    html = get(client, "/glossary/nkvd/")
    assert html.count('class="in-context"') == QUOTED_PER_EPISODE
    assert f"The first {QUOTED_PER_EPISODE} of {QUOTED_PER_EPISODE + 5} passages in context" in html
    assert '<details class="xray-mentions">' in html  # closed


def test_strips_leave_the_transcripts_in_the_database(client, timed):
    """A page of strips must not load every episode's rendered transcript."""
    with CaptureQueriesContext(connection) as queries:
        get(client, "/glossary/nkvd/")
    assert not any("transcript_html" in query["sql"] for query in queries.captured_queries)


# Home page and navigation


def test_home_shows_the_latest_episodes_first(client):
    for number in range(1, 9):
        make_episode(number=number, title=f"Number {number}")
    html = get(client, "/")
    featured = html[html.index('class="show-hero"'):html.index("More episodes")]
    assert re.findall(r'<h2 class="featured-title"><a href="/episodes/[^"]+/">([^<]+)</a>', featured) == ["Number 8"]
    more = html[html.index("More episodes"):html.index("All episodes")]
    assert titles(more) == ["Number 7", "Number 6", "Number 5", "Number 4"]


def test_home_offers_ways_in_by_series_person_and_term(client, timed):
    timed["episode"].series = make_series("The Soviet Union")
    timed["episode"].save()
    stalin = make_person("Joseph Stalin")
    make_mention(timed["sentences"][1], stalin, 0, 4)
    make_mention(timed["sentences"][3], stalin, 0, 3)
    html = get(client, "/")
    assert 'href="/series/the-soviet-union/">The Soviet Union</a> <span class="count">1 episode</span>' in html
    assert 'href="/people/joseph-stalin/">Joseph Stalin</a> <span class="count">2 mentions</span>' in html
    assert 'href="/glossary/nkvd/">NKVD</a> <span class="count">3 mentions</span>' in html


def test_suppressed_mentions_do_not_count_on_the_home_page(client, timed):
    Mention.objects.filter(sentence=timed["sentences"][3]).update(kind=Mention.Kind.SUPPRESSED)
    assert '<span class="count">1 mention</span>' in get(client, "/")


def test_the_home_page_keeps_its_query_count_flat(client, django_assert_max_num_queries):
    series = make_series("The Soviet Union")
    term = make_term("NKVD")
    for number in range(1, 31):
        episode = make_episode(number=number, series=series, part=number)
        (sentence,) = make_sentences(episode, "The NKVD came.")
        make_mention(sentence, term, 4, 8)
        make_mention(sentence, make_person(f"Person {number}"), 0, 3)
    with django_assert_max_num_queries(4):  # latest, series, people, terms
        get(client, "/")


def test_the_site_navigation_leads_to_episodes_and_series(client):
    html = get(client, "/episodes/")
    nav = re.search(r'<nav aria-label="Main">.*?</nav>', html, re.S).group()
    assert '<a href="/episodes/" aria-current="page">Episodes</a>' in nav
    assert '<a href="/series/">Series</a>' in nav


def test_snippets_keep_a_whole_word_at_the_cut():
    episode = make_episode(number=5, slug="five")
    text = "Long before then the NKVD came at night."
    (sentence,) = make_sentences(episode, text)
    mention = make_mention(sentence, make_term("NKVD"), 21, 25)
    assert snippet(mention, context=10) == "…then the NKVD came at…"
    assert snippet(mention, context=100) == text


def test_the_demo_describes_its_series(client):
    from django.core.management import call_command

    call_command("load_demo", "--no-narration", verbosity=0)
    html = get(client, "/series/the-soviet-union/")
    assert "An eight-part run on politics inside the Soviet Union in the 1930s" in html
    assert "Part 8 · Episode 138" in html and "The Great Purges" in html
    call_command("load_demo", "--no-narration", verbosity=0)  # loading again changes nothing
    series = Series.objects.get()
    assert series.description.startswith("An eight-part run") and series.episodes.count() == 1


def test_an_episode_without_a_number_is_called_an_extra(client):
    make_episode(number=None, slug="trailer", title="Trailer")
    html = get(client, "/episodes/trailer/")
    assert "<title>Trailer · Companion</title>" in html
    # No Python None where the number would be (the notes' highlight filter has its own "None").
    assert "Extra" in html and "None" not in html.replace('value="none"> None</label>', "")

"""The timeline: dated events, their demo content, the page, person/term pages and the TimelineJS export."""

import datetime

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError

from timeline.models import Event, parse_partial_date
from episodes.models import Episode
from tests.factories import make_episode, make_person, make_sentences, make_term

pytestmark = pytest.mark.django_db

DEMO = settings.DEMO_CONTENT_DIR
Precision = Event.Precision


def make_event(title="Kirov is shot", **overrides):
    values = {"slug": title.lower().replace(" ", "-"), "date": datetime.date(1934, 12, 1),
              "description": f"What happened: {title}."}
    values.update(overrides)
    return Event.objects.create(title=title, **values)


# Dates and their precision


@pytest.mark.parametrize(
    "written, expected",
    [
        ("1934-12-01", (datetime.date(1934, 12, 1), Precision.DAY)),
        ("1937-07", (datetime.date(1937, 7, 1), Precision.MONTH)),
        ("1932", (datetime.date(1932, 1, 1), Precision.YEAR)),
        (1932, (datetime.date(1932, 1, 1), Precision.YEAR)),
        (datetime.date(1940, 2, 4), (datetime.date(1940, 2, 4), Precision.DAY)),
    ],
)
def test_a_written_date_carries_its_precision(written, expected):
    assert parse_partial_date(written) == expected


@pytest.mark.parametrize("written", ["1 December 1934", "1934-13", "1934-02-30", "34", "", "1934-1-1"])
def test_a_malformed_date_is_refused(written):
    with pytest.raises(ValueError):
        parse_partial_date(written)


@pytest.mark.parametrize(
    "date, precision, end_date, label",
    [
        (datetime.date(1934, 12, 1), Precision.DAY, None, "1 December 1934"),
        (datetime.date(1937, 7, 1), Precision.MONTH, None, "July 1937"),
        (datetime.date(1932, 1, 1), Precision.YEAR, None, "1932"),
        (datetime.date(1936, 8, 1), Precision.MONTH, datetime.date(1938, 3, 31), "August 1936 – March 1938"),
        (datetime.date(1932, 3, 1), Precision.MONTH, datetime.date(1932, 9, 30), "March–September 1932"),
        (datetime.date(1936, 8, 19), Precision.DAY, datetime.date(1936, 8, 24), "19–24 August 1936"),
        (datetime.date(1935, 2, 28), Precision.DAY, datetime.date(1935, 3, 27), "28 February – 27 March 1935"),
        (datetime.date(1934, 12, 28), Precision.DAY, datetime.date(1935, 1, 16), "28 December 1934 – 16 January 1935"),
        (datetime.date(1937, 1, 1), Precision.YEAR, datetime.date(1938, 12, 31), "1937–1938"),
        # An end inside the start's own month is no range at all.
        (datetime.date(1938, 8, 1), Precision.MONTH, datetime.date(1938, 8, 31), "August 1938"),
    ],
)
def test_dates_read_at_their_precision(date, precision, end_date, label):
    assert Event(date=date, precision=precision, end_date=end_date).date_label == label


def test_cleaning_snaps_dates_to_what_the_precision_means():
    event = Event(title="Order 00447", slug="order", description="An order.", precision=Precision.MONTH,
                  date=datetime.date(1937, 7, 30), end_date=datetime.date(1938, 11, 17))
    event.full_clean()
    assert (event.date, event.end_date) == (datetime.date(1937, 7, 1), datetime.date(1938, 11, 30))


def test_an_end_before_the_start_is_refused():
    event = Event(title="Backwards", slug="backwards", description="No.", precision=Precision.DAY,
                  date=datetime.date(1938, 3, 13), end_date=datetime.date(1938, 3, 2))
    with pytest.raises(ValidationError):
        event.full_clean()


# The timeline page


@pytest.fixture
def timeline(db):
    """Three events in two years over one timed episode, with a person and a term."""
    episode = make_episode(number=138, slug="138-the-great-purges", title="The Great Purges",
                           timing=Episode.Timing.TIMED)
    first, second, third = make_sentences(episode, "Kirov was shot.", "Nikolaev was shot.", "Trials followed.")
    for sentence, start in ((first, 10.0), (second, 12.3456), (third, 20.0)):
        sentence.start, sentence.end = start, start + 1
        sentence.save()
    kirov = make_person("Sergei Kirov")
    trials = make_term("Moscow Trials", category="event")
    shot = make_event("Kirov is shot", description="Shot in the Smolny.\n\nA <b>turning</b> point.")
    shot.people.add(kirov)
    shot.sentences.add(first, second)
    executed = make_event("Nikolaev is executed", date=datetime.date(1934, 12, 29))
    executed.sentences.add(second)
    tried = make_event("The Moscow trials", date=datetime.date(1936, 8, 1), precision=Precision.MONTH,
                       end_date=datetime.date(1938, 3, 31))
    tried.terms.add(trials)
    tried.people.add(kirov)
    return {"episode": episode, "sentences": (first, second, third), "kirov": kirov, "trials": trials,
            "events": (shot, executed, tried)}


def test_the_timeline_groups_events_by_year_in_order(client, timeline):
    html = client.get("/timeline/").content.decode()
    assert html.index('id="year-1934"') < html.index("Kirov is shot") < html.index("Nikolaev is executed")
    assert html.index("Nikolaev is executed") < html.index('id="year-1936"') < html.index("The Moscow trials")
    assert '<time datetime="1934-12-01">1 December 1934</time>' in html
    assert "August 1936 – March 1938" in html


def test_an_event_links_to_the_moment_it_is_told_and_plays_from_there(client, timeline):
    html = client.get("/timeline/").content.decode()
    assert 'href="/episodes/138-the-great-purges/?t=10#s-1">Listen from 0:10 in 138: The Great Purges</a>' in html
    # Rounded up to the millisecond, so the page lands on this sentence, not the one before.
    assert 'href="/episodes/138-the-great-purges/?t=12.346#s-2"' in html


def test_an_untimed_episode_links_to_the_sentence_without_a_moment(client, timeline):
    timeline["episode"].timing = Episode.Timing.NONE
    timeline["episode"].save()
    html = client.get("/timeline/").content.decode()
    assert 'href="/episodes/138-the-great-purges/#s-1">Read it in 138: The Great Purges</a>' in html
    assert "?t=" not in html


def test_the_timeline_escapes_descriptions_and_links_people_and_terms(client, timeline):
    html = client.get("/timeline/").content.decode()
    assert "A &lt;b&gt;turning&lt;/b&gt; point." in html
    assert '<li class="event" id="kirov-is-shot">' in html
    assert 'href="/people/sergei-kirov/">Sergei Kirov</a>' in html
    assert 'href="/glossary/moscow-trials/">Moscow Trials</a>' in html


def test_the_timeline_filters_by_person_and_by_term(client, timeline):
    html = client.get("/timeline/?person=sergei-kirov").content.decode()
    assert "Kirov is shot" in html and "The Moscow trials" in html and "Nikolaev is executed" not in html
    assert "2 events involving" in html
    html = client.get("/timeline/?term=moscow-trials").content.decode()
    assert "The Moscow trials" in html and "Kirov is shot" not in html
    assert '<option value="moscow-trials" selected>' in html


def test_filtering_by_someone_unknown_is_not_found(client, timeline):
    assert client.get("/timeline/?person=nobody").status_code == 404
    assert client.get("/timeline/?term=" + "x" * 5000).status_code == 404
    # No slug holds these (and PostgreSQL would refuse a query holding NUL).
    for slug in ["sergei-kirov\x00", "sergei kirov", "сергей-киров"]:
        assert client.get("/timeline/", {"person": slug}).status_code == 404


def test_the_timeline_is_empty_but_fine_without_events(client, db):
    html = client.get("/timeline/").content.decode()
    assert "No events yet." in html


def test_the_site_nav_links_the_timeline(client, timeline):
    html = client.get("/timeline/").content.decode()
    assert '<a href="/timeline/" aria-current="page">Timeline</a>' in html
    assert Event.objects.get(slug="kirov-is-shot").get_absolute_url() == "/timeline/#kirov-is-shot"


def test_the_timeline_query_count_does_not_grow_with_events(client, timeline, django_assert_max_num_queries):
    with django_assert_max_num_queries(7):
        client.get("/timeline/")
    episode, kirov = timeline["episode"], timeline["kirov"]
    for number in range(20):
        sentence = make_sentences(episode, f"Event {number} happened.")[0]
        event = make_event(f"Event {number}", date=datetime.date(1935, 1, number + 1))
        event.sentences.add(sentence)
        event.people.add(kirov, make_person(f"Person {number}"))
        event.terms.add(make_term(f"Term {number}"))
    with django_assert_max_num_queries(7):
        response = client.get("/timeline/")
    assert response.content.decode().count('class="event"') == 23


# Person and term pages


def test_person_and_term_pages_list_their_events(client, timeline):
    html = client.get("/people/sergei-kirov/").content.decode()
    assert 'href="/timeline/#kirov-is-shot">Kirov is shot</a>' in html
    assert "August 1936 – March 1938" in html
    assert "Nikolaev is executed" not in html
    assert 'href="/timeline/?person=sergei-kirov"' in html
    html = client.get("/glossary/moscow-trials/").content.decode()
    assert 'href="/timeline/#the-moscow-trials"' in html and 'href="/timeline/?term=moscow-trials"' in html


def test_pages_without_events_show_no_timeline_section(client, timeline):
    make_person("Lev Kopelev")
    assert "On the timeline" not in client.get("/people/lev-kopelev/").content.decode()


def test_person_pages_keep_their_query_count_with_many_events(client, timeline, django_assert_max_num_queries):
    with django_assert_max_num_queries(50) as before:
        client.get("/people/sergei-kirov/")
    for number in range(15):
        make_event(f"Event {number}", date=datetime.date(1935, 1, number + 1)).people.add(timeline["kirov"])
    with django_assert_max_num_queries(len(before.captured_queries)):
        html = client.get("/people/sergei-kirov/").content.decode()
    assert html.count('href="/timeline/#event-') == 15


# The TimelineJS export


def test_the_export_has_timelinejs_shape(client, timeline):
    response = client.get("/timeline.json")
    assert response["Content-Type"] == "application/json"
    assert response["Access-Control-Allow-Origin"] == "*"
    data = response.json()
    assert set(data) == {"title", "events"}
    assert data["title"]["text"]["headline"] == "Timeline"
    assert [slide["unique_id"] for slide in data["events"]] == ["kirov-is-shot", "nikolaev-is-executed",
                                                                 "the-moscow-trials"]
    for slide in data["events"]:
        assert set(slide) <= {"unique_id", "start_date", "end_date", "display_date", "text", "group"}
        assert set(slide["text"]) == {"headline", "text"}
        assert isinstance(slide["start_date"]["year"], int)


def test_export_dates_carry_only_what_the_precision_knows(client, timeline):
    slides = {slide["unique_id"]: slide for slide in client.get("/timeline.json").json()["events"]}
    assert slides["kirov-is-shot"]["start_date"] == {"year": 1934, "month": 12, "day": 1}
    assert "end_date" not in slides["kirov-is-shot"]
    assert slides["the-moscow-trials"]["start_date"] == {"year": 1936, "month": 8}
    assert slides["the-moscow-trials"]["end_date"] == {"year": 1938, "month": 3}
    assert slides["the-moscow-trials"]["display_date"] == "August 1936 – March 1938"
    make_event("Ryutin platform", date=datetime.date(1932, 1, 1), precision=Precision.YEAR)
    slides = {slide["unique_id"]: slide for slide in client.get("/timeline.json").json()["events"]}
    assert slides["ryutin-platform"]["start_date"] == {"year": 1932}


def test_export_text_is_escaped_html_with_a_link_to_the_moment(client, timeline):
    Event.objects.filter(slug="kirov-is-shot").update(title="Kirov <script>")
    slide = client.get("/timeline.json").json()["events"][0]
    assert slide["text"]["headline"] == "Kirov &lt;script&gt;"
    assert "<p>Shot in the Smolny.</p>" in slide["text"]["text"]
    assert "A &lt;b&gt;turning&lt;/b&gt; point." in slide["text"]["text"]
    assert '<a href="http://testserver/episodes/138-the-great-purges/?t=10#s-1">' in slide["text"]["text"]
    assert slide["group"] == "Episode 138: The Great Purges"


def test_an_event_told_nowhere_exports_without_group_or_link(client, timeline):
    make_event("Untold", date=datetime.date(1950, 1, 1))
    slide = client.get("/timeline.json").json()["events"][-1]
    assert "group" not in slide and "<a " not in slide["text"]["text"]


# Admin


def test_the_admin_lists_searches_and_filters_events(client, timeline):
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_superuser("editor", password="a long editor password")
    client.force_login(admin)
    base = "/" + settings.ADMIN_PATH + "timeline/event/"
    html = client.get(base + "?q=Nikolaev").content.decode()
    assert "Nikolaev is executed" in html and "Kirov is shot" not in html
    html = client.get(base + "?precision__exact=month").content.decode()
    assert "The Moscow trials" in html and "Kirov is shot" not in html
    html = client.get(base + "?year=1934").content.decode()
    assert "Kirov is shot" in html and "The Moscow trials" not in html
    event = Event.objects.get(slug="kirov-is-shot")
    assert client.get(f"{base}{event.pk}/change/").status_code == 200
    response = client.get("/" + settings.ADMIN_PATH + "autocomplete/",
                          {"app_label": "timeline", "model_name": "event", "field_name": "people", "term": "Kir"})
    assert response.json()["results"][0]["text"] == "Sergei Kirov"


@pytest.mark.parametrize("year", ["²", "①", "١٩٣٤", "0", "10000", "9" * 5000, "-1934"])
def test_a_year_filter_that_is_not_a_year_shows_every_event_and_says_why(client, timeline, year):
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.create_superuser("editor", password="a long editor password"))
    base = "/" + settings.ADMIN_PATH + "timeline/event/"
    response = client.get(base, {"year": year}, follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert "The year must be" in html
    assert "Kirov is shot" in html and "The Moscow trials" in html


def test_the_export_query_count_does_not_grow_with_events(client, timeline, django_assert_max_num_queries):
    episode = timeline["episode"]
    for number in range(20):
        event = make_event(f"Event {number}", date=datetime.date(1935, 1, number + 1))
        event.sentences.add(make_sentences(episode, f"Event {number} happened.")[0])
        event.people.add(timeline["kirov"])
    with django_assert_max_num_queries(4):
        data = client.get("/timeline.json").json()
    assert len(data["events"]) == 23


def test_an_episode_without_a_number_is_named_by_its_title_alone(client, timeline):
    timeline["episode"].number = None
    timeline["episode"].save()
    html = client.get("/timeline/").content.decode()
    assert "Listen from 0:10 in The Great Purges</a>" in html
    assert "None" not in html

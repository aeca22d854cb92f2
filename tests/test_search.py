"""Search: the same behaviour on SQLite (FTS5) and PostgreSQL (tsvector, pg_trgm)."""

import pytest
from django.core.management import call_command
from django.db import connection

from episodes.models import Sentence
from episodes.search import parse_query, search

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The real demo content, loaded once for this module."""
    with django_db_blocker.unblock():
        call_command("load_demo", "--no-narration", verbosity=0)
        yield
        call_command("flush", "--noinput", verbosity=0)


def group(results, key):
    return next(g for g in results.groups if g.key == key)


def names(results, key):
    return [str(item) for item in group(results, key).items]


def moment_texts(results):
    return [item.text for item in group(results, "moments").items]


def test_a_transliteration_finds_the_person_and_every_moment(demo):
    results = search("Ezhov")
    assert names(results, "people")[0] == "Nikolai Yezhov"
    moments = moment_texts(results)
    assert moments and all("Yezhov" in text for text in moments)
    assert group(results, "moments").count >= 6


def test_stemming_finds_every_form(demo):
    texts = " ".join(moment_texts(search("purged", group="moments", per_page=100)))
    assert "purged" in texts and "purges" in texts and "purge " in texts


def test_prefix_matching_while_typing(demo):
    assert names(search("Yez"), "people")[0] == "Nikolai Yezhov"
    assert group(search("Kir"), "moments").count > 0


def test_a_long_word_still_being_typed_is_a_prefix(demo):
    moments = moment_texts(search("Yezho"))
    assert moments and all("Yezhov" in text for text in moments)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL answers prefixes from its GIN index")
def test_a_long_common_word_is_taken_as_typed(demo, monkeypatch):
    """FTS5 merges a long prefix's hits in memory: a word common on its own needs no prefix."""
    import episodes.search

    monkeypatch.setattr(episodes.search, "CANDIDATES", 3)
    engine = episodes.search.backend()
    assert engine.settled(parse_query("Stalin")).prefix is False  # mentioned more than 3 times
    assert engine.settled(parse_query("Stali")).prefix is True  # no word of its own: still being typed
    assert engine.settled(parse_query("Kir")).prefix is True  # short: the prefix index answers it
    typed, quoted = search("Stalin"), search('"Stalin"')
    assert typed.parsed.prefix is False  # search() uses the settled query
    assert [m.pk for m in group(typed, "moments").items] == [m.pk for m in group(quoted, "moments").items]


def test_a_common_words_count_stops_where_the_list_does(client, demo, monkeypatch):
    """Only CANDIDATES moments are ranked, so no more are counted or paged to: "12+", and the pages end at 12."""
    import episodes.search

    exact = group(search("Stalin"), "moments").count
    monkeypatch.setattr(episodes.search, "CANDIDATES", 12)
    assert exact > 12
    first = search("Stalin", group="moments", per_page=10)
    moments = group(first, "moments")
    assert (moments.count, moments.more, len(moments.items), first.has_next) == (12, True, 10, True)
    last = search("Stalin", group="moments", page=2, per_page=10)
    assert len(group(last, "moments").items) == 2 and not last.has_next
    beyond = group(search("Stalin", group="moments", page=3, per_page=10), "moments")
    assert (beyond.count, beyond.more, beyond.items) == (12, True, [])
    rare = group(search("Yagoda"), "moments")
    assert (rare.count, rare.more) == (2, False)
    html = client.get("/search/?q=Stalin").content.decode()
    assert 'Transcript moments <span class="count">12+</span>' in html
    assert "The first 12 transcript moments →" in html and "All 12 transcript moments" not in html
    html = client.get("/search/?q=Stalin&group=moments").content.decode()
    assert "More than 12 match; a search lists the first 12." in html
    assert "More than" not in client.get("/search/?q=Yagoda&group=moments").content.decode()


def test_a_group_of_entries_says_when_it_holds_more_than_it_lists(client, demo, monkeypatch):
    """Terms, people and sources are listed up to ENTITY_LIMIT: past it the count says "2+", not "2"."""
    import episodes.search

    assert group(search("Soviet"), "terms").count > 2
    monkeypatch.setattr(episodes.search, "ENTITY_LIMIT", 2)
    terms = group(search("Soviet", group="terms", per_page=1), "terms")
    assert (terms.count, terms.more, len(terms.items)) == (2, True, 1)
    assert not search("Soviet", group="terms", page=2, per_page=1).has_next
    people = group(search("Smolny"), "people")
    assert (people.count, people.more) == (2, False)  # exactly as many as a group lists
    html = client.get("/search/?q=Soviet").content.decode()
    assert 'Terms <span class="count">2+</span>' in html


def test_a_new_or_renamed_entry_is_found_by_a_typo_at_once(demo):
    from tests.factories import make_person

    assert not group(search("Vorboyev"), "people").items
    person = make_person("Anton Vorobyev", aliases="Vorobyev", role="A name made up for this test.")
    assert names(search("Vorboyev"), "people") == ["Anton Vorobyev"]
    person.name, person.aliases = "Anton Vorontsov", "Vorontsov"
    person.save()
    assert names(search("Vorontsvo"), "people") == ["Anton Vorontsov"]


def test_a_quoted_phrase_matches_words_in_order(demo):
    texts = moment_texts(search('"show trials"', group="moments", per_page=100))
    assert texts and all("show trial" in text.lower() for text in texts)
    loose = group(search("trials show", group="moments"), "moments").count
    assert loose >= len(texts)


def test_case_and_diacritics_are_ignored(demo):
    assert names(search("nkvd"), "terms")[0] == "NKVD"
    assert names(search("Yézhov"), "people")[0] == "Nikolai Yezhov"


def test_an_alias_finds_its_entry_both_ways(demo):
    assert names(search("NKVD"), "terms")[0] == "NKVD"
    assert names(search("People's Commissariat for Internal Affairs"), "terms")[0] == "NKVD"
    long_form = moment_texts(search("NKVD", group="moments", per_page=100))
    assert any("People’s Commissariat for Internal Affairs" in text for text in long_form)


@pytest.mark.parametrize("typo, person", [("Zinovev", "Grigory Zinoviev"), ("Kamanev", "Lev Kamenev"),
                                          ("Bukarin", "Nikolai Bukharin")])
def test_typos_in_names_still_find_the_person(demo, typo, person):
    results = search(typo)
    assert names(results, "people")[0] == person
    assert group(results, "people").fuzzy
    assert group(results, "moments").count > 0  # the moments where they are mentioned


def test_a_near_miss_offers_did_you_mean(demo):
    results = search("Bukarin")
    assert results.suggestion.lower() == "bukharin"


def test_an_exact_name_ranks_first(demo):
    assert names(search("Stalin"), "people")[0] == "Joseph Stalin"
    assert names(search("Great Terror"), "terms")[0] == "Great Terror"


def test_transcript_hits_are_marked_and_link_to_their_moment(client, demo):
    html = client.get("/search/?q=Smolny").content.decode()
    sentence = Sentence.objects.get(text__contains="Smolny Institute, walking")
    assert f'href="/episodes/138-the-great-purges/#s-{sentence.position}"' in html
    assert "<mark>Smolny" in html


def test_moments_link_with_their_time_when_timed(client, demo):
    sentence = Sentence.objects.get(text__contains="Smolny Institute, walking")
    sentence.start, sentence.end = 754.2, 760.0
    sentence.save()
    html = client.get("/search/?q=Smolny").content.decode()
    assert f'href="/episodes/138-the-great-purges/?t=754.2#s-{sentence.position}"' in html
    assert "12:34" in html


def test_results_are_grouped_with_counts_and_filterable(client, demo):
    html = client.get("/search/?q=NKVD").content.decode()
    for label in ("Terms", "People", "Sources", "Transcript moments"):
        assert label in html
    only_terms = client.get("/search/?q=NKVD&group=terms").content.decode()
    assert 'id="group-terms"' in only_terms and 'id="group-moments"' not in only_terms


def test_common_words_come_in_pages(demo):
    first = search("party", group="moments", page=1, per_page=5)
    second = search("party", group="moments", page=2, per_page=5)
    assert first.has_next
    assert {s.pk for s in group(first, "moments").items}.isdisjoint(s.pk for s in group(second, "moments").items)


def test_htmx_gets_only_the_results(client, demo):
    response = client.get("/search/?q=Kirov", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="results"') and "<html" not in html
    assert "HX-Request" in response["Vary"]


def test_the_search_page_works_as_a_plain_form(client, demo):
    html = client.get("/search/?q=Kirov").content.decode()
    assert '<form class="filter search-form" role="search" aria-labelledby="search-page-label" method="get"' in html
    assert "Sergei Kirov" in html


def test_every_page_has_the_search_box_in_its_header(client, demo):
    for url in ["/", "/glossary/", "/people/joseph-stalin/", "/episodes/138-the-great-purges/"]:
        assert 'type="search" id="site-search-q" name="q"' in client.get(url).content.decode()


def test_nothing_found_has_a_helpful_empty_state(client, demo):
    html = client.get("/search/?q=xylophone").content.decode()
    assert "Nothing found for “xylophone”" in html


@pytest.mark.parametrize("page", ["²", "①", "٢", "２", "abc", "-1", "1.5", " 2"])
def test_a_page_that_is_not_a_number_is_a_400_saying_so(client, demo, page):
    """It used to fall back to page 1 without a word."""
    response = client.get("/search/", {"q": "Stalin", "group": "moments", "page": page})
    assert response.status_code == 400
    assert "“page” must be a whole number written with the digits 0–9." in response.content.decode()


@pytest.mark.parametrize("page, shown", [("0", 1), ("000", 1), ("50", 50), ("51", 50), ("5000", 50), ("9" * 5000, 50)])
def test_a_page_past_either_end_is_clamped_to_the_nearest_one_we_serve(client, demo, page, shown):
    """Past the end: the last page a search can fill (1000 moments, 20 a page)."""
    response = client.get("/search/", {"q": "Stalin", "group": "moments", "page": page})
    assert response.status_code == 200
    assert f"<span>Page {shown}</span>" in response.content.decode()


HOSTILE = [
    '"', '""', '"unclosed phrase', "*", "purg*", "-Stalin", "Stalin -Kirov", "AND", "OR", "NEAR",
    "Stalin AND OR NEAR Kirov", "NEAR(Stalin Kirov)", "(((", ")", "Kirov's", "'", "''", "\\",
    "'; DROP TABLE episodes_sentence; --", "1' OR '1'='1", "Robert'); DROP TABLE students;--",
    "\x00\x01\x1b[31m", "Сталин", "斯大林", "ستالين", "🙂", "a:b", "^", "{x}", "col:text", "$$", "&|!<->",
    "x" * 100_000, "Stalin " * 20_000,
]


@pytest.mark.parametrize("query", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_queries_never_fail(client, demo, query):
    response = client.get("/search/", {"q": query})
    assert response.status_code == 200
    assert "<script" not in response.content.decode().split('<main id="main"')[1].split("</main>")[0]


def test_sql_looking_queries_leave_the_data_alone(client, demo):
    before = Sentence.objects.count()
    client.get("/search/", {"q": "'; DROP TABLE episodes_sentence; --"})
    assert Sentence.objects.count() == before


def test_a_huge_query_is_cut_to_a_sensible_length():
    parsed = parse_query("Stalin " * 20_000)
    assert len(parsed.words) <= 10


def test_the_search_index_follows_edits(demo):
    sentence = Sentence.objects.filter(episode__slug="138-the-great-purges").first()
    original = sentence.text
    sentence.text = original + " Zeppelinesque."
    sentence.save()
    assert group(search("Zeppelinesque"), "moments").count == 1
    sentence.text = original
    sentence.save()
    assert group(search("Zeppelinesque"), "moments").count == 0


def test_the_group_holding_an_exact_name_is_shown_first(demo):
    assert search("Ezhov").shown[0].key == "people"
    assert search("NKVD").shown[0].key == "terms"


def test_approved_notes_are_found_and_others_are_not(client, demo):
    from tests.factories import make_note, make_user

    from episodes.models import Episode

    episode = Episode.objects.get(slug="138-the-great-purges")
    author = make_user("noter")
    for key, status, body in [("a", "approved", "The Smolny corridors were *narrow*."),
                              ("b", "pending", "Smolny pending thought."),
                              ("c", "spam", "Smolny cheap watches <script>alert(1)</script>")]:
        make_note(episode, author, body, status=status, idempotency_key=key)
    results = search("smolny corridors")
    notes = group(results, "notes")
    assert notes.count == 1 and notes.items[0].body.startswith("The Smolny corridors")
    assert group(search("smolny", group="notes"), "notes").count == 1
    html = client.get("/search/?q=watches").content.decode()
    assert "cheap watches" not in html

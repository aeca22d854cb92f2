"""
The demo's corrections from the fact check of issue 19, each with its
evidence in a source note, and the episode's own wordings linked where it
says them and nowhere else.
"""

import re

import pytest

from timeline.models import Event
from episodes.linking import alias_report, build_linker
from episodes.models import Citation, Mention, Person, Source, Term

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(demo_content):
    """The demo, loaded once for this module; each test's changes roll back."""
    return demo_content


def every_text():
    """Every piece of prose the demo shows, by where it is."""
    texts = {}
    for slug, *fields in Term.objects.values_list("slug", "definition", "article", "episode_wording"):
        texts[f"term {slug}"] = "\n".join(fields)
    for slug, *fields in Person.objects.values_list("slug", "role", "biography"):
        texts[f"person {slug}"] = "\n".join(fields)
    for slug, description in Event.objects.values_list("slug", "description"):
        texts[f"event {slug}"] = description
    for slug, note in Source.objects.values_list("slug", "note"):
        texts[f"source {slug}"] = note
    return texts


def sentences_of(text):
    return re.split(r"(?<=[.;:])\s+", text)


def mentions_of(slug):
    """(matched text, sentence text) of each visible mention of a term."""
    mentions = Mention.objects.visible().filter(term__slug=slug).select_related("sentence")
    return [(mention.matched_text, mention.sentence.text) for mention in mentions]


@pytest.mark.parametrize("wrong", [
    "former party member",  # Nikolaev was reinstated
    "one alleged meeting",  # three defendants claimed Copenhagen meetings
    "held back the purge", "holding back the purge",  # the telegram says nothing of Leningrad
    "tens of thousands of people sentenced",  # about 1.34 million
    "350,000 people were sentenced",  # 335,513 sentenced, about 350,000 arrested
    "Eighteen months later",  # January 1935 to August 1936 is nineteen
])
def test_no_entry_repeats_a_corrected_error(demo, wrong):
    assert [where for where, text in every_text().items() if wrong.lower() in text.lower()] == []


def test_nikolaev_was_a_party_member_when_he_shot_kirov(demo):
    texts = every_text()
    for where in ("person leonid-nikolaev", "event kirov-assassinated", "term kirov-assassination"):
        assert "reinstated" in texts[where], where
        assert "31 March 1934" in texts[where], where
    nikolaev = Person.objects.get(slug="leonid-nikolaev")
    assert "reinstated on appeal" in nikolaev.role
    assert "expelled" in Term.objects.get(slug="kirov-assassination").episode_wording


def test_nikolaevs_appeals_are_cited_where_the_episode_says_expelled(demo):
    citation = Citation.objects.select_related("source", "sentence").get(source__slug="nikolaev-party-appeals-1934")
    assert citation.quoted_text == "a former member of the party who had been expelled"
    assert citation.quoted_text in citation.sentence.text
    assert "31 March 1934" in citation.source.note and "reinstated" in citation.source.note


def test_three_defendants_claimed_copenhagen_and_the_hotel_was_where_holtzman_met_sedov(demo):
    texts = every_text()
    for where in ("event trial-of-the-sixteen", "term trial-of-the-sixteen", "term berlin",
                  "source moscow-trials-report-of-court-proceedings"):
        assert "Copenhagen" in texts[where] and "three defendants" in texts[where].lower(), where
        for sentence in sentences_of(texts[where]):
            if "Bristol" in sentence:
                assert "Sedov" in sentence and "Holtzman" in sentence, (where, sentence)
    for where in ("event trial-of-the-sixteen", "term trial-of-the-sixteen",
                  "source moscow-trials-report-of-court-proceedings"):
        assert all(name in texts[where] for name in ("Holtzman", "Berman-Yurin", "Fritz David")), where


def test_yagoda_fell_for_being_four_years_behind_not_over_leningrad(demo):
    texts = every_text()
    for where in ("person genrikh-yagoda", "person andrei-zhdanov", "event yezhov-replaces-yagoda"):
        assert "four years behind" in texts[where], where
        assert "25 September 1936" in texts[where], where
    for where in ("person genrikh-yagoda", "person andrei-zhdanov"):
        assert "said nothing about Leningrad" in texts[where], where


def test_the_telegram_is_the_evidence_cited_where_the_episode_blames_leningrad(demo):
    citation = Citation.objects.select_related("source", "sentence").get(
        source__slug="khrushchev-secret-speech-1956", quoted_text__contains="Leningrad party")
    assert citation.quoted_text in citation.sentence.text
    assert "'four years behind'" in citation.source.note


def test_show_trials_sentenced_few_of_the_million_and_more(demo):
    article = Term.objects.get(slug="show-trial").article
    assert "1.34 million" in article and "troikas" in article
    note = Source.objects.get(slug="getty-rittersporn-zemskov-1993").note
    assert all(figure in note for figure in ("790,665", "554,258", "681,692"))


def test_national_operations_sentenced_335513(demo):
    term = Term.objects.get(slug="nkvd-national-operations")
    assert "335,500" in term.definition and "335,513" in term.article and "350,000 people were arrested" in term.article
    assert "335,513" in Source.objects.get(slug="nkvd-operational-order-00447").note


@pytest.mark.parametrize("slug, wording", [
    ("trial-of-the-sixteen", "another show trial"),
    ("nkvd-national-operations", "based simply on your ethnicity"),
    ("left-opposition", "former opposition leaders"),
    ("left-opposition", "anti-Stalin opposition"),
    ("communism", "Communism"),
    ("communism", "Communists"),
    ("communism", "communist"),
    ("confession", "confessions"),
    ("confession", "confessed"),
    ("confession", "confess"),
])
def test_the_episodes_own_wording_links_the_entry(demo, slug, wording):
    assert wording in [matched for matched, _ in mentions_of(slug)]


def test_the_trial_of_the_sixteen_links_only_where_the_episode_tells_it(demo):
    [(_, sentence)] = mentions_of("trial-of-the-sixteen")
    assert sentence.startswith("Monthly later, in August 1936, Zinoviev and Kamenev")
    assert all(matched.lower().startswith("show trial") for matched, _ in mentions_of("show-trial"))


def test_the_ethnicity_wording_links_only_the_list_of_nationalities(demo):
    [(_, sentence)] = mentions_of("nkvd-national-operations")
    assert "Poles, Germans" in sentence


def test_communism_does_not_take_the_communist_party(demo):
    assert [matched for matched, _ in mentions_of("communist-party")] == ["Communist Party"]


def test_generic_words_stay_unlinked(demo):
    """Plain 'troika' names other threes (the 1920s triumvirate); 'operation' and 'opposition' alone are common."""
    linker = build_linker()
    text = "After Lenin the troika ruled; the opposition lost; the operation began; a national army."
    assert [text[m.start:m.end] for m in linker.find(text)] == ["Lenin"]


def test_the_report_on_the_demo_matches_its_stored_mentions(demo):
    stored = Mention.objects.filter(kind=Mention.Kind.AUTO)
    report = alias_report()
    for entry in report:
        assert entry.total == stored.filter(**{entry.entry.kind: entry.entry.pk}).count(), entry.entry.slug
    aliases = {(entry.entry.slug, alias.alias): dict(alias.episodes) for entry in report for alias in entry.aliases}
    assert aliases["joseph-stalin", "Koba"] == {}
    assert aliases["trial-of-the-sixteen", "another show trial"] == {"138-the-great-purges": 1}

"""The alias report: which names and aliases match where, counted as a relink would."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from episodes.linking import alias_report, relink_all
from episodes.models import Mention
from tests.factories import make_episode, make_mention, make_person, make_sentences, make_term

pytestmark = pytest.mark.django_db


@pytest.fixture
def show():
    """Two episodes naming Kirov and his murder in different words."""
    first = make_episode(number=138, slug="138-the-great-purges")
    second = make_episode(number=139, slug="139-the-red-army")
    make_sentences(first, "Kirov was shot.", "After Kirov's murder, Kirov was mourned.")
    make_sentences(second, "Kostrikov took the name Kirov.")
    kirov = make_person("Sergei Kirov", aliases="Kirov\nKostrikov\nSergei Mironovich Kirov")
    murder = make_term("Assassination of Sergei Kirov", slug="kirov-assassination", aliases="Kirov's murder")
    return {"first": first, "second": second, "kirov": kirov, "murder": murder}


def aliases_of(report, slug):
    [entry] = [entry for entry in report if entry.entry.slug == slug]
    return {alias.alias: dict(alias.episodes) for alias in entry.aliases}


def run(*args):
    out = StringIO()
    call_command("alias_report", *args, stdout=out)
    return out.getvalue().splitlines()


def test_each_alias_is_counted_per_episode_in_show_order(show):
    assert aliases_of(alias_report(), "sergei-kirov") == {
        "Sergei Kirov": {},
        "Kirov": {"138-the-great-purges": 2, "139-the-red-army": 1},
        "Kostrikov": {"139-the-red-army": 1},
        "Sergei Mironovich Kirov": {},
    }


def test_the_longer_alias_wins_as_it_does_in_the_linker(show):
    """'Kirov's murder' is the term's mention, so it is not also a match for 'Kirov'."""
    assert aliases_of(alias_report(), "kirov-assassination") == {
        "Assassination of Sergei Kirov": {},
        "Kirov's murder": {"138-the-great-purges": 1},
    }


def test_totals_are_what_a_relink_stores(show):
    relink_all()
    stored = Mention.objects.filter(kind=Mention.Kind.AUTO)
    for entry in alias_report():
        assert entry.total == stored.filter(**{entry.entry.kind: entry.entry.pk}).count(), entry.entry.slug


def test_an_editors_suppression_is_left_out_as_in_a_relink(show):
    sentence = show["first"].sentences.get(position=1)
    make_mention(sentence, show["kirov"], 0, 5, kind=Mention.Kind.SUPPRESSED)
    assert aliases_of(alias_report(), "sergei-kirov")["Kirov"] == {"138-the-great-purges": 1, "139-the-red-army": 1}


def test_only_the_given_episodes_are_read(show):
    report = alias_report(episodes=[show["second"]])
    assert aliases_of(report, "sergei-kirov")["Kirov"] == {"139-the-red-army": 1}


def test_stray_spaces_and_repeats_in_the_aliases_do_not_make_new_aliases(db):
    make_person("Leon Trotsky", aliases="  Trotsky \nTrotsky\n\nLeon  Trotsky")
    assert list(aliases_of(alias_report(), "leon-trotsky")) == ["Leon Trotsky", "Trotsky"]


def test_the_queries_do_not_grow_with_the_show(show):
    with CaptureQueriesContext(connection) as few:
        alias_report()
    for number in range(140, 145):
        make_sentences(make_episode(number=number), "Kirov again.", "Kostrikov again.")
    with CaptureQueriesContext(connection) as many:
        alias_report()
    assert len(many) == len(few)


def test_the_command_lists_matches_and_flags_aliases_that_never_match(show):
    lines = run()
    assert "Sergei Kirov (person sergei-kirov): 4 mentions" in lines
    [kirov] = [line for line in lines if line.strip().startswith("Kirov ")]
    assert kirov.split() == ["Kirov", "3", "in", "2", "episodes:", "138-the-great-purges", "2,",
                             "139-the-red-army", "1"]
    [never] = [line for line in lines if line.strip().startswith("Sergei Mironovich Kirov")]
    assert never.endswith("never matches")
    assert lines[-1] == "3 of 6 names and aliases never match; 0 of 2 entries are never linked."


def test_unmatched_lists_only_the_aliases_that_never_match(show):
    lines = run("--unmatched")
    assert [line.split("  ")[2].strip() for line in lines if line.startswith("    ")] == [
        "Assassination of Sergei Kirov", "Sergei Kirov", "Sergei Mironovich Kirov",
    ]
    assert all("never matches" in line for line in lines if line.startswith("    "))


def test_an_entry_with_no_match_at_all_is_counted_as_never_linked(show):
    make_term("OGPU", aliases="Joint State Political Directorate")
    assert run()[-1] == "5 of 8 names and aliases never match; 1 of 3 entries are never linked."
    assert "OGPU (term ogpu): 0 mentions" in run("--unmatched")

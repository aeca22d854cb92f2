"""
Aliases scoped to a series or an episode, ambiguity rules and source titles,
as relinking stores them and as search expands a query by them.
"""

import pytest

from episodes.linking import alias_report, build_linker, names_of, relink_all
from episodes.models import AmbiguityRule, Mention, ScopedAlias
from episodes.search import search
from tests.factories import (
    make_citation, make_episode, make_person, make_sentences, make_series, make_source, make_term,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def show():
    """Two episodes of the Soviet series and one of another, each naming a third show trial."""
    soviet = make_series("The Soviet Union")
    purges = make_episode(number=138, slug="138-the-great-purges", series=soviet)
    red_army = make_episode(number=139, slug="139-the-red-army", series=soviet)
    germany = make_episode(number=90, slug="90-the-night-of-the-long-knives", series="Germany")
    for episode in (purges, red_army, germany):
        make_sentences(episode, "Then came the third show trial and a party purge.")
    trial = make_term("Trial of the Twenty-One", slug="trial-of-the-twenty-one", aliases="Third Moscow Trial")
    trial.add_alias("third show trial", episode=purges)
    purge = make_term("Chistka", slug="chistka")
    purge.add_alias("party purge", series=soviet)
    return {"purges": purges, "red_army": red_army, "germany": germany, "soviet": soviet,
            "trial": trial, "purge": purge}


def linked(episode, entity):
    field = entity._meta.model_name
    return list(Mention.objects.filter(sentence__episode=episode, **{field: entity})
                .values_list("sentence__text", "start", "end"))


def test_an_episode_scoped_alias_links_in_its_episode_and_nowhere_else(show):
    relink_all()
    assert len(linked(show["purges"], show["trial"])) == 1
    assert linked(show["red_army"], show["trial"]) == []
    assert linked(show["germany"], show["trial"]) == []


def test_a_series_scoped_alias_links_only_in_its_series(show):
    relink_all()
    assert len(linked(show["purges"], show["purge"])) == 1
    assert len(linked(show["red_army"], show["purge"])) == 1
    assert linked(show["germany"], show["purge"]) == []


def test_a_scoped_alias_is_not_a_name_of_the_entry_on_its_page(show):
    assert show["trial"].alias_list == ["Third Moscow Trial"]
    assert names_of(show["trial"]) == {"Trial of the Twenty-One", "Third Moscow Trial", "third show trial"}


def test_adding_an_alias_twice_adds_it_once(show):
    show["trial"].add_alias("third show trial", episode=show["purges"])
    show["trial"].add_alias("Third Moscow Trial")
    show["trial"].add_alias("Bloc of Rightists and Trotskyites")
    show["trial"].add_alias("bloc of rightists and trotskyites")
    assert ScopedAlias.objects.filter(term=show["trial"]).count() == 1
    show["trial"].refresh_from_db()
    assert show["trial"].alias_list == ["Third Moscow Trial", "Bloc of Rightists and Trotskyites"]


def test_the_report_counts_a_scoped_alias_where_it_holds_and_says_so(show):
    [trial] = [entry for entry in alias_report() if entry.entry.slug == "trial-of-the-twenty-one"]
    [scoped] = [alias for alias in trial.aliases if alias.alias == "third show trial"]
    assert dict(scoped.episodes) == {"138-the-great-purges": 1}
    assert scoped.label == "third show trial (only in episode 138-the-great-purges)"


def test_an_ambiguity_rule_keeps_a_name_out_of_a_phrase_in_every_episode(db):
    episode = make_episode()
    make_sentences(episode, "Kirov was shot.", "Tanks came from the Kirov Plant.")
    kirov = make_person("Sergei Kirov", aliases="Kirov")
    AmbiguityRule.objects.create(person=kirov, alias="Kirov", phrase="Kirov Plant")
    relink_all()
    assert [text for text, _, _ in linked(episode, kirov)] == ["Kirov was shot."]


def test_a_blank_alias_rule_holds_for_every_name(db):
    episode = make_episode()
    make_sentences(episode, "Yakovlev led the commission.", "Alexander Yakovlev's aircraft flew.",
                   "Yakovlev's design bureau built fighters.")
    yakovlev = make_person("Alexander Yakovlev", aliases="Yakovlev")
    AmbiguityRule.objects.create(person=yakovlev, phrase="aircraft")
    AmbiguityRule.objects.create(person=yakovlev, phrase="design bureau")
    relink_all()
    assert [text for text, _, _ in linked(episode, yakovlev)] == ["Yakovlev led the commission."]


def test_a_rule_can_keep_a_name_out_of_a_series(db):
    winter_war = make_series("The Winter War", slug="the-winter-war")
    finland = make_episode(series=winter_war)
    russia = make_episode(series="The Soviet Union")
    for episode in (finland, russia):
        make_sentences(episode, "The Whites won.")
    whites = make_term("White movement", aliases="Whites")
    AmbiguityRule.objects.create(term=whites, alias="Whites", series=winter_war)
    relink_all()
    assert linked(finland, whites) == []
    assert len(linked(russia, whites)) == 1


def test_a_rule_also_holds_for_a_scoped_alias_it_names(show):
    AmbiguityRule.objects.create(term=show["trial"], alias="third show trial", phrase="and a party purge")
    relink_all()
    assert linked(show["purges"], show["trial"]) == []


def test_nothing_links_inside_a_cited_works_title(db):
    episode = make_episode()
    [sentence] = make_sentences(
        episode, "I like this quote from Stalin: New Biography of a Dictator on why Stalin acted."
    )
    stalin = make_person("Joseph Stalin", aliases="Stalin")
    make_citation(sentence, make_source("Stalin: New Biography of a Dictator"))
    relink_all()
    [(_, start, _)] = linked(episode, stalin)
    assert start == sentence.text.rindex("Stalin")


def test_the_linker_is_built_in_a_bounded_number_of_queries(show, django_assert_num_queries):
    with django_assert_num_queries(5):
        build_linker()


# ---- search expands a query by each alias within its scope ---------------------------------


def moment_slugs(results):
    moments = next(group for group in results.groups if group.key == "moments")
    return sorted(sentence.episode.slug for sentence in moments.items)


def test_search_expands_by_an_episode_scoped_alias_only_in_its_episode(show):
    """Every episode says 'third show trial'; only 138's is the Trial of the Twenty-One."""
    results = search("Trial of the Twenty-One")
    assert moment_slugs(results) == ["138-the-great-purges"]
    [moment] = next(group for group in results.groups if group.key == "moments").items
    assert "<mark>" in moment.marked


def test_search_expands_by_a_series_scoped_alias_only_in_its_series(show):
    assert moment_slugs(search("chistka")) == ["138-the-great-purges", "139-the-red-army"]


def test_search_still_expands_by_site_wide_names_everywhere(show):
    """Searching a name finds sentences naming the entry by its site-wide aliases in every episode."""
    for episode in (show["purges"], show["germany"]):
        make_sentences(episode, "The Third Moscow Trial opened.")
    assert moment_slugs(search("Trial of the Twenty-One")) == [
        "138-the-great-purges", "138-the-great-purges", "90-the-night-of-the-long-knives",
    ]

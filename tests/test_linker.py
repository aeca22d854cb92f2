"""The linker's rules, each pinned on its own."""

import pytest

from episodes.linker import Linker, Rule


def spans(linker, text):
    return [(text[m.start:m.end], m.target) for m in linker.find(text)]


@pytest.fixture
def linker():
    return Linker([
        ("NKVD", "nkvd"),
        ("People's Commissariat for Internal Affairs", "nkvd"),
        ("Internal Affairs", "internal-affairs"),
        ("Stalin", "stalin"),
        ("Kirov", "kirov"),
        ("show trial", "show-trial"),
        ("Order No. 00447", "order-00447"),
        ("Order Number 447", "order-00447"),
        ("kulak", "kulak"),
        ("White movement", "whites"),
        ("Great Purge", "great-purge"),
        ("Great Purge trials", "moscow-trials"),
    ])


def test_possessives_link_the_name(linker):
    assert spans(linker, "Stalin's orders and Stalin’s guy and Stalins’ plans") == [
        ("Stalin", "stalin"), ("Stalin", "stalin"), ("Stalins", "stalin")
    ]


def test_plurals_link_to_the_singular_entry(linker):
    assert spans(linker, "The show trials began.") == [("show trials", "show-trial")]


def test_whole_words_only(linker):
    assert spans(linker, "They went to Kirovsk and Kirovograd.") == []
    assert spans(linker, "Kirov, and Kirov.") == [("Kirov", "kirov"), ("Kirov", "kirov")]


def test_longest_match_wins(linker):
    text = "the People’s Commissariat for Internal Affairs, not Internal Affairs"
    assert spans(linker, text) == [
        ("People’s Commissariat for Internal Affairs", "nkvd"),
        ("Internal Affairs", "internal-affairs"),
    ]


def test_longest_match_wins_when_the_longer_one_starts_at_the_same_place(linker):
    assert spans(linker, "the Great Purge trials") == [("Great Purge trials", "moscow-trials")]


def test_order_alone_is_not_a_term(linker):
    assert spans(linker, "In order to follow Order Number 447, order was kept.") == [
        ("Order Number 447", "order-00447")
    ]


def test_lower_case_aliases_match_any_case(linker):
    assert spans(linker, "Kulaks and kulaks") == [("Kulaks", "kulak"), ("kulaks", "kulak")]


def test_capitalised_aliases_need_a_capital(linker):
    assert spans(linker, "a white movement of the hand; the White movement") == [("White movement", "whites")]


def test_matches_do_not_overlap(linker):
    found = linker.find("Stalin Stalin's NKVD People's Commissariat for Internal Affairs")
    for earlier, later in zip(found, found[1:]):
        assert earlier.end <= later.start


def test_hyphenated_words_still_link(linker):
    assert spans(linker, "the anti-Stalin opposition") == [("Stalin", "stalin")]


def test_offsets_survive_characters_that_change_length_when_lowered():
    linker = Linker([("Kirov", "kirov")])
    text = "İİ Kirov"
    [match] = linker.find(text)
    assert text[match.start:match.end] == "Kirov"


def test_an_empty_linker_finds_nothing():
    assert Linker([]).find("Stalin") == []
    assert Linker([("  ", "blank")]).find("Stalin") == []


# ---- scope: an alias for one episode or one series ---------------------------------


def scoped_linker():
    return Linker([
        ("Stalin", "stalin"),
        ("third show trial", "twenty-one", Rule(episode=138)),
        ("party purge", "party-purge", Rule(series="soviet-union")),
    ])


def test_an_episode_scoped_alias_links_only_in_its_episode():
    linker = scoped_linker()
    text = "Stalin staged a third show trial."
    assert [m.target for m in linker.find(text, episode=138, series="soviet-union")] == ["stalin", "twenty-one"]
    assert [m.target for m in linker.find(text, episode=139, series="soviet-union")] == ["stalin"]
    assert [m.target for m in linker.find(text)] == ["stalin"]


def test_a_series_scoped_alias_links_only_in_its_series():
    linker = scoped_linker()
    text = "The party purge of 1934."
    assert [m.target for m in linker.find(text, episode=138, series="soviet-union")] == ["party-purge"]
    assert linker.find(text, episode=90, series="germany") == []
    assert linker.find(text, episode=91) == []


def test_an_alias_can_be_kept_out_of_a_series():
    linker = Linker([("Whites", "white-movement", Rule(not_in_series=frozenset({"winter-war"})))])
    text = "The Whites lost."
    assert [m.target for m in linker.find(text, episode=1, series="soviet-union")] == ["white-movement"]
    assert [m.target for m in linker.find(text, episode=1)] == ["white-movement"]
    assert linker.find(text, episode=2, series="winter-war") == []


# ---- ambiguity: phrases where a name means something else ---------------------------


@pytest.fixture
def ambiguous():
    """The issue's examples, as the demo writes them."""
    return Linker([
        ("Kirov", "kirov", Rule(not_near=("Kirov Plant", "cruiser Kirov"))),
        ("Molotov", "molotov", Rule(not_near=("Molotov cocktail",))),
        ("Nikolaev", "nikolaev", Rule(not_near=("Nikolaev shipyard",))),
        ("civil war", "russian-civil-war", Rule(not_near=("Spanish Civil War", "Finnish Civil War"))),
        ("Communist Party", "cpsu", Rule(not_near=("Chinese Communist Party", "German Communist Party"))),
        ("communist", "communism"),
        ("Red Army", "red-army", Rule(not_near=("Chinese Red Army",))),
        ("Whites", "white-movement", Rule(not_near=("Finnish Whites", "Mannerheim"))),
        ("Yakovlev", "yakovlev", Rule(not_near=("aircraft", "design bureau"))),
        ("Stalin", "stalin"),
    ])


@pytest.mark.parametrize("text, unlinked", [
    ("Tanks rolled out of the Kirov Plant in Leningrad.", "Kirov"),
    ("The cruiser Kirov's guns fired on the Finns.", "Kirov"),
    ("Finnish soldiers threw Molotov cocktails at the tanks.", "Molotov"),
    ("The battleship was laid down at the Nikolaev shipyards.", "Nikolaev"),
    ("Volunteers went to fight in the Spanish Civil War.", "civil war"),
    ("After the Finnish Civil War of 1918, the Reds were imprisoned.", "civil war"),
    ("The Chinese Communist Party retreated on the Long March.", "Communist Party"),
    ("The German Communist Party was banned in 1933.", "Communist Party"),
    ("The Chinese Red Army reached Yan'an.", "Red Army"),
    ("The Finnish Whites took Tampere.", "Whites"),
    ("Mannerheim's Whites took Tampere.", "Whites"),
    ("Yakovlev's aircraft were light and cheap to build.", "Yakovlev"),
    ("The Yakovlev design bureau built the Yak-1.", "Yakovlev"),
])
def test_a_name_does_not_link_where_it_means_something_else(ambiguous, text, unlinked):
    assert unlinked not in [matched for matched, _ in spans(ambiguous, text)]


def test_nothing_else_links_inside_a_phrase_that_means_something_else(ambiguous):
    """'Communist' alone would link to Communism inside 'Chinese Communist Party'; the whole phrase is kept out."""
    assert spans(ambiguous, "The Chinese Communist Party grew.") == []


@pytest.mark.parametrize("text, linked", [
    ("Kirov was shot at Smolny; the Kirov Plant was named after him.", [("Kirov", "kirov")]),
    ("Molotov signed the pact.", [("Molotov", "molotov")]),
    ("Nikolaev fired twice.", [("Nikolaev", "nikolaev")]),
    ("The civil war ended in 1922.", [("civil war", "russian-civil-war")]),
    ("The Communist Party purged its members.", [("Communist Party", "cpsu")]),
    ("The Red Army was purged.", [("Red Army", "red-army")]),
    ("Former Whites were arrested.", [("Whites", "white-movement")]),
    ("Yakovlev chaired the commission.", [("Yakovlev", "yakovlev")]),
])
def test_the_same_names_still_link_in_their_own_sense(ambiguous, text, linked):
    assert spans(ambiguous, text) == linked


def test_a_longer_alias_still_wins_over_a_phrase_kept_out():
    linker = Linker([
        ("Communist Party", "cpsu", Rule(not_near=("Chinese Communist Party",))),
        ("Chinese Communist Party", "ccp"),
    ])
    assert spans(linker, "The Chinese Communist Party grew.") == [("Chinese Communist Party", "ccp")]


def test_a_rule_holds_only_where_its_alias_links():
    """An episode-scoped alias's phrase keeps nothing out of other episodes."""
    linker = Linker([
        ("Kirov", "kirov", Rule(episode=138, not_near=("Kirov Plant",))),
        ("Plant", "plant"),
    ])
    assert spans(linker, "The Kirov Plant") == [("Plant", "plant")]
    assert linker.find("The Kirov Plant", episode=138) == []


# ---- no links inside a cited work's title ---------------------------------------------


def test_nothing_links_inside_the_title_of_a_cited_work():
    linker = Linker([("Stalin", "stalin"), ("Dictator", "dictator")],
                    titles=["Stalin: New Biography of a Dictator"])
    text = "A quote from Stalin: New Biography of a Dictator on why Stalin did not order it."
    assert spans(linker, text) == [("Stalin", "stalin")]
    assert linker.find(text)[0].start == text.rindex("Stalin")


def test_a_link_may_cover_a_whole_title():
    """A term for the work itself (the Ryutin platform, the Secret Speech) links the title as one."""
    title = "On the Cult of Personality and Its Consequences"
    linker = Linker([(title, "secret-speech"), ("Stalin", "stalin")], titles=[title])
    assert spans(linker, f"Khrushchev read {title} in 1956.") == [(title, "secret-speech")]


def test_a_title_is_matched_without_its_leading_article():
    """At the start of a sentence, the Great Terror is the event, not Conquest's *The Great Terror*."""
    linker = Linker([("Great Terror", "great-terror")], titles=["The Great Terror"])
    assert spans(linker, "The Great Terror began in 1937.") == [("Great Terror", "great-terror")]


def test_a_title_needs_its_capital_as_an_alias_does():
    linker = Linker([("Stalin", "stalin"), ("peasant", "peasant")], titles=["Stalin's Peasants"])
    assert spans(linker, "Lynne Viola wrote Stalin's Peasants about Stalin's peasants.") == [
        ("Stalin", "stalin"), ("peasants", "peasant")
    ]

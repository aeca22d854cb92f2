"""The linker's rules, each pinned on its own."""

import pytest

from episodes.linker import Linker


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

"""The sentence splitter on the hard cases of episode 138's transcript."""

from pathlib import Path

import pytest

from episodes.splitter import split_transcript, split_sentences

TRANSCRIPT = Path(__file__).resolve().parent.parent / "episodes" / "demo" / "138-the-great-purges.txt"


@pytest.fixture(scope="module")
def episode_138():
    return split_transcript(TRANSCRIPT.read_text(encoding="utf-8"))


def test_title_and_tagline_lines_are_not_sentences(episode_138):
    assert episode_138.number == 138
    assert episode_138.title == "The Great Purges"
    assert episode_138.tagline == "It was time to clean house."
    assert episode_138.sentences[0].startswith("Hello everyone and welcome")


def test_paragraphs_follow_blank_lines(episode_138):
    assert len(episode_138.paragraphs) == 6
    assert episode_138.paragraphs[1][0].startswith("While the purges would begin later")


def test_episode_and_part_numbers_do_not_end_a_sentence(episode_138):
    first = episode_138.sentences[0]
    assert "Episode 138 - The Soviet Union Part 8 - The Great Purges." in first


def test_a_quotation_of_several_sentences_stays_in_one_sentence(episode_138):
    [kopelev] = [s for s in episode_138.sentences if "Lev Kopelev" in s]
    assert kopelev.startswith("Lev Kopelev, who saw the purges first hand")
    assert kopelev.endswith("we could not do without cruelty and craftiness.”")
    [khlevniuk] = [s for s in episode_138.sentences if "hallmarks of a conspiracy theory" in s]
    assert khlevniuk.endswith("chance events happen all the time.”")


def test_a_sentence_ending_inside_a_quote_ends_after_the_closing_mark(episode_138):
    assert "He would be called by newspapers the “treacherous hand of an enemy of the working class.”" in episode_138.sentences


def test_dates_and_decades_do_not_split(episode_138):
    [kirov] = [s for s in episode_138.sentences if "December 1, 1934, when" in s]
    assert kirov.endswith("when Sergei Kirov was killed.")
    assert any(s.startswith("While the purges would begin later in the 1930s,") for s in episode_138.sentences)


def test_order_number_447_stays_in_its_sentence(episode_138):
    assert (
        "The root of this expansion was in NKVD Order Number 447 which was approved by the "
        "Politburo in July 1937." in episode_138.sentences
    )


def test_decimal_numbers_do_not_split(episode_138):
    assert any("around 1.6 million people arrested, and 700,000 shot" in s for s in episode_138.sentences)


def test_etc_at_the_end_of_a_sentence_ends_it(episode_138):
    assert any(s.endswith("tsarist officials, etc.") for s in episode_138.sentences)


def test_every_character_of_the_text_is_kept(episode_138):
    body = "".join(TRANSCRIPT.read_text(encoding="utf-8").split()[10:])
    assert "".join("".join(episode_138.sentences).split()) == body


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Dr. Smith arrived. He left.", ["Dr. Smith arrived.", "He left."]),
        ("It was signed by J. V. Stalin in 1937. Then it began.",
         ["It was signed by J. V. Stalin in 1937.", "Then it began."]),
        ("Order No. 00447 was signed. It set quotas.", ["Order No. 00447 was signed.", "It set quotas."]),
        ("He asked “Why now? Who gains?” and waited. Nobody answered.",
         ["He asked “Why now? Who gains?” and waited.", "Nobody answered."]),
        ("Was it planned? Nobody knows! Still, we ask.", ["Was it planned?", "Nobody knows!", "Still, we ask."]),
        ("See e.g. the report. It is long.", ["See e.g. the report.", "It is long."]),
        ("The U.S. Army stayed out. Europe did not.", ["The U.S. Army stayed out.", "Europe did not."]),
        ("An open quote “never closed. So we split.", ["An open quote “never closed.", "So we split."]),
        ("Wait... Then it happened.", ["Wait...", "Then it happened."]),
        ("lower case. after a stop is not a new sentence.", ["lower case. after a stop is not a new sentence."]),
    ],
)
def test_split_sentences_edge_cases(text, expected):
    assert split_sentences(text) == expected


def test_crlf_bom_and_extra_space_are_normalised():
    parsed = split_transcript("\ufeff12: Title\r\n\r\nTagline here.\r\n\r\nOne  two.\r\nThree four.\r\n")
    assert (parsed.number, parsed.title, parsed.tagline) == (12, "Title", "Tagline here.")
    assert parsed.paragraphs == [["One two.", "Three four."]]


def test_text_without_a_header_is_all_transcript():
    parsed = split_transcript("Just a sentence. And another.")
    assert parsed.title == "" and parsed.sentences == ["Just a sentence.", "And another."]

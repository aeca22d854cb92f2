"""Placing a timing file's cues on our sentences by their words."""

import random
import time

import pytest

from episodes.timings.cuemap import CueMappingError, map_cues, normalise_word
from episodes.timings.formats import Cue, parse_vtt, read_timings, write_vtt
from tests.testdata import PODCASTING2

SENTENCES = [
    "The NKVD arrested thousands.",
    "Stalin signed the lists.",
    "Kopelev wrote that they were forced to resort to barbaric methods.",
]


def spans(mapping):
    return [(t.start, t.end) for t in mapping.timings]


def test_normalise_word_folds_case_diacritics_and_apostrophes():
    assert normalise_word("Café’s") == normalise_word("cafes") == "cafes"
    assert normalise_word("DON'T") == normalise_word("don’t") == "dont"
    assert normalise_word("Straße") == "strasse"


def test_cues_that_split_a_sentence():
    cues = [
        Cue(0.0, 2.0, "The NKVD arrested thousands."),
        Cue(2.0, 3.0, "Stalin signed"),
        Cue(3.0, 4.0, "the lists."),
        Cue(4.0, 6.0, "Kopelev wrote that they were forced"),
        Cue(6.0, 9.0, "to resort to barbaric methods."),
    ]
    mapping = map_cues(cues, SENTENCES)
    assert spans(mapping) == [(0.0, 2.0), (2.0, 4.0), (4.0, 9.0)]
    assert (mapping.matched_sentences, mapping.matched_words, mapping.total_words) == (3, 19, 19)
    assert all(t.words == [] for t in mapping.timings)  # phrase-level: no word times


def test_a_cue_that_merges_several_sentences_is_shared_out_by_word_length():
    text = " ".join(SENTENCES)
    mapping = map_cues([Cue(10.0, 20.0, text)], SENTENCES)
    (s1, e1), (s2, e2), (s3, e3) = spans(mapping)
    assert s1 == 10.0 and e3 == 20.0
    assert s1 < e1 <= s2 < e2 <= s3 < e3
    letters = [sum(ch.isalnum() for ch in s) for s in SENTENCES]
    assert e1 - s1 == pytest.approx(10.0 * letters[0] / sum(letters))


def test_punctuation_case_and_apostrophes_do_not_matter():
    sentences = ["“Well,” he said — it’s DONE!", "Café society, naïvely."]
    cues = [Cue(1.0, 2.0, "well he said its done"), Cue(2.5, 4.0, "cafe SOCIETY naively")]
    assert spans(map_cues(cues, sentences)) == [(1.0, 2.0), (2.5, 4.0)]


def test_words_missing_on_either_side_are_tolerated():
    sentences = ["Stalin signed the lists.", "An editor's note nobody reads aloud.", "The NKVD obeyed."]
    cues = [
        Cue(0.0, 1.0, "Uh, Stalin signed"),
        Cue(1.0, 2.0, "all the lists, you know."),
        Cue(2.0, 3.0, "The NKVD obeyed."),
    ]
    mapping = map_cues(cues, sentences, min_match=0.5)
    first, note, last = mapping.timings
    # Times are shared out by word length: "Stalin" follows "Uh" (2 of 14
    # letters), and "the lists" ends 11 of 18 letters into its cue.
    assert (first.start, first.end) == (pytest.approx(2 / 14), pytest.approx(1.0 + 11 / 18))
    assert (note.start, note.end) == (None, None)  # not in the audio: no time, not a guess
    assert (last.start, last.end) == (2.0, 3.0)
    assert mapping.matched_sentences == 2


def test_a_timing_file_for_other_speech_is_refused():
    cues = [Cue(float(i), i + 1.0, text) for i, text in enumerate(
        ["In today's episode you'll learn", "whether or not you should have", "a podcast trailer."]
    )]
    with pytest.raises(CueMappingError, match=r"does not match this transcript: only \d+% of") as caught:
        map_cues(cues, SENTENCES)
    assert "At least 60% must match" in str(caught.value)


def test_a_short_file_does_not_pass_for_a_long_transcript():
    with pytest.raises(CueMappingError, match=r"only 10% of the transcript's words were found in it \(2 of 19\)"):
        map_cues([Cue(0.0, 1.0, "Stalin signed")], SENTENCES)


def test_nothing_to_match_is_refused():
    with pytest.raises(CueMappingError, match="transcript has no words"):
        map_cues([Cue(0.0, 1.0, "words")], ["…", ""])
    with pytest.raises(CueMappingError, match="timing file has no words"):
        map_cues([Cue(0.0, 1.0, "<i></i>")], SENTENCES)


def test_word_level_cues_give_word_times():
    path = PODCASTING2 / "example.json"
    cues = read_timings(path.read_bytes(), path.name)
    sentences = ["I am your father.", "Nooooo!"]
    mapping = map_cues(cues, sentences)
    vader, luke = mapping.timings
    assert (vader.start, vader.end, luke.start, luke.end) == (0.5, 2.5, 2.75, 3.0)
    assert vader.words == [(0, 1, 0.5, 0.75), (2, 4, 1.0, 1.25), (5, 9, 1.5, 2.0), (10, 16, 2.25, 2.5)]
    assert [sentences[0][a:b] for a, b, _, _ in vader.words] == ["I", "am", "your", "father"]
    assert luke.words == [(0, 6, 2.75, 3.0)]


def test_sentence_cues_exported_and_read_back_map_exactly():
    sentences = SENTENCES + ["Then there was silence.", "A pause…", "And the trials began."]
    times = [(0.0, 2.345), (2.345, 4.1), (4.5, 9.999), (10.0, 12.0), (12.0, 12.0), (13.25, 3601.5)]
    exported = write_vtt([Cue(start, end, text) for (start, end), text in zip(times, sentences)])
    mapping = map_cues(parse_vtt(exported), sentences)
    assert spans(mapping) == times
    assert mapping.matched_words == mapping.total_words


def test_starts_never_go_backwards_and_no_sentence_ends_before_it_starts():
    # Overlapping, unvalidated cues: the mapping still keeps its promises.
    cues = [Cue(5.0, 6.0, "The NKVD arrested thousands."), Cue(4.0, 4.5, "Stalin signed the lists.")]
    mapping = map_cues(cues, SENTENCES[:2])
    (s1, e1), (s2, e2) = spans(mapping)
    assert s1 <= s2 and s1 <= e1 and s2 <= e2


def test_the_podcasting2_srt_maps_onto_the_html_turns():
    srt = read_timings((PODCASTING2 / "example.srt").read_bytes(), "example.srt")
    turns = read_timings((PODCASTING2 / "example.html").read_bytes(), "example.html")
    mapping = map_cues(srt, [turn.plain for turn in turns])
    assert mapping.matched_words == mapping.total_words
    for timing, turn in zip(mapping.timings, turns):
        assert abs(timing.start - turn.start) <= 1.0


def test_four_thousand_words_against_four_thousand_word_cues_is_fast():
    rng = random.Random(138)
    vocabulary = "the a of and to in stalin was that he it party soviet his for on with as by they".split()
    vocabulary += [f"word{n}" for n in range(1500)]
    weights = [1 / rank for rank in range(1, len(vocabulary) + 1)]
    spoken = rng.choices(vocabulary, weights, k=4000)
    sentences = [" ".join(spoken[i : i + 15]).capitalize() + "." for i in range(0, 4000, 15)]
    heard = []  # like speech recognition: a few words lost, a few "uh"s
    for word in spoken:
        roll = rng.random()
        if roll < 0.04:
            continue
        if roll < 0.08:
            heard.append("uh")
        heard.append(word)
    cues = [Cue(n * 0.4, n * 0.4 + 0.3, word) for n, word in enumerate(heard)]
    began = time.perf_counter()
    mapping = map_cues(cues, sentences)
    elapsed = time.perf_counter() - began
    assert mapping.matched_words / mapping.total_words > 0.9
    assert all(t.words for t in mapping.timings)
    assert elapsed < 1.0, f"map_cues took {elapsed:.2f}s"

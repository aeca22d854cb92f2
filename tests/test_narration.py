"""Synthetic narration through eSpeak NG: timings of sentences and words, MP3 output, cache keys."""

import threading

import numpy as np
import pytest
import soundfile

from alignment.engine import narration
from alignment.engine.narration import NarrationUnavailable, synthesise, text_hash, write_mp3

PARAGRAPHS = [
    ["The NKVD arrested thousands of people.", "Stalin signed the lists himself."],
    ["Nobody was safe from the purges."],
]
CURLY = "Kopelev wrote: “We weren’t ready,” and Stalin’s men obeyed the naïve orders."
STRAIGHT = "Kopelev wrote: \"We weren't ready,\" and Stalin's men obeyed the naive orders."


@pytest.fixture(scope="module")
def narrated():
    return synthesise(PARAGRAPHS)


def flat(paragraphs):
    return [sentence for paragraph in paragraphs for sentence in paragraph]


def test_sentences_are_ordered_with_the_pauses_between_them(narrated):
    assert narrated.sample_rate == 22050
    assert narrated.samples.dtype == np.int16 and narrated.samples.ndim == 1
    assert len(narrated.sentences) == 3 and len(narrated.words) == 3
    (a_start, a_end), (b_start, b_end), (c_start, c_end) = narrated.sentences
    assert a_start == 0 and a_start < a_end < b_start < b_end < c_start < c_end
    assert c_end == pytest.approx(narrated.duration, abs=1e-9)
    assert b_start - a_end == pytest.approx(0.35, abs=1e-3)  # within a paragraph
    assert c_start - b_end == pytest.approx(0.8, abs=1e-3)  # between paragraphs
    rate = narrated.sample_rate
    assert not narrated.samples[round(a_end * rate) + 10:round(b_start * rate) - 10].any()
    assert np.abs(narrated.samples[round(a_start * rate):round(a_end * rate)]).max() > 1000


def test_duration_is_plausible_for_the_rate(narrated):
    words = sum(len(sentence.split()) for sentence in flat(PARAGRAPHS))
    spoken = sum(end - start for start, end in narrated.sentences)
    assert 110 < words / (spoken / 60) < 260  # asked for 170 words a minute
    faster = synthesise(PARAGRAPHS, words_per_minute=300, sentence_pause=0, paragraph_pause=0)
    assert faster.duration < spoken * 0.8


def test_every_word_has_a_timing_in_order_within_its_sentence(narrated):
    for sentence, (start, end), words in zip(flat(PARAGRAPHS), narrated.sentences, narrated.words):
        assert [sentence[a:b] for a, b, _, _ in words] == sentence.rstrip(".").split()
        assert words[0][2] >= start and words[-1][3] == pytest.approx(end)
        for (_, _, t_start, t_end), following in zip(words, words[1:] + [None]):
            assert start <= t_start < t_end <= end
            if following:
                assert t_end == following[2]  # a word ends where the next begins
    # Longer words take longer: "thousands" lasts longer than "of".
    first = {PARAGRAPHS[0][0][a:b]: t_end - t_start for a, b, t_start, t_end in narrated.words[0]}
    assert first["thousands"] > first["of"]


def test_espeak_counts_characters_not_bytes_with_curly_quotes():
    """Word events point at the words' first characters in the Python string, ’ “ ” ï notwithstanding."""
    with narration._LOCK:
        engine = narration._engine()
        engine.configure("en-us", 170)
        _, events = engine.speak(CURLY)
    starts = [match.start() for match in narration.WORD.finditer(CURLY)]
    assert [text_position - 1 for text_position, _, _ in events] == starts


def test_curly_quotes_and_apostrophes_map_back_to_the_right_words():
    curly = synthesise([[CURLY]])
    straight = synthesise([[STRAIGHT]])
    words = [CURLY[a:b] for a, b, _, _ in curly.words[0]]
    assert words == ["Kopelev", "wrote", "We", "weren’t", "ready", "and", "Stalin’s", "men", "obeyed",
                     "the", "naïve", "orders"]
    # Same speech either way, so the same timings: a byte/character mix-up would shift them.
    assert len(curly.words[0]) == len(straight.words[0])
    for (a, b, t_curly, _), (c, d, t_straight, _) in zip(curly.words[0], straight.words[0]):
        assert (a, b) == (c, d)
        assert t_curly == pytest.approx(t_straight, abs=0.025)  # see same_narration


def test_words_espeak_runs_together_still_get_a_timing():
    sentence = "Most of the members of the party were shot."
    words = synthesise([[sentence]]).words[0]
    assert [sentence[a:b] for a, b, _, _ in words] == sentence.rstrip(".").split()
    starts = [t_start for _, _, t_start, _ in words]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)


def test_gaps_are_shared_out_by_length():
    spans = [(0, 4), (5, 7), (8, 11), (12, 16)]  # "Most of the year"
    starts = [0, 100, None, 400]
    narration._fill_gaps(spans, starts, 500)
    assert starts == [0, 100, 100 + round(300 * 2 / 5), 400]
    leading = [None, None, 300, None]
    narration._fill_gaps(spans, leading, 500)
    assert leading == [0, round(300 * 4 / 6), 300, 300 + round(200 * 3 / 7)]


def same_narration(one, other):
    """
    Within a pitch period or two: eSpeak carries state from one utterance to the next
    that no call resets (its pitch flutter runs on), so the same text comes out a few
    milliseconds longer or shorter depending on what the process narrated before.
    """
    assert one.duration == pytest.approx(other.duration, abs=0.025)
    assert np.array(one.sentences) == pytest.approx(np.array(other.sentences), abs=0.025)
    assert [[(a, b) for a, b, _, _ in words] for words in one.words] == \
        [[(a, b) for a, b, _, _ in words] for words in other.words]
    for words, others in zip(one.words, other.words):
        assert np.array(words)[:, 2:] == pytest.approx(np.array(others)[:, 2:], abs=0.025)
    return True


def test_synthesise_twice_and_from_two_threads_gives_the_same_narration(narrated):
    assert same_narration(synthesise(PARAGRAPHS), narrated)
    results = [None, None]

    def run(slot):
        results[slot] = synthesise(PARAGRAPHS)

    threads = [threading.Thread(target=run, args=(slot,)) for slot in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(same_narration(result, narrated) for result in results)


def test_blank_sentences_keep_their_place():
    result = synthesise([["One sentence.", "  "], ["Another one."]])
    assert len(result.sentences) == 3
    assert result.sentences[1] == (result.sentences[0][1], result.sentences[0][1]) and result.words[1] == []
    assert result.sentences[2][0] - result.sentences[0][1] == pytest.approx(0.8, abs=1e-3)


def test_write_mp3_reads_back_with_the_same_duration(narrated, tmp_path):
    target = tmp_path / "episode.mp3"
    target.write_bytes(b"old")
    write_mp3(narrated, target)
    assert [path.name for path in tmp_path.iterdir()] == ["episode.mp3"]  # no temporary left
    info = soundfile.info(str(target))
    assert info.samplerate == narrated.sample_rate and info.channels == 1
    assert info.duration == pytest.approx(narrated.duration, abs=0.15)
    data, _ = soundfile.read(str(target), dtype="int16")
    assert np.abs(data).max() > 1000


def test_text_hash_changes_with_text_voice_and_rate():
    base = text_hash(PARAGRAPHS, "en-us", 170)
    assert len(base) == 64 and base == text_hash([list(p) for p in PARAGRAPHS], "en-us", 170)
    assert base != text_hash([["The NKVD arrested thousands of people!"]] + PARAGRAPHS[1:], "en-us", 170)
    assert base != text_hash([PARAGRAPHS[0] + PARAGRAPHS[1]], "en-us", 170)  # paragraphing counts
    assert base != text_hash(PARAGRAPHS, "en-gb", 170)
    assert base != text_hash(PARAGRAPHS, "en-us", 171)


@pytest.mark.parametrize("paragraphs", [[], [[]], [["", "  "], []]])
def test_empty_input_is_refused(paragraphs):
    with pytest.raises(ValueError):
        synthesise(paragraphs)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError):
        synthesise("Just a string.")
    with pytest.raises(ValueError):
        synthesise([["Fine."]], words_per_minute=20)


def test_an_unknown_voice_is_unavailable_and_the_engine_still_works():
    with pytest.raises(NarrationUnavailable, match="no voice 'xx-nonexistent'"):
        synthesise([["Hello."]], voice="xx-nonexistent")
    assert synthesise([["Hello."]]).words[0][0][:2] == (0, 5)


def test_a_library_that_cannot_load_is_unavailable(monkeypatch):
    import espeakng_loader

    monkeypatch.setattr(espeakng_loader, "get_library_path", lambda: "/nonexistent/libespeak-ng.so")
    with pytest.raises(NarrationUnavailable, match="could not be loaded from /nonexistent"):
        narration._Engine()

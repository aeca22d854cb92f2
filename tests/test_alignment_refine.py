"""
The check of doubtful sentences with pocketsphinx's acoustic model (alignment/engine/refine.py):
a sentence put inside an ad read in the narrator's own voice, with its own audio taken for
unscripted material, is moved back by the acoustic score; names outside the model's dictionary
are pronounced from eSpeak's phonemes.
"""

import numpy as np
import soundfile

from alignment.engine import narration, refine
from alignment.engine.align import SentenceTiming, _audio_features, _check_doubtful
from alignment.engine.audio import quiet_frames

from .test_alignment_hard import AD, RATE, in_room, speak

SENTENCES = [
    "In the summer of 1937 the purges reached the Red Army.",
    "Marshal Tukhachevsky was arrested in May and shot within weeks.",
    "Commanders who survived learned to wait for orders from Moscow.",
]


def test_names_outside_the_dictionary_are_pronounced_from_espeak():
    scorer = refine.Scorer()
    assert scorer.decoder.lookup_word("yezhov") is None
    assert refine.espeak_phones("Yezhov") == "Y EH ZH AA V"
    assert refine.espeak_phones("Bukharin") == "B AH K AA R IH N"  # one R, not eSpeak's two
    assert scorer.pronunciation("Zinoviev") == "Z IH N OW V IY V"
    assert scorer.decoder.lookup_word("zinoviev") == "Z IH N OW V IY V"  # added for the alignment
    assert scorer.pronunciation("purges") == scorer.decoder.lookup_word("purges")  # the dictionary's own


def test_espeak_phonemes_are_given_for_text():
    assert narration.phonemes("Ryutin", voice="en-us") == "rj'u:tIn"


def recording(path):
    """SENTENCES[0], the AD copy, SENTENCES[1] and [2], in the test voice in a room: true spans."""
    random = np.random.default_rng(5)
    pieces, ad = speak(SENTENCES), speak(AD)
    out, spans, position = [np.zeros(RATE // 2, dtype=np.float32)], [], RATE // 2
    for number, piece in enumerate(pieces):
        if number == 1:
            for line in ad:
                out += [line, np.zeros(int(0.4 * RATE), dtype=np.float32)]
                position += len(line) + int(0.4 * RATE)
            ad_span = (RATE // 2 + len(pieces[0]) + int(0.6 * RATE)) / RATE, position / RATE
        spans.append((position / RATE, (position + len(piece)) / RATE))
        pause = int(0.6 * RATE)
        out += [piece, np.zeros(pause, dtype=np.float32)]
        position += len(piece) + pause
    audio = in_room(np.concatenate(out), random)
    audio += random.normal(0, 0.002, len(audio))
    soundfile.write(path, audio.astype(np.float32), RATE)
    return spans, ad_span


def test_a_sentence_put_in_the_wrong_place_is_moved_back_by_the_acoustic_score(tmp_path):
    path = tmp_path / "ad.flac"
    spans, ad = recording(path)
    reference = narration.synthesise([SENTENCES])
    _, energy, _ = _audio_features(path)
    quiet = quiet_frames(energy)
    # What DTW did on the hard benchmark: the sentence after the ad put at the ad's start, its
    # own audio (and the rest of the ad) skipped, and the sentence listed for review.
    length = spans[1][1] - spans[1][0]
    sentences = [SentenceTiming(spans[0][0], spans[0][1], 0.9),
                 SentenceTiming(ad[0] + 0.3, ad[0] + 0.3 + length, 0.3),
                 SentenceTiming(spans[2][0], spans[2][1], 0.9)]
    skipped = [(round(ad[0] + 0.3 + length, 2), round(spans[1][1], 2))]

    skipped = _check_doubtful(SENTENCES, reference, sentences, skipped, path, quiet, "en-us")

    moved = sentences[1]
    assert abs(moved.start - spans[1][0]) <= 0.3, (moved, spans[1])
    assert moved.confidence < 0.5  # moved: still listed for review
    assert len(moved.words) == 10 and moved.words[0][2] == moved.start
    # The ad is what is skipped now, and the sentence's own audio is not.
    assert any(start <= ad[0] + 0.7 and end >= ad[1] - 0.7 for start, end in skipped), (skipped, ad)
    assert not any(start < moved.start + 0.5 < end for start, end in skipped), skipped
    assert (sentences[0].start, sentences[2].start) == (spans[0][0], spans[2][0])


def test_a_sentence_in_its_place_is_not_moved(tmp_path):
    path = tmp_path / "ad.flac"
    spans, ad = recording(path)
    reference = narration.synthesise([SENTENCES])
    _, energy, _ = _audio_features(path)
    # Doubtful only because it borders the ad; the acoustic model hears it where it is.
    sentences = [SentenceTiming(*spans[0], 0.9), SentenceTiming(*spans[1], 0.45), SentenceTiming(*spans[2], 0.9)]
    skipped = [(round(ad[0], 2), round(ad[1], 2))]

    assert _check_doubtful(SENTENCES, reference, sentences, skipped, path, quiet_frames(energy), "en-us") == skipped
    assert sentences[1].start == spans[1][0]

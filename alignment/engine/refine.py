"""
Check doubtful sentences with a real acoustic model: pocketsphinx's en-us model, which ships
inside its wheel (no download at run time).

DTW against an eSpeak reference cannot tell a sentence's own audio from unscripted speech in
the same voice beside it (a host-read ad): both are about as far from the reference. A
recogniser's acoustic model can. For each sentence the aligner doubts, the sentence's words
are force-aligned (pocketsphinx's alignment mode) on a window of audio around each place it
could be: where it was put, right after the sentence before it, right after and right before
each skipped stretch in between, and right before the sentence after it. Each place is scored by the
acoustic score of the words' frames per frame (pocketsphinx normalises each frame's scores to
the best senone, so it reads as how far the audio is from the words; silence and noise around
them are not counted). A sentence is moved when another place scores clearly better.

Words outside the model's dictionary (names: Ryutin, Zinoviev, Yezhov) get a pronunciation
from eSpeak NG's phonemes (narration.phonemes), mapped onto the model's phone set by
ESPEAK_TO_CMU.
"""

import re
from dataclasses import dataclass

import numpy as np

from . import narration
from .audio import RATE, stream

#: Audio around a candidate place, before its start and after its expected end (seconds).
MARGIN = 2.0
#: Windows reach this far past the neighbouring sentences' ends (seconds).
SLACK = 0.2
#: Another place must score this much better per frame (pocketsphinx's log units, scaled) and
#: by this share of the current place's score for the sentence to move there.
BETTER_BY = 5.0
BETTER_SHARE = 0.2
#: Candidate places closer than this to one already scored are the same place (seconds).
SAME_PLACE = 1.0
#: A window cut at an onset keeps this much audio before it (seconds).
LEAD_IN = 0.1
#: pocketsphinx frames are 10 ms.
FRAME = 0.01

#: eSpeak NG's ASCII phoneme names (English voices) onto the CMU phones of pocketsphinx's en-us
#: model; longest names are matched first. Stress and length marks are dropped.
ESPEAK_TO_CMU = {
    "aI@": "AY ER", "aU@": "AW ER", "i@3": "IY ER", "aI3": "AY ER",
    "aI": "AY", "aU": "AW", "eI": "EY", "OI": "OY", "oU": "OW", "@U": "OW", "I@": "IH R",
    "e@": "EH R", "U@": "UH R", "3:": "ER", "A:": "AA", "i:": "IY", "u:": "UW", "O:": "AO",
    "A@": "AA R", "O@": "AO R", "o@": "AO R", "@L": "AH L", "@2": "AH", "@5": "AH", "I2": "IH",
    "I#": "IH", "E2": "EH", "a#": "AH", "i@": "IY AH", "tS": "CH", "dZ": "JH", "r-": "R",
    "@": "AH", "3": "ER", "I": "IH", "E": "EH", "a": "AE", "A": "AA", "V": "AH", "0": "AA",
    "O": "AO", "U": "UH", "i": "IY", "u": "UW", "e": "EH", "o": "OW",
    "p": "P", "b": "B", "t": "T", "d": "D", "k": "K", "g": "G", "f": "F", "v": "V", "T": "TH",
    "D": "DH", "s": "S", "z": "Z", "S": "SH", "Z": "ZH", "h": "HH", "m": "M", "n": "N",
    "N": "NG", "l": "L", "r": "R", "j": "Y", "w": "W", "x": "K", "C": "HH", "t#": "T", "*": "T",
    "?": "",
}
_ESPEAK_NAMES = sorted(ESPEAK_TO_CMU, key=len, reverse=True)
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


@dataclass
class Placement:
    start: float  # seconds of the first word
    end: float  # seconds after the last word
    score: float  # mean acoustic score per frame of the words (higher is better)
    words: list  # [(char_start, char_end, start, end)] for the words aligned


def available():
    """Whether pocketsphinx can be imported (it is in requirements.txt; the engine degrades)."""
    try:
        import pocketsphinx  # noqa: F401
    except ImportError:
        return False
    return True


class Scorer:
    """One pocketsphinx decoder in alignment mode, with pronunciations for unknown words."""

    def __init__(self, voice="en-us"):
        import pocketsphinx

        self.decoder = pocketsphinx.Decoder(lm=None, loglevel="FATAL", bestpath=False)
        self.voice = voice
        self.added = {}

    def pronunciation(self, word):
        """The dictionary's phones for word, or eSpeak's mapped onto them (None: unpronounceable)."""
        word = word.lower().replace("’", "'")
        if word in self.added:
            return self.added[word]
        phones = self.decoder.lookup_word(word)
        if phones is None:
            phones = espeak_phones(word, self.voice)
            if phones:
                self.decoder.add_word(word, phones, True)
        self.added[word] = phones
        return phones

    def place(self, text, samples, offset):
        """
        The sentence's words force-aligned on samples (16 kHz float32, starting at offset
        seconds), or None when they cannot be (no pronounceable word, or the audio too short).
        """
        tokens = [(match.start(), match.end(), match.group().lower().replace("’", "'"))
                  for match in _WORD.finditer(text)]
        tokens = [token for token in tokens if self.pronunciation(token[2])]
        if not tokens or len(samples) < RATE // 2:
            return None
        pcm = (np.clip(samples, -1, 1) * 32767).astype(np.int16).tobytes()
        decoder = self.decoder
        try:
            decoder.set_align_text(" ".join(word for _, _, word in tokens))
            decoder.start_utt()
            decoder.process_raw(pcm, full_utt=True)
            decoder.end_utt()
            if decoder.hyp() is None:
                return None
            # A second pass gives per-word scores in log units (ps_set_alignment). Do not ask
            # for hyp() after it: pocketsphinx 5.0.4 crashes.
            decoder.set_alignment()
            decoder.start_utt()
            decoder.process_raw(pcm, full_utt=True)
            decoder.end_utt()
            segments = [(entry.start, entry.duration, entry.score) for entry in decoder.get_alignment()
                        if not entry.name.startswith(("<", "["))]
        except RuntimeError:  # the words do not fit in the audio
            return None
        if len(segments) != len(tokens):
            return None
        frames = sum(duration for _, duration, _ in segments)
        score = sum(score for _, _, score in segments) / max(frames, 1)
        words = [(char_start, char_end, offset + start * FRAME, offset + (start + duration) * FRAME)
                 for (char_start, char_end, _), (start, duration, _) in zip(tokens, segments)]
        return Placement(words[0][2], words[-1][3], score, words)


def sharpen(scorer, text, samples, offset, placement, onsets):
    """
    The placement again, from the window cut at each onset (after a pause) before the words'
    end: words forced over speech that is not theirs at the head of a window score worse, so
    the cut at the sentence's own onset scores best. placement if none does better.
    """
    best = placement
    for onset in onsets[(onsets > offset + LEAD_IN) & (onsets < placement.end - 0.5)]:
        cut = round((onset - LEAD_IN - offset) * RATE)
        again = scorer.place(text, samples[cut:], offset + cut / RATE)
        if again is not None and again.score > best.score:
            best = again
    return best


def espeak_phones(word, voice="en-us"):
    """CMU phones for word from eSpeak NG's phonemes, or None."""
    try:
        names = narration.phonemes(word, voice=voice)
    except (narration.NarrationUnavailable, ValueError):
        return None
    phones = []
    position = 0
    names = re.sub(r"[ˈˌ',%=_|;!\s-]", "", names)  # stress, syllable and word marks
    while position < len(names):
        for name in _ESPEAK_NAMES:
            if names.startswith(name, position):
                if ESPEAK_TO_CMU[name]:
                    phones.append(ESPEAK_TO_CMU[name])
                position += len(name)
                break
        else:
            position += 1  # a mark or a phoneme with no counterpart
    phones = " ".join(phones).split()
    # "A@" then "r" ("Bukharin": bu:kA@rIn) would say R twice.
    phones = [phone for number, phone in enumerate(phones) if not number or phone != phones[number - 1]]
    return " ".join(phones) or None


def windows(audio_path, spans):
    """The audio (16 kHz float32) of each (start, end) span in seconds, read in one pass."""
    pieces = [[] for _ in spans]
    position = 0
    for block in stream(audio_path, RATE):
        block_start, position = position, position + len(block)
        for number, (start, end) in enumerate(spans):
            first, last = max(round(start * RATE), block_start), min(round(end * RATE), position)
            if first < last:
                pieces[number].append(block[first - block_start:last - block_start])
    return [np.concatenate(piece) if piece else np.zeros(0, dtype=np.float32) for piece in pieces]


def candidates(current, region, skipped, length):
    """
    Where a sentence placed at current (seconds) could start instead, inside region (the end
    of the sentence before it to the start of the one after it): right after the sentence
    before, right after each skipped stretch in the region, right before each one and right
    before the sentence after. The current place comes first.
    """
    low, high = region
    places = [current, low]
    for start, end in skipped:
        if low - SAME_PLACE < start and end < high + SAME_PLACE:
            places += [end, start - length]
    places.append(high - length)
    kept = []
    for place in places:
        place = min(max(place, low), max(high - length, low))
        if all(abs(place - other) >= SAME_PLACE for other in kept):
            kept.append(place)
    return kept


def better(best, current):
    """Whether best scores clearly better than current (both per-frame scores)."""
    return best - current >= max(BETTER_BY, BETTER_SHARE * abs(current))

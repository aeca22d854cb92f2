"""
Map a timing file's cues onto our sentences by aligning their words.

Cue boundaries rarely match sentences: a cue may split a sentence or hold
several, and its punctuation and case differ from the edited transcript. So
both sides become one long list of normalised words, difflib aligns the two
lists, and each sentence takes its times from the cue words its own words
were matched to. Nothing here touches the database: sentences are strings.
"""

import re
import statistics
import unicodedata
from dataclasses import dataclass, field
from difflib import SequenceMatcher

# Letters and digits, with apostrophes inside a word ("don't", "Stalin’s").
_WORD = re.compile(r"[^\W_]+(?:['’‘ʼ][^\W_]+)*")
_APOSTROPHES = str.maketrans("", "", "'’‘ʼ")

# Cues of at most this many words (the median) are word-level: their times
# are measured, so per-word times are worth keeping.
WORD_LEVEL_MEDIAN = 2


@dataclass
class CueTiming:
    start: float | None
    end: float | None
    # (char_start, char_end in the sentence text, t_start, t_end) for matched
    # words, only when the cues are word-level; otherwise [].
    words: list[tuple[int, int, float, float]] = field(default_factory=list)


@dataclass
class CueMapping:
    timings: list[CueTiming]  # one per sentence, in order
    matched_sentences: int
    matched_words: int
    total_words: int  # words in the sentences
    cue_words: int = 0  # words in the cues


class CueMappingError(ValueError):
    """The cues cannot be placed on this transcript; the message says why, for a person."""


def normalise_word(word):
    """Casefolded, without diacritics or apostrophes: how "Café’s" and "cafes" meet."""
    decomposed = unicodedata.normalize("NFKD", word)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return bare.casefold().translate(_APOSTROPHES)


def words_with_spans(text):
    """[(normalised word, char_start, char_end)] in the text."""
    return [(normalise_word(m.group()), m.start(), m.end()) for m in _WORD.finditer(text)]


def _cue_words(cue):
    """[(word, t_start, t_end)]: the cue's time shared out by word length."""
    words = [normalise_word(m.group()) for m in _WORD.finditer(cue.plain)]
    total = sum(len(word) for word in words) or 1
    timed, done = [], 0
    for index, word in enumerate(words):
        start = cue.start + (cue.end - cue.start) * done / total
        done += len(word)
        end = cue.end if index == len(words) - 1 else cue.start + (cue.end - cue.start) * done / total
        timed.append((word, cue.start if index == 0 else start, end))
    return timed


def map_cues(cues, sentences, *, min_match=0.6):
    """Times for each sentence from the cues (formats.Cue, or anything with start, end and plain).

    A sentence runs from its first matched word's start to its last matched
    word's end. A sentence none of whose words were found gets None for both:
    we do not interpolate, since text missing from the audio has no time.
    Starts never go backwards and no sentence ends before it starts.
    Raises CueMappingError when fewer than min_match of the words line up
    (counted against the larger side), which means the file is for other
    speech.
    """
    sentence_words = [words_with_spans(text) for text in sentences]
    flat = [(index, word, start, end) for index, words in enumerate(sentence_words)
            for word, start, end in words]
    per_cue = [_cue_words(cue) for cue in cues]
    timed = [word for words in per_cue for word in words]
    if not flat:
        raise CueMappingError("The transcript has no words to put times on.")
    if not timed:
        raise CueMappingError("The timing file has no words in it, so nothing can be matched.")

    matcher = SequenceMatcher(None, [w[1] for w in flat], [w[0] for w in timed], autojunk=False)
    word_times = {}
    for i, j, size in matcher.get_matching_blocks():
        for k in range(size):
            word_times[i + k] = timed[j + k][1:]

    matched = len(word_times)
    larger = max(len(flat), len(timed))
    if matched / larger < min_match:
        share = int(matched / larger * 100)
        if len(timed) >= len(flat):
            found, of = "of its words were found in the transcript", len(timed)
        else:
            found, of = "of the transcript's words were found in it", len(flat)
        detail = f"only {share}% {found} ({matched:,} of {of:,})"
        raise CueMappingError(
            f"The timing file does not match this transcript: {detail}. "
            f"At least {min_match:.0%} must match; is it for another episode?"
        )

    word_level = statistics.median(len(words) for words in per_cue if words) <= WORD_LEVEL_MEDIAN
    timings = [CueTiming(None, None, []) for _ in sentences]
    for position, (index, _, char_start, char_end) in enumerate(flat):
        if position not in word_times:
            continue
        t_start, t_end = word_times[position]
        timing = timings[index]
        if timing.start is None:
            timing.start = t_start
        timing.end = t_end if timing.end is None else max(timing.end, t_end)
        if word_level:
            timing.words.append((char_start, char_end, t_start, t_end))

    previous_start = None
    for timing in timings:
        if timing.start is None:
            continue
        if previous_start is not None:
            timing.start = max(timing.start, previous_start)
        timing.end = max(timing.end, timing.start)
        previous_start = timing.start
    return CueMapping(
        timings=timings,
        matched_sentences=sum(1 for t in timings if t.start is not None),
        matched_words=matched,
        total_words=len(flat),
        cue_words=len(timed),
    )

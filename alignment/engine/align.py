"""
Align a script (its sentences) to a real recording of it, offline.

The script is narrated by eSpeak NG (narration.py), which gives a
reference recording with exact sentence and word times. Both recordings become
MFCCs (audio.py), normalised per recording (mean 0,
variance 1 per coefficient: a crude speaker and channel normalisation), and
are aligned by dynamic time warping, coarse to fine (dtw.py);
reference times are then carried through the warping path into the real audio.

- Audio that matches no text (intro music, an ad, an outro) is skipped rather
  than smeared over the sentences beside it: on the reference's pauses (between
  sentences, at commas) a frame of real audio may be passed over at a fixed
  "gap" price, a low quantile of the distances between random pairs of frames;
  material that matches nothing is cheaper to skip at that price than to force
  onto the script. A frame of speech, by contrast, may only be held a few
  frames. The head and tail are skipped at the same price (open ends). In the
  same way, script that was not read (a sentence cut in the studio) can be
  passed over where the real audio pauses.
- Starts are carried through the first sounding frame of a sentence or word,
  then each sentence start is snapped to the nearest speech onset after a pause
  in the real audio.
- Opening a skipped stretch costs OPEN_SECONDS of gap price once (an affine
  gap), so an ad is skipped as one block rather than in pieces around a sentence
  moved into it.
- Each sentence gets a confidence from the path's local cost (against the
  typical cost of the whole alignment and of random pairs), its slope and the
  share of its frames that were skipped; a sentence beside a skipped stretch is
  doubtful whatever its cost (that is where a sentence moved into an ad read in
  the narrator's voice ends up), so it is always listed for review.
- Each doubtful sentence is then checked with a real acoustic model (refine.py,
  pocketsphinx): its words are force-aligned where it was put and at the other
  places it could be between its neighbours (after the sentence before it,
  after a skipped stretch, before the sentence after it); it moves where they
  score clearly better, and the audio it leaves becomes skipped. A moved
  sentence stays listed for review (the two methods disagreed about it).
"""

import math
from dataclasses import dataclass, field

import numpy as np

from . import narration
from . import refine as _refine
from .audio import (FRAME, RATE, WINDOW, AlignmentError, Features, Resampler, frame_time,
                    quiet_frames, read_audio, runs, stream)
from .dtw import warp

__all__ = ["Alignment", "AlignmentError", "SentenceTiming", "align", "read_audio"]

#: A stretch of real audio matched to no text is reported as skipped from this long (seconds).
MIN_SKIP = 2.0
#: Skipped stretches this close together (seconds) are reported as one.
SKIP_HOLE = 0.5
#: Sentence starts move to an onset after a pause of SENTENCE_PAUSE at most SNAP_WINDOW away
#: (seconds); failing that, to one after any pause (MIN_PAUSE) at most SNAP_SHORT away.
SNAP_WINDOW = 0.5
SENTENCE_PAUSE = 0.15
SNAP_SHORT = 0.2
MIN_PAUSE = 0.06
#: Quiet in the reference this long (seconds) counts as a pause where audio may be skipped.
REFERENCE_PAUSE = 0.08
#: Silence put before and after the reference (seconds).
LEAD = 0.5
#: Word timings are given only for sentences at least this confident.
WORD_CONFIDENCE = 0.5
#: A sentence that ends this close (seconds) before a skipped stretch, or starts this close after
#: one, is doubtful whatever its cost: when the aligner is wrong about unscripted audio, it has
#: moved the sentence beside it into it and skipped the sentence's own audio instead.
BORDER = 1.0
#: The confidence a doubtful sentence is given at most (under Alignment.low_confidence's 0.5).
DOUBTFUL = 0.45
#: A sentence's length against the reference's, relative to the whole episode's, is unremarkable
#: inside this range; confidence falls off outside it.
SLOPE_RANGE = (0.6, 1.7)


@dataclass
class SentenceTiming:
    start: float  # seconds in the real audio
    end: float
    confidence: float  # 0..1
    # [[char_start, char_end, t_start, t_end], ...]: offsets into the sentence text; [] when evidence is poor
    words: list = field(default_factory=list)


@dataclass
class Alignment:
    sentences: list[SentenceTiming]  # one per input text, in order
    skipped: list[tuple[float, float]]  # audio segments matched to no text (intro, ads, outro)
    duration: float  # audio seconds

    def low_confidence(self, threshold=0.5) -> list[int]:
        """0-based indexes of the sentences an editor should check."""
        return [index for index, sentence in enumerate(self.sentences) if sentence.confidence < threshold]


def align(texts, audio_path, *, progress=None, voice="en-us", refine=True) -> Alignment:
    """
    Time each of texts (sentences, in order) in the audio file. progress(fraction, stage) is
    called as work advances. refine: check doubtful sentences with pocketsphinx's acoustic
    model (refine.py), when it is installed.
    """

    def report(fraction, stage):
        if progress:
            progress(min(max(fraction, 0.0), 1.0), stage)

    if isinstance(texts, str) or not all(isinstance(text, str) for text in texts):
        raise AlignmentError("The script must be a list of sentences.")
    if not any(text.strip() for text in texts):
        raise AlignmentError("The script is empty: there is no sentence to align.")

    report(0.0, "Reading the audio")
    real, energy, duration = _audio_features(audio_path)
    report(0.15, "Reading the script aloud to compare with the audio")
    reference = _narrate(texts, voice)
    ref, ref_energy = _reference_features(reference)
    reference.samples = None  # the biggest thing held; only the timings are needed from here
    report(0.25, "Aligning")
    pauses, quiet = _pauses(ref_energy, reference.sentences), quiet_frames(energy)
    (path_i, path_j), distance, gap, random_median = warp(
        ref, real, pauses, quiet, lambda fraction: report(0.25 + 0.7 * fraction, "Aligning"))
    report(0.95, "Timing sentences")
    path = _Path(path_i, path_j, distance, gap, random_median, quiet_frames(ref_energy), pauses, quiet)
    sentences = _time_sentences(texts, reference, path, _onsets(quiet), len(real))
    skipped = _skipped(path, quiet)
    _doubt_borders(sentences, skipped)
    if refine and _refine.available():
        report(0.97, "Checking doubtful sentences")
        skipped = _check_doubtful(texts, reference, sentences, skipped, audio_path, quiet, voice)
    report(1.0, "Done")
    return Alignment(sentences=sentences, skipped=skipped, duration=round(duration, 3))


def _audio_features(audio_path):
    """(MFCCs, log energy, duration in seconds) of the audio file, or AlignmentError."""
    extractor = Features(seed=2)
    samples = 0
    for block in stream(audio_path, RATE):
        samples += len(block)
        extractor.feed(block)
    real, energy = extractor.result()
    duration = samples / RATE
    if len(real) < 10:
        raise AlignmentError(f"The audio is too short to align ({duration:.2f} s).")
    if float(np.quantile(energy, 0.99)) < math.log(WINDOW * 1e-4):
        # The loudest frames are about as quiet as the dither alone: nothing was recorded.
        raise AlignmentError("No speech found: the audio is silent.")
    return real, energy, duration


def _narrate(texts, voice):
    try:
        return narration.synthesise([list(texts)], voice=voice)
    except (narration.NarrationUnavailable, ValueError) as error:
        raise AlignmentError(f"The script cannot be narrated for alignment: {error}") from error


def _reference_features(reference):
    """
    Features of the narration, with LEAD seconds of silence before and after it (intro and
    outro material then has somewhere to be skipped that is not the first or last word), fed
    through in pieces to keep memory low.
    """
    resampler = Resampler(reference.sample_rate, RATE)
    extractor = Features(seed=3)
    lead = np.zeros(round(LEAD * RATE), dtype=np.float32)
    extractor.feed(lead)
    piece = 30 * reference.sample_rate
    for start in range(0, len(reference.samples), piece):
        extractor.feed(resampler.feed(reference.samples[start:start + piece].astype(np.float32) / 32768))
    extractor.feed(resampler.finish())
    extractor.feed(lead)
    return extractor.result()


def _frame_of(time, rows):
    """The reference frame standing for a time in the narration (LEAD not included)."""
    return min(max(round((time + LEAD - WINDOW / RATE / 2) / FRAME), 0), rows - 1)


def _pauses(energy, sentences):
    """
    Reference frames where real audio may be skipped: all between sentences, and quiet runs of
    at least REFERENCE_PAUSE inside them (commas); not the brief quiet of a stop consonant,
    which would let a sentence's first sounds drift into the noise of the pause before it.
    """
    pauses = np.zeros(len(energy), dtype=bool)
    minimum = round(REFERENCE_PAUSE / FRAME)
    for start, end in runs(quiet_frames(energy)):
        if end - start >= minimum:
            pauses[start:end] = True
    rows = len(energy)
    edge = 0
    for start, end in sentences:
        if end > start:
            pauses[edge:_frame_of(start, rows)] = True
            edge = _frame_of(end, rows) + 1
    pauses[edge:] = True
    return pauses


class _Path:
    """The warping path, with what the timings need to know about it."""

    def __init__(self, rows, columns, distance, gap, random_median, ref_quiet, pauses, real_quiet):
        self.rows, self.columns, self.distance = rows, columns, distance
        self.gap, self.random_median, self.ref_quiet = gap, random_median, ref_quiet
        horizontal = np.zeros(len(rows), dtype=bool)
        horizontal[1:] = rows[1:] == rows[:-1]
        vertical = np.zeros(len(rows), dtype=bool)
        vertical[1:] = columns[1:] == columns[:-1]
        #: Real frames passed over at the gap price (on a pause of the reference): matched to no
        #: text. Holding a frame of speech is only the real voice being slower there.
        self.in_gap = horizontal & (distance > gap) & pauses[rows]
        #: Reference frames passed over (on a pause of the real audio): script not read.
        self.unread = vertical & (distance > gap) & real_quiet[columns]
        matched = ~self.in_gap & ~self.unread
        self.typical = float(np.median(distance[matched])) if matched.any() else gap
        # For each reference frame, the first and last real frame the path pairs it with.
        count = len(ref_quiet)
        order = np.arange(len(rows))
        first_index = np.full(count, len(rows))
        np.minimum.at(first_index, rows, order)
        last_index = np.full(count, -1)
        np.maximum.at(last_index, rows, order)
        self.first, self.last = columns[first_index], columns[last_index]

    def start(self, row, limit):
        """
        When the reference frame row starts in the real audio. Audio skipped at a pause may sit
        on any of the quiet frames that open a sentence or word (a tie), so the time is carried
        through the first frame with sound (up to limit), which the path cannot linger on.
        """
        onset = row
        limit = min(limit, row + round(1 / FRAME))
        while onset < limit and self.ref_quiet[onset]:
            onset += 1
        return float(frame_time(self.first[onset]) - (onset - row) * FRAME)

    def end(self, row):
        return float(frame_time(self.last[row]) + FRAME)

    def confidence(self, start_row, end_row, overall_slope):
        """0..1 from the local cost, the slope against the episode's, and the share passed over."""
        cells = (self.rows >= start_row) & (self.rows <= end_row)
        matched = cells & ~self.in_gap & ~self.unread
        local = float(np.mean(self.distance[matched])) if matched.any() else self.random_median
        cost = (self.random_median - local) / max(self.random_median - self.typical, 1e-6)
        slope = (self.last[end_row] - self.first[start_row] + 1) / (end_row - start_row + 1) / overall_slope
        low, high = SLOPE_RANGE
        outside = math.log(low / slope) if slope < low else math.log(slope / high) if slope > high else 0.0
        skipped = float((self.in_gap | self.unread)[cells].mean()) if cells.any() else 1.0
        return min(max(cost, 0.0), 1.0) * max(0.0, 1 - outside) * (1 - skipped)


def _time_sentences(texts, reference, path, onsets, columns):
    rows = len(path.ref_quiet)
    overall_slope = max(columns - int(path.columns[0]) - int(path.in_gap.sum()), 1) / rows
    timings = []
    previous, previous_end = 0.0, 0.0
    for index, text in enumerate(texts):
        ref_start, ref_end = reference.sentences[index]
        if ref_end <= ref_start:  # a blank sentence takes no time: it sits where the last one ended
            timings.append(SentenceTiming(round(previous_end, 3), round(previous_end, 3), 0.0, []))
            continue
        start_row = _frame_of(ref_start, rows)
        end_row = max(_frame_of(ref_end, rows) - 1, start_row)
        start = max(_snap(path.start(start_row, end_row), onsets), previous)
        end = max(path.end(end_row), start)
        confidence = round(path.confidence(start_row, end_row, overall_slope), 3)
        words = []
        if confidence >= WORD_CONFIDENCE:
            words = _time_words(reference.words[index], path, rows, start, end, end_row)
        timings.append(SentenceTiming(round(start, 3), round(end, 3), confidence, words))
        previous, previous_end = start, end
    spoken = [timing for timing in timings if timing.end > timing.start or timing.words]
    for timing, following in zip(spoken, spoken[1:]):
        if timing.end > following.start:  # the next sentence was snapped back over this one's end
            timing.end = max(following.start, timing.start)
            for word in timing.words:
                word[2], word[3] = min(word[2], timing.end), min(word[3], timing.end)
    return timings


def _doubt_borders(sentences, skipped):
    """Lower to DOUBTFUL the confidence of each sentence that borders a skipped stretch."""
    for timing in sentences:
        if timing.end <= timing.start:
            continue
        if any(start - BORDER <= timing.end <= start + BORDER or end - BORDER <= timing.start <= end + BORDER
               for start, end in skipped):
            timing.confidence = min(timing.confidence, DOUBTFUL)


def _check_doubtful(texts, reference, sentences, skipped, audio_path, quiet, voice):
    """
    Move each doubtful sentence to where pocketsphinx's acoustic model hears it clearly better
    (refine.py), between its neighbours; the audio it leaves, if not quiet, becomes skipped.
    Returns the skipped stretches.
    """
    lengths = [(end - start, timing.end - timing.start)
               for (start, end), timing in zip(reference.sentences, sentences) if timing.confidence >= 0.5]
    pace = float(np.median([real / ref for ref, real in lengths if ref > 0])) if lengths else 1.0
    doubtful = [index for index, timing in enumerate(sentences)
                if timing.confidence < 0.5 and timing.end > timing.start]  # listed for review
    if not doubtful:
        return skipped
    duration = len(quiet) * FRAME
    plans = []
    for index in doubtful:
        timing = sentences[index]
        before = [t.end for t in sentences[:index] if t.end > t.start]
        after = [t.start for t in sentences[index + 1:] if t.end > t.start]
        region = (before[-1] if before else 0.0, after[0] if after else duration)
        ref_start, ref_end = reference.sentences[index]
        length = (ref_end - ref_start) * pace
        places = _refine.candidates(timing.start, region, skipped, length)
        # Windows stay between the neighbours: words forced over a neighbour's speech score badly.
        low, high = max(region[0] - _refine.SLACK, 0.0), region[1] + _refine.SLACK
        plans.append((index, region, [(max(place - _refine.MARGIN, low), min(place + length + _refine.MARGIN, high))
                                      for place in places]))
    audio = iter(_refine.windows(audio_path, [span for _, _, spans in plans for span in spans]))
    scorer = _refine.Scorer(voice)
    onsets = frame_time(_onsets(quiet)[0])
    for index, region, spans in plans:
        timing = sentences[index]
        windows = [(next(audio), start) for start, _ in spans]
        placed = [scorer.place(texts[index], samples, start) for samples, start in windows]
        here, best = placed[0], max((p for p in placed if p), key=lambda p: p.score, default=None)
        if best is None or best is here or abs(best.start - timing.start) < _refine.SAME_PLACE:
            continue
        if here is not None and not _refine.better(best.score, here.score):
            continue
        best = _refine.sharpen(scorer, texts[index], *windows[placed.index(best)], best, onsets)
        timing.start = round(max(best.start, region[0]), 3)
        timing.end = round(max(min(best.end, region[1]), timing.start), 3)
        timing.words = [[char_start, char_end, round(min(max(start, timing.start), timing.end), 3),
                         round(min(max(end, timing.start), timing.end), 3)]
                        for char_start, char_end, start, end in best.words]
        timing.confidence = min(timing.confidence, DOUBTFUL)  # moved: still listed for review
        skipped = _reskip(skipped, region, (timing.start, timing.end), quiet)
    return skipped


def _reskip(skipped, region, sentence, quiet):
    """The skipped stretches once a sentence moved to sentence inside region: what is left of the
    region on either side of it, where it holds at least MIN_SKIP of sound."""
    low, high = region
    kept = [(start, end) for start, end in skipped if end <= low or start >= high]
    for start, end in ((low, sentence[0]), (sentence[1], high)):
        first, last = round(start / FRAME), round(end / FRAME)
        if (~quiet[first:last]).sum() >= MIN_SKIP / FRAME:
            kept.append((round(start, 2), round(end, 2)))
    return sorted(kept)


def _time_words(reference_words, path, rows, start, end, end_row):
    """[char_start, char_end, t_start, t_end] per word, in order, inside start..end."""
    starts = [path.start(_frame_of(t_start, rows), end_row) for _, _, t_start, _ in reference_words]
    if not starts:
        return []
    starts[0] = start
    for number in range(1, len(starts)):
        starts[number] = min(max(starts[number], starts[number - 1]), end)
    ends = starts[1:] + [end]
    return [[char_start, char_end, round(word_start, 3), round(word_end, 3)]
            for (char_start, char_end, _, _), word_start, word_end in zip(reference_words, starts, ends)]


def _onsets(quiet):
    """(frames, pause lengths in frames): where sound starts after at least MIN_PAUSE of quiet."""
    minimum = max(1, round(MIN_PAUSE / FRAME))
    frames, lengths = [], []
    for start, end in runs(quiet):
        if end - start >= minimum and end < len(quiet):
            frames.append(end)
            lengths.append(end - start)
    return np.array(frames, dtype=np.int64), np.array(lengths, dtype=np.int64)


def _snap(start, onsets):
    """
    Where the sentence starting about start begins in the real audio: the nearest onset after a
    pause of SENTENCE_PAUSE within SNAP_WINDOW (the path tends to start a sentence early when
    its first sounds resemble the noise of the pause before it), else the nearest onset after
    any pause within SNAP_SHORT, else start.
    """
    frames, lengths = onsets
    if not len(frames):
        return start
    times = frame_time(frames)
    distance = np.abs(times - start)
    for window, pause in ((SNAP_WINDOW, SENTENCE_PAUSE), (SNAP_SHORT, MIN_PAUSE)):
        fits = (distance <= window) & (lengths >= round(pause / FRAME))
        if fits.any():
            return float(times[fits][np.argmin(distance[fits])])
    return start


def _skipped(path, quiet):
    """
    Segments (seconds) of real audio the path passed over (head, tail and gap runs), merged
    across short holes, at least MIN_SKIP long, and not mostly quiet: a long pause is not
    material left out of the script.
    """
    skipped = np.zeros(len(quiet), dtype=bool)
    skipped[:path.columns[0]] = True
    skipped[path.columns[-1] + 1:] = True
    skipped[path.columns[path.in_gap]] = True
    segments = []
    for start, end in runs(skipped):
        if segments and start - segments[-1][1] <= round(SKIP_HOLE / FRAME):
            segments[-1][1] = end
        else:
            segments.append([start, end])
    minimum = round(MIN_SKIP / FRAME)
    return [(round(float(frame_time(start)), 2), round(float(frame_time(end - 1)), 2))
            for start, end in segments
            if end - start >= minimum and (~quiet[start:end]).sum() >= max(minimum, (end - start) / 2)]

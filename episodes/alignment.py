"""
Align a script (its sentences) to a real recording of it, offline.

The script is narrated by eSpeak NG (episodes/narration.py), which gives a
reference recording with exact sentence and word times. Both recordings are
turned into MFCCs (numpy only), normalised per recording (mean 0, variance 1
per coefficient: a crude speaker/channel normalisation) and aligned with
dynamic time warping; reference times are then carried through the warping
path into the real audio.

- Coarse to fine: the first pass compares block averages of the features (a
  few tenths of a second each) over the whole matrix, later passes refine at
  finer resolutions only inside a band around the previous path, so time and
  memory grow about linearly with the length of the episode (the first pass
  is quadratic but its block size grows with the audio to stay within
  COARSE_CELLS).
- Audio that matches no text (intro music, an ad, an outro) is skipped rather
  than smeared over neighbouring sentences: while the reference stands still,
  a frame of real audio costs min(distance, gap), where gap is a low quantile
  of the distances between random pairs of frames; a stretch that matches
  nothing is cheaper to skip at that price than to force onto the script.
  The head and the tail are skipped at the same price (open-ended alignment).
- Sentence starts are snapped to the nearest speech onset after a pause in
  the real audio within SNAP_WINDOW seconds.
- Each sentence gets a confidence from the path's local cost (against the
  typical cost of the whole alignment and of random pairs), its slope and the
  share of its frames that were skipped.
"""

import math
from dataclasses import dataclass, field
from pathlib import Path

from . import narration

RATE = 16000
WINDOW = 400  # 25 ms at 16 kHz
HOP = 160  # 10 ms
FRAME = HOP / RATE
FFT_SIZE = 512
MEL_BANDS = 40
MEL_LOW, MEL_HIGH = 100.0, 7600.0
COEFFICIENTS = 13
#: Dither added before the features (about -70 dBFS): digital silence has no spectrum to compare.
DITHER = 3e-4
#: The whole-matrix first pass is kept within this many cells by averaging more frames per block.
COARSE_CELLS = 40_000_000
#: Block sizes (in 10 ms frames) of the refining passes, and the band's radius (in that pass's
#: blocks) around the previous path.
REFINE = ((4, 24), (1, 20))
#: A frame of speech in the reference may last at most this many frames more in the real audio.
MAX_HOLD = 4
#: The gap price per frame: this quantile of the distances between random pairs of frames.
GAP_QUANTILE = 0.1
#: A stretch of real audio matched to no text is reported as skipped from this long (seconds).
MIN_SKIP = 2.0
#: Sentence starts move to a speech onset at most this far away (seconds).
SNAP_WINDOW = 0.5
#: ... after a pause this long (seconds); failing that, to an onset after any pause within:
SENTENCE_PAUSE = 0.15
SNAP_SHORT = 0.2
#: A pause before an onset lasts at least this long (seconds).
MIN_PAUSE = 0.06
#: Quiet in the reference this long (seconds) counts as a pause where audio may be skipped.
REFERENCE_PAUSE = 0.08
#: Silence put before and after the reference (seconds).
LEAD = 0.5
#: Word timings are given only for sentences at least this confident.
WORD_CONFIDENCE = 0.5

SUPPORTED = "WAV, FLAC, Ogg (Vorbis or Opus) and MP3"


class AlignmentError(Exception):
    """A message an editor can act on: unreadable/unsupported audio, no speech found, empty script..."""


@dataclass
class SentenceTiming:
    start: float  # seconds in the real audio
    end: float
    confidence: float  # 0..1
    # [[char_start, char_end, t_start, t_end], ...]: offsets into the sentence text; [] when evidence is poor
    words: list = field(default_factory=list)


@dataclass
class Alignment:
    sentences: list  # SentenceTiming per input text, in order
    skipped: list  # (start, end) of real audio matched to no text (intro, ads, outro)
    duration: float  # audio seconds

    def low_confidence(self, threshold=0.5) -> list[int]:
        """0-based indexes of the sentences an editor should check."""
        return [index for index, sentence in enumerate(self.sentences) if sentence.confidence < threshold]


def _numpy():
    try:
        import numpy
    except ImportError as error:  # pragma: no cover - numpy is pinned
        raise AlignmentError(f"numpy is not installed ({error}).") from error
    return numpy


def _soundfile():
    try:
        import soundfile
    except (ImportError, OSError) as error:
        raise AlignmentError(f"soundfile (libsndfile) cannot be loaded: {error}.") from error
    return soundfile


# --- Reading audio --------------------------------------------------------------------------


class _Resampler:
    """
    Streaming band-limited resampling: blocks of about a second, each resampled by FFT with a
    margin on both sides that is thrown away (so the FFT's wrap-around never reaches the output).
    """

    def __init__(self, np, rate_in, rate_out):
        self.np = np
        divisor = math.gcd(rate_in, rate_out)
        self.step_in, self.step_out = rate_in // divisor, rate_out // divisor
        self.block = self.step_in * max(1, math.ceil(rate_in / self.step_in))
        self.margin = self.step_in * max(1, math.ceil(0.05 * rate_in / self.step_in))
        self.passthrough = rate_in == rate_out
        self.buffer = np.zeros(self.margin, dtype=np.float64)  # the first block's left margin
        self.received = 0
        self.sent = 0

    def _convert(self, segment):
        np = self.np
        n_in = len(segment)
        n_out = n_in * self.step_out // self.step_in
        spectrum = np.fft.rfft(segment)
        resized = np.zeros(n_out // 2 + 1, dtype=spectrum.dtype)
        keep = min(len(spectrum), len(resized))
        resized[:keep] = spectrum[:keep]
        return np.fft.irfft(resized, n_out) * (n_out / n_in)

    def feed(self, samples):
        np = self.np
        self.received += len(samples)
        if self.passthrough:
            return samples.astype(np.float32)
        self.buffer = np.concatenate([self.buffer, samples])
        out = []
        margin_out = self.margin * self.step_out // self.step_in
        block_out = self.block * self.step_out // self.step_in
        while len(self.buffer) >= self.block + 2 * self.margin:
            converted = self._convert(self.buffer[:self.block + 2 * self.margin])
            out.append(converted[margin_out:margin_out + block_out])
            self.buffer = self.buffer[self.block:]
        return self._emit(out)

    def finish(self):
        np = self.np
        if self.passthrough:
            return np.zeros(0, dtype=np.float32)
        out = []
        margin_out = self.margin * self.step_out // self.step_in
        remaining = len(self.buffer) - self.margin
        if remaining > 0:
            length = self.step_in * math.ceil(remaining / self.step_in)
            padded = np.zeros(length + 2 * self.margin)
            padded[:len(self.buffer)] = self.buffer
            converted = self._convert(padded)
            out.append(converted[margin_out:margin_out + length * self.step_out // self.step_in])
        result = self._emit(out)
        total = round(self.received * self.step_out / self.step_in)
        return result[:max(0, total - (self.sent - len(result)))]

    def _emit(self, pieces):
        np = self.np
        result = np.concatenate(pieces).astype(np.float32) if pieces else np.zeros(0, dtype=np.float32)
        self.sent += len(result)
        return result


def _open(path):
    """An open soundfile.SoundFile, or AlignmentError saying why not."""
    soundfile = _soundfile()
    path = Path(path)
    if not path.exists():
        raise AlignmentError(f"The audio file {path.name} does not exist.")
    if path.is_dir():
        raise AlignmentError(f"{path.name} is a folder, not an audio file.")
    if path.stat().st_size == 0:
        raise AlignmentError(f"The audio file {path.name} is empty.")
    try:
        handle = soundfile.SoundFile(str(path))
    except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError) as error:
        raise AlignmentError(
            f"Cannot read {path.name} as audio ({error}); supported formats are {SUPPORTED}."
        ) from error
    if handle.samplerate <= 0 or handle.channels <= 0:
        handle.close()
        raise AlignmentError(f"The audio file {path.name} has no usable sample rate or channels.")
    return handle


def _stream(path, rate, seconds=30):
    """Yield the audio as mono float32 blocks at rate (the last call flushes the resampler)."""
    np = _numpy()
    soundfile = _soundfile()
    handle = _open(path)
    name = Path(path).name
    got = 0
    with handle:
        resampler = _Resampler(np, handle.samplerate, rate)
        try:
            while True:
                block = handle.read(frames=max(1, int(seconds * handle.samplerate)), dtype="float32",
                                    always_2d=True)
                if not len(block):
                    break
                got += len(block)
                mono = block.mean(axis=1) if block.shape[1] > 1 else block[:, 0]
                yield resampler.feed(mono)
        except (soundfile.LibsndfileError, RuntimeError) as error:
            raise AlignmentError(f"Cannot decode {name} ({error}); is the file complete?") from error
        if not got:
            raise AlignmentError(f"The audio file {name} holds no audio.")
        yield resampler.finish()


def read_audio(path, rate=RATE):
    """The file's audio as mono float32 at rate; AlignmentError for anything unreadable."""
    np = _numpy()
    pieces = list(_stream(path, rate))
    return np.concatenate(pieces).astype(np.float32, copy=False), rate


# --- Features -------------------------------------------------------------------------------


def _mel_matrix(np):
    def to_mel(hz):
        return 2595.0 * np.log10(1.0 + hz / 700.0)

    def to_hz(mel):
        return 700.0 * (10 ** (mel / 2595.0) - 1.0)

    edges = to_hz(np.linspace(to_mel(MEL_LOW), to_mel(MEL_HIGH), MEL_BANDS + 2))
    bins = np.fft.rfftfreq(FFT_SIZE, 1 / RATE)
    matrix = np.zeros((len(bins), MEL_BANDS))
    for band in range(MEL_BANDS):
        low, centre, high = edges[band:band + 3]
        rising = (bins - low) / (centre - low)
        falling = (high - bins) / (high - centre)
        matrix[:, band] = np.maximum(0, np.minimum(rising, falling))
    return matrix


def _dct_matrix(np):
    n = np.arange(MEL_BANDS)
    k = np.arange(COEFFICIENTS)[:, None]
    return (np.cos(np.pi * k * (2 * n + 1) / (2 * MEL_BANDS)) * math.sqrt(2 / MEL_BANDS)).T


class _Features:
    """MFCCs and log energy per 10 ms frame, computed as audio streams in."""

    def __init__(self, np, seed=0):
        self.np = np
        self.window = np.hanning(WINDOW).astype(np.float32)
        self.mel = _mel_matrix(np).astype(np.float32)
        self.dct = _dct_matrix(np).astype(np.float32)
        self.random = np.random.default_rng(seed)
        self.buffer = np.zeros(0, dtype=np.float32)
        self.mfcc, self.energy = [], []

    def feed(self, samples):
        np = self.np
        if len(samples):
            samples = samples + self.random.normal(0, DITHER, len(samples)).astype(np.float32)
            self.buffer = np.concatenate([self.buffer, samples])
        count = 0 if len(self.buffer) < WINDOW else 1 + (len(self.buffer) - WINDOW) // HOP
        if not count:
            return
        frames = np.lib.stride_tricks.sliding_window_view(self.buffer, WINDOW)[::HOP][:count]
        power = np.abs(np.fft.rfft(frames * self.window, FFT_SIZE)) ** 2
        self.energy.append(np.log(power.sum(axis=1) + 1e-10).astype(np.float32))
        self.mfcc.append((np.log(power.astype(np.float32) @ self.mel + 1e-10) @ self.dct).astype(np.float32))
        self.buffer = self.buffer[count * HOP:]

    def result(self):
        """(normalised MFCCs, log energy) per frame."""
        np = self.np
        if not self.mfcc:
            return np.zeros((0, COEFFICIENTS), dtype=np.float32), np.zeros(0, dtype=np.float32)
        mfcc = np.concatenate(self.mfcc)
        energy = np.concatenate(self.energy)
        mfcc -= mfcc.mean(axis=0)
        mfcc /= mfcc.std(axis=0) + 1e-6
        return mfcc, energy


def features(samples, np=None):
    """(normalised MFCCs, log energy) of mono float32 samples at RATE."""
    np = np or _numpy()
    extractor = _Features(np)
    for start in range(0, len(samples), 60 * RATE):
        extractor.feed(samples[start:start + 60 * RATE])
    return extractor.result()


def _reference_features(np, reference):
    """
    Features of the narration, with LEAD seconds of silence before and after it (intro and
    outro material then has somewhere to be skipped that is not the first or last word), fed
    through in pieces to keep memory low.
    """
    resampler = _Resampler(np, reference.sample_rate, RATE)
    extractor = _Features(np, seed=3)
    lead = np.zeros(round(LEAD * RATE), dtype=np.float32)
    extractor.feed(lead)
    piece = 30 * reference.sample_rate
    for start in range(0, len(reference.samples), piece):
        extractor.feed(resampler.feed(reference.samples[start:start + piece].astype(np.float32) / 32768))
    extractor.feed(resampler.finish())
    extractor.feed(lead)
    return extractor.result()


def frame_time(frame):
    """The time (seconds) a feature frame stands for: its window's centre."""
    return frame * FRAME + WINDOW / RATE / 2


# --- Dynamic time warping -------------------------------------------------------------------


def _blocks(np, feats, size):
    """Means of consecutive blocks of size frames (the last block may be shorter)."""
    if size == 1:
        return feats
    count = math.ceil(len(feats) / size)
    padded = np.zeros((count * size, feats.shape[1]), dtype=np.float64)
    padded[:len(feats)] = feats
    sums = padded.reshape(count, size, -1).sum(axis=1)
    lengths = np.full(count, size, dtype=np.float64)
    lengths[-1] = len(feats) - (count - 1) * size
    return (sums / lengths[:, None]).astype(np.float32)


def _gap_price(np, ref, real, random):
    count = 20000
    a = ref[random.integers(0, len(ref), count)]
    b = real[random.integers(0, len(real), count)]
    distances = np.sqrt(((a - b) ** 2).sum(axis=1))
    return float(np.quantile(distances, GAP_QUANTILE)), float(np.median(distances))


def _take(np, values, values_lo, lo, hi):
    """values (held for columns values_lo...) at columns lo..hi-1, infinity outside."""
    out = np.full(hi - lo, np.inf)
    a, b = max(lo, values_lo), min(hi, values_lo + len(values))
    if b > a:
        out[a - lo:b - lo] = values[a - values_lo:b - values_lo]
    return out


def _window_min(np, values, width):
    """(minimum, index of the latest minimum) of values[j - width + 1 .. j] for each j."""
    best, where = values.copy(), np.arange(len(values))
    covered = 1
    while covered < width:
        step = min(covered, width - covered, len(values))
        if step <= 0:
            break
        shifted = np.concatenate([np.full(step, np.inf), best[:-step]])
        shifted_where = np.concatenate([np.zeros(step, dtype=where.dtype), where[:-step]])
        take = shifted < best
        best = np.where(take, shifted, best)
        where = np.where(take, shifted_where, where)
        covered += step
    return best, where


#: Back-pointer codes: bit 0 says how a cell was reached from the row before (0 diagonal,
#: 1 down); the other bits how many steps right the path then took in the row (_HOLD: one step
#: at a time, back to where the running minimum was set, on pause rows).
_HOLD = 63


def _dtw(np, ref, real, lo, hi, gap, pauses, progress=None):
    """
    The cheapest monotone path through the band (row i: ref frame i; columns lo[i]..hi[i]-1:
    real frames), steps diagonal, down (ref advances) or right (real advances).

    Right steps cost d and a row of speech may be held for at most MAX_HOLD of them (its frame
    may last MAX_HOLD + 1 times longer than eSpeak's); on pause rows of the reference
    (pauses[i]) they cost min(d, gap) without limit: only there can real audio be skipped, as
    material is put between sentences, not inside words. Real frames before the path's start
    and after its end cost gap each. Returns the path as (rows, columns) arrays, one cell per
    step.
    """
    rows = len(ref)
    real = real.astype(np.float64)
    ref = ref.astype(np.float64)
    real_norms = (real ** 2).sum(axis=1)
    backs = []
    previous, previous_lo = None, 0
    for i in range(rows):
        a, b = int(lo[i]), int(hi[i])
        row = ref[i]
        d = np.sqrt(np.maximum(real_norms[a:b] - 2 * (real[a:b] @ row) + row @ row, 0))
        if i == 0:
            arrive = d + np.arange(a, b) * gap  # after skipping the head
            back = np.zeros(b - a, dtype=np.int8)
        else:
            diagonal = _take(np, previous, previous_lo, a - 1, b - 1)
            down = _take(np, previous, previous_lo, a, b)
            back = (diagonal > down).astype(np.int8)
            arrive = d + np.minimum(diagonal, down)
        if pauses[i]:
            steps = np.cumsum(np.minimum(d, gap))
            relative = arrive - steps
            best = np.minimum.accumulate(relative)
            back[relative > best] |= _HOLD << 1
        else:
            steps = np.cumsum(d)
            relative = arrive - steps
            best, where = _window_min(np, relative, MAX_HOLD + 1)
            back |= ((np.arange(b - a) - where) << 1).astype(np.int8)
        previous, previous_lo = steps + best, a
        backs.append(back)
        if progress and i % 2000 == 0:
            progress(i / rows)
    tail = previous + (len(real) - 1 - np.arange(previous_lo, previous_lo + len(previous))) * gap
    j = previous_lo + int(np.argmin(tail))
    i = rows - 1
    path_i, path_j = [], []
    while True:
        path_i.append(i)
        path_j.append(j)
        code = int(backs[i][j - int(lo[i])])
        hold = code >> 1
        if hold == _HOLD:
            j -= 1
            continue
        for _ in range(hold):
            j -= 1
            path_i.append(i)
            path_j.append(j)
        code = int(backs[i][j - int(lo[i])]) & 1
        if i == 0:
            break
        i -= 1
        if code == 0:
            j -= 1
    return np.array(path_i[::-1]), np.array(path_j[::-1])


def _band(np, path_i, path_j, factor, radius, rows, columns):
    """Per-row column ranges at a resolution factor times finer, radius blocks around the path."""
    coarse_rows = math.ceil(rows / factor)
    first = np.full(coarse_rows, np.iinfo(np.int64).max)
    last = np.full(coarse_rows, -1)
    np.minimum.at(first, path_i, path_j)
    np.maximum.at(last, path_i, path_j)
    fine = np.arange(rows) // factor
    lo = first[fine] * factor - radius
    hi = (last[fine] + 1) * factor + radius
    lo = np.maximum.accumulate(np.clip(lo, 0, columns - 1))
    hi = np.maximum.accumulate(np.clip(hi, 1, columns))
    hi = np.maximum(hi, lo + 1)
    return lo, hi


def _align_frames(np, ref, real, pauses, progress):
    """Fine (10 ms) path, with the distance and the gap price at that resolution."""
    random = np.random.default_rng(1)
    cells = len(ref) * len(real)
    # A multiple of the next pass's block size, so that blocks nest.
    factor = REFINE[0][0] * max(2, math.ceil(math.sqrt(cells / COARSE_CELLS) / REFINE[0][0]))
    levels = [(factor, None)] + [(size, radius) for size, radius in REFINE if size < factor]
    path = None
    for number, (size, radius) in enumerate(levels):
        a, b = _blocks(np, ref, size), _blocks(np, real, size)
        if path is None:
            lo, hi = np.zeros(len(a), dtype=np.int64), np.full(len(a), len(b), dtype=np.int64)
        else:
            ratio = levels[number - 1][0] // size
            lo, hi = _band(np, path[0], path[1], ratio, radius, len(a), len(b))
        gap, _ = _gap_price(np, a, b, random)
        level_pauses = _blocks(np, pauses[:, None].astype(np.float32), size)[:, 0] >= 0.5

        def report(fraction, number=number):
            if progress:
                progress((number + fraction) / len(levels))

        path = _dtw(np, a, b, lo, hi, gap, level_pauses, report)
    gap, random_median = _gap_price(np, ref, real, random)
    distance = np.sqrt(((ref[path[0]].astype(np.float64) - real[path[1]]) ** 2).sum(axis=1))
    return path, distance, gap, random_median


def _quiet(np, energy):
    """Frames quieter than 30% of the way (in log energy) from the 10th to the 90th percentile."""
    floor, loud = np.quantile(energy, 0.1), np.quantile(energy, 0.9)
    return energy < floor + 0.3 * (loud - floor)


def _runs(np, mask):
    """(start, end) of each run of True in mask."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.view(np.int8), [0]])))
    return zip(edges[::2].tolist(), edges[1::2].tolist())


def _pauses(np, energy, sentences):
    """
    Reference frames where real audio may be skipped: all between sentences, and quiet runs of
    at least REFERENCE_PAUSE inside them (commas); not the brief quiet of a stop consonant,
    which would let a sentence's first sounds drift into the noise of the pause before it.
    """
    quiet = _quiet(np, energy)
    pauses = np.zeros(len(energy), dtype=bool)
    minimum = round(REFERENCE_PAUSE / FRAME)
    for start, end in _runs(np, quiet):
        if end - start >= minimum:
            pauses[start:end] = True
    rows = len(energy)
    edge = 0
    for start, end in sentences:
        if end > start:
            pauses[edge:_frame_of(start + LEAD, rows)] = True
            edge = _frame_of(end + LEAD, rows) + 1
    pauses[edge:] = True
    return pauses


def _onsets(np, quiet):
    """(frames, pause lengths in frames): where sound starts after at least MIN_PAUSE of quiet."""
    minimum = max(1, round(MIN_PAUSE / FRAME))
    frames, lengths = [], []
    for start, end in _runs(np, quiet):
        if end - start >= minimum and end < len(quiet):
            frames.append(end)
            lengths.append(end - start)
    return np.array(frames, dtype=np.int64), np.array(lengths, dtype=np.int64)


def _snap(np, start, onsets):
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


# --- From the path to timings ---------------------------------------------------------------


def _skipped(np, path_i, path_j, distance, gap, quiet):
    """
    Segments (seconds) of real audio the path skipped (head, tail and long gap runs), unless
    mostly quiet: a long pause is not material left out of the script.
    """
    columns = len(quiet)
    skipped_frames = np.zeros(columns, dtype=bool)
    skipped_frames[:path_j[0]] = True
    skipped_frames[path_j[-1] + 1:] = True
    horizontal = np.zeros(len(path_i), dtype=bool)
    horizontal[1:] = path_i[1:] == path_i[:-1]
    gaps = horizontal & (distance > gap)
    skipped_frames[path_j[gaps]] = True
    # Close short holes (a frame or two that happened to match) before measuring runs.
    hole = round(0.5 / FRAME)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], skipped_frames.view(np.int8), [0]])))
    segments = []
    for start, end in zip(edges[::2], edges[1::2]):
        if segments and start - segments[-1][1] <= hole:
            segments[-1][1] = end
        else:
            segments.append([start, end])
    minimum = round(MIN_SKIP / FRAME)
    return [(round(float(frame_time(start)), 2), round(float(frame_time(end - 1)), 2)) for start, end in segments
            if end - start >= minimum and (~quiet[start:end]).sum() >= max(minimum, (end - start) / 2)]


def _entries(np, path_i, path_j, rows):
    """For each reference frame, the first and last real frame the path pairs it with."""
    order = np.arange(len(path_i))
    first_index = np.full(rows, len(path_i))
    np.minimum.at(first_index, path_i, order)
    last_index = np.full(rows, -1)
    np.maximum.at(last_index, path_i, order)
    return path_j[first_index], path_j[last_index]


def _onset_row(quiet, row, limit):
    """
    The first sounding reference frame from row on (at most limit). Audio skipped at a pause may
    sit on any of the quiet frames that open a sentence or word (a tie), so starts are carried
    through the first frame with sound, which the path cannot linger on cheaply.
    """
    while row < limit and quiet[row]:
        row += 1
    return row


def _frame_of(time, rows):
    return min(max(round((time - WINDOW / RATE / 2) / FRAME), 0), rows - 1)


def align(texts, audio_path, *, progress=None, voice="en-us") -> Alignment:
    """
    Time each of texts (sentences, in order) in the audio file. progress(fraction, stage) is
    called as work advances.
    """
    np = _numpy()

    def report(fraction, stage):
        if progress:
            progress(min(max(fraction, 0.0), 1.0), stage)

    if isinstance(texts, str) or not all(isinstance(text, str) for text in texts):
        raise AlignmentError("The script must be a list of sentences.")
    if not any(text.strip() for text in texts):
        raise AlignmentError("The script is empty: there is no sentence to align.")

    report(0.0, "Reading the audio")
    extractor = _Features(np, seed=2)
    samples = 0
    for block in _stream(audio_path, RATE):
        samples += len(block)
        extractor.feed(block)
    real, energy = extractor.result()
    duration = samples / RATE
    if len(real) < 10:
        raise AlignmentError(f"The audio is too short to align ({duration:.2f} s).")
    if float(np.quantile(energy, 0.99)) < math.log(WINDOW * 1e-4):
        # The loudest frames are about as quiet as the dither alone: nothing was recorded.
        raise AlignmentError("No speech found: the audio is silent.")

    report(0.15, "Narrating the script")
    try:
        reference = narration.synthesise([list(texts)], voice=voice)
    except narration.NarrationUnavailable as error:
        raise AlignmentError(f"The script cannot be narrated for alignment: {error}") from error
    except ValueError as error:
        raise AlignmentError(f"The script cannot be narrated for alignment: {error}") from error
    ref, ref_energy = _reference_features(np, reference)
    reference.samples = None  # the biggest thing held; only the timings are needed from here

    report(0.25, "Aligning")
    (path_i, path_j), distance, gap, random_median = _align_frames(
        np, ref, real, _pauses(np, ref_energy, reference.sentences), lambda fraction: report(0.25 + 0.7 * fraction, "Aligning"))

    report(0.95, "Timing sentences")
    rows = len(ref)
    horizontal = np.zeros(len(path_i), dtype=bool)
    horizontal[1:] = path_i[1:] == path_i[:-1]
    in_gap = horizontal & (distance > gap)
    first, last = _entries(np, path_i, path_j, rows)
    ref_quiet = _quiet(np, ref_energy)

    def carried(row, limit):
        onset = _onset_row(ref_quiet, row, min(limit, row + round(1 / FRAME)))
        return float(frame_time(first[onset]) - (onset - row) * FRAME)
    typical = float(np.median(distance[~in_gap])) if (~in_gap).any() else gap
    quiet = _quiet(np, energy)
    onsets = _onsets(np, quiet)
    overall_slope = max(len(real) - (path_j[0]) - in_gap.sum(), 1) / max(rows, 1)

    timings = []
    previous_start = 0.0
    for index, text in enumerate(texts):
        ref_start, ref_end = (time + LEAD for time in reference.sentences[index])
        if ref_end <= ref_start:  # a blank sentence: it takes no time
            timings.append(SentenceTiming(previous_start, previous_start, 0.0, []))
            continue
        start_row, end_row = _frame_of(ref_start, rows), max(_frame_of(ref_end, rows) - 1, 0)
        end_row = max(end_row, start_row)
        raw_start = carried(start_row, end_row)
        end = float(frame_time(last[end_row]) + FRAME)
        start = max(_snap(np, raw_start, onsets), previous_start)
        end = max(end, start)
        # Confidence: local cost against the typical and random cost, slope, share skipped.
        cells = (path_i >= start_row) & (path_i <= end_row)
        local = float(np.mean(distance[cells & ~in_gap])) if (cells & ~in_gap).any() else random_median
        cost_score = (random_median - local) / max(random_median - typical, 1e-6)
        slope = ((last[end_row] - first[start_row] + 1) / max(end_row - start_row + 1, 1)) / overall_slope
        slope_score = 1.0 if 0.6 <= slope <= 1.7 else max(0.0, 1 - abs(math.log(slope / (1.7 if slope > 1 else 0.6))))
        gap_share = float(in_gap[cells].mean()) if cells.any() else 1.0
        confidence = round(min(max(cost_score, 0.0), 1.0) * slope_score * (1 - gap_share), 3)
        words = []
        if confidence >= WORD_CONFIDENCE:
            word_starts = []
            for char_start, char_end, t_start, _t_end in reference.words[index]:
                row = _frame_of(t_start + LEAD, rows)
                word_starts.append([char_start, char_end, carried(row, end_row)])
            if word_starts:
                word_starts[0][2] = start
                floor = start
                for word in word_starts:
                    word[2] = min(max(word[2], floor), end)
                    floor = word[2]
                for number, word in enumerate(word_starts):
                    word_end = word_starts[number + 1][2] if number + 1 < len(word_starts) else end
                    words.append([word[0], word[1], round(word[2], 3), round(word_end, 3)])
        timings.append(SentenceTiming(round(start, 3), round(end, 3), confidence, words))
        previous_start = start
    skipped = _skipped(np, path_i, path_j, distance, gap, quiet)
    report(1.0, "Done")
    return Alignment(sentences=timings, skipped=skipped, duration=round(duration, 3))

"""
Audio for alignment.engine.align: any file libsndfile reads (WAV, FLAC, Ogg Vorbis/Opus, MP3),
streamed as mono at 16 kHz, and its speech features (MFCCs and log energy per 10 ms frame),
all in numpy and in pieces, so that an hour of audio never sits in memory at its own rate.
"""

import math
from pathlib import Path

import numpy as np

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
SUPPORTED = "WAV, FLAC, Ogg (Vorbis or Opus) and MP3"


class AlignmentError(Exception):
    """A message an editor can act on: unreadable/unsupported audio, no speech found, empty script..."""


def _soundfile():
    try:
        import soundfile
    except (ImportError, OSError) as error:
        raise AlignmentError(f"soundfile (libsndfile) cannot be loaded: {error}.") from error
    return soundfile


class Resampler:
    """
    Streaming band-limited resampling: blocks of about a second, each resampled by FFT with a
    margin on both sides that is thrown away (so the FFT's wrap-around never reaches the output).
    """

    def __init__(self, rate_in, rate_out):
        divisor = math.gcd(rate_in, rate_out)
        self.step_in, self.step_out = rate_in // divisor, rate_out // divisor
        self.block = self.step_in * max(1, math.ceil(rate_in / self.step_in))
        self.margin = self.step_in * max(1, math.ceil(0.05 * rate_in / self.step_in))
        self.passthrough = rate_in == rate_out
        self.buffer = np.zeros(self.margin, dtype=np.float64)  # the first block's left margin
        self.received = 0
        self.sent = 0

    def _convert(self, segment):
        n_in = len(segment)
        n_out = n_in * self.step_out // self.step_in
        spectrum = np.fft.rfft(segment)
        resized = np.zeros(n_out // 2 + 1, dtype=spectrum.dtype)
        keep = min(len(spectrum), len(resized))
        resized[:keep] = spectrum[:keep]
        return np.fft.irfft(resized, n_out) * (n_out / n_in)

    def feed(self, samples):
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


def stream(path, rate, seconds=30):
    """Yield the audio as mono float32 blocks at rate (the last call flushes the resampler)."""
    soundfile = _soundfile()
    handle = _open(path)
    name = Path(path).name
    got = 0
    with handle:
        resampler = Resampler(handle.samplerate, rate)
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
    pieces = list(stream(path, rate))
    return np.concatenate(pieces).astype(np.float32, copy=False), rate


def _mel_matrix():
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


def _dct_matrix():
    n = np.arange(MEL_BANDS)
    k = np.arange(COEFFICIENTS)[:, None]
    return (np.cos(np.pi * k * (2 * n + 1) / (2 * MEL_BANDS)) * math.sqrt(2 / MEL_BANDS)).T


class Features:
    """MFCCs and log energy per 10 ms frame, computed as audio streams in."""

    def __init__(self, seed=0):
        self.window = np.hanning(WINDOW).astype(np.float32)
        self.mel = _mel_matrix().astype(np.float32)
        self.dct = _dct_matrix().astype(np.float32)
        self.random = np.random.default_rng(seed)
        self.buffer = np.zeros(0, dtype=np.float32)
        self.mfcc, self.energy = [], []

    def feed(self, samples):
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
        if not self.mfcc:
            return np.zeros((0, COEFFICIENTS), dtype=np.float32), np.zeros(0, dtype=np.float32)
        mfcc = np.concatenate(self.mfcc)
        energy = np.concatenate(self.energy)
        mfcc -= mfcc.mean(axis=0)
        mfcc /= mfcc.std(axis=0) + 1e-6
        return mfcc, energy


def features(samples):
    """(normalised MFCCs, log energy) of mono float32 samples at RATE."""
    extractor = Features()
    for start in range(0, len(samples), 60 * RATE):
        extractor.feed(samples[start:start + 60 * RATE])
    return extractor.result()


def frame_time(frame):
    """The time (seconds) a feature frame stands for: its window's centre."""
    return frame * FRAME + WINDOW / RATE / 2


def quiet_frames(energy):
    """Frames quieter than 30% of the way (in log energy) from the 10th to the 90th percentile."""
    floor, loud = np.quantile(energy, 0.1), np.quantile(energy, 0.9)
    return energy < floor + 0.3 * (loud - floor)


def runs(mask):
    """(start, end) of each run of True in mask."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.view(np.int8), [0]])))
    return zip(edges[::2].tolist(), edges[1::2].tolist())

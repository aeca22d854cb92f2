"""Aligning a script to a recording: timings against known truth, skipped material, bad input, audio formats."""

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest
import soundfile

from alignment.engine import align as alignment

from alignment.engine import narration
from alignment.engine.align import Alignment, AlignmentError, SentenceTiming, align, read_audio
from alignment.engine.dtw import warp

SENTENCES = [
    "In the summer of 1937 the purges reached the Red Army.",
    "Marshal Tukhachevsky was arrested in May and shot within weeks.",
    "Hundreds of senior officers followed him, accused of plotting with Germany.",
    "Commanders who survived learned to wait for orders from Moscow.",
    "Four years later that caution would cost the Soviet Union dearly.",
    "The army that met the invasion had lost much of its experience.",
]
RATE = 22050
INTRO = 6.0  # seconds of tone before the first sentence
NOISE = 6.0  # seconds of loud noise inserted before the fourth sentence
TOLERANCE = 0.3  # seconds


def tone(seconds):
    """Two alternating chords: steady, loud and nothing like speech."""
    t = np.arange(int(seconds * RATE)) / RATE
    low = sum(np.sin(2 * np.pi * f * t) for f in (220, 277, 330))
    high = sum(np.sin(2 * np.pi * f * t) for f in (294, 370, 440))
    switch = (t * 2).astype(int) % 2 == 0
    return (0.1 * np.where(switch, low, high)).astype(np.float32)


WRONG = ["Bananas grow in bunches on tall green plants in the tropics.",
         "A recipe for bread needs flour, water, salt and yeast."]
UNREAD = "Stalin's secretary typed the lists late into the night in a small office."


@pytest.fixture(scope="module")
def narrated(tmp_path_factory):
    """
    Everything these tests narrate and align, done once in a new interpreter, in a fixed order.

    eSpeak NG carries state from one utterance to the next that no call resets (its
    pitch flutter runs on), so a narration, and an alignment against one, shifts a
    little with whatever the process narrated before; pytest-django runs the database
    tests, some of which narrate, first. That shift is enough to move one sentence's
    confidence across the threshold (0.35 against 0.5), so these figures are a fresh
    process's, the same in any test order.
    """
    directory = tmp_path_factory.mktemp("alignment")
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(narrate_and_align, directory).result()


def narrate_and_align(directory):
    recording = make_recording(directory)
    path = recording[0]
    calls = []
    aligned = align(SENTENCES, path, progress=lambda fraction, stage: calls.append((fraction, stage)))
    return {
        "recording": recording,
        "aligned": (aligned, calls),
        "wrong": align(WRONG, path),
        "unread": align(SENTENCES[:2] + [UNREAD] + SENTENCES[2:], path),
        "blank": align(SENTENCES[:2] + ["  "] + SENTENCES[2:], path),
    }


@pytest.fixture(scope="module")
def recording(narrated):
    return narrated["recording"]


def make_recording(directory):
    """
    SENTENCES read by another voice and rate than the aligner's reference (en-us, 170 wpm),
    with uneven pauses, a tone intro, a burst of noise before the fourth sentence and a little
    background hiss. Returns (path, true sentence starts, true word starts, noise span).
    """
    random = np.random.default_rng(8)
    spoken = narration.synthesise([SENTENCES], voice="en", words_per_minute=150,
                                  sentence_pause=0, paragraph_pause=0)
    samples = spoken.samples.astype(np.float32) / 32768
    pieces, starts, words = [tone(INTRO)], [], []
    position = len(pieces[0])
    noise_span = None
    for number, ((start, end), timings) in enumerate(zip(spoken.sentences, spoken.words)):
        pause = np.zeros(int(random.uniform(0.3, 1.5) * RATE), dtype=np.float32)
        pieces.append(pause)
        position += len(pause)
        if number == 3:
            burst = random.normal(0, 0.2, int(NOISE * RATE)).astype(np.float32)
            noise_span = (position / RATE, (position + len(burst)) / RATE)
            pieces += [burst, np.zeros(int(0.5 * RATE), dtype=np.float32)]
            position += len(burst) + int(0.5 * RATE)
        offset = position / RATE - start
        starts.append(start + offset + narration.EDGE_PAD)  # where the sound itself begins
        words.append([t_start + offset for _, _, t_start, _ in timings])
        piece = samples[round(start * RATE):round(end * RATE)]
        pieces.append(piece)
        position += len(piece)
    pieces.append(np.zeros(RATE, dtype=np.float32))
    audio = np.concatenate(pieces)
    audio += random.normal(0, 0.003, len(audio)).astype(np.float32)
    path = directory / "narration.flac"
    soundfile.write(path, audio, RATE)
    return path, starts, words, noise_span


@pytest.fixture(scope="module")
def aligned(narrated):
    return narrated["aligned"]


def test_sentence_starts_land_near_the_truth(recording, aligned):
    """Every sentence starts within TOLERANCE of where the other voice starts it."""
    result, _ = aligned
    _, starts, _, _ = recording
    assert len(result.sentences) == len(SENTENCES)
    errors = [abs(timing.start - truth) for timing, truth in zip(result.sentences, starts)]
    assert max(errors) <= TOLERANCE, errors


def test_sentences_are_ordered_and_end_after_they_start(aligned):
    """Timings run forward through the audio and stay inside it."""
    result, _ = aligned
    for before, after in zip(result.sentences, result.sentences[1:]):
        assert before.start <= before.end <= after.start + TOLERANCE
    assert 0 <= result.sentences[0].start and result.sentences[-1].end <= result.duration


def test_word_starts_land_near_the_truth(recording, aligned):
    """Words are timed where the evidence is good, most of them within a few hundredths."""
    result, _ = aligned
    _, _, words, _ = recording
    errors = []
    for timing, sentence, truth in zip(result.sentences, SENTENCES, words):
        assert timing.words, "a confident sentence has its words"
        assert len(timing.words) == len(truth)
        for (char_start, char_end, start, end), true_start in zip(timing.words, truth):
            assert sentence[char_start:char_end].strip() and start <= end
            errors.append(abs(start - true_start))
    assert np.median(errors) <= 0.1 and np.quantile(errors, 0.9) <= 0.3


def test_the_tone_intro_is_skipped(aligned):
    """The intro is reported as audio matched to no text, and no sentence starts in it."""
    result, _ = aligned
    start, end = result.skipped[0]
    assert start <= 0.5 and end >= INTRO - 0.5
    assert result.sentences[0].start >= INTRO


def test_a_mid_roll_burst_of_noise_is_skipped(recording, aligned):
    """Noise between two sentences is skipped, not smeared over the sentences beside it."""
    _, starts, _, (noise_start, noise_end) = recording
    result, _ = aligned
    covering = [(a, b) for a, b in result.skipped if a <= noise_start + 0.5 and b >= noise_end - 0.5]
    assert covering, result.skipped
    assert len(result.skipped) == 2  # the intro and the noise; the pauses are not "skipped"
    assert abs(result.sentences[3].start - starts[3]) <= TOLERANCE
    assert result.sentences[2].end <= noise_start + TOLERANCE


def test_confidence_is_high_for_a_faithful_reading_except_beside_skipped_audio(aligned):
    """
    Only the sentences beside a skipped stretch are listed for review (the first, after the
    intro; the fourth, after the noise): that is where a sentence goes when the aligner
    mistakes unscripted audio for it. They keep their word timings.
    """
    result, _ = aligned
    assert all(0 <= timing.confidence <= 1 for timing in result.sentences)
    assert result.low_confidence() == [0, 3]
    assert all(result.sentences[index].confidence == alignment.DOUBTFUL for index in (0, 3))
    assert all(timing.words for timing in result.sentences)


def test_progress_is_reported_up_to_done(aligned):
    _, calls = aligned
    fractions = [fraction for fraction, _ in calls]
    assert fractions == sorted(fractions) and fractions[0] == 0 and fractions[-1] == 1
    assert all(isinstance(stage, str) and stage for _, stage in calls)


def test_a_script_that_does_not_match_is_flagged(narrated):
    """Aligning the wrong text gives low confidence rather than a confident answer."""
    result = narrated["wrong"]
    assert result.low_confidence() == [0, 1]


def test_low_confidence_lists_indexes_under_the_threshold():
    result = Alignment(sentences=[SentenceTiming(0, 1, 0.9, []), SentenceTiming(1, 2, 0.3, []),
                                  SentenceTiming(2, 3, 0.6, [])], skipped=[], duration=3)
    assert result.low_confidence() == [1]
    assert result.low_confidence(threshold=0.7) == [1, 2]


@pytest.mark.parametrize("texts", [[], [""], ["  ", "\n"]])
def test_an_empty_script_is_refused(tmp_path, texts):
    path = tmp_path / "a.wav"
    soundfile.write(path, np.zeros(RATE, dtype=np.float32), RATE)
    with pytest.raises(AlignmentError, match="script is empty"):
        align(texts, path)


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(AlignmentError, match="does not exist"):
        align(SENTENCES, tmp_path / "nowhere.mp3")


def test_an_empty_file_is_refused(tmp_path):
    path = tmp_path / "empty.mp3"
    path.write_bytes(b"")
    with pytest.raises(AlignmentError, match="is empty"):
        read_audio(path)


@pytest.mark.parametrize("name, content", [
    ("notes.wav", "These are my notes, not audio.\n" * 20),
    ("random.mp3", bytes(np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8)).decode("latin-1")),
])
def test_a_file_that_is_not_audio_is_refused(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content, encoding="latin-1")
    with pytest.raises(AlignmentError, match="supported formats are WAV, FLAC, Ogg"):
        align(SENTENCES, path)


def test_silence_has_no_speech(tmp_path):
    path = tmp_path / "silence.wav"
    soundfile.write(path, np.zeros(5 * RATE, dtype=np.float32), RATE)
    with pytest.raises(AlignmentError, match="No speech found"):
        align(SENTENCES, path)


def sine(rate, seconds=2.0, frequency=440.0, channels=1):
    t = np.arange(int(rate * seconds)) / rate
    wave = (0.5 * np.sin(2 * np.pi * frequency * t)).astype(np.float32)
    return np.stack([wave] * channels, axis=1) if channels > 1 else wave


FORMATS = [("wav", "WAV", "PCM_16"), ("flac", "FLAC", "PCM_16"), ("ogg", "OGG", "VORBIS"),
           ("opus", "OGG", "OPUS")]
if "MP3" in soundfile.available_formats():
    FORMATS.append(("mp3", "MP3", "MPEG_LAYER_III"))


@pytest.mark.parametrize("extension, format, subtype", FORMATS)
def test_read_audio_reads_each_format_as_mono_16_khz(tmp_path, extension, format, subtype):
    """Stereo 48 kHz in, mono 16 kHz out, same length and pitch."""
    path = tmp_path / f"tone.{extension}"
    soundfile.write(path, sine(48000, channels=2), 48000, format=format, subtype=subtype)
    samples, rate = read_audio(path)
    assert rate == 16000 and samples.dtype == np.float32 and samples.ndim == 1
    assert abs(len(samples) - 2 * rate) <= 0.1 * rate  # lossy codecs pad a little
    spectrum = np.abs(np.fft.rfft(samples[rate // 4:rate // 4 + rate]))
    assert np.argmax(spectrum) == pytest.approx(440, abs=2)  # 1 s window: bins are 1 Hz apart
    middle = samples[rate // 2:rate]
    assert 0.3 < np.sqrt(np.mean(middle ** 2)) < 0.42  # 0.5 / sqrt(2), give or take the codec


@pytest.mark.parametrize("rate_in", [8000, 16000, 22050, 44100])
def test_resampling_keeps_length_and_pitch(tmp_path, rate_in):
    path = tmp_path / "tone.wav"
    soundfile.write(path, sine(rate_in, seconds=3.3, frequency=300), rate_in)
    samples, rate = read_audio(path)
    assert len(samples) == round(3.3 * rate_in) * 16000 // rate_in or abs(len(samples) - 3.3 * 16000) <= 1
    spectrum = np.abs(np.fft.rfft(samples[:rate]))
    assert np.argmax(spectrum) == 300
    assert np.abs(samples[100:-100]).max() == pytest.approx(0.5, abs=0.02)


def test_the_engine_failing_becomes_an_alignment_error(tmp_path, monkeypatch, recording):
    def unavailable(*args, **kwargs):
        raise narration.NarrationUnavailable("eSpeak NG's library could not be loaded.")

    monkeypatch.setattr(alignment.narration, "synthesise", unavailable)
    with pytest.raises(AlignmentError, match="cannot be narrated.*could not be loaded"):
        align(SENTENCES, recording[0])


def test_a_sentence_that_was_not_read_is_flagged_without_disturbing_the_others(recording, narrated):
    """
    A sentence cut in the studio gets no confidence; its neighbours keep their times (the first
    and the one after the noise are listed as beside skipped audio).
    """
    _, starts, _, _ = recording
    result = narrated["unread"]
    assert result.low_confidence() == [0, 2, 4]
    assert result.sentences[2].confidence < alignment.DOUBTFUL
    assert result.sentences[2].words == []
    kept = result.sentences[:2] + result.sentences[3:]
    assert max(abs(timing.start - truth) for timing, truth in zip(kept, starts)) <= TOLERANCE


def test_warping_skips_unmatched_frames_at_a_pause_only():
    """
    The warping itself, on made-up features: the real sequence is the reference played 20%
    slower with 300 frames of something else inserted at the reference's pause; the path
    passes over them and keeps the rest in step.
    """
    random = np.random.default_rng(3)
    ref = random.normal(size=(600, 13)).astype(np.float32)
    ref[290:310] = 0  # a pause
    pauses = np.zeros(600, dtype=bool)
    pauses[290:310] = True
    slower = np.repeat(ref, 6, axis=0)[::5]  # 720 frames
    inserted = random.normal(size=(300, 13)).astype(np.float32) * 2
    real = np.concatenate([slower[:360], inserted, slower[360:]])
    real_pauses = np.zeros(len(real), dtype=bool)
    (rows, columns), _, _, _ = warp(ref, real, pauses, real_pauses, None)
    inside = (columns >= 370) & (columns < 650)
    assert set(rows[inside]) <= set(range(290, 310))  # the inserted frames sit on the pause
    for row in (100, 200, 400, 500):
        expected = row * 1.2 + (300 if row > 300 else 0)
        assert abs(columns[rows == row].min() - expected) <= 3


def test_a_blank_sentence_takes_no_time_and_leaves_the_others_alone(recording, narrated):
    _, starts, _, _ = recording
    result = narrated["blank"]
    blank = result.sentences[2]
    assert blank.start == blank.end == result.sentences[1].end and blank.words == []
    kept = result.sentences[:2] + result.sentences[3:]
    assert max(abs(timing.start - truth) for timing, truth in zip(kept, starts)) <= TOLERANCE
    assert all(timing.end > timing.start for timing in kept)

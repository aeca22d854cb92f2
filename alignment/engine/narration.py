"""
Synthetic narration of a transcript, with exact word timings.

eSpeak NG (the shared library and voice data shipped in the ``espeakng-loader``
wheel) is driven through ``ctypes`` in synchronous mode: each call to
``espeak_Synth`` returns once all of its audio (22,050 Hz, 16-bit mono) and
events have gone through our callback. Word events carry the word's
position in the input (1-based, in characters — code points — of the UTF-8
text, as eSpeak decodes it) and the audio position in the output.

Sentences are synthesised one at a time, so their boundaries in the audio are
exact; silence is trimmed from both ends of each, and the given pauses are put
between them. Word timings come from the word events, mapped back onto the
words of the Python string (eSpeak's reported word *lengths* are unreliable
around ’ and “ ”, and a number such as 1937 yields several events, so only the
start positions are used).

The library has global state and is not thread-safe: it is initialised once
per process (lazily) and every synthesis holds a module-level lock.
"""

import ctypes
import hashlib
import json
import os
import re
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

#: Bump whenever a change here changes the audio or timings produced for the same input.
NARRATION_VERSION = 1

# speak_lib.h
AUDIO_OUTPUT_SYNCHRONOUS = 2
espeakINITIALIZE_DONT_EXIT = 0x8000
espeakCHARS_UTF8 = 1
POS_CHARACTER = 1
espeakRATE = 1
EE_OK = 0
espeakEVENT_LIST_TERMINATED = 0
espeakEVENT_WORD = 1
espeakEVENT_MSG_TERMINATED = 6
espeakEVENT_SAMPLERATE = 8
RATE_MINIMUM, RATE_MAXIMUM = 80, 450

#: A word: letters/digits, with inner apostrophes, hyphens, dots or commas ("People’s", "1.6", "U.S").
WORD = re.compile(r"\w+(?:['’.,\-]\w+)*")
#: Samples at or below this magnitude count as silence when trimming a sentence's ends.
SILENCE_THRESHOLD = 64
#: LAME variable bit rate; 0.8 gives about 44 kbit/s for eSpeak's 22,050 Hz mono speech (the
#: default, 76 kbit/s, is twice the size for nothing; constant bit rate pads the duration).
MP3_BITRATE_MODE = "VARIABLE"
MP3_COMPRESSION_LEVEL = 0.8
#: Kept on each side of a sentence's audible part when trimming (seconds).
EDGE_PAD = 0.02


class NarrationUnavailable(Exception):
    """eSpeak NG (or soundfile) cannot be loaded here; message says why, for the page."""


class _EventId(ctypes.Union):
    _fields_ = [
        ("number", ctypes.c_int),
        ("name", ctypes.c_char_p),
        ("string", ctypes.c_char * 8),
    ]


class _Event(ctypes.Structure):
    """espeak_EVENT: ctypes aligns user_data and the union to 8 bytes on 64-bit (40 bytes in all)."""

    _fields_ = [
        ("type", ctypes.c_int),  # espeak_EVENT_TYPE (an enum: int)
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


_SynthCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                                  ctypes.POINTER(_Event))


@dataclass
class Narration:
    sample_rate: int
    samples: "numpy.ndarray"  # int16 mono  # noqa: F821
    sentences: list[tuple[float, float]] = field(default_factory=list)
    words: list[list[tuple[int, int, float, float]]] = field(default_factory=list)

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate


class _Engine:
    """The one eSpeak NG of this process; use only while holding _LOCK."""

    def __init__(self):
        try:
            import espeakng_loader
        except ImportError as error:
            raise NarrationUnavailable(f"the espeakng-loader package is not installed ({error}).") from error
        library_path = espeakng_loader.get_library_path()
        try:
            data_path = espeakng_loader.get_data_path()
        except RuntimeError as error:
            raise NarrationUnavailable(f"eSpeak NG's voice data is missing: {error}.") from error
        try:
            lib = ctypes.CDLL(library_path)
        except OSError as error:
            raise NarrationUnavailable(f"eSpeak NG's library could not be loaded from {library_path}: {error}.") from error
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = [_SynthCallback]
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                     ctypes.c_uint, ctypes.c_uint, ctypes.POINTER(ctypes.c_uint),
                                     ctypes.c_void_p]
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_TextToPhonemes.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_int, ctypes.c_int]
        lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
        # eSpeak looks for "<path>/espeak-ng-data", then "<path>" itself; DONT_EXIT keeps a
        # missing data folder from ending the process.
        sample_rate = lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, os.fsencode(data_path),
                                            espeakINITIALIZE_DONT_EXIT)
        if sample_rate <= 0:
            raise NarrationUnavailable(f"eSpeak NG failed to initialise (data at {data_path}).")
        self.lib = lib
        self.sample_rate = sample_rate
        self.data_path = data_path
        self.chunks = []
        self.events = []
        # Kept referenced for the life of the process: eSpeak holds the raw pointer.
        self.callback = _SynthCallback(self._on_synth)
        lib.espeak_SetSynthCallback(self.callback)
        self.voice = None
        self.rate = None

    def _on_synth(self, wav, count, events):
        if wav and count > 0:
            self.chunks.append(ctypes.string_at(wav, count * 2))
        if events:
            index = 0
            while (event := events[index]).type != espeakEVENT_LIST_TERMINATED:
                if event.type == espeakEVENT_WORD:
                    self.events.append((event.text_position, event.audio_position, event.sample))
                index += 1
                if event.type == espeakEVENT_MSG_TERMINATED:
                    break
        return 0

    def configure(self, voice, words_per_minute):
        if voice != self.voice:
            result = self.lib.espeak_SetVoiceByName(voice.encode())
            if result != EE_OK:
                self.voice = None
                raise NarrationUnavailable(
                    f"eSpeak NG has no voice {voice!r} (error {result}; voice data at {self.data_path}).")
            self.voice = voice
            self.rate = None  # a new voice resets the rate
        if words_per_minute != self.rate:
            result = self.lib.espeak_SetParameter(espeakRATE, int(words_per_minute), 0)
            if result != EE_OK:
                raise NarrationUnavailable(f"eSpeak NG refused a rate of {words_per_minute} words a minute.")
            self.rate = words_per_minute

    def phonemes(self, text):
        """eSpeak's phoneme names (ASCII mnemonics) for text, clause by clause."""
        data = ctypes.create_string_buffer(text.encode("utf-8") + b"\0")
        pointer = ctypes.c_void_p(ctypes.addressof(data))
        clauses = []
        while pointer.value:
            result = self.lib.espeak_TextToPhonemes(ctypes.byref(pointer), espeakCHARS_UTF8, 0)
            if result:
                clauses.append(result.decode("utf-8", "replace").strip())
        return " ".join(clauses)

    def speak(self, text):
        """Audio (bytes of int16) and word events (text_position, ms, sample) for one piece of text."""
        self.chunks, self.events = [], []
        data = text.encode("utf-8") + b"\0"
        result = self.lib.espeak_Synth(data, len(data), 0, POS_CHARACTER, 0, espeakCHARS_UTF8, None, None)
        chunks, events = self.chunks, self.events
        self.chunks, self.events = [], []
        if result != EE_OK:
            raise NarrationUnavailable(f"eSpeak NG failed to synthesise (error {result}).")
        return b"".join(chunks), events


_LOCK = threading.Lock()
_ENGINE = None
_ENGINE_ERROR = None


def _reset_lock_after_fork():
    global _LOCK
    _LOCK = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_lock_after_fork)


def _engine():
    """The process's eSpeak NG, initialised on first use; call with _LOCK held."""
    global _ENGINE, _ENGINE_ERROR
    if _ENGINE is None:
        if _ENGINE_ERROR is not None:
            raise NarrationUnavailable(_ENGINE_ERROR)
        try:
            _ENGINE = _Engine()
        except NarrationUnavailable as error:
            _ENGINE_ERROR = str(error)
            raise
    return _ENGINE


def _numpy():
    try:
        import numpy
    except ImportError as error:
        raise NarrationUnavailable(f"numpy is not installed ({error}).") from error
    return numpy


def _speakable(sentence):
    """The sentence as given to eSpeak: control characters become spaces, so positions still match."""
    return "".join(" " if ord(char) < 32 or char == "\x7f" else char for char in sentence)


def _validate(paragraphs):
    if isinstance(paragraphs, str) or not isinstance(paragraphs, (list, tuple)):
        raise ValueError("paragraphs must be a list of lists of sentences.")
    for paragraph in paragraphs:
        if isinstance(paragraph, str) or not isinstance(paragraph, (list, tuple)):
            raise ValueError("each paragraph must be a list of sentences.")
        for sentence in paragraph:
            if not isinstance(sentence, str):
                raise ValueError("each sentence must be a string.")
    if not any(sentence.strip() for paragraph in paragraphs for sentence in paragraph):
        raise ValueError("nothing to narrate: no sentence has any text.")


def phonemes(text, *, voice="en-us") -> str:
    """
    How eSpeak NG would pronounce text, as its ASCII phoneme names ("z'InoUvjEf"): the
    pronunciations alignment's acoustic model lacks for names (engine/refine.py).
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError("There is no text to pronounce.")
    with _LOCK:
        engine = _engine()
        engine.configure(voice, 170)
        return engine.phonemes(text)


def synthesise(paragraphs, *, voice="en-us", words_per_minute=170, sentence_pause=0.35,
               paragraph_pause=0.8) -> Narration:
    """
    Narrate paragraphs (lists of sentences), sentence by sentence.

    Narration.sentences[i] is the (start, end) in seconds of the i-th sentence (all paragraphs
    flattened, in order); Narration.words[i] lists that sentence's words as (char_start, char_end,
    t_start, t_end): sentence[char_start:char_end] is the word; a word ends where the next one
    starts, the last where the sentence's audio ends. A blank sentence gets (t, t) and no words.
    """
    _validate(paragraphs)
    if not RATE_MINIMUM <= words_per_minute <= RATE_MAXIMUM:
        raise ValueError(f"words_per_minute must be between {RATE_MINIMUM} and {RATE_MAXIMUM}.")
    if sentence_pause < 0 or paragraph_pause < 0:
        raise ValueError("pauses cannot be negative.")
    np = _numpy()
    with _LOCK:
        engine = _engine()
        engine.configure(voice, words_per_minute)
        rate = engine.sample_rate
        pieces = []  # int16 arrays, speech and silences
        position = 0  # samples so far
        sentences, words = [], []
        spoke_before = False
        for paragraph_index, paragraph in enumerate(paragraphs):
            first_in_paragraph = True
            for sentence in paragraph:
                if not sentence.strip():
                    sentences.append((position / rate, position / rate))
                    words.append([])
                    continue
                if spoke_before:
                    pause = paragraph_pause if first_in_paragraph else sentence_pause
                    gap = round(pause * rate)
                    pieces.append(np.zeros(gap, dtype=np.int16))
                    position += gap
                audio, events = engine.speak(_speakable(sentence))
                samples = np.frombuffer(audio, dtype=np.int16)
                head, tail = _audible_span(np, samples, rate)
                samples = samples[head:tail]
                start = position
                pieces.append(samples)
                position += len(samples)
                sentences.append((start / rate, position / rate))
                words.append(_word_timings(sentence, events, rate, head, len(samples), start))
                spoke_before = True
                first_in_paragraph = False
    audio = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int16)
    return Narration(sample_rate=rate, samples=audio, sentences=sentences, words=words)


def _audible_span(np, samples, rate):
    """(head, tail): the sentence's audio less the near-silence at both ends, with a short pad kept."""
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > SILENCE_THRESHOLD)
    if not len(loud):
        return 0, len(samples)
    pad = round(EDGE_PAD * rate)
    return max(0, int(loud[0]) - pad), min(len(samples), int(loud[-1]) + 1 + pad)


def _event_sample(audio_ms, sample, rate):
    """The event's sample index: eSpeak's own count when it agrees with the ms position, else from ms."""
    from_ms = audio_ms * rate / 1000
    if abs(sample - from_ms) <= rate / 500:  # within 2 ms
        return sample
    return round(from_ms)


def _word_timings(sentence, events, rate, head, length, offset):
    """Per word (char_start, char_end, t_start, t_end), times in seconds in the whole narration."""
    spans = [(match.start(), match.end()) for match in WORD.finditer(sentence)]
    if not spans:
        return []
    direct, near = {}, {}  # word → sample within the trimmed sentence
    for text_position, audio_ms, sample in events:
        word, inside = _word_at(spans, text_position - 1)  # eSpeak counts characters from 1
        if word is None:
            continue
        at = min(max(_event_sample(audio_ms, sample, rate) - head, 0), length)
        # The first event wins (a number such as 1937 gives one per spoken part); one inside
        # the word beats one on the punctuation before it ("& B", an opening quote).
        (direct if inside else near).setdefault(word, at)
    starts = [direct.get(number, near.get(number)) for number in range(len(spans))]
    floor = 0
    for number, start in enumerate(starts):  # out-of-order events are dropped, then filled in
        if start is not None:
            if start < floor:
                starts[number] = None
            else:
                floor = start
    _fill_gaps(spans, starts, length)
    timings = []
    for number, (char_start, char_end) in enumerate(spans):
        end = starts[number + 1] if number + 1 < len(spans) else length
        timings.append((char_start, char_end, (offset + starts[number]) / rate, (offset + end) / rate))
    return timings


def _word_at(spans, index):
    """(word, inside): the word holding character index, else the first one after it."""
    for number, (start, end) in enumerate(spans):
        if index < end:
            return number, index >= start
    return None, False


def _fill_gaps(spans, starts, length):
    """
    Words that no event reached get starts by sharing out, in proportion to characters, the time
    from the last word with a start (or the sentence's start) to the next one (or its end).
    """
    number = 0
    while number < len(spans):
        if starts[number] is not None:
            number += 1
            continue
        first = number
        while number < len(spans) and starts[number] is None:
            number += 1
        share_from = first - 1 if first > 0 else 0  # the word before shares the interval too
        begin = starts[first - 1] if first > 0 else 0
        end = starts[number] if number < len(spans) else length
        lengths = [spans[i][1] - spans[i][0] for i in range(share_from, number)]
        total = sum(lengths)
        for i in range(first, number):
            before = sum(lengths[:i - share_from])
            starts[i] = begin + round((end - begin) * before / total)


def write_mp3(narration, path) -> None:
    """Write the narration as MP3, atomically: a temporary file beside path, then os.replace."""
    try:
        import soundfile
    except (ImportError, OSError) as error:
        raise NarrationUnavailable(f"soundfile (libsndfile) cannot be loaded: {error}.") from error
    if "MP3" not in soundfile.available_formats():
        raise NarrationUnavailable(
            f"this libsndfile ({soundfile.__libsndfile_version__}) cannot write MP3; it needs 1.1.0 or later.")
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".mp3.tmp")
    os.close(handle)
    try:
        soundfile.write(temporary, narration.samples, narration.sample_rate, format="MP3",
                        subtype="MPEG_LAYER_III", bitrate_mode=MP3_BITRATE_MODE,
                        compression_level=MP3_COMPRESSION_LEVEL)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # mkstemp makes it 0600
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise


def text_hash(paragraphs, voice, words_per_minute) -> str:
    """A key for caching narrations by their input: sha256 of the text, voice, rate and NARRATION_VERSION."""
    payload = json.dumps(
        {"version": NARRATION_VERSION, "voice": voice, "words_per_minute": words_per_minute,
         "paragraphs": [list(paragraph) for paragraph in paragraphs]},
        ensure_ascii=False, separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()

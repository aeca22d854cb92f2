"""
Timed transcript formats: WebVTT, SubRip (SRT), and the Podcasting 2.0 JSON
and HTML transcripts.

Reading is split from checking. The parsers read what a player reads:
parse_vtt follows the WebVTT parsing algorithm, so it keeps the cues a
browser keeps and skips the ones a browser skips. validate_cues then applies
our own, stricter import rules. Every problem is a TimingFormatError whose
message is for the person who uploaded the file and names the line where
there is one.

Cue.text is the text as the file holds it (WebVTT: the raw payload with its
tags and entities); Cue.plain is the words a person hears. The writers take
Cue.text as plain text (our sentences) and escape it for the format.
"""

import html
import json
import math
import re
from collections import Counter
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import PurePath

MAX_TIMING_BYTES = 50 * 1024 * 1024

FORMAT_NAMES = (
    "WebVTT (.vtt), SubRip (.srt), Podcasting 2.0 JSON (.json) "
    "or a Podcasting 2.0 HTML transcript (.html, .htm)"
)

_TAG = re.compile(r"<[^>]*>")
_VOICE = re.compile(r"<v(?:\.[^\s>]*)?[ \t\n\f]+([^>]*)>")


def _plain(text):
    """Tags removed, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(_TAG.sub(" ", text)).split())


@dataclass(frozen=True)
class Cue:
    start: float  # seconds
    end: float
    text: str  # as the format holds it; WebVTT keeps its tags and entities
    identifier: str = ""
    speaker: str = ""
    line: int = 0  # where the cue's timing is, 1-based; 0 for JSON and HTML

    @property
    def plain(self):
        """The words only, for matching against our sentences."""
        return _plain(self.text)


class TimingFormatError(ValueError):
    """A timing file we cannot use; the message says why and where, for a person."""

    def __init__(self, message, line=None, *, source=""):
        self.message, self.line, self.source = message, line, source
        where = ", ".join(part for part in (source, f"line {line}" if line else "") if part)
        super().__init__(f"{where}: {message}" if where else message)


def format_timestamp(seconds, sep="."):
    """HH:MM:SS.mmm (SRT wants sep=","); hours grow past 99 if they must."""
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"A timestamp must be a time from the start, not {seconds!r}.")
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{sep}{millis:03d}"


def _normalise_newlines(text):
    return text.replace("\r\n", "\n").replace("\r", "\n")


# --- WebVTT -----------------------------------------------------------------
#
# The steps below follow "WebVTT file parsing" in the W3C WebVTT spec, which
# is what browsers implement; the conformance tests compare with Chromium.
# Style sheets and regions are read past but not kept: we only need cues.

_ASCII_WHITESPACE = " \t\n\f\r"  # not vertical tab: a browser rejects it
_DIGITS = re.compile(r"[0-9]*")
_MAX_TIMESTAMP_DIGITS = 18  # longer digit runs are nonsense, not a time


def _skip_whitespace(line, i):
    while i < len(line) and line[i] in _ASCII_WHITESPACE:
        i += 1
    return i


def _digits(line, i):
    match = _DIGITS.match(line, i)
    return match.group(), match.end()


def _vtt_timestamp(line, i):
    """(seconds, index after it), or None where a browser would give up."""
    if i >= len(line) or not "0" <= line[i] <= "9":
        return None
    first, i = _digits(line, i)
    if len(first) > _MAX_TIMESTAMP_DIGITS:
        return None
    has_hours = len(first) != 2 or int(first) > 59
    if i >= len(line) or line[i] != ":":
        return None
    second, i = _digits(line, i + 1)
    if len(second) != 2:
        return None
    if has_hours or (i < len(line) and line[i] == ":"):
        if i >= len(line) or line[i] != ":":
            return None
        third, i = _digits(line, i + 1)
        if len(third) != 2:
            return None
        hours, minutes, seconds = int(first), int(second), int(third)
    else:
        hours, minutes, seconds = 0, int(first), int(second)
    if i >= len(line) or line[i] != ".":
        return None
    fraction, i = _digits(line, i + 1)
    if len(fraction) != 3 or minutes > 59 or seconds > 59:
        return None
    millis = ((hours * 60 + minutes) * 60 + seconds) * 1000 + int(fraction)
    return millis / 1000, i


def _vtt_timings(line):
    """(start, end) from a timing line, or None; cue settings are ignored."""
    found = _vtt_timestamp(line, _skip_whitespace(line, 0))
    if found is None:
        return None
    start, i = found
    i = _skip_whitespace(line, i)
    if line[i : i + 3] != "-->":
        return None
    found = _vtt_timestamp(line, _skip_whitespace(line, i + 3))
    if found is None:
        return None
    return start, found[0]


class _VttReader:
    """The spec's position-in-input parser, keeping line numbers for messages."""

    def __init__(self, text):
        self.text = text
        self.pos = 0
        self.lineno = 1

    def read_line(self):
        """The next line, and whether the input ended without a line feed after it."""
        end = self.text.find("\n", self.pos)
        if end == -1:
            line, self.pos = self.text[self.pos :], len(self.text)
            return line, True
        line, self.pos = self.text[self.pos : end], end + 1
        self.lineno += 1
        return line, False

    def skip_blank_lines(self):
        while self.pos < len(self.text) and self.text[self.pos] == "\n":
            self.pos += 1
            self.lineno += 1

    def cues(self):
        _, eof = self.read_line()  # the signature line, already checked
        if eof or self.pos >= len(self.text):
            return []
        cues = []
        if self.text[self.pos] != "\n":
            # The spec reads the lines under the signature as a header that
            # holds no cue. Chromium reads them as an ordinary block, so a
            # one-line "header" followed by timings is a cue's identifier
            # (header-space.vtt, header-tab.vtt); we do what the browser does.
            header = self.block()
            if header is not None:
                cues.append(header)
        else:
            self.pos += 1
            self.lineno += 1
        self.skip_blank_lines()
        while self.pos < len(self.text):
            cue = self.block()
            if cue is not None:
                cues.append(cue)
            self.skip_blank_lines()
        return cues

    def block(self):
        """One block: a cue, or something else (header, NOTE, STYLE, REGION, junk) → None."""
        line_count = 0
        previous = (self.pos, self.lineno)
        buffer = ""
        seen_arrow = False
        cue = None
        while True:
            lineno = self.lineno
            line, eof = self.read_line()
            line_count += 1
            if "-->" in line:
                if line_count == 1 or (line_count == 2 and not seen_arrow):
                    seen_arrow = True
                    previous = (self.pos, self.lineno)
                    timings = _vtt_timings(line)
                    if timings is None:
                        cue = None  # a browser drops the cue; so do we
                    else:
                        cue = (buffer, *timings, lineno)
                        buffer = ""
                else:
                    # A timing line starts the next block.
                    self.pos, self.lineno = previous
                    break
            elif not line:
                break
            else:
                if buffer:
                    buffer += "\n"
                buffer += line
                previous = (self.pos, self.lineno)
            if eof:
                break
        if cue is None:
            return None
        identifier, start, end, lineno = cue
        voice = _VOICE.search(buffer)
        speaker = " ".join(html.unescape(voice.group(1)).split()) if voice else ""
        return Cue(start, end, buffer, identifier=identifier, speaker=speaker, line=lineno)


def _signature_problem(text):
    """Why the first line is not a WebVTT signature, or "" when it is."""
    first = text.split("\n", 1)[0]
    if first == "WEBVTT" or (first.startswith("WEBVTT") and first[6] in " \t"):
        return ""
    if not text.strip():
        return "not a WebVTT file: it is empty; the first line must be 'WEBVTT'."
    hint = ""
    if text.lstrip().startswith("WEBVTT"):
        hint = " There are blank lines or spaces before it; remove them."
    elif first.strip().upper().startswith("WEBVTT"):
        hint = " It must be in capitals, followed by nothing, a space or a tab."
    return (
        "not a WebVTT file: the first line must be 'WEBVTT' (optionally followed by a "
        f"space or tab and a title), but it is {first[:60]!r}.{hint}"
    )


def parse_vtt(text):
    """The cues a browser would show, in file order, unvalidated (see validate_cues)."""
    text = _normalise_newlines(text.removeprefix("\ufeff").replace("\0", "\ufffd"))
    problem = _signature_problem(text)
    if problem:
        raise TimingFormatError(problem, line=1)
    return _VttReader(text).cues()


def _escape(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _text_lines(text):
    """The text's non-blank lines: a blank line would end the cue early."""
    return [line.strip() for line in _normalise_newlines(text).split("\n") if line.strip()]


def write_vtt(cues):
    """A WebVTT file, one cue per Cue; text is taken as plain text and escaped."""
    out = ["WEBVTT", ""]
    for cue in cues:
        identifier = cue.identifier
        if identifier.strip() and "-->" not in identifier and "\n" not in identifier:
            out.append(identifier)
        out.append(f"{format_timestamp(cue.start)} --> {format_timestamp(cue.end)}")
        lines = [_escape(line) for line in _text_lines(cue.text)]
        if cue.speaker:
            voice = f"<v {_escape(' '.join(cue.speaker.split()))}>"
            lines = [voice + (lines[0] if lines else ""), *lines[1:]]
        out.extend(lines)
        out.append("")
    return "\n".join(out)


# --- SubRip -----------------------------------------------------------------

_SRT_TIME = r"([0-9]+):([0-9]{1,2}):([0-9]{1,2})[,.]([0-9]{1,3})"
_SRT_TIMING = re.compile(rf"{_SRT_TIME}[ \t]*-->[ \t]*{_SRT_TIME}(?:[ \t].*)?")
_SRT_INDEX = re.compile(r"[0-9]+")
# "Travis: When you first get…": a speaker label at the start of a cue.
_SPEAKER_LABEL = re.compile(r"([^\W\d_][\w.'’-]*(?: [^\W\d_][\w.'’-]*){0,2}):[ \t]+(?=\S)")


def _srt_seconds(hours, minutes, seconds, fraction, lineno):
    if int(minutes) > 59 or int(seconds) > 59:
        raise TimingFormatError(
            "minutes and seconds in a timestamp must be below 60 "
            f"(found {hours}:{minutes}:{seconds},{fraction}).",
            lineno,
        )
    millis = int(fraction.ljust(3, "0"))  # ",5" is half a second
    return (((int(hours) * 60 + int(minutes)) * 60 + int(seconds)) * 1000 + millis) / 1000


def _speaker_label(line):
    match = _SPEAKER_LABEL.match(line)
    if match and all(word[0].isupper() for word in match.group(1).split()):
        return match.group(1), line[match.end() :]
    return "", line


def parse_srt(text):
    """SubRip cues, strictly: a broken cue number or timing line is an error naming the line.

    A cue number may be missing (the timing line then starts the cue). A first
    line such as "Travis: When you…" gives the cue's speaker once the file
    uses such labels (one of them starts two or more cues); in a file
    without them, a lone "Note: …" stays text.
    """
    lines = _normalise_newlines(text.removeprefix("\ufeff")).split("\n")
    blocks = []
    i = 0
    while i < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        first = lines[i].strip()
        identifier = ""
        if not _SRT_TIMING.fullmatch(first):
            if not _SRT_INDEX.fullmatch(first):
                raise TimingFormatError(
                    f"expected a cue number (such as 12) or a timing line, found {first[:60]!r}. "
                    "Is there a blank line inside a cue's text?",
                    i + 1,
                )
            identifier = first
            i += 1
        timing_line = lines[i].strip() if i < len(lines) else ""
        match = _SRT_TIMING.fullmatch(timing_line)
        if not match:
            found = f"found {timing_line[:60]!r}" if timing_line else "the cue ends there"
            raise TimingFormatError(
                "expected a timing line like '00:00:01,000 --> 00:00:04,000' after cue "
                f"number {identifier}, but {found}.",
                i + 1,
            )
        start = _srt_seconds(*match.groups()[:4], i + 1)
        end = _srt_seconds(*match.groups()[4:], i + 1)
        timing_lineno = i + 1
        i += 1
        text_lines = []
        while i < len(lines) and lines[i].strip():
            text_lines.append(lines[i].strip())
            i += 1
        blocks.append((start, end, text_lines, identifier, timing_lineno))

    labels = Counter(_speaker_label(b[2][0])[0] for b in blocks if b[2])
    labels.pop("", None)
    uses_labels = any(count >= 2 for count in labels.values())
    cues = []
    for start, end, text_lines, identifier, lineno in blocks:
        speaker = ""
        if text_lines and uses_labels:
            label, rest = _speaker_label(text_lines[0])
            if label:
                speaker, text_lines = label, [rest, *text_lines[1:]]
        cues.append(Cue(start, end, "\n".join(text_lines), identifier, speaker, lineno))
    return cues


def write_srt(cues):
    """A SubRip file numbered from 1; a speaker is written as a "Name: " label."""
    out = []
    for number, cue in enumerate(cues, start=1):
        out.append(str(number))
        start, end = format_timestamp(cue.start, ","), format_timestamp(cue.end, ",")
        out.append(f"{start} --> {end}")
        lines = _text_lines(cue.text)
        if cue.speaker:
            label = f"{' '.join(cue.speaker.split())}:"
            lines = [f"{label} {lines[0]}" if lines else label, *lines[1:]]
        out.extend(lines)
        out.append("")
    return "\n".join(out)


# --- Podcasting 2.0 JSON ----------------------------------------------------


def _json_time(segment, key, number):
    value = segment.get(key)
    if value is None:
        raise TimingFormatError(f"segment {number} has no {key}; every segment needs startTime and endTime.")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise TimingFormatError(
            f"segment {number}: {key} must be a number of seconds, not {json.dumps(value)[:40]}."
        )
    return float(value)


def parse_podcast_json(text):
    """Podcasting 2.0 JSON segments, in file order."""
    try:
        document = json.loads(text.removeprefix("\ufeff"))
    except json.JSONDecodeError as error:
        raise TimingFormatError(f"this is not valid JSON: {error.msg}.", error.lineno) from None
    except RecursionError:
        raise TimingFormatError("this JSON is nested too deeply to read.") from None
    if not isinstance(document, dict):
        raise TimingFormatError(
            'the JSON must be an object like {"version": "1.0.0", "segments": [...]}, '
            f"not {type(document).__name__ if document is not None else 'null'}."
        )
    segments = document.get("segments")
    if not isinstance(segments, list):
        raise TimingFormatError('the JSON has no "segments" list, so there are no timings in it.')
    cues = []
    for number, segment in enumerate(segments, start=1):
        if not isinstance(segment, dict):
            raise TimingFormatError(f"segment {number} is not an object with startTime, endTime and body.")
        start = _json_time(segment, "startTime", number)
        end = _json_time(segment, "endTime", number)
        body = segment.get("body", "")
        speaker = segment.get("speaker") or ""
        if not isinstance(body, str) or not isinstance(speaker, str):
            raise TimingFormatError(f"segment {number}: body and speaker must be text.")
        cues.append(Cue(start, end, body, speaker=speaker.strip()))
    return cues


def write_podcast_json(cues):
    """Podcasting 2.0 JSON, one segment per cue, times in seconds to the millisecond."""
    segments = []
    for cue in cues:
        segment = {"speaker": cue.speaker} if cue.speaker else {}
        segment.update(
            startTime=round(cue.start, 3),
            endTime=round(cue.end, 3),
            body="\n".join(_text_lines(cue.text)),
        )
        segments.append(segment)
    return json.dumps({"version": "1.0.0", "segments": segments}, ensure_ascii=False, indent=2) + "\n"


# --- Podcasting 2.0 HTML ----------------------------------------------------

_HTML_TIME = re.compile(r"(?:([0-9]+):)?([0-9]{1,2}):([0-9]{2})(?:[.,]([0-9]{1,3}))?|([0-9]+(?:\.[0-9]+)?)")


class _TranscriptHTML(HTMLParser):
    """<cite>Speaker:</cite> <time>0:53</time> <p>text</p>, repeated; all markup dropped."""

    SKIPPED = {"script", "style", "head", "title", "template", "noscript"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.segments = []  # [start, speaker, [texts]]
        self.speaker = ""
        self.start = None
        self.started_segment = False
        self.capture = None  # "cite", "time" or "p"
        self.captured = []
        self.capture_line = 0
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIPPED:
            self.skipping += 1
        elif tag in ("cite", "time", "p") and not self.skipping:
            self.finish_capture()
            self.capture, self.captured, self.capture_line = tag, [], self.getpos()[0]

    def handle_endtag(self, tag):
        if tag in self.SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        elif tag == self.capture and not self.skipping:
            self.finish_capture()

    def handle_data(self, data):
        if self.capture and not self.skipping:
            self.captured.append(data)

    def finish_capture(self):
        if not self.capture:
            return
        tag, text, line = self.capture, " ".join("".join(self.captured).split()), self.capture_line
        self.capture, self.captured = None, []
        if tag == "cite":
            self.speaker = text.removesuffix(":").strip()
        elif tag == "time":
            self.start = _html_seconds(text, line)
            self.segments.append([self.start, self.speaker, []])
        elif text:
            if not self.segments:
                raise TimingFormatError(
                    "this paragraph has no <time> before it, so there is no time to give it.", line
                )
            self.segments[-1][2].append(text)

    def close(self):
        super().close()
        self.finish_capture()


def _html_seconds(text, line):
    match = _HTML_TIME.fullmatch(text)
    if not match:
        raise TimingFormatError(
            f"cannot read the time {text[:40]!r}; expected minutes:seconds such as 1:42, "
            "or hours:minutes:seconds.",
            line,
        )
    hours, minutes, seconds, fraction, plain_seconds = match.groups()
    if plain_seconds is not None:
        return float(plain_seconds)
    if int(seconds) > 59 or (hours is not None and int(minutes) > 59):
        raise TimingFormatError(f"cannot read the time {text!r}: minutes and seconds go up to 59.", line)
    millis = int((fraction or "0").ljust(3, "0"))
    return (((int(hours or 0) * 60 + int(minutes)) * 60 + int(seconds)) * 1000 + millis) / 1000


def parse_podcast_html(text, *, last_end=None):
    """One cue per <time>, ending where the next begins.

    The format has no end times. The last cue ends at last_end when given (the
    episode's duration, say) and otherwise at its own start: we do not guess.
    The text is plain text: every tag is dropped and <script>/<style> contents
    with it, so nothing from the file can end up as markup.
    """
    parser = _TranscriptHTML()
    parser.feed(_normalise_newlines(text.removeprefix("\ufeff")))
    parser.close()
    segments = parser.segments
    cues = []
    for index, (start, speaker, texts) in enumerate(segments):
        if index + 1 < len(segments):
            end = segments[index + 1][0]
        else:
            end = max(start, last_end) if last_end is not None else start
        cues.append(Cue(start, end, " ".join(texts), speaker=speaker))
    return cues


# --- Reading a file ---------------------------------------------------------

_PARSERS = {
    "vtt": parse_vtt,
    "srt": parse_srt,
    "json": parse_podcast_json,
    "html": parse_podcast_html,
}
_EXTENSIONS = {".vtt": "vtt", ".srt": "srt", ".json": "json", ".html": "html", ".htm": "html"}
_SRT_START = re.compile(r"(?:[0-9]+[ \t]*\n)?[^\n]*-->")


def _sniff(text):
    """The format from the content, for files whose name does not say."""
    head = _normalise_newlines(text.lstrip()[:4096])
    if head.startswith("WEBVTT"):
        return "vtt"
    if head[:1] and head[:1] in "{[":
        return "json"
    if _SRT_START.match(head):
        return "srt"
    if head.startswith("<"):
        return "html"
    return None


def _decode(data, name):
    if len(data) > MAX_TIMING_BYTES:
        raise TimingFormatError(
            f"the file is {len(data):,} bytes; a timing file may be at most "
            f"{MAX_TIMING_BYTES // (1024 * 1024)} MB ({MAX_TIMING_BYTES:,} bytes).",
            source=name,
        )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise TimingFormatError("the file is UTF-16 text; save it as UTF-8 and try again.", source=name)
    if b"\x00" in data:
        raise TimingFormatError(
            "this looks like a binary file (it contains NUL bytes), not a timing file.", source=name
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = _normalise_newlines(data[: error.start].decode("utf-8", "replace")).count("\n") + 1
        raise TimingFormatError(
            f"the file is not UTF-8 text: byte {error.start:,} cannot be decoded. "
            "Save it as UTF-8 and try again.",
            line,
            source=name,
        ) from None
    if not text.strip():
        raise TimingFormatError("the file is empty.", source=name)
    return text


def read_timings(data, filename):
    """Decode a timing file and parse it by its extension, or by its content if that says nothing.

    Stricter than a browser about bytes: NUL bytes mean binary, and only UTF-8
    is read. Errors carry the file name. The cues are not yet validated.
    """
    name = PurePath(filename or "").name or "the file"
    text = _decode(data, name)
    kind = _EXTENSIONS.get(PurePath(filename or "").suffix.lower()) or _sniff(text)
    if kind is None:
        raise TimingFormatError(
            f"cannot tell what kind of timing file this is. Use {FORMAT_NAMES}.", source=name
        )
    try:
        return _PARSERS[kind](text)
    except TimingFormatError as error:
        raise TimingFormatError(error.message, error.line, source=name) from None


# --- Our import rules -------------------------------------------------------


def _where(cue, number):
    at = format_timestamp(cue.start) if math.isfinite(cue.start) and cue.start >= 0 else cue.start
    return f"line {cue.line} (cue at {at})" if cue.line else f"cue {number} (at {at})"


def validate_cues(cues):
    """Reject what a player shrugs at but an import must not take.

    A file with no cues, or only empty ones, is an error. Cues without text
    are skipped: they carry no words to place (players use them to clear the
    screen). Every other cue must have finite times from 0 on, must not end
    before it starts (ending as it starts is fine), and must start no earlier
    than the previous cue ends: out of order or overlapping is an error.
    """
    if not cues:
        raise TimingFormatError("the timing file has no cues.")
    previous = None
    spoken = 0
    for number, cue in enumerate(cues, start=1):
        if not cue.plain:
            continue
        spoken += 1
        if not (math.isfinite(cue.start) and math.isfinite(cue.end)) or cue.start < 0:
            raise TimingFormatError(
                f"{_where(cue, number)} has an impossible time: {cue.start!r} --> {cue.end!r}."
            )
        if cue.end < cue.start:
            raise TimingFormatError(
                f"{_where(cue, number)} runs backwards: it ends at {format_timestamp(cue.end)}, "
                f"before it starts at {format_timestamp(cue.start)}."
            )
        if previous is not None:
            prev_number, prev = previous
            if cue.start < prev.start:
                raise TimingFormatError(
                    f"{_where(cue, number)} is out of order: it starts before the previous cue, "
                    f"{_where(prev, prev_number)}. Cues must be in time order."
                )
            if cue.start < prev.end:
                raise TimingFormatError(
                    f"{_where(cue, number)} overlaps the previous cue, {_where(prev, prev_number)}, "
                    f"which ends at {format_timestamp(prev.end)}. Cues must not overlap."
                )
        previous = (number, cue)
    if not spoken:
        raise TimingFormatError("the timing file's cues are all empty: there is no text to place.")

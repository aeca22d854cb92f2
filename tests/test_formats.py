"""Timed transcript formats: browser conformance, the Podcasting 2.0 examples, bad files, round trips."""

import json
import re

import pytest

from episodes.timings.formats import (
    MAX_TIMING_BYTES,
    Cue,
    TimingFormatError,
    format_timestamp,
    parse_podcast_html,
    parse_podcast_json,
    parse_srt,
    parse_vtt,
    read_timings,
    validate_cues,
    write_podcast_json,
    write_srt,
    write_vtt,
)
from tests.testdata import PODCASTING2, WEBVTT_WPT

WPT_CASES = sorted(WEBVTT_WPT.glob("*.vtt"))


def test_the_conformance_cases_are_in_the_repository():
    """A clone with nothing beside it has every case (a missing folder fails, it never skips)."""
    assert len(WPT_CASES) >= 30
    assert {"example.srt", "example.html", "example.json", "example.vtt", "chapters-example.json",
            "example.xml", "podcast.xsd"} <= {path.name for path in PODCASTING2.iterdir()}


def words(text):
    return re.findall(r"\w+(?:'\w+)*", text.casefold())


# --- WebVTT conformance -----------------------------------------------------


@pytest.mark.parametrize("path", WPT_CASES, ids=lambda path: path.name)
def test_parse_vtt_yields_what_chromium_yields(path):
    expected = json.loads((WEBVTT_WPT / "expected-chromium.json").read_text(encoding="utf-8"))[path.name]
    text = path.read_bytes().decode("utf-8", errors="replace")  # as a browser decodes
    if expected["result"] != "load":
        with pytest.raises(TimingFormatError, match="not a WebVTT file"):
            parse_vtt(text)
        return
    cues = [
        {"id": cue.identifier, "startTime": cue.start, "endTime": cue.end, "text": cue.text}
        for cue in parse_vtt(text)
    ]
    assert cues == expected["cues"]


def test_every_wpt_file_has_an_expectation():
    expected = json.loads((WEBVTT_WPT / "expected-chromium.json").read_text(encoding="utf-8"))
    assert set(expected) == {path.name for path in WPT_CASES}


@pytest.mark.parametrize(
    "text, hint",
    [
        ("00:00:00.000 --> 00:00:01.000\nhello\n", "'00:00:00.000 --> 00:00:01.000'"),
        ("WEBVTTX\n\n00:00:00.000 --> 00:00:01.000\nhello\n", "'WEBVTTX'"),
        ("webvtt\n\n00:00:00.000 --> 00:00:01.000\nhello\n", "capitals"),
        ("\nWEBVTT\n\n00:00:00.000 --> 00:00:01.000\nhello\n", "blank lines or spaces before it"),
        ("WEBVT", "'WEBVT'"),
        ("", "empty"),
    ],
    ids=["no-header", "glued", "lowercase", "blank-line-first", "short", "empty"],
)
def test_missing_webvtt_header_is_refused_clearly(text, hint):
    with pytest.raises(TimingFormatError, match="not a WebVTT file") as caught:
        parse_vtt(text)
    assert hint in str(caught.value)
    assert caught.value.line == 1
    assert "line 1:" in str(caught.value)


def test_vtt_speaker_comes_from_the_voice_tag_and_plain_drops_markup():
    [cue] = parse_vtt("WEBVTT\n\n1\n00:01.500 --> 00:02.000 align:start\n<v.loud Sarah>Q&amp;A <i>now</i>\n")
    assert (cue.identifier, cue.start, cue.end, cue.line) == ("1", 1.5, 2.0, 4)
    assert cue.text == "<v.loud Sarah>Q&amp;A <i>now</i>"
    assert cue.speaker == "Sarah"
    assert cue.plain == "Q&A now"


def test_vtt_bad_timestamps_skip_the_cue_like_a_browser():
    text = "WEBVTT\n\n00:00:61.000 --> 00:00:62.000\nlost\n\n00:00:01.000 --> 00:00:02.000\nkept\n"
    assert [cue.plain for cue in parse_vtt(text)] == ["kept"]


def test_vtt_note_style_and_region_blocks_are_not_cues():
    text = (
        "WEBVTT\n\nREGION\nid:fred\n\nSTYLE\n::cue { color: red }\n\n"
        "NOTE a comment\nover two lines\n\n00:00.000 --> 00:01.000\ntext\n"
    )
    [cue] = parse_vtt(text)
    assert (cue.plain, cue.line) == ("text", 12)


# --- Podcasting 2.0 examples ------------------------------------------------
#
# The namespace's four example files are not all the same speech: example.srt
# and example.html are one episode (Travis, Sarah, Gilon), but example.vtt is
# a short Sarah/Gillian clip and example.json five words of Darth Vader. So the
# SRT and HTML are compared word for word; VTT and JSON are checked alone.
#
# Tolerance: the HTML gives one start per speaker turn, in whole seconds
# (0:53), while the SRT times phrases to the millisecond. What is comparable:
# the plain words, in order; the speakers, in order; and each turn's start,
# which must be within one second of the SRT cue where that turn begins.


def load(name):
    path = PODCASTING2 / name
    cues = read_timings(path.read_bytes(), name)
    validate_cues(cues)
    return cues


@pytest.mark.parametrize("name", ["example.vtt", "example.srt", "example.json", "example.html"])
def test_each_example_imports_in_order(name):
    cues = load(name)
    starts = [cue.start for cue in cues]
    assert starts == sorted(starts)
    assert all(cue.plain for cue in cues)
    assert all(0 <= cue.start <= cue.end for cue in cues)


def test_srt_and_html_examples_hold_the_same_words_in_the_same_order():
    srt, page = load("example.srt"), load("example.html")
    assert words(" ".join(c.plain for c in srt)) == words(" ".join(c.plain for c in page))
    assert len(words(" ".join(c.plain for c in page))) > 2000


def test_srt_and_html_examples_agree_on_speakers_and_turn_starts():
    srt, page = load("example.srt"), load("example.html")
    turns = [cue for cue in srt if cue.speaker]
    assert [c.speaker for c in turns] == [c.speaker for c in page]
    assert [c.speaker for c in page][:3] == ["Travis", "Sarah", "Travis"]
    for srt_turn, html_turn in zip(turns, page):
        assert abs(srt_turn.start - html_turn.start) <= 1.0, (srt_turn, html_turn.start)
    # Same overall span: both start at the top and the last turn starts alike.
    assert srt[0].start < 1 and page[0].start == 0
    assert page[-1].start <= srt[-1].start


def test_vtt_and_json_examples():
    vtt, segments = load("example.vtt"), load("example.json")
    assert [c.speaker for c in vtt] == ["Sarah"] * 5 + ["Gillian"] * 2
    assert "Welcome to Podcasting Q&A" in vtt[2].plain
    assert [c.plain for c in segments] == ["I", "am", "your", "father.", "Nooooo"]
    assert segments[0] == Cue(0.5, 0.75, "I", speaker="Darth Vader")


# --- Reading files: formats and bytes --------------------------------------

VTT = "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nHello there.\n"
SRT = "1\n00:00:00,000 --> 00:00:01,000\nHello there.\n"
JSON = '{"version": "1.0.0", "segments": [{"startTime": 0, "endTime": 1, "body": "Hello there."}]}'
HTML = "<cite>Ann:</cite>\n<time>0:00</time>\n<p>Hello there.</p>\n"


@pytest.mark.parametrize("content", [VTT, SRT, JSON, HTML], ids=["vtt", "srt", "json", "html"])
@pytest.mark.parametrize("filename", ["upload", "upload.txt"])
def test_format_is_sniffed_when_the_name_does_not_say(content, filename):
    [cue] = read_timings(content.encode(), filename)
    assert (cue.start, cue.plain) == (0.0, "Hello there.")


def test_unknown_format_lists_the_ones_we_read():
    with pytest.raises(TimingFormatError) as caught:
        read_timings(b"Just some words.\n", "notes.txt")
    message = str(caught.value)
    assert message.startswith("notes.txt: cannot tell")
    for name in ("WebVTT (.vtt)", "SubRip (.srt)", "JSON (.json)", "HTML"):
        assert name in message


def test_extension_wins_over_content():
    with pytest.raises(TimingFormatError, match="sub.vtt, line 1: not a WebVTT file"):
        read_timings(SRT.encode(), "sub.vtt")


def test_bom_is_fine():
    for content, name in ((VTT, "a.vtt"), (SRT, "a.srt"), (JSON, "a.json"), (HTML, "a.html")):
        [cue] = read_timings(b"\xef\xbb\xbf" + content.encode(), name)
        assert cue.plain == "Hello there."
    [cue] = read_timings(b"\xef\xbb\xbf" + VTT.encode(), "no-extension")
    assert cue.plain == "Hello there."


@pytest.mark.parametrize("newline", ["\r\n", "\r"], ids=["crlf", "cr"])
def test_crlf_and_cr_are_fine(newline):
    for content, name in ((VTT, "a.vtt"), (SRT, "a.srt"), (HTML, "a.html")):
        data = (content + "\n" + content.split("\n", 1)[1] if name == "a.html" else content)
        cues = read_timings(data.replace("\n", newline).encode(), name)
        assert cues[0].plain == "Hello there."
        assert cues[0].end in (0.0, 1.0)
    [cue] = read_timings("1\n00:00:02,000 --> 00:00:03,000\none\ntwo\n".replace("\n", newline).encode(), "a.srt")
    assert (cue.text, cue.line) == ("one\ntwo", 2)


def test_a_file_over_50_mb_is_refused():
    data = VTT.encode() + b"x" * MAX_TIMING_BYTES
    with pytest.raises(TimingFormatError, match="may be at most 50 MB") as caught:
        read_timings(data, "huge.vtt")
    assert str(caught.value).startswith("huge.vtt: the file is 52,428,8")


def test_latin_1_bytes_are_refused_naming_the_line():
    data = "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nCaf\u00e9 au lait\n".encode("latin-1")
    with pytest.raises(TimingFormatError, match=r"cafe.vtt, line 4: the file is not UTF-8 text"):
        read_timings(data, "cafe.vtt")


@pytest.mark.parametrize(
    "data, message",
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (b"ID3\x04\x00\x00\x00\x00\x00\x00\xff\xfb", "binary"),
        ("WEBVTT\n".encode("utf-16"), "UTF-16"),
    ],
    ids=["png", "mp3", "utf-16"],
)
def test_binary_data_is_refused(data, message):
    with pytest.raises(TimingFormatError, match=message):
        read_timings(data, "episode.vtt")


def test_an_empty_file_is_refused():
    with pytest.raises(TimingFormatError, match="empty"):
        read_timings(b" \n\n", "blank.srt")


# --- Our import rules -------------------------------------------------------


def test_backwards_cue_is_refused_naming_its_line():
    cues = parse_vtt("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nfine\n\n00:00:05.000 --> 00:00:04.000\nbackwards\n")
    assert len(cues) == 2  # a browser keeps it; we do not
    with pytest.raises(TimingFormatError, match=r"line 6 \(cue at 00:00:05.000\) runs backwards"):
        validate_cues(cues)


def test_overlapping_cue_is_refused_naming_its_line():
    cues = parse_srt("1\n00:00:01,000 --> 00:00:03,000\none\n\n2\n00:00:02,500 --> 00:00:04,000\ntwo\n")
    with pytest.raises(TimingFormatError, match=r"line 6 .* overlaps the previous cue, line 2 .* ends at 00:00:03.000"):
        validate_cues(cues)


def test_cues_out_of_order_are_refused():
    cues = [Cue(5.0, 6.0, "later"), Cue(1.0, 2.0, "earlier")]
    with pytest.raises(TimingFormatError, match=r"cue 2 \(at 00:00:01.000\) is out of order"):
        validate_cues(cues)


def test_touching_and_zero_length_cues_are_fine():
    validate_cues([Cue(0.0, 1.0, "a"), Cue(1.0, 1.0, "b"), Cue(1.0, 2.0, "c")])


def test_empty_cues_are_skipped_but_not_all_of_them():
    cues = parse_vtt("WEBVTT\n\n00:00:00.000 --> 00:00:09.000\n\n00:00:01.000 --> 00:00:02.000\ntext\n")
    assert [cue.text for cue in cues] == ["", "text"]
    validate_cues(cues)  # the empty one would overlap, but it holds no words
    with pytest.raises(TimingFormatError, match="all empty"):
        validate_cues(parse_srt("1\n00:00:00,000 --> 00:00:01,000\n\n2\n00:00:01,000 --> 00:00:02,000\n<i></i>\n"))
    with pytest.raises(TimingFormatError, match="no cues"):
        validate_cues([])


def test_a_vtt_without_cues_reads_but_does_not_validate():
    cues = read_timings(b"WEBVTT\n\nNOTE nothing timed here\n", "empty.vtt")
    assert cues == []
    with pytest.raises(TimingFormatError, match="no cues"):
        validate_cues(cues)


# --- SubRip -----------------------------------------------------------------


def test_srt_non_numeric_index_names_the_line():
    text = "1\n00:00:00,000 --> 00:00:01,000\none\n\nA\n00:00:01,000 --> 00:00:02,000\ntwo\n"
    with pytest.raises(TimingFormatError, match=r"line 5: expected a cue number .* found 'A'"):
        parse_srt(text)


@pytest.mark.parametrize(
    "timing",
    ["00:00:01,000 -> 00:00:02,000", "00:00:01,000 --> ", "00:00:01 --> 00:00:02", "00:00:01,000 - - > 00:00:02,000"],
)
def test_srt_broken_arrow_line_names_the_line(timing):
    with pytest.raises(TimingFormatError, match=r"line 2: expected a timing line like") as caught:
        parse_srt(f"7\n{timing}\ntext\n")
    assert "after cue number 7" in str(caught.value)


def test_srt_bad_timestamp_names_the_line():
    with pytest.raises(TimingFormatError, match=r"line 2: minutes and seconds .* below 60"):
        parse_srt("1\n00:00:75,000 --> 00:01:20,000\ntext\n")


def test_srt_missing_number_is_tolerated_and_a_lone_label_stays_text():
    cues = parse_srt("00:00:01,000 --> 00:00:02,000 X1:10 X2:20\nNote: this is text\n")
    assert cues == [Cue(1.0, 2.0, "Note: this is text", line=1)]


def test_srt_speaker_labels_count_once_the_file_uses_them():
    cues = parse_srt(
        "1\n00:00:01,000 --> 00:00:02,000\nAnn Lee: Hello.\n\n"
        "2\n00:00:02,000 --> 00:00:03,000\nBob: Hi.\n\n"
        "3\n00:00:03,000 --> 00:00:04,000\nAnn Lee: Bye: now.\n\n"
        "4\n00:00:04,000 --> 00:00:05,000\nthe end: really\n"
    )
    assert [(c.speaker, c.text) for c in cues] == [
        ("Ann Lee", "Hello."), ("Bob", "Hi."), ("Ann Lee", "Bye: now."), ("", "the end: really"),
    ]


# --- Podcasting 2.0 JSON ----------------------------------------------------


@pytest.mark.parametrize(
    "text, message",
    [
        ('[{"startTime": 0, "endTime": 1, "body": "x"}]', "must be an object"),
        ('"segments"', "must be an object"),
        ('{"version": "1.0.0"}', 'no "segments" list'),
        ('{"segments": {"startTime": 0}}', 'no "segments" list'),
        ('{"segments": [{"endTime": 1, "body": "x"}]}', "segment 1 has no startTime"),
        ('{"segments": [{"startTime": 0, "endTime": 1, "body": "x"}, {"startTime": 1, "body": "y"}]}',
         "segment 2 has no endTime"),
        ('{"segments": [{"startTime": "0:01", "endTime": 2, "body": "x"}]}', "must be a number of seconds"),
        ('{"segments": [{"startTime": NaN, "endTime": 2, "body": "x"}]}', "must be a number of seconds"),
        ('{"segments": [1, 2]}', "segment 1 is not an object"),
        ('{"segments": [{"startTime": 0, "endTime": 1, "body": ["x"]}]}', "must be text"),
    ],
)
def test_bad_podcast_json_is_refused_clearly(text, message):
    with pytest.raises(TimingFormatError, match=re.escape(message)):
        parse_podcast_json(text)


def test_json_syntax_error_names_the_line():
    with pytest.raises(TimingFormatError, match=r"line 3: this is not valid JSON"):
        read_timings(b'{\n  "segments": [\n    {"startTime": 0,, }\n  ]\n}', "t.json")


# --- Podcasting 2.0 HTML ----------------------------------------------------


def test_hostile_html_ends_up_as_plain_text():
    page = (
        "<html><head><title>x</title><script>alert('head')</script></head><body>\n"
        "<cite>Ann<img src=x onerror=alert(1)>:</cite>\n"
        "<time>0:05</time>\n"
        "<p>Hello <script>alert('xss')</script><b onclick=\"evil()\">bold</b> &lt;script&gt;"
        "<style>p{}</style> world<iframe src=\"javascript:alert(2)\"></iframe></p>\n"
        "<time>1:02:03.5</time><p>Later.</p></body></html>"
    )
    first, second = parse_podcast_html(page)
    assert first == Cue(5.0, 3723.5, "Hello bold <script> world", speaker="Ann")
    assert "alert" not in first.text and "onclick" not in first.text
    assert second == Cue(3723.5, 3723.5, "Later.", speaker="Ann")
    assert "&lt;script&gt;" in write_vtt([first]) and "<script>" not in write_vtt([first])


def test_html_last_cue_may_end_at_a_given_time():
    cues = parse_podcast_html("<time>0:00</time><p>One.</p><time>0:10</time><p>Two.</p>", last_end=25.0)
    assert [(c.start, c.end) for c in cues] == [(0.0, 10.0), (10.0, 25.0)]


@pytest.mark.parametrize("page, message", [
    ("<time>soon</time><p>x</p>", "line 1: cannot read the time 'soon'"),
    ("<p>Before any time.</p>", "line 1: this paragraph has no <time>"),
    ("<cite>A:</cite>\n\n<time>1:75</time><p>x</p>", "line 3: cannot read the time '1:75'"),
])
def test_bad_html_transcripts_name_the_line(page, message):
    with pytest.raises(TimingFormatError, match=re.escape(message)):
        parse_podcast_html(page)


# --- Writing and round trips ------------------------------------------------

CUES = [
    Cue(0.0, 1.5, "Welcome to Q&A <live>.", speaker="Sarah"),
    Cue(1.5, 4.0004, "Two lines\nof text --> here", identifier="second", speaker="Sarah"),
    Cue(4.25, 3605.1, "A long one.", speaker="Gillian Smith"),
    Cue(3605.1, 3606.0, "No speaker."),
]


def rounded(cues):
    return [(round(c.start, 3), round(c.end, 3), c.speaker) for c in cues]


def test_format_timestamp():
    assert format_timestamp(0) == "00:00:00.000"
    assert format_timestamp(3723.4567) == "01:02:03.457"
    assert format_timestamp(59.9996, ",") == "00:01:00,000"
    assert format_timestamp(360000) == "100:00:00.000"
    with pytest.raises(ValueError):
        format_timestamp(-1)


def test_write_vtt_escapes_and_names_speakers():
    text = write_vtt(CUES)
    assert text.startswith("WEBVTT\n\n00:00:00.000 --> 00:00:01.500\n<v Sarah>Welcome to Q&amp;A &lt;live&gt;.\n")
    assert "second\n00:00:01.500 --> 00:00:04.000\n<v Sarah>Two lines\nof text --&gt; here\n" in text
    assert "00:00:04.250 --> 01:00:05.100\n<v Gillian Smith>A long one.\n" in text


def test_vtt_round_trip():
    back = parse_vtt(write_vtt(CUES))
    assert rounded(back) == rounded(CUES)
    # The writers take Cue.text as plain text. Cue.text read from a VTT file is
    # its raw payload (tags, entities), so the text comes back as .plain.
    assert [c.plain for c in back] == [" ".join(c.text.split()) for c in CUES]
    assert [c.text.split("\n") for c in back][1] == ["<v Sarah>Two lines", "of text --&gt; here"]
    assert [c.identifier for c in back] == ["", "second", "", ""]


def test_srt_round_trip():
    back = parse_srt(write_srt(CUES))
    assert rounded(back) == rounded(CUES)
    assert [c.text for c in back] == [c.text for c in CUES]
    assert write_srt(CUES).startswith("1\n00:00:00,000 --> 00:00:01,500\nSarah: Welcome to Q&A <live>.\n\n2\n")


def test_json_round_trip():
    back = parse_podcast_json(write_podcast_json(CUES))
    assert rounded(back) == rounded(CUES)
    assert [c.text for c in back] == [c.text for c in CUES]
    assert json.loads(write_podcast_json(CUES))["version"] == "1.0.0"


def test_round_trip_through_read_timings_and_validation():
    for writer, name in ((write_vtt, "x.vtt"), (write_srt, "x.srt"), (write_podcast_json, "x.json")):
        back = read_timings(writer(CUES).encode(), name)
        validate_cues(back)
        got = [c.plain if name == "x.vtt" else " ".join(c.text.split()) for c in back]
        assert got == [" ".join(c.text.split()) for c in CUES]
        assert rounded(back) == rounded(CUES)

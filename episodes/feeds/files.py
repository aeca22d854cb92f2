"""
The files a feed points at: JSON chapters, and timed transcripts (WebVTT,
SRT, Podcasting 2.0 JSON) that give an episode its text and timings through
the project's own importers (episodes/timings/formats.py, episodes/transcripts.py,
episodes/timings/imports.py). Fetched before the import's transaction opens, spooled to
a temporary folder, read back while it writes.
"""

import json
import math
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from companion.fetch import FetchError
from episodes.feeds.parse import TIMED_TYPES, clean_url, clip
from episodes.timings.formats import read_timings, validate_cues
from episodes.transcripts import import_transcript
from episodes.timings.imports import import_timings

MAX_CHAPTERS_BYTES = 5 * 1024 * 1024
MAX_CHAPTERS = 2000
FETCH_WORKERS = 4
# Which timed transcript to try first when an item lists several.
TIMED_PREFERENCE = {"vtt": 0, "srt": 1, "json": 2}


def parse_chapters(data):
    """[[start, title, url, img], …] from a Podcasting 2.0 JSON chapters file, or a ValueError."""
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise ValueError(f"not a JSON chapters file ({error}).") from None
    chapters = document.get("chapters") if isinstance(document, dict) else None
    if not isinstance(chapters, list):
        raise ValueError('not a JSON chapters file: it has no "chapters" list.')
    rows, warnings = [], []
    for chapter in chapters[:MAX_CHAPTERS]:
        if not isinstance(chapter, dict) or chapter.get("toc") is False:
            continue
        start, title = chapter.get("startTime"), chapter.get("title")
        if isinstance(start, bool) or not isinstance(start, (int, float)):
            continue
        if not math.isfinite(start) or start < 0 or not isinstance(title, str) or not title.strip():
            continue
        rows.append([
            float(start), clip(title, 300),
            clean_url(chapter.get("url") if isinstance(chapter.get("url"), str) else "", warnings, "", "url"),
            clean_url(chapter.get("img") if isinstance(chapter.get("img"), str) else "", warnings, "", "img"),
        ])
    if not rows:
        raise ValueError("the chapters file has no usable chapters.")
    return sorted(rows, key=lambda row: row[0])


class Fetched:
    """Files fetched for an import, spooled to a temporary folder rather than held in memory."""

    def __init__(self, folder):
        self.folder, self.paths, self.errors = Path(folder), {}, {}

    def fetch_all(self, wanted, fetch):
        """Fetch {url: (byte limit, what)} into the folder, a few at a time (fetch: companion.fetch.download)."""
        def one(job):
            url, limit, what = job
            try:
                return url, fetch(url, max_bytes=limit, what=what, folder=self.folder), None
            except FetchError as error:
                return url, None, str(error)

        with ThreadPoolExecutor(max_workers=FETCH_WORKERS) as pool:
            jobs = [(url, *limits) for url, limits in wanted.items()]
            for url, path, error in pool.map(one, jobs):
                if error:
                    self.errors[url] = error
                else:
                    self.paths[url] = path

    def has(self, url):
        """Whether this import tried the URL (and so has its body or its error)."""
        return url in self.paths or url in self.errors

    def get(self, url):
        """(bytes or None, error or None); (None, None) when it was not fetched."""
        if url in self.paths:
            return self.paths[url].read_bytes(), None
        return None, self.errors.get(url)


def text_from_cues(episode, cues):
    """A plain-text transcript for import_transcript, paragraphed at pauses and speaker changes."""
    paragraphs, current, previous = [], [], None
    for cue in cues:
        words = cue.plain
        if not words:
            continue
        if previous is not None and current and (
            (cue.speaker and cue.speaker != previous.speaker)
            or cue.start - previous.end >= 2.0
            or (sum(map(len, current)) > 800 and current[-1].endswith((".", "!", "?")))
        ):
            paragraphs.append(" ".join(current))
            current = []
        current.append(words)
        previous = cue
    if current:
        paragraphs.append(" ".join(current))
    header = []
    if episode.number is not None:  # a title line and a tagline, which the splitter sets aside
        header = [f"{episode.number}: {episode.title}", "Transcript from the podcast's feed."]
    return "\n\n".join(header + paragraphs)


def import_timed_transcript(episode, data, kind):
    """Times the episode's sentences from the file, first making sentences from it if there are none."""
    filename = f"transcript.{kind}"
    if not episode.sentences.exists():
        cues = read_timings(data, filename)
        validate_cues(cues)
        import_transcript(episode, text_from_cues(episode, cues))
    import_timings(episode, data, filename)


def timed_kind(link):
    return TIMED_TYPES.get(link.type.lower())

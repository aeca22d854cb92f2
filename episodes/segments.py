"""
Segments: the blocks the transcript is read in, each opening with its time.

A paragraph of the source text can run five minutes. Read along, that is a
wall of text with no place to come back to, so the transcript is shown in
segments of at most SEGMENT_SECONDS of speech (SEGMENT_WORDS words for a
paragraph without timings), cut only between sentences. A segment never
spans two paragraphs or a chapter's start; within a paragraph the cuts give
as few segments as fit the limit, as even in length as the sentences allow
(a 100-second paragraph becomes two of about 50, not one of 90 and one of
10).

Segments are worked out when the transcript is rendered (episodes/rendering.py),
from the sentences' timings, so they change whenever those do and need no
column of their own.
"""

from bisect import bisect_left
from dataclasses import dataclass

SEGMENT_SECONDS = 90
SEGMENT_WORDS = 220
CHAPTER_LEAD = 2.0  # seconds a chapter's time may fall after the start of its first sentence


@dataclass
class Segment:
    number: int  # 1-based, in reading order: the HTML id seg-<number>
    sentences: list
    chapter: object = None  # the Chapter whose heading comes just before it
    paragraph_start: bool = False  # the first segment of its paragraph

    @property
    def start(self):
        """When the segment begins (its first timed sentence), or None untimed."""
        return next((s.start for s in self.sentences if s.start is not None), None)

    @property
    def first(self):
        return self.sentences[0].position

    @property
    def last(self):
        return self.sentences[-1].position


def cut_evenly(sentences):
    """
    Sentences between two hard breaks (a new paragraph or chapter) in segments:
    the fewest within the limit, then the most even (least sum of squared
    lengths), by dynamic programming over the cut points. A lone sentence over
    the limit is a segment by itself.
    """
    timed = all(s.start is not None and s.end is not None for s in sentences)
    words = [len(s.text.split()) for s in sentences]

    def length(i, j):
        """How full sentences[i:j] is, as a fraction of a segment's limit."""
        if timed:
            return (sentences[j - 1].end - sentences[i].start) / SEGMENT_SECONDS
        return sum(words[i:j]) / SEGMENT_WORDS

    best = [(0, 0.0, 0)] + [None] * len(sentences)  # (pieces, sum of squares, where the last begins)
    for j in range(1, len(sentences) + 1):
        for i in range(j - 1, -1, -1):
            full = length(i, j)
            if full > 1 and i < j - 1:
                break  # starting earlier only makes it longer
            pieces, squares, _ = best[i]
            candidate = (pieces + 1, squares + full * full, i)
            if best[j] is None or candidate[:2] < best[j][:2]:
                best[j] = candidate
    pieces, j = [], len(sentences)
    while j:
        i = best[j][2]
        pieces.append(sentences[i:j])
        j = i
    return pieces[::-1]


def chapter_openings(sentences, chapters):
    """
    {sentence position: chapter} for the chapters that can be placed: one tied
    to a sentence opens there; one with only a time opens at the first sentence
    starting from CHAPTER_LEAD seconds before it (a chapter mark often sits a
    moment after the words begin). A time past the last sentence, or in an
    untimed transcript, has nowhere to go.
    """
    timed = [s for s in sentences if s.start is not None]
    starts = [s.start for s in timed]
    openings = {}
    for chapter in chapters:
        if chapter.sentence_id is not None:
            position = next((s.position for s in sentences if s.pk == chapter.sentence_id), None)
        else:
            index = bisect_left(starts, chapter.start - CHAPTER_LEAD)
            position = timed[index].position if index < len(timed) else None
        if position is not None:
            openings.setdefault(position, chapter)
    return openings


def segment(sentences, chapters=()):
    """The episode's sentences (in reading order) as a list of Segments."""
    openings = chapter_openings(sentences, chapters)
    runs, run, paragraph = [], None, None
    for sentence in sentences:
        if run is None or sentence.paragraph != paragraph or sentence.position in openings:
            run = []
            runs.append((run, sentence.paragraph != paragraph, openings.get(sentence.position)))
            paragraph = sentence.paragraph
        run.append(sentence)
    segments = []
    for run, new_paragraph, chapter in runs:
        for index, piece in enumerate(cut_evenly(run)):
            segments.append(
                Segment(
                    number=len(segments) + 1,
                    sentences=piece,
                    chapter=chapter if index == 0 else None,
                    paragraph_start=new_paragraph and index == 0,
                )
            )
    return segments

"""An episode's transcript in the formats podcast apps read."""

from itertools import groupby
from operator import attrgetter

from django.utils.html import escape

from episodes.timings.formats import Cue, write_podcast_json, write_srt, write_vtt
from episodes.moments import format_moment


def episode_cues(episode):
    """
    One cue per timed sentence; an open end runs to the next start, and no
    end runs past it: cues never overlap, so our own importer (and strict
    players) take the file back.
    """
    sentences = [s for s in episode.sentences.order_by("position") if s.start is not None]
    cues = []
    for sentence, following in zip(sentences, sentences[1:] + [None]):
        end = sentence.end
        if end is None:
            end = following.start if following else sentence.start
        if following is not None:
            end = min(end, max(following.start, sentence.start))
        cues.append(Cue(start=sentence.start, end=max(end, sentence.start), text=sentence.text))
    return cues


def plain_text(episode):
    """Title, tagline and paragraphs, in the shape import_transcript reads."""
    lines = [episode.numbered_title, ""]
    if episode.tagline:
        lines += [episode.tagline, ""]
    paragraphs = {}
    for paragraph, text in episode.sentences.order_by("position").values_list("paragraph", "text"):
        paragraphs.setdefault(paragraph, []).append(text)
    lines += [f"{' '.join(texts)}\n" for texts in paragraphs.values()]
    return "\n".join(lines)


def podcast_html(episode):
    """
    Podcasting 2.0's HTML transcript: a <p> per paragraph, each after the
    <time> it starts at when the episode is timed (the format allows none).
    """
    parts = []
    sentences = episode.sentences.order_by("position").only("paragraph", "text", "start")
    for _, group in groupby(sentences, key=attrgetter("paragraph")):
        group = list(group)
        if group[0].start is not None:
            parts.append(f"<time>{format_moment(group[0].start)}</time>")
        parts.append(f"<p>{escape(' '.join(sentence.text for sentence in group))}</p>")
    return "\n".join(parts) + "\n"


FORMATS = {
    "vtt": ("text/vtt; charset=utf-8", lambda episode: write_vtt(episode_cues(episode))),
    "srt": ("application/x-subrip; charset=utf-8", lambda episode: write_srt(episode_cues(episode))),
    "json": ("application/json", lambda episode: write_podcast_json(episode_cues(episode))),
    "txt": ("text/plain; charset=utf-8", plain_text),
    "html": ("text/html; charset=utf-8", podcast_html),
}
TIMED_FORMATS = {"vtt", "srt", "json"}

"""
Import a plain-text transcript into an episode's sentences.

Reading and checking happen before anything is written; the write is one
transaction. Sentences that survive an edit (same text) keep their row, so
their citations, timings and the editor's mention overrides stay attached.
"""

from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path

from django.db.models import F

from .linking import relink_episode
from .models import Episode, Sentence
from .signals import transcript_replaced
from .splitter import split_transcript

MAX_TRANSCRIPT_BYTES = 5 * 1024 * 1024


class TranscriptError(Exception):
    """A transcript that cannot be imported; the message says why, for a person."""


@dataclass
class ImportReport:
    sentences: int = 0
    kept: int = 0
    created: int = 0
    removed: int = 0
    mentions: int = 0
    unchanged: bool = False
    # What the apps that hang things on the text did about it (signals.transcript_replaced),
    # e.g. the notes app's re-anchoring.
    attached: list = field(default_factory=list)

    def __str__(self):
        if self.unchanged:
            return f"Unchanged: {self.sentences} sentences already match the file."
        return "; ".join([
            f"{self.sentences} sentences: {self.kept} kept, {self.created} new, {self.removed} removed",
            f"{self.mentions} mentions linked",
            *map(str, self.attached),
        ]) + "."


def read_transcript(path):
    """The file's text, or a TranscriptError naming what is wrong with it."""
    path = Path(path)
    if not path.exists():
        raise TranscriptError(f"No such file: {path}")
    if not path.is_file():
        raise TranscriptError(f"Not a regular file: {path}")
    size = path.stat().st_size
    if size > MAX_TRANSCRIPT_BYTES:
        raise TranscriptError(
            f"{path.name} is {size:,} bytes; a transcript may be at most "
            f"{MAX_TRANSCRIPT_BYTES:,} bytes."
        )
    return decode_transcript(path.read_bytes(), path.name)


def decode_transcript(data, name="transcript"):
    if len(data) > MAX_TRANSCRIPT_BYTES:
        raise TranscriptError(
            f"{name} is {len(data):,} bytes; a transcript may be at most "
            f"{MAX_TRANSCRIPT_BYTES:,} bytes."
        )
    if not data.strip():
        raise TranscriptError(f"{name} is empty.")
    if b"\x00" in data:
        raise TranscriptError(f"{name} looks like a binary file (it contains NUL bytes), not text.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise TranscriptError(
            f"{name} is not UTF-8 text: byte {error.start} (line {line}) cannot be decoded. "
            "Save it as UTF-8 and try again."
        ) from None
    controls = sum(1 for char in text if ord(char) < 32 and char not in "\n\r\t\f")
    if controls:
        raise TranscriptError(f"{name} contains {controls} control characters; is it really text?")
    return text


def check_header(episode, parsed):
    if parsed.number is not None and parsed.number != episode.number:
        raise TranscriptError(
            f"The file's first line is for episode {parsed.number}, "
            f"but it is being imported into {episode.label.lower()}."
        )
    if not parsed.sentences:
        raise TranscriptError("The file has a title but no transcript text.")


def import_transcript(episode, text, *, relink=True):
    """Replace the episode's sentences with the text's; see the module docstring."""
    parsed = split_transcript(text)
    check_header(episode, parsed)
    incoming = [
        (paragraph_number, sentence)
        for paragraph_number, paragraph in enumerate(parsed.paragraphs, start=1)
        for sentence in paragraph
    ]
    with episode.writing():
        return replace_sentences(episode, incoming, relink)


def replace_sentences(episode, incoming, relink):
    """The write itself, inside the episode's writing(): [(paragraph, text), …] become its sentences."""
    existing = list(episode.sentences.select_for_update().order_by("position"))
    report = ImportReport(sentences=len(incoming))
    if [(s.paragraph, s.text) for s in existing] == incoming:
        report.unchanged = True
        return report

    by_text = defaultdict(deque)
    for sentence in existing:
        by_text[sentence.text].append(sentence)
    kept, created = [], []
    for position, (paragraph_number, sentence_text) in enumerate(incoming, start=1):
        if by_text[sentence_text]:
            sentence = by_text[sentence_text].popleft()
            sentence.position, sentence.paragraph = position, paragraph_number
            kept.append(sentence)
        else:
            created.append(
                Sentence(
                    episode=episode,
                    position=position,
                    paragraph=paragraph_number,
                    text=sentence_text,
                )
            )
    removed = [sentence.pk for queue in by_text.values() for sentence in queue]
    Sentence.objects.filter(pk__in=removed).delete()
    # Move surviving rows out of the way first: positions are unique per episode.
    episode.sentences.update(position=F("position") + len(existing) + len(incoming))
    Sentence.objects.bulk_update(kept, ["position", "paragraph"], batch_size=500)
    Sentence.objects.bulk_create(created, batch_size=500)
    report.kept, report.created, report.removed = len(kept), len(created), len(removed)
    replies = transcript_replaced.send(sender=Episode, episode=episode)
    report.attached = [reply for _, reply in replies if reply is not None]
    if relink:
        report.mentions = relink_episode(episode)
    return report

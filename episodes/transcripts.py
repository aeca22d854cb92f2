"""
Import a plain-text transcript into an episode's sentences.

Reading and checking happen before anything is written; the write is one
transaction. Sentences that survive an edit (same text) keep their row, so
their citations, timings and the editor's mention overrides stay attached; a
lightly edited one (a typo fixed) keeps its timing, and the report names the
sentences left without one.
"""

from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path

from django.db.models import F
from rapidfuzz import fuzz

from .linking import relink_episode
from .models import Episode, Sentence
from .signals import transcript_replaced
from .splitter import split_transcript

MAX_TRANSCRIPT_BYTES = 5 * 1024 * 1024
#: How alike (rapidfuzz's ratio, 0-100) an edited sentence must be to keep the old one's timing.
LIGHT_EDIT = 85


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
    # Positions of sentences whose text was lightly edited and kept its old timing,
    # and of new sentences left without a time in an episode otherwise timed.
    retimed: list = field(default_factory=list)
    untimed: list = field(default_factory=list)
    # What the apps that hang things on the text did about it (signals.transcript_replaced),
    # e.g. the notes app's re-anchoring.
    attached: list = field(default_factory=list)

    def __str__(self):
        if self.unchanged:
            return f"Unchanged: {self.sentences} sentences already match the file."
        return "; ".join([
            f"{self.sentences} sentences: {self.kept} kept, {self.created} new, {self.removed} removed",
            *([f"{len(self.retimed)} lightly edited kept their timing"] if self.retimed else []),
            *([f"{len(self.untimed)} have no time yet ({positions(self.untimed)}): see Review timings"]
              if self.untimed else []),
            f"{self.mentions} mentions linked",
            *map(str, self.attached),
        ]) + "."


def positions(numbers, most=12):
    shown = ", ".join(f"§{number}" for number in numbers[:most])
    return shown + (f" and {len(numbers) - most} more" if len(numbers) > most else "")


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


def carry_timings(new_order, gone, old_positions):
    """
    Give each new sentence that is a light edit of one that went (a typo fixed)
    that sentence's timing: the closest match at least LIGHT_EDIT similar,
    between the same kept neighbours, whose start still fits between theirs.
    Returns the positions that kept a timing.
    """
    carried, used = [], set()
    kept_before = [None] * len(new_order)
    previous = None
    for index, sentence in enumerate(new_order):
        kept_before[index] = previous
        if sentence.pk:
            previous = sentence
    following = None
    for index in range(len(new_order) - 1, -1, -1):
        sentence = new_order[index]
        if sentence.pk:
            following = sentence
            continue
        before = kept_before[index]
        low = old_positions[before.pk] if before else 0
        high = old_positions[following.pk] if following else float("inf")
        candidates = [old for old in gone if old.pk not in used and low < old_positions[old.pk] < high]
        best = max(candidates, key=lambda old: fuzz.ratio(old.text, sentence.text), default=None)
        if best is None or best.start is None or fuzz.ratio(best.text, sentence.text) < LIGHT_EDIT:
            continue
        if (before and before.start is not None and best.start < before.start) or (
            following and following.start is not None and best.start > following.start
        ):
            continue
        used.add(best.pk)
        sentence.start, sentence.end, sentence.confidence = best.start, best.end, best.confidence
        sentence.start_set_by_editor = best.start_set_by_editor
        carried.append(sentence.position)
    return sorted(carried)


def replace_sentences(episode, incoming, relink):
    """The write itself, inside the episode's writing(): [(paragraph, text), …] become its sentences."""
    existing = list(episode.sentences.select_for_update().order_by("position"))
    report = ImportReport(sentences=len(incoming))
    if [(s.paragraph, s.text) for s in existing] == incoming:
        report.unchanged = True
        return report

    old_positions = {sentence.pk: sentence.position for sentence in existing}
    by_text = defaultdict(deque)
    for sentence in existing:
        by_text[sentence.text].append(sentence)
    kept, created, new_order = [], [], []
    for position, (paragraph_number, sentence_text) in enumerate(incoming, start=1):
        if by_text[sentence_text]:
            sentence = by_text[sentence_text].popleft()
            sentence.position, sentence.paragraph = position, paragraph_number
            kept.append(sentence)
        else:
            sentence = Sentence(episode=episode, position=position, paragraph=paragraph_number, text=sentence_text)
            created.append(sentence)
        new_order.append(sentence)
    gone = [sentence for queue in by_text.values() for sentence in queue]
    report.retimed = carry_timings(new_order, gone, old_positions)
    if any(sentence.start is not None for sentence in kept):
        report.untimed = [sentence.position for sentence in created if sentence.start is None]
    removed = [sentence.pk for sentence in gone]
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

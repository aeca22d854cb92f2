"""
Import a plain-text transcript into an episode's sentences.

Reading and checking happen before anything is written; the write is one
transaction. Sentences that survive an edit (same text) keep their row, so
their citations, timings and the editor's mention overrides stay attached; a
lightly edited one (a typo fixed) keeps its timing, and the report names the
sentences left without one.
"""

import hashlib
from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.db.models import F
from rapidfuzz import fuzz

from .linking import relink_episode
from .models import Episode, Mention, Sentence
from .models.transcript_imports import TextChange, TextOutcome, summarise_text
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
    # Every sentence's TextChange, in reading order (models/transcript_imports.py).
    changes: list = field(default_factory=list)

    def digest(self):
        """A fingerprint of the plan, so an apply can tell the episode changed since its preview."""
        rows = [change.as_row() for change in self.changes] + [str(line) for line in self.attached]
        return hashlib.sha256(repr(rows).encode()).hexdigest()[:16]

    def summary(self):
        return summarise_text(self.changes)

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
    Pair each new sentence that is a light edit of one that went (a typo
    fixed) with it: the closest match at least LIGHT_EDIT similar, between the
    same kept neighbours. The new one takes the old one's timing when its
    start still fits between theirs. Returns {index in new_order: old sentence}.
    """
    pairs, used = {}, set()
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
        if best is None or fuzz.ratio(best.text, sentence.text) < LIGHT_EDIT:
            continue
        used.add(best.pk)
        pairs[index] = best
        if best.start is None or (before and before.start is not None and best.start < before.start) or (
            following and following.start is not None and best.start > following.start
        ):
            continue
        sentence.start, sentence.end, sentence.confidence = best.start, best.end, best.confidence
        sentence.start_set_by_editor = best.start_set_by_editor
    return pairs


def attachments(sentences):
    """
    {sentence pk: ["2 citations", "1 note", …]}: what hangs on these sentences,
    found through every relation to Sentence (so the apps built on this one
    are counted without being imported); of mentions, only the editor's.
    """
    found = defaultdict(lambda: defaultdict(set))
    pks = [sentence.pk for sentence in sentences]
    for relation in Sentence._meta.get_fields(include_hidden=True):
        if not relation.auto_created or relation.concrete or not pks:
            continue
        if relation.related_model._meta.auto_created:  # a many-to-many's table: counted through the relation
            continue
        model, name = relation.related_model, relation.field.name
        rows = model._default_manager.filter(**{f"{name}__in": pks})
        if model is Mention:
            rows = rows.exclude(kind=Mention.Kind.AUTO)
        for sentence_id, pk in rows.values_list(name, "pk"):
            found[sentence_id][model].add(pk)
    return {
        sentence_id: [f"{len(ids)} {counted(model, len(ids))}" for model, ids in by_model.items()]
        for sentence_id, by_model in found.items()
    }


def counted(model, count):
    if model is Mention:
        return "link set by an editor" if count == 1 else "links set by an editor"
    return model._meta.verbose_name if count == 1 else model._meta.verbose_name_plural


def sentence_changes(existing, new_order, pairs, old_positions, attached):
    """Every sentence's TextChange, in reading order, each removed one where it stood."""
    staying = {old.pk for old in pairs.values()} | {sentence.pk for sentence in new_order if sentence.pk}
    removed = deque(sorted((s for s in existing if s.pk not in staying), key=lambda s: old_positions[s.pk]))
    changes = []

    def removed_before(old_position):
        while removed and (old_position is None or old_positions[removed[0].pk] < old_position):
            old = removed.popleft()
            changes.append(TextChange(TextOutcome.REMOVED, None, old_positions[old.pk], old.text, "",
                                      old.start, False, attached.get(old.pk, [])))

    # The old place of the next sentence that stays (kept or edited): an added one goes in before it,
    # after the removed ones it replaces.
    next_old, following = [None] * len(new_order), None
    for index in range(len(new_order) - 1, -1, -1):
        next_old[index] = following
        if new_order[index].pk:
            following = old_positions[new_order[index].pk]
        elif index in pairs:
            following = old_positions[pairs[index].pk]
    for index, sentence in enumerate(new_order):
        timed = sentence.start is not None
        if sentence.pk:
            removed_before(old_positions[sentence.pk])
            changes.append(TextChange(TextOutcome.UNCHANGED, sentence.position, old_positions[sentence.pk],
                                      sentence.text, sentence.text, sentence.start, timed))
        elif (old := pairs.get(index)) is not None:
            removed_before(old_positions[old.pk])
            changes.append(TextChange(TextOutcome.EDITED, sentence.position, old_positions[old.pk], old.text,
                                      sentence.text, old.start, timed, attached.get(old.pk, [])))
        else:
            removed_before(next_old[index])
            changes.append(TextChange(TextOutcome.ADDED, sentence.position, None, "", sentence.text, None, timed))
    removed_before(None)
    return changes


def replace_sentences(episode, incoming, relink):
    """The write itself, inside the episode's writing(): [(paragraph, text), …] become its sentences."""
    existing = list(episode.sentences.select_for_update().order_by("position"))
    report = ImportReport(sentences=len(incoming))
    old_positions = {sentence.pk: sentence.position for sentence in existing}
    if [(s.paragraph, s.text) for s in existing] == incoming:
        report.unchanged = True
        report.changes = sentence_changes(existing, existing, {}, old_positions, {})
        return report

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
    pairs = carry_timings(new_order, gone, old_positions)
    report.retimed = sorted(new_order[index].position for index in pairs if new_order[index].start is not None)
    if any(sentence.start is not None for sentence in kept):
        report.untimed = [sentence.position for sentence in created if sentence.start is None]
    report.changes = sentence_changes(existing, new_order, pairs, old_positions, attachments(gone))
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


class Planned(Exception):
    """Carries a report out of the transaction plan_transcript rolls back."""

    def __init__(self, report):
        super().__init__("planned")
        self.report = report


def plan_transcript(episode, text):
    """
    What importing the text would do, sentence by sentence, notes included,
    with nothing written: the import itself runs in a transaction that is then
    rolled back (its on-commit work is dropped with it), so a preview can never
    drift from what "Apply" does. Not relinked: links don't change the plan.
    """
    try:
        with transaction.atomic():
            raise Planned(import_transcript(episode, text, relink=False))
    except Planned as planned:
        return planned.report

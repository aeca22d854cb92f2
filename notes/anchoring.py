"""
Anchor notes to passages, and re-anchor them after the transcript changes.

Positions (the TextPositionSelector) count characters in the episode's text:
its sentences, in order, joined by single spaces. The quote (the
TextQuoteSelector) is what survives edits: after an import every note is
looked up by its exact words, using its prefix and suffix to tell repeated
passages apart. A quote that is gone, or that now stands in several places
none of which has its old context, leaves the note orphaned: kept, listed,
never silently moved to a look-alike passage.
"""

from dataclasses import dataclass

from django.db.models import OuterRef, Subquery

from .models import Note, store_public_note_counts

CONTEXT = 32  # characters of prefix and suffix kept with a quote
# What a thread's anchor is made of; a reply shares its thread's. Sentence ids, not
# objects: copying them loads nothing.
ANCHOR_FIELDS = [
    "first_sentence_id", "last_sentence_id", "quote_exact", "quote_prefix", "quote_suffix",
    "position_start", "position_end", "media_start", "media_end", "orphaned",
]


class AnchorError(ValueError):
    pass


@dataclass
class Anchor:
    first_sentence: object
    last_sentence: object
    exact: str
    prefix: str
    suffix: str
    start: int
    end: int
    media_start: float | None
    media_end: float | None

    def apply(self, note):
        note.first_sentence, note.last_sentence = self.first_sentence, self.last_sentence
        note.quote_exact, note.quote_prefix, note.quote_suffix = self.exact, self.prefix, self.suffix
        note.position_start, note.position_end = self.start, self.end
        note.media_start, note.media_end = self.media_start, self.media_end
        note.orphaned = False


class EpisodeText:
    """The episode's sentences joined by spaces, with each sentence's span."""

    def __init__(self, sentences):
        self.sentences = list(sentences)
        self.spans = []
        offset = 0
        for sentence in self.sentences:
            self.spans.append((offset, offset + len(sentence.text)))
            offset += len(sentence.text) + 1
        self.text = " ".join(sentence.text for sentence in self.sentences)

    def sentence_index_at(self, offset):
        for index, (start, end) in enumerate(self.spans):
            if offset <= end:
                return index
        return len(self.spans) - 1

    def anchor(self, start, end):
        first = self.sentence_index_at(start)
        last = max(first, self.sentence_index_at(max(end - 1, start)))
        first_sentence, last_sentence = self.sentences[first], self.sentences[last]
        return Anchor(
            first_sentence=first_sentence,
            last_sentence=last_sentence,
            exact=self.text[start:end],
            prefix=self.text[max(0, start - CONTEXT) : start],
            suffix=self.text[end : end + CONTEXT],
            start=start,
            end=end,
            media_start=first_sentence.start,
            media_end=last_sentence.end,
        )

    def occurrences(self, exact):
        found, index = [], self.text.find(exact)
        while index >= 0 and exact:
            found.append(index)
            index = self.text.find(exact, index + 1)
        return found


def episode_text(episode):
    return EpisodeText(episode.sentences.order_by("position"))


def anchor_selection(episode, first_position, last_position, exact="", start=None):
    """
    Check what a reader selected and anchor it. The sentences must exist and
    the quote must be in them; without a quote, the whole sentences are the
    passage. `start` (an offset in the episode text) picks among repeats.
    """
    text = episode_text(episode)
    positions = [sentence.position for sentence in text.sentences]
    if first_position not in positions or last_position not in positions:
        raise AnchorError("That passage is not in this episode's transcript.")
    first, last = positions.index(first_position), positions.index(last_position)
    if last < first:
        first, last = last, first
    range_start, range_end = text.spans[first][0], text.spans[last][1]
    exact = " ".join(exact.split())
    if not exact:
        return text.anchor(range_start, range_end)
    candidates = [
        index for index in text.occurrences(exact)
        if range_start <= index and index + len(exact) <= range_end
    ]
    if not candidates:
        raise AnchorError("The quoted words are not in the chosen sentences.")
    chosen = start if start in candidates else candidates[0]
    return text.anchor(chosen, chosen + len(exact))


def relocate(text, note):
    """Where the note's quote stands now, or None when it can't be placed for sure."""
    found = text.occurrences(note.quote_exact)
    in_context = [
        index for index in found
        if text.text[:index].endswith(note.quote_prefix)
        and text.text[index + len(note.quote_exact) :].startswith(note.quote_suffix)
    ]
    if len(in_context) == 1:
        return in_context[0]
    if len(found) == 1:
        return found[0]
    return None


@dataclass
class Reanchored:
    """What a transcript import did to the episode's notes: a line of its report."""

    kept: int = 0
    orphaned: int = 0

    def __str__(self):
        return f"{self.kept} notes re-anchored, {self.orphaned} orphaned"


def reanchor_after_import(episode, **kwargs):
    """Receiver of episodes.signals.transcript_replaced (notes/apps.py)."""
    return reanchor_notes(episode)


def reanchor_notes(episode):
    """
    After a transcript import: move every note to where its quote now is.

    Runs inside the import's Episode.writing(), in bulk: the threads whose
    anchor moved in one UPDATE, their replies in another (each copies its
    thread's anchor), and one badge recount, whatever the number of notes;
    saving note by note fired the recount per note while holding the episode.
    """
    text = episode_text(episode)
    threads = list(episode.notes.filter(parent__isnull=True).order_by("pk"))
    moved, kept, orphaned = [], 0, 0
    for note in threads:
        before = anchor_of(note)
        index = relocate(text, note) if note.quote_exact else None
        if index is None:
            note.orphaned = True
            orphaned += 1
        else:
            text.anchor(index, index + len(note.quote_exact)).apply(note)
            kept += 1
        if anchor_of(note) != before:
            moved.append(note)
    if moved:
        Note.objects.bulk_update(moved, ANCHOR_FIELDS, batch_size=1000)
        thread = Note.objects.filter(pk=OuterRef("parent_id"))
        Note.objects.filter(parent__in=[note.pk for note in moved]).update(
            **{name: Subquery(thread.values(name)[:1]) for name in ANCHOR_FIELDS}
        )
    if threads:
        store_public_note_counts(episode.pk)  # paragraphs may have moved under notes that didn't
    return Reanchored(kept, orphaned)


def anchor_of(note):
    return tuple(getattr(note, name) for name in ANCHOR_FIELDS)

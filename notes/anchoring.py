"""
Anchor notes to passages, and re-anchor them after the transcript changes.

Positions (the TextPositionSelector) count characters in the episode's text:
its sentences, in order, joined by single spaces. The quote (the
TextQuoteSelector) is what survives edits. After an import every note is
placed as Hypothesis places an annotation:

1. by its exact words, its prefix and suffix telling repeated passages apart
   (re-anchored);
2. failing that, by approximate matching (moved): rapidfuzz finds the window
   of the new text most like the note's prefix + quote + suffix, and the one
   most like the quote alone near its old position; each candidate, widened or
   narrowed to whole words, is scored as Hypothesis scores them (quote 50,
   prefix 20, suffix 20, position 2), and the best is taken when its words are
   at least SIMILARITY alike to the old quote (rapidfuzz's normalised Indel
   similarity, 0-100: a comma lost or a typo fixed scores 95 or more; a
   sentence reworded scores far below);
3. otherwise the note is orphaned: kept, shown to its author and moderators,
   never deleted and never moved to a look-alike passage. A quote that still
   stands word for word in several places, none with its old context, is
   orphaned too rather than guessed.

rapidfuzz (already pinned for search) rather than difflib: its
partial_ratio_alignment finds the best-matching window of a long text in C,
where difflib's SequenceMatcher would need a Python loop over every window.
"""

import re
from dataclasses import dataclass

from django.db.models import OuterRef, Subquery
from rapidfuzz import fuzz

from .models import Note, store_public_note_counts

CONTEXT = 32  # characters of prefix and suffix kept with a quote
SIMILARITY = 80  # the least rapidfuzz ratio (0-100) between an old quote and the words it is moved to
WORD = re.compile(r"\w+|[^\w\s]+")  # words and runs of punctuation: where a moved quote may start or end
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
    """Where the note's exact quote stands now, or None when it can't be placed for sure."""
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


def snapped(text, start, end, exact):
    """The whole-word span near (start, end) most like `exact`: a window cut mid-word grows or shrinks."""
    bounds = [(match.start(), match.end()) for match in WORD.finditer(text, max(0, start - 40), end + 40)]
    if not bounds:
        return None
    starts = sorted(b for b, _ in bounds if abs(b - start) <= 40)
    ends = sorted(e for _, e in bounds if abs(e - end) <= 40)
    best = None
    for b in starts:
        for e in ends:
            if e <= b:
                continue
            score = fuzz.ratio(exact, text[b:e])
            if best is None or score > best[0]:
                best = (score, b, e)
    return best


def approximate(text, note):
    """(start, end) of the words most like the note's quote, if alike enough; else None."""
    exact, prefix, suffix = note.quote_exact, note.quote_prefix, note.quote_suffix
    whole = text.text
    if not whole:
        return None
    windows = []
    context = fuzz.partial_ratio_alignment(prefix + exact + suffix, whole)
    if context is not None:
        # Where the quote sits within the context's window.
        inner = fuzz.partial_ratio_alignment(exact, whole[context.dest_start : context.dest_end])
        windows.append((context.dest_start + inner.dest_start, context.dest_start + inner.dest_end))
    near = max(0, note.position_start - 4 * len(exact) - 200)
    alone = fuzz.partial_ratio_alignment(exact, whole[near : note.position_end + 4 * len(exact) + 200])
    windows.append((near + alone.dest_start, near + alone.dest_end))
    alone = fuzz.partial_ratio_alignment(exact, whole)
    windows.append((alone.dest_start, alone.dest_end))
    best = None
    for window in dict.fromkeys(windows):
        found = snapped(whole, *window, exact)
        if found is None or found[0] < SIMILARITY:
            continue
        quote_score, start, end = found
        prefix_score = fuzz.ratio(prefix, whole[max(0, start - len(prefix)) : start]) if prefix else 100
        suffix_score = fuzz.ratio(suffix, whole[end : end + len(suffix)]) if suffix else 100
        position_score = 100 * (1 - min(1, abs(start - note.position_start) / max(1, len(whole))))
        score = 50 * quote_score + 20 * prefix_score + 20 * suffix_score + 2 * position_score
        if best is None or score > best[0]:
            best = (score, start, end)
    return best[1:] if best else None


@dataclass
class Reanchored:
    """What a transcript import did to the episode's notes: a line of its report."""

    kept: int = 0
    moved: int = 0
    orphaned: int = 0

    def __str__(self):
        return (
            f"{self.kept} notes re-anchored by their words, {self.moved} moved to lightly edited words, "
            f"{self.orphaned} orphaned (kept for their authors and moderators)"
        )


def reanchor_after_import(episode, **kwargs):
    """Receiver of episodes.signals.transcript_replaced (notes/apps.py)."""
    return reanchor_notes(episode)


def place(text, note):
    """(start, end, approximate) of the note's passage in the new text, or None: it is orphaned."""
    if not note.quote_exact:
        return None
    if (index := relocate(text, note)) is not None:
        return index, index + len(note.quote_exact), False
    if text.occurrences(note.quote_exact):  # word for word in several places: don't guess
        return None
    if (span := approximate(text, note)) is not None:
        return *span, True
    return None


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
    changed, report = [], Reanchored()
    for note in threads:
        before = anchor_of(note)
        placed = place(text, note)
        if placed is None:
            note.orphaned = True
            report.orphaned += 1
        else:
            start, end, moved = placed
            text.anchor(start, end).apply(note)
            if moved:
                report.moved += 1
            else:
                report.kept += 1
        if anchor_of(note) != before:
            changed.append(note)
    if changed:
        Note.objects.bulk_update(changed, ANCHOR_FIELDS, batch_size=1000)
        thread = Note.objects.filter(pk=OuterRef("parent_id"))
        Note.objects.filter(parent__in=[note.pk for note in changed]).update(
            **{name: Subquery(thread.values(name)[:1]) for name in ANCHOR_FIELDS}
        )
    if threads:
        store_public_note_counts(episode.pk)  # paragraphs may have moved under notes that didn't
    return report


def anchor_of(note):
    return tuple(getattr(note, name) for name in ANCHOR_FIELDS)

"""
What new timings would do to an episode's sentences, before anything is written.

Every writer of timings (a timings file, an alignment) proposes a time for
each sentence; plan_timings() decides what each sentence ends up with and
says so, sentence by sentence: a start an editor set is kept unless the
editor chose to overwrite it, and a start that would fall outside its
neighbours' bounds is refused with the reason. Ends are trimmed to the next
start, so no two sentences ever overlap. Nothing here touches the database.
"""

import hashlib
from dataclasses import dataclass, field

from episodes.models.timing_imports import SAME, Outcome, SentenceChange, summarise


@dataclass
class TimingPlan:
    """The timings to store, one (start, end, words, set_by_editor) per sentence, and what changes."""

    timings: list
    changes: list[SentenceChange]
    conflicts: list[str] = field(default_factory=list)

    @property
    def changed(self):
        """The sentences whose time moves, is kept against the file, appears or is lost."""
        return [change for change in self.changes if change.outcome != Outcome.UNCHANGED]

    def summary(self):
        return summarise([change.outcome for change in self.changes])

    def digest(self):
        """A fingerprint of the plan, so an apply can tell the episode changed since its preview."""
        rows = [(c.position, c.outcome, c.before, c.after) for c in self.changes] + self.conflicts
        return hashlib.sha256(repr(rows).encode()).hexdigest()[:16]


def same(a, b):
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) < SAME


def plan_timings(sentences, proposed, *, overwrite_editor_starts=False):
    """
    sentences: the episode's, in order (anything with position, text, start,
    end, start_set_by_editor); proposed: one (start, end, words) per sentence.
    """
    if len(sentences) != len(proposed):
        raise ValueError(f"{len(proposed)} timings for {len(sentences)} sentences.")
    timings, changes = [], []
    for sentence, (start, end, words) in zip(sentences, proposed):
        editors = sentence.start_set_by_editor and sentence.start is not None
        if editors and not overwrite_editor_starts:
            kept = sentence.start
            end = max(end if end is not None else (sentence.end or kept), kept)
            # Word times before the editor's start contradict it; the sentence starts them.
            words = [word for word in words or [] if word[2] >= kept]
            timings.append([kept, end, words, True])
            outcome = Outcome.UNCHANGED if same(start, kept) else Outcome.KEPT
            changes.append(SentenceChange(sentence.position, sentence.text, outcome, kept, kept))
            continue
        timings.append([start, end, list(words or []), False])
        if same(start, sentence.start):
            outcome = Outcome.UNCHANGED
        elif start is None:
            outcome = Outcome.DROPPED
        elif sentence.start is None:
            outcome = Outcome.NEW
        else:
            outcome = Outcome.MOVED
        changes.append(SentenceChange(sentence.position, sentence.text, outcome, sentence.start, start))
    plan = TimingPlan(timings=timings, changes=changes)
    plan.conflicts = order_conflicts(sentences, timings)
    trim_ends(timings)
    return plan


def order_conflicts(sentences, timings):
    """Why the starts are out of order, one reason per sentence that would start before the one it follows."""
    conflicts, previous = [], None
    for sentence, (start, _end, _words, editors) in zip(sentences, timings):
        if start is None:
            continue
        if previous is not None and start < previous[1] - SAME:
            whose = "an editor set" if previous[2] else "the new timings give"
            mine = " (set by an editor)" if editors else ""
            conflicts.append(
                f"§{sentence.position} would start at {start:.2f} s{mine}, before §{previous[0]}, "
                f"which {whose} at {previous[1]:.2f} s. "
                "Choose to overwrite editors' starts, or fix the start on the review page first."
            )
        previous = (sentence.position, start, editors)
    return conflicts


def trim_ends(timings):
    """No sentence runs past the next one's start; none ends before it starts."""
    following = None
    for timing in reversed(timings):
        start, end = timing[0], timing[1]
        if start is None:
            continue
        if end is None or end < start:
            end = start
        if following is not None and end > following:
            end = max(start, following)
        timing[1] = end
        following = start

"""
Writers of one episode at the same time, on PostgreSQL: none deadlocks, and
nothing is left half-written.

Every writer takes the episode row first (Episode.writing()); before it did,
moderating a note or saving a reviewed start during a transcript import ended
in "deadlock detected", because they locked the note or the sentence first and
the episode after. Each test runs two (or all) writers in threads for a while,
then checks that every writer went round several times without an error, and
that what they wrote agrees: the badge counts with the notes, the stored
transcript with the rows it was rendered from, the starts in order, each
moderated note's status with its last logged decision.

SQLite can't express these races: its IMMEDIATE transactions take the whole
database for one writer at a time, so no two writers ever hold rows in
different orders. CI runs them in its PostgreSQL pass.
"""

import itertools
import random
import threading
import time
import uuid

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection, connections

from alignment.views import StartError, set_start
from episodes.models import Episode
from episodes.timings.imports import import_timings
from episodes.transcripts import import_transcript
from notes.models import ModerationEvent, Note
from notes.moderation import moderate
from notes.views import save_once
from tests.factories import make_anchored_note, make_episode, make_user

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SQLite can't express the race: one IMMEDIATE transaction at a time holds the whole database",
    ),
    pytest.mark.django_db(transaction=True),
]

SECONDS = 1.0  # at least; until every writer has gone round MIN_TURNS times, so they overlap
MIN_TURNS = 3
KEPT = [f"Sentence {n} stays put." for n in range(40)]
# Two versions of the text: one sentence replaced and the paragraphs moved, so each
# import deletes, creates and moves sentences, and re-anchors the notes.
VERSIONS = [
    "7: A Test Episode\n\n" + " ".join(KEPT[:20]) + " An old line.\n\n" + " ".join(KEPT[20:]) + "\n",
    "7: A Test Episode\n\n" + " ".join(KEPT[:20]) + "\n\nA new line. " + " ".join(KEPT[20:]) + "\n",
]
TEXT_OF_VERSION_0 = KEPT[:20] + ["An old line."] + KEPT[20:]
# One cue a second, a sentence each: it maps onto either version.
VTT = ("WEBVTT\n\n" + "\n\n".join(
    f"00:00:{n:02d}.000 --> 00:00:{n:02d}.900\n{text}" for n, text in enumerate(TEXT_OF_VERSION_0)
) + "\n").encode()
MODERATED = {ModerationEvent.Action.APPROVE: Note.Status.APPROVED, ModerationEvent.Action.REJECT: Note.Status.REJECTED}


class Stage:
    """An episode with a transcript, timings, a note to moderate, and the writers that work on it."""

    def __init__(self):
        self.episode = make_episode(number=7, slug="7-a-test-episode", title="A Test Episode")
        import_transcript(self.episode, VERSIONS[0])
        import_timings(self.episode, VTT, "times.vtt")
        self.authors = [make_user() for _ in range(3)]
        self.moderator = make_user(is_staff=True)
        self.moderated = make_anchored_note(self.episode, self.authors[0], 5, exact=KEPT[4])
        # Never deleted by an import, only moved: what notes and the review may point at.
        self.kept = list(self.episode.sentences.filter(text__in=KEPT).order_by("position"))
        self.reviewed = self.kept[9]
        self.posted = []

    def transcript_import(self, turn):
        import_transcript(Episode.objects.get(pk=self.episode.pk), VERSIONS[(turn + 1) % 2])

    def moderation(self, turn):
        note = Note.objects.select_related("author").get(pk=self.moderated.pk)
        moderate(note, list(MODERATED)[turn % 2], self.moderator)

    def review(self, turn):
        sentence = type(self.reviewed).objects.select_related("episode").get(pk=self.reviewed.pk)
        try:
            set_start(sentence, {"nudge": "0.1" if turn % 2 else "-0.1"})
        except StartError:  # a nudge past a neighbour, which the timings import just moved: refused, fine
            pass

    def timings_import(self, turn):
        import_timings(Episode.objects.get(pk=self.episode.pk), VTT, "times.vtt")

    def new_note(self, turn):
        sentence = random.choice(self.kept)
        note = Note(
            episode=Episode.objects.get(pk=self.episode.pk), author=self.authors[turn % 3],
            first_sentence=sentence, last_sentence=sentence, quote_exact=sentence.text,
            body="At the same time", body_html="<p>At the same time</p>",
            idempotency_key=uuid.uuid4().hex, status=Note.Status.APPROVED,
        )
        self.posted.append(save_once(note).pk)


WRITERS = ["moderation", "review", "timings_import", "new_note"]
RACES = (
    [(writer, "transcript_import") for writer in WRITERS]
    + list(itertools.combinations(WRITERS, 2))
    + [(*WRITERS, "transcript_import")]
)


def race(stage, writers):
    """Each writer in a thread of its own, round and round; returns (turns, failures)."""
    turns = dict.fromkeys(writers, 0)
    failures = []
    until, give_up = time.monotonic() + SECONDS, time.monotonic() + 60

    def going_on():
        now = time.monotonic()
        return not failures and now < give_up and (now < until or min(turns.values()) < MIN_TURNS)

    def run(writer):
        try:
            while going_on():
                getattr(stage, writer)(turns[writer])
                turns[writer] += 1
        except Exception as error:
            failures.append(f"{writer}: {error!r}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=[writer]) for writer in writers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return turns, failures


@pytest.mark.parametrize("writers", RACES, ids=["+".join(writers) for writers in RACES])
def test_writers_at_once_never_deadlock_or_half_write(writers):
    stage = Stage()
    turns, failures = race(stage, writers)

    assert failures == []
    assert min(turns.values()) >= MIN_TURNS, turns  # each went round, so they did overlap
    episode = Episode.objects.get(pk=stage.episode.pk)

    # The stored transcript is the one its rows give now: rendering again changes nothing.
    stored = (episode.transcript_html, episode.transcript_plain)
    episode.render_transcript()
    assert (episode.transcript_html, episode.transcript_plain) == stored

    # The badges anonymous readers see count the notes as they are.
    fresh = Note.objects.filter(episode=episode).visible_to(AnonymousUser()).badge_counts()
    assert [tuple(pair) for pair in episode.public_note_counts] == sorted(fresh.items())

    # Every note posted is there, and followed its sentence through the imports.
    assert Note.objects.filter(pk__in=stage.posted).count() == len(stage.posted)
    assert not Note.objects.filter(orphaned=True).exists()

    # The starts are in order, and the episode is timed.
    starts = [s for s in episode.sentences.order_by("position").values_list("start", flat=True) if s is not None]
    assert starts == sorted(starts) and episode.timing == Episode.Timing.TIMED

    # The moderated note is as its last logged decision left it.
    last = ModerationEvent.objects.filter(note=stage.moderated).order_by("-created", "-pk").first()
    if last is not None:
        assert Note.objects.get(pk=stage.moderated.pk).status == MODERATED[last.action]


def test_a_note_posted_while_its_episode_is_deleted_waits_then_is_refused_cleanly():
    """The delete holds the episode; the note waits for it, then finds it gone: no deadlock, no orphan."""
    stage = Stage()
    deleting, outcome = threading.Event(), []

    def delete():
        try:
            episode = Episode.objects.get(pk=stage.episode.pk)
            with episode.writing():
                deleting.set()
                episode.delete()
                time.sleep(0.3)  # still holding the episode when the note comes
        finally:
            connections.close_all()

    def post():
        deleting.wait()
        try:
            stage.new_note(0)
            outcome.append("saved")
        except Exception as error:
            outcome.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=delete), threading.Thread(target=post)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [type(error).__name__ for error in outcome] == ["PassageGone"]
    assert not Note.objects.exists() and not Episode.objects.filter(pk=stage.episode.pk).exists()

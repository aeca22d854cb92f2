"""
Episodes and their sentences.

A Sentence is the unit of reading and timing. Mentions and citations hang off
sentences; the episode keeps its transcript pre-rendered (with links,
popovers and footnotes) so a page view never walks sentences one by one.
"""

import threading
from contextlib import contextmanager
from functools import cached_property

from django.db import models, transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone

from ..rendering import transcript_html
from ..reverse_cache import cached_reverse
from ..signals import transcript_rendered
from .entries import Mention
from .search_fields import search_document
from .sources import Citation


#: The catalogue's orders: the key in ?order=, its label, the ordering. Episodes with
#: no number (trailers, extras) come after the numbered ones.
ORDERS = {
    "newest": ("Newest first", [F("published").desc(nulls_last=True), F("number").desc(nulls_last=True), "pk"]),
    "number": ("By number", [F("number").asc(nulls_last=True), F("published").asc(nulls_last=True), "pk"]),
}


# The nearest episode on each side, by number and within the series, in one
# query. Written out because the ORM spent longer composing its four
# subqueries than the database took to run them (the episode page's largest
# cost before rendering). A NULL number or part simply matches nothing.
NEIGHBOURS_SQL = """
    SELECT id, number, title, slug, series_id, part, updated FROM episodes_episode
    WHERE id <> %s AND NOT is_draft AND id IN (
        (SELECT id FROM episodes_episode WHERE NOT is_draft AND number < %s ORDER BY number DESC LIMIT 1),
        (SELECT id FROM episodes_episode WHERE NOT is_draft AND number > %s ORDER BY number LIMIT 1),
        (SELECT id FROM episodes_episode WHERE NOT is_draft AND series_id = %s AND part < %s
         ORDER BY part DESC, number DESC, id DESC LIMIT 1),
        (SELECT id FROM episodes_episode WHERE NOT is_draft AND series_id = %s AND part > %s
         ORDER BY part, number, id LIMIT 1)
    )
"""


# The episodes this thread's open writing() blocks hold, so a nested writing() of the
# same episode costs no query and Episode.held_for_writing() can answer.
_held = threading.local()


def _held_ids():
    if not hasattr(_held, "ids"):
        _held.ids = set()
    return _held.ids


class EpisodeQuerySet(models.QuerySet):
    def in_order(self, order):
        """The catalogue's order (a key of ORDERS), with each episode's series."""
        return self.select_related("series").order_by(*ORDERS[order][1])

    def published(self):
        """What listeners may see: every episode but the drafts."""
        return self.filter(is_draft=False)

    def visible_to(self, user):
        """Drafts too for staff (to check an episode before publishing it); published ones for everyone else."""
        return self if user.is_staff else self.published()

    def untimed(self):
        """Episodes with a transcript but no timings at all."""
        return self.filter(timing=Episode.Timing.NONE, sentences__isnull=False).distinct()

    @contextmanager
    def writing(self):
        """
        The one way to write to episodes: a transaction that first locks these
        episodes' rows, in id order, and yields their ids. Every writer of an
        episode's sentences, timings, mentions, citations, notes or rendered
        transcript opens it before anything else, so writers queue on the
        episode and none holds a sentence or a note while it waits for the
        episode: no lock-order deadlock (docs/load-faults.md). A writer of
        several episodes locks them all here, at once, in id order.

        On PostgreSQL the lock is FOR NO KEY UPDATE, which new notes' and
        sentences' foreign-key checks don't wait for; on SQLite the IMMEDIATE
        transaction (settings) already serialises writers. Nested, it locks only
        what the enclosing block does not hold. Read what you decide on inside it.
        """
        held = _held_ids()
        with transaction.atomic():
            rows = self.select_for_update(no_key=True, of=("self",)).order_by("pk").values_list("pk", flat=True)
            ids = list(dict.fromkeys(rows))  # a filter across a relation can repeat an episode
            new = set(ids) - held
            held |= new
            try:
                yield ids
            finally:
                held -= new


class Episode(models.Model):
    class Timing(models.TextChoices):
        NONE = "none", "No timings"
        ESTIMATED = "estimated", "Estimated"
        TIMED = "timed", "Timed"
        ALIGNED = "aligned", "Aligned to the audio"

    # Trailers and bonus episodes in a feed often have no number.
    number = models.PositiveIntegerField(unique=True, null=True, blank=True)
    title = models.CharField(max_length=200)
    # The feed's title exactly as published ("Episode 138 - The Great Purges"), when the
    # import gave pages a shorter one (the number shown beside it): nothing of it is lost.
    published_title = models.CharField(max_length=200, blank=True, editable=False)
    slug = models.SlugField(max_length=200, unique=True)
    tagline = models.CharField(max_length=300, blank=True)
    series = models.ForeignKey(
        "episodes.Series", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="episodes",
    )
    part = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Part within the series.")
    published = models.DateField(null=True, blank=True)
    is_draft = models.BooleanField(
        "draft", default=False,
        help_text="Hidden from listeners (pages, the feed, the sitemap and search) until it is published.",
    )
    published_is_transcript_date = models.BooleanField(
        "dated by its transcript", default=False,
        help_text="The release date is not known: “published” is the day the transcript was added.",
    )
    guid = models.CharField(
        "feed GUID", max_length=500, unique=True, null=True, blank=True,
        help_text="The item's guid in the podcast's feed; re-imports match on it.",
    )
    description = models.TextField(blank=True, help_text="The feed's show notes, sanitised HTML.")
    audio_type = models.CharField("audio MIME type", max_length=100, blank=True)
    audio_length = models.PositiveBigIntegerField("audio size in bytes", null=True, blank=True)
    # What the last feed import wrote, so a re-import leaves editors' changes alone.
    feed_values = models.JSONField(default=dict, blank=True, editable=False)
    audio = models.FileField(upload_to="audio/", blank=True)
    audio_url = models.URLField(
        "audio URL", max_length=500, blank=True, help_text="Used when no file is uploaded."
    )
    duration = models.DurationField(null=True, blank=True)
    audio_is_synthetic = models.BooleanField(
        default=False, help_text="A generated narration standing in for the real audio."
    )
    audio_note = models.CharField(
        max_length=300, blank=True, help_text="Why there is no audio, when there is none."
    )
    # Set by the code that writes timings, from what it wrote: never chosen by hand.
    timing = models.CharField(max_length=10, choices=Timing, default=Timing.NONE, editable=False)
    summary = models.TextField(blank=True)
    # Written by render_transcript() whenever sentences, mentions or
    # citations change; pages serve it as it is.
    transcript_html = models.TextField(blank=True, editable=False)
    transcript_rendered_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The words alone, a paragraph to a line, for the page's JSON-LD: written with
    # transcript_html so an episode page needn't read its sentences.
    transcript_plain = models.TextField(blank=True, editable=False)
    # With transcript_rendered_at, says when the page last changed (ETags, page cache).
    updated = models.DateTimeField(auto_now=True)
    # The note badges anonymous readers see, [[sentence position, threads], …]: written
    # whenever a note or the transcript changes (notes/models.py), so their
    # pages need no note query.
    public_note_counts = models.JSONField(default=list, blank=True, editable=False)

    objects = EpisodeQuerySet.as_manager()

    class Meta:
        ordering = ["number"]

    def __str__(self):
        return self.numbered_title

    @contextmanager
    def writing(self):
        """
        EpisodeQuerySet.writing() for this episode: with episode.writing(): …
        Episode.DoesNotExist when it was deleted meanwhile.
        """
        if self.pk in _held_ids():  # an enclosing block holds it: a savepoint, no query
            with transaction.atomic():
                yield self
            return
        with Episode.objects.filter(pk=self.pk).writing() as ids:
            if not ids:
                raise Episode.DoesNotExist(f"Episode {self.pk} was deleted.")
            yield self

    @staticmethod
    def held_for_writing(episode_id):
        """Whether an open writing() block of this thread holds the episode (for code run by signals)."""
        return episode_id in _held_ids()

    @property
    def label(self):
        """How pages name the episode's place in the show: "Episode 138", or "Extra" without a number."""
        return "Extra" if self.number is None else f"Episode {self.number}"

    @property
    def numbered_title(self):
        """"138: The Great Purges", or the title alone for an episode with no number."""
        return self.title if self.number is None else f"{self.number}: {self.title}"

    def get_absolute_url(self):
        return cached_reverse("episodes:detail", self.slug)

    @property
    def audio_source(self):
        """Where the player gets the audio: our ranged view for files, else the URL."""
        if self.audio:
            return reverse("episodes:audio", args=[self.slug])
        return self.audio_url

    @cached_property
    def neighbours(self):
        """
        {"previous", "next"} by number and {"previous_part", "next_part"} within
        the series, each an Episode (only what a link needs) or None, from one query.
        """
        found = dict.fromkeys(["previous", "next", "previous_part", "next_part"])
        has_part = self.series_id is not None and self.part is not None
        if self.number is None and not has_part:
            return found
        number, series, part = self.number, self.series_id, self.part
        others = list(
            Episode.objects.raw(NEIGHBOURS_SQL, [self.pk, number, number, series, part, series, part])
        )
        # Each subquery found the nearest episode on its side, so the nearest of these few is it.
        if self.number is not None:
            numbered = [other for other in others if other.number is not None]
            found["previous"] = max((o for o in numbered if o.number < self.number), key=lambda o: o.number, default=None)
            found["next"] = min((o for o in numbered if o.number > self.number), key=lambda o: o.number, default=None)
        if self.series_id and self.part is not None:
            parts = [o for o in others if o.series_id == self.series_id and o.part is not None]
            found["previous_part"] = max((o for o in parts if o.part < self.part), key=lambda o: o.part, default=None)
            found["next_part"] = min((o for o in parts if o.part > self.part), key=lambda o: o.part, default=None)
        return found

    def is_timed(self):
        return self.timing != self.Timing.NONE

    def sentence_at(self, seconds):
        """The sentence being spoken at a moment (the last one started by then)."""
        return (
            self.sentences.filter(start__isnull=False, start__lte=seconds)
            .order_by("-start", "-position")
            .first()
        ) or self.sentences.filter(start__isnull=False).order_by("start").first()

    def estimate_timings(self, pause_weight=12):
        """Spread the known duration over sentences in proportion to their spoken length."""
        if not self.duration:
            raise ValueError("An estimate needs the episode's duration.")
        with self.writing():
            texts = list(self.sentences.order_by("position").values_list("text", flat=True))
            weights = [len(text) + pause_weight for text in texts]
            scale = self.duration.total_seconds() / (sum(weights) or 1)
            timings, cursor = [], 0.0
            for weight in weights:
                start = cursor
                cursor += weight * scale
                timings.append((round(start, 3), round(cursor - pause_weight * scale, 3), []))
            self.save_timings(timings, self.Timing.ESTIMATED)

    def save_timings(self, timings, timing):
        """
        Store [(start, end, words), …] for the sentences in order, then re-render.
        With a fourth value, (…, set_by_editor), a plan's (timings/changes.py):
        the aligner's confidence goes with every start it no longer vouches for.
        The status says what the data holds: with no start at all, "No timings".
        """
        with self.writing():
            sentences = list(self.sentences.order_by("position"))
            fields = ["start", "end", "words"]
            for sentence, (start, end, words, *editors) in zip(sentences, timings, strict=True):
                sentence.start, sentence.end, sentence.words = start, end, words or []
                if editors:
                    sentence.start_set_by_editor = editors[0]
                    sentence.confidence = sentence.confidence if editors[0] else None
            if timings and len(timings[0]) == 4:
                fields += ["start_set_by_editor", "confidence"]
            Sentence.objects.bulk_update(sentences, fields, batch_size=500)
            if not any(sentence.start is not None for sentence in sentences):
                timing = self.Timing.NONE
            # A chapter that opens at a sentence starts when that sentence is spoken.
            self.chapters.filter(sentence__start__isnull=False).update(
                start=Subquery(Sentence.objects.filter(pk=OuterRef("sentence")).values("start"))
            )
            self.timing = timing
            self.save(update_fields=["timing"])
            self.render_transcript()

    def timings_snapshot(self):
        """The sentences' timings as they are, for an undo: see TimingImport.previous."""
        rows = self.sentences.order_by("position").values_list(
            "pk", "start", "end", "words", "confidence", "start_set_by_editor"
        )
        return {"timing": self.timing, "sentences": [list(row) for row in rows]}

    def restore_timings(self, snapshot):
        """Put back a timings_snapshot(); False when the sentences are no longer the same ones."""
        with self.writing():
            sentences = list(self.sentences.order_by("position"))
            rows = snapshot["sentences"]
            if [sentence.pk for sentence in sentences] != [row[0] for row in rows]:
                return False
            for sentence, (_, start, end, words, confidence, editors) in zip(sentences, rows):
                sentence.start, sentence.end, sentence.words = start, end, words
                sentence.confidence, sentence.start_set_by_editor = confidence, editors
            Sentence.objects.bulk_update(
                sentences, ["start", "end", "words", "confidence", "start_set_by_editor"], batch_size=500
            )
            self.chapters.filter(sentence__start__isnull=False).update(
                start=Subquery(Sentence.objects.filter(pk=OuterRef("sentence")).values("start"))
            )
            self.timing = snapshot["timing"]
            self.save(update_fields=["timing"])
            self.render_transcript()
            return True

    def render_transcript(self):
        """Store the transcript as pages show it; then tell the apps that annotate it (signals)."""
        with self.writing():
            sentences = list(self.sentences.all())
            mentions = (
                Mention.objects.visible().filter(sentence__episode=self)
                .select_related("term", "person").order_by("sentence_id", "start")
            )
            citations = (
                Citation.objects.filter(sentence__episode=self)
                .select_related("source", "sentence").order_by("sentence__position", "pk")
            )
            self.transcript_html = transcript_html(self, sentences, mentions, citations)
            self.transcript_plain = self.plain_text()
            self.transcript_rendered_at = timezone.now()
            self.save(update_fields=["transcript_html", "transcript_plain", "transcript_rendered_at"])
            transcript_rendered.send(sender=Episode, episode=self)

    def plain_text(self):
        """The episode's words, a paragraph to a line."""
        paragraphs = {}
        for paragraph, text in self.sentences.order_by("position").values_list("paragraph", "text"):
            paragraphs.setdefault(paragraph, []).append(text)
        return "\n\n".join(" ".join(texts) for texts in paragraphs.values())


class Sentence(models.Model):
    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="sentences")
    position = models.PositiveIntegerField(help_text="1-based order within the episode.")
    paragraph = models.PositiveIntegerField(help_text="1-based paragraph number.")
    text = models.TextField()
    start = models.FloatField(null=True, blank=True, help_text="Seconds from the start.")
    end = models.FloatField(null=True, blank=True, help_text="Seconds from the start.")
    # [[char_start, char_end, t_start, t_end], …] where word-level evidence exists.
    words = models.JSONField(default=list, blank=True)
    confidence = models.FloatField(
        null=True, blank=True, help_text="How sure the audio alignment is of the start, 0 to 1."
    )
    start_set_by_editor = models.BooleanField(
        default=False, help_text="An editor set the start by hand; re-alignment keeps it."
    )
    search_vector = search_document(("text", "A"))

    class Meta:
        ordering = ["episode", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["episode", "position"], name="sentence_unique_position"
            ),
            models.CheckConstraint(
                condition=Q(start__isnull=True) | Q(start__gte=0), name="sentence_start_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(start__isnull=True) | Q(end__isnull=True) | Q(start__lte=F("end")),
                name="sentence_start_before_end",
            ),
            models.CheckConstraint(condition=~Q(text=""), name="sentence_text_not_empty"),
        ]

    def __str__(self):
        return f"{self.episode.label} §{self.position}: {self.text[:60]}"

    @property
    def anchor(self):
        return f"s-{self.position}"

    def get_absolute_url(self):
        return f"{self.episode.get_absolute_url()}#{self.anchor}"

"""
Episodes, their sentences, and the glossary, people and sources they mention.

A Sentence is the unit of reading and timing. Mentions and citations hang off
sentences; the episode keeps its transcript pre-rendered (with links,
popovers and footnotes) so a page view never walks sentences one by one.
"""

from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models import Count, F, Func, OuterRef, Q, Subquery, Value
from django.db.models.functions import Concat, Lower
from django.urls import reverse
from django.utils import timezone

from .reverse_cache import cached_reverse


class PostgresSearchDocument(Func):
    """
    A weighted tsvector stored on PostgreSQL. SQLite searches its FTS5 tables
    (see the search migration) instead, so there the column stays NULL.
    """

    output_field = SearchVectorField()

    def __init__(self, *weighted_fields):
        vector = None
        for field, weight in weighted_fields:
            part = SearchVector(field, weight=weight, config="english")
            vector = part if vector is None else vector + part
        super().__init__(vector)

    def as_sql(self, compiler, connection, **extra_context):
        return "NULL", []

    def as_postgresql(self, compiler, connection, **extra_context):
        return compiler.compile(self.source_expressions[0])


def search_document(*weighted_fields):
    return models.GeneratedField(
        expression=PostgresSearchDocument(*weighted_fields),
        output_field=SearchVectorField(null=True),
        db_persist=True,
        editable=False,
    )


def search_names(*fields):
    """Every name an entry goes by, lower-cased, one per line: for exact and fuzzy matching."""
    parts = []
    for field in fields:
        parts += [field, Value("\n")]
    return models.GeneratedField(
        expression=Lower(Concat(*parts[:-1], output_field=models.TextField())),
        output_field=models.TextField(),
        db_persist=True,
        editable=False,
    )


class EpisodeQuerySet(models.QuerySet):
    def lock_for_writing(self):
        """
        Lock the episode's row (filter by pk) at the start of any write to its
        sentences or notes; False if it is gone. Every such writer takes the
        episode before the sentences, so none holds one while it waits for the
        other: a note posted during a transcript import could deadlock. FOR NO
        KEY UPDATE, which the foreign-key checks of new notes don't wait for.
        """
        return self.select_for_update(no_key=True).exists()


class Episode(models.Model):
    class Timing(models.TextChoices):
        NONE = "none", "No timings"
        ESTIMATED = "estimated", "Estimated"
        TIMED = "timed", "Timed"
        ALIGNED = "aligned", "Aligned to the audio"

    # Trailers and bonus episodes in a feed often have no number.
    number = models.PositiveIntegerField(unique=True, null=True, blank=True)
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    tagline = models.CharField(max_length=300, blank=True)
    series = models.ForeignKey(
        "episodes.Series", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="episodes",
    )
    part = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Part within the series.")
    published = models.DateField(null=True, blank=True)
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
    timing = models.CharField(max_length=10, choices=Timing, default=Timing.NONE)
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
    # whenever a note or the transcript changes (episodes/notes.py), so their
    # pages need no note query.
    public_note_counts = models.JSONField(default=list, blank=True, editable=False)

    objects = EpisodeQuerySet.as_manager()

    class Meta:
        ordering = ["number"]

    def __str__(self):
        return f"{self.number}: {self.title}"

    def get_absolute_url(self):
        return cached_reverse("episodes:detail", self.slug)

    @property
    def audio_source(self):
        """Where the player gets the audio: our ranged view for files, else the URL."""
        if self.audio:
            return reverse("episodes:audio", args=[self.slug])
        return self.audio_url

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
        """Store [(start, end, words), …] for the sentences in order, then re-render."""
        sentences = list(self.sentences.order_by("position"))
        for sentence, (start, end, words) in zip(sentences, timings, strict=True):
            sentence.start, sentence.end, sentence.words = start, end, words or []
        Sentence.objects.bulk_update(sentences, ["start", "end", "words"], batch_size=500)
        # A chapter that opens at a sentence starts when that sentence is spoken.
        self.chapters.filter(sentence__start__isnull=False).update(
            start=Subquery(Sentence.objects.filter(pk=OuterRef("sentence")).values("start"))
        )
        self.timing = timing
        self.save(update_fields=["timing"])
        self.render_transcript()

    def relink(self, linker=None):
        """Recompute automatic mentions, keep the editor's, then re-render."""
        from .linking import relink_episode

        return relink_episode(self, linker)

    def render_transcript(self):
        from .rendering import render_transcript

        self.transcript_html = render_transcript(self)
        self.transcript_plain = self.plain_text()
        self.transcript_rendered_at = timezone.now()
        self.save(update_fields=["transcript_html", "transcript_plain", "transcript_rendered_at"])
        # Sentences may have moved under the notes.
        store_public_note_counts(self.pk)

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
        return f"{self.episode.number} §{self.position}: {self.text[:60]}"

    @property
    def anchor(self):
        return f"s-{self.position}"

    def get_absolute_url(self):
        return f"{self.episode.get_absolute_url()}#{self.anchor}"


class EntityQuerySet(models.QuerySet):
    def matching(self, query):
        """Entries whose name or an alias contains the query (the list filter)."""
        query = " ".join(query.split())
        if not query:
            return self
        return self.filter(Q(name__icontains=query) | Q(aliases__icontains=query))

    def most_mentioned(self):
        """Entries the episodes name, most often first, with mention_count (suppressed ones don't count)."""
        # A count per entry from the mention table's index, not a GROUP BY over every
        # column of the entry (biographies included) joined to every mention.
        field = self.model._meta.model_name  # Mention.term or Mention.person
        counts = (
            Mention.objects.filter(**{field: OuterRef("pk")}).exclude(kind=Mention.Kind.SUPPRESSED)
            .order_by().values(field).annotate(count=Count("pk")).values("count")
        )
        return (
            self.annotate(mention_count=Subquery(counts))
            .filter(mention_count__gt=0)
            .order_by("-mention_count", "name")
        )


class Entity(models.Model):
    """What terms and people share: a name, aliases the linker looks for, a page."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    aliases = models.TextField(
        blank=True,
        help_text=(
            "One per line. Matched as whole words; plurals and possessives come free. "
            "A capitalised alias only matches capitalised text."
        ),
    )
    reference = models.URLField("external reference", max_length=500, blank=True)

    objects = EntityQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def alias_list(self):
        """Aliases are edited one per line; blank lines and stray spaces don't count."""
        return [line.strip() for line in self.aliases.splitlines() if line.strip()]


class Term(Entity):
    class Category(models.TextChoices):
        ORGANISATION = "organisation", "Organisation"
        EVENT = "event", "Event"
        DOCUMENT = "document", "Document"
        CONCEPT = "concept", "Concept"
        PLACE = "place", "Place"
        POLICY = "policy", "Policy"

    category = models.CharField(max_length=20, choices=Category, default=Category.CONCEPT)
    definition = models.CharField(max_length=300, help_text="Shown in the popover.")
    article = models.TextField(blank=True)
    search_names = search_names("name", "aliases")
    search_vector = search_document(
        ("name", "A"), ("aliases", "A"), ("definition", "B"), ("article", "C")
    )
    episode_wording = models.TextField(
        blank=True, help_text="Where an episode's wording differs from the record."
    )
    related = models.ManyToManyField("self", blank=True)

    class Meta(Entity.Meta):
        constraints = [
            models.CheckConstraint(condition=~Q(definition=""), name="term_definition_not_empty"),
        ]

    def get_absolute_url(self):
        return cached_reverse("episodes:term_detail", self.slug)


class Person(Entity):
    full_name = models.CharField(max_length=300, blank=True)
    born = models.SmallIntegerField(null=True, blank=True)
    died = models.SmallIntegerField(null=True, blank=True)
    role = models.CharField(max_length=160, help_text="One line, shown in the popover.")
    biography = models.TextField(blank=True)
    search_names = search_names("name", "full_name", "aliases")
    search_vector = search_document(
        ("name", "A"), ("full_name", "A"), ("aliases", "A"), ("role", "B"), ("biography", "C")
    )

    class Meta(Entity.Meta):
        verbose_name_plural = "people"
        constraints = [
            models.CheckConstraint(
                condition=Q(born__isnull=True) | Q(died__isnull=True) | Q(born__lte=F("died")),
                name="person_born_before_died",
            ),
        ]

    def get_absolute_url(self):
        return cached_reverse("episodes:person_detail", self.slug)

    @property
    def life_years(self):
        born = self.born if self.born is not None else "?"
        died = self.died if self.died is not None else ""
        if self.born is None and self.died is None:
            return ""
        return f"{born}–{died}"


class MentionQuerySet(models.QuerySet):
    def visible(self):
        return self.exclude(kind=Mention.Kind.SUPPRESSED)

    def of(self, entity):
        field = "person" if isinstance(entity, Person) else "term"
        return self.filter(**{field: entity})

    def in_reading_order(self):
        return self.select_related("sentence__episode").order_by(
            "sentence__episode__number", "sentence__position", "start"
        )


class SpanInSentence:
    """The sentence's text around a [start:end] span, for showing a mention in context."""

    __slots__ = ()  # so the X-Ray strip's slotted Hit stays slotted

    @property
    def text_before(self):
        return self.sentence.text[: self.start]

    @property
    def matched_text(self):
        return self.sentence.text[self.start : self.end]

    @property
    def text_after(self):
        return self.sentence.text[self.end :]


class Mention(SpanInSentence, models.Model):
    """A term or person named in a sentence, at a character span."""

    class Kind(models.TextChoices):
        AUTO = "auto", "Found by the linker"
        ADDED = "added", "Added by an editor"
        SUPPRESSED = "suppressed", "Suppressed by an editor"

    sentence = models.ForeignKey(Sentence, on_delete=models.CASCADE, related_name="mentions")
    term = models.ForeignKey(
        Term, null=True, blank=True, on_delete=models.CASCADE, related_name="mentions"
    )
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.CASCADE, related_name="mentions"
    )
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    kind = models.CharField(max_length=10, choices=Kind, default=Kind.AUTO)

    objects = MentionQuerySet.as_manager()

    class Meta:
        ordering = ["sentence", "start"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(term__isnull=False) & Q(person__isnull=True))
                | (Q(term__isnull=True) & Q(person__isnull=False)),
                name="mention_term_xor_person",
            ),
            models.CheckConstraint(condition=Q(start__lt=F("end")), name="mention_span_not_empty"),
        ]
        indexes = [models.Index(fields=["sentence", "kind"])]

    def __str__(self):
        return f"{self.entity} in {self.sentence_id} [{self.start}:{self.end}]"

    @property
    def entity(self):
        return self.term or self.person


    def clean(self):
        from django.core.exceptions import ValidationError

        if self.sentence_id and self.end > len(self.sentence.text):
            raise ValidationError(
                {"end": f"The sentence is only {len(self.sentence.text)} characters long."}
            )


class Source(models.Model):
    class Kind(models.TextChoices):
        BOOK = "book", "Book"
        DOCUMENT = "document", "Document"
        SPEECH = "speech", "Speech"
        REPORT = "report", "Report"
        NEWSPAPER = "newspaper", "Newspaper"
        ARTICLE = "article", "Article"

    slug = models.SlugField(max_length=200, unique=True)
    author = models.CharField(max_length=300, blank=True)
    title = models.CharField(max_length=400)
    year = models.SmallIntegerField(null=True, blank=True)
    publisher = models.CharField(max_length=300, blank=True)
    kind = models.CharField(max_length=20, choices=Kind, default=Kind.BOOK)
    url = models.URLField("URL", max_length=500, blank=True)
    isbn = models.CharField("ISBN", max_length=20, blank=True)
    note = models.TextField(blank=True)
    search_names = search_names("title", "author")
    search_vector = search_document(
        ("title", "A"), ("author", "A"), ("publisher", "B"), ("note", "C")
    )

    class Meta:
        ordering = ["author", "title"]

    def __str__(self):
        return self.short_reference

    def get_absolute_url(self):
        return cached_reverse("episodes:source_detail", self.slug)

    @property
    def short_reference(self):
        parts = [self.author, self.title]
        return ", ".join(part for part in parts if part) + (f" ({self.year})" if self.year else "")


class Citation(models.Model):
    """A source quoted or relied on in one sentence."""

    sentence = models.ForeignKey(Sentence, on_delete=models.CASCADE, related_name="citations")
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="citations")
    quoted_text = models.TextField(
        blank=True, help_text="The words of the sentence that come from the source."
    )
    locator = models.CharField(max_length=100, blank=True, help_text='For example "p. 134".')

    class Meta:
        ordering = ["sentence", "pk"]

    def __str__(self):
        return f"{self.source} at {self.sentence_id}"

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.sentence_id and self.quoted_text and self.quoted_text not in self.sentence.text:
            raise ValidationError({"quoted_text": "The quoted text is not in the sentence."})

    @property
    def quote_end(self):
        """Offset in the sentence where the footnote marker goes."""
        if self.quoted_text:
            index = self.sentence.text.find(self.quoted_text)
            if index >= 0:
                return index + len(self.quoted_text)
        return len(self.sentence.text)


# Models kept in their own modules; Django finds models through this one.
from .alignment_runs import AlignmentRun  # noqa: E402,F401
from .catalogue import Chapter, Credit, Podcast, Series, TranscriptLink  # noqa: E402,F401
from .events import Event  # noqa: E402,F401
from .notes import Flag, ModerationEvent, Note, store_public_note_counts  # noqa: E402,F401

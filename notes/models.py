"""
Discussion notes: listeners' notes anchored to a passage and a moment.

A note is anchored the W3C Web Annotation way: the sentences it covers, a
TextQuoteSelector (exact, prefix, suffix) and a TextPositionSelector (start,
end) over the text of those sentences joined by single spaces, plus the
audio moment (a media fragment t=start,end) when the episode is timed. After
a transcript edit, notes are re-anchored by their quote (notes/anchoring.py);
a note whose quote is gone is kept and marked orphaned.
"""

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import models, transaction
from django.db.models import Count, Q
from django.db.models.signals import post_delete
from django.urls import reverse
from django.utils import timezone

from episodes.models import Episode
from episodes.moments import moment_parameter


class NoteQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Approved notes, plus the user's own pending ones; staff see the queue elsewhere."""
        visible = Q(status=Note.Status.APPROVED)
        if user.is_authenticated:
            visible |= Q(author=user, status=Note.Status.PENDING)
        return self.filter(visible)

    def threads(self):
        return self.filter(parent__isnull=True)

    def public(self):
        """
        What everyone may see wherever notes are listed (feeds, search, annotation
        clients): approved, undeleted, and still anchored. An orphaned note is
        kept for its author and the moderators only.
        """
        return self.filter(status=Note.Status.APPROVED, deleted_at__isnull=True, orphaned=False)

    def in_reading_order(self):
        return self.order_by("orphaned", "first_sentence__position", "position_start", "created")

    def badges_for(self, user, episode):
        """{paragraph: threads} the user sees; anonymous readers' were counted at write time."""
        if not user.is_authenticated:
            return dict(episode.public_note_counts)
        return self.filter(episode=episode).visible_to(user).badge_counts()

    def badge_counts(self):
        """
        {first sentence position: threads starting there}, in one aggregate
        query: the transcript's badges sum them over each segment.
        """
        return dict(
            self.filter(deleted_at__isnull=True, orphaned=False)
            .threads()
            .values_list("first_sentence__position")
            .annotate(count=Count("pk"))
            .values_list("first_sentence__position", "count")
        )


class NoteWrittenOutsideItsEpisode(RuntimeError):
    """A note was written without its episode's writing() held: the lock order was broken."""


def store_public_note_counts(episode_id):
    """
    Write the badges every anonymous reader sees into Episode.public_note_counts,
    so their episode pages make no note query.

    Runs whenever a note is saved or deleted and when the transcript is
    re-rendered (connected in notes/apps.py), inside the writer's
    Episode.writing(), which locked the episode before anything else: of two
    notes posted at once, the writer that counts last has seen both, and the
    count takes no lock the writer does not hold already. The bulk writers
    that send no signal count once themselves (re-anchoring), or change
    nothing counted here (a ban rejects notes that were waiting).
    """
    if not Episode.held_for_writing(episode_id):
        raise NoteWrittenOutsideItsEpisode(
            f"Notes of episode {episode_id} were changed outside its Episode.writing() block."
        )
    counts = Note.objects.filter(episode_id=episode_id).visible_to(AnonymousUser()).badge_counts()
    Episode.objects.filter(pk=episode_id).update(
        public_note_counts=sorted(counts.items(), key=lambda item: item[0] or 0)
    )


def recount_after_commit(episode_id):
    with Episode.objects.filter(pk=episode_id).writing() as found:
        if found:  # not deleted meanwhile
            store_public_note_counts(episode_id)


def note_changed(instance, signal, raw=False, **kwargs):
    if raw:  # a fixture being loaded brings its episodes' counts with it
        return
    episode_id = instance.episode_id
    if signal is post_delete and not Episode.held_for_writing(episode_id):
        # A cascade from elsewhere (an account deleted) has no episode locked:
        # count once it is committed, in a writing() of its own.
        transaction.on_commit(lambda: recount_after_commit(episode_id))
        return
    store_public_note_counts(episode_id)


def transcript_rendered(episode, **kwargs):
    """Sentences may have moved under the notes."""
    store_public_note_counts(episode.pk)


class Note(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for a moderator"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        SPAM = "spam", "Spam"

    episode = models.ForeignKey("episodes.Episode", on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notes")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies"
    )
    body = models.TextField(help_text="Markdown: emphasis, links, lists, quotes, inline code.")
    body_html = models.TextField(editable=False, help_text="Rendered and sanitised at write time.")
    status = models.CharField(max_length=10, choices=Status, default=Status.APPROVED, db_index=True)

    # The anchor (a reply shares its parent's).
    first_sentence = models.ForeignKey(
        "episodes.Sentence", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_sentence = models.ForeignKey(
        "episodes.Sentence", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    quote_exact = models.TextField(blank=True)
    quote_prefix = models.CharField(max_length=64, blank=True)
    quote_suffix = models.CharField(max_length=64, blank=True)
    position_start = models.PositiveIntegerField(default=0)
    position_end = models.PositiveIntegerField(default=0)
    media_start = models.FloatField(null=True, blank=True)
    media_end = models.FloatField(null=True, blank=True)
    orphaned = models.BooleanField(default=False, help_text="Its quote is no longer in the transcript.")

    created = models.DateTimeField(default=timezone.now, db_index=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    idempotency_key = models.CharField(max_length=64, help_text="One note per form, however often it is sent.")

    objects = NoteQuerySet.as_manager()

    class Meta:
        db_table = "episodes_note"  # made when notes lived in the episodes app
        ordering = ["created"]
        constraints = [
            models.UniqueConstraint(fields=["author", "idempotency_key"], name="note_sent_once"),
            models.CheckConstraint(
                condition=Q(position_start__lte=models.F("position_end")), name="note_span_in_order"
            ),
        ]
        indexes = [models.Index(fields=["episode", "status", "parent"], name="episodes_no_episode_0d421a_idx")]

    def __str__(self):
        return f"Note {self.pk} by {self.author} on {self.episode_id}"

    def get_absolute_url(self):
        return reverse("notes:list", args=[self.episode.slug]) + f"#note-{self.pk}"

    @property
    def is_deleted(self):
        return self.deleted_at is not None

    @property
    def media_fragment(self):
        """The W3C media fragment of the note's moment: t=start,end."""
        if self.media_start is None:
            return ""
        end = f",{self.media_end:.3f}".rstrip("0").rstrip(".") if self.media_end is not None else ""
        return f"t={self.media_start:.3f}".rstrip("0").rstrip(".") + end

    def moment_url(self):
        if self.first_sentence_id is None:
            return ""
        return f"{self.listening_url()}#s-{self.first_sentence.position}"

    def in_place_url(self):
        """The episode page at the note: its words lit and its thread open (static/js/highlights.js)."""
        return f"{self.listening_url()}#note-{self.parent_id or self.pk}"

    def listening_url(self):
        """The episode page at the note's moment (?t= also brings its sentence into view without JavaScript)."""
        url = self.episode.get_absolute_url()
        if self.media_start is not None:
            url += f"?t={moment_parameter(self.media_start)}"
        return url

    @classmethod
    def initial_status_for(cls, user):
        """A new account's first notes wait for a moderator (settings.NOTES_HELD_FOR_NEW_ACCOUNTS)."""
        if user.is_staff:
            return cls.Status.APPROVED
        approved = cls.objects.filter(author=user, status=cls.Status.APPROVED).count()
        if approved < settings.NOTES_HELD_FOR_NEW_ACCOUNTS:
            return cls.Status.PENDING
        return cls.Status.APPROVED

    def can_edit(self, user):
        return user.is_authenticated and user.pk == self.author_id and not self.is_deleted

    def as_annotation(self, absolute=str):
        """
        The note as a W3C Web Annotation (JSON-LD). `absolute` makes a path an
        IRI (request.build_absolute_uri); a reply targets its thread's annotation.
        """
        annotation = {
            "@context": "http://www.w3.org/ns/anno.jsonld",
            "id": absolute(reverse("notes:annotation", args=[self.pk])),
            "type": "Annotation",
            "motivation": "replying" if self.parent_id else "commenting",
            "creator": {"type": "Person", "name": self.author.public_name},
            "created": self.created.isoformat(),
            "body": {"type": "TextualBody", "value": self.body, "format": "text/markdown"},
        }
        if self.edited_at:
            annotation["modified"] = self.edited_at.isoformat()
        if self.parent_id:
            annotation["target"] = absolute(reverse("notes:annotation", args=[self.parent_id]))
            return annotation
        target = {
            "source": absolute(self.episode.get_absolute_url()),
            "selector": [
                {"type": "TextQuoteSelector", "exact": self.quote_exact,
                 "prefix": self.quote_prefix, "suffix": self.quote_suffix},
                {"type": "TextPositionSelector", "start": self.position_start, "end": self.position_end},
            ],
        }
        if self.media_fragment:
            target["selector"].append(
                {"type": "FragmentSelector", "conformsTo": "http://www.w3.org/TR/media-frags/",
                 "value": self.media_fragment}
            )
        annotation["target"] = target
        return annotation


class Flag(models.Model):
    class Reason(models.TextChoices):
        SPAM = "spam", "Spam or advertising"
        ABUSE = "abuse", "Abusive or hateful"
        OFF_TOPIC = "off_topic", "Off topic"
        WRONG = "wrong", "Factually wrong"
        OTHER = "other", "Something else"

    note = models.ForeignKey(Note, on_delete=models.CASCADE, related_name="flags")
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=20, choices=Reason)
    detail = models.CharField(max_length=300, blank=True)
    created = models.DateTimeField(default=timezone.now)
    resolved = models.BooleanField(default=False, db_index=True)

    class Meta:
        db_table = "episodes_flag"
        constraints = [models.UniqueConstraint(fields=["note", "reporter"], name="flag_once_per_reader")]

    def __str__(self):
        return f"{self.get_reason_display()} on note {self.note_id}"


class ModerationEvent(models.Model):
    """Who did what to which note or account, and when."""

    class Action(models.TextChoices):
        APPROVE = "approve", "Approved"
        REJECT = "reject", "Rejected"
        SPAM = "spam", "Marked as spam"
        BAN = "ban", "Banned the author"
        RESTORE = "restore", "Restored"
        FLAG = "flag", "Flagged"

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    note = models.ForeignKey(Note, null=True, blank=True, on_delete=models.SET_NULL, related_name="events")
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=10, choices=Action)
    reason = models.CharField(max_length=300, blank=True)
    created = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        db_table = "episodes_moderationevent"
        ordering = ["-created"]

    def __str__(self):
        return f"{self.actor} {self.get_action_display().lower()} note {self.note_id}"

"""
Suggested entries for an editor: names and terms found in a transcript that the
show has no entry for yet. Nothing links until an editor accepts a suggestion,
as a new entry or as an alias of an existing one; a rejected name is remembered
for the show, so it isn't proposed again.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from .finder import normalise


class Kind(models.TextChoices):
    PERSON = "person", "Person"
    PLACE = "place", "Place"
    ORGANISATION = "organisation", "Organisation"
    EVENT = "event", "Event"
    DOCUMENT = "document", "Document"
    TERM = "term", "Term"


class SuggestionQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(status=Suggestion.Status.PENDING)

    def for_queue(self):
        """Pending suggestions, the episode's most mentioned first, with their episodes."""
        return self.pending().select_related("episode").order_by("episode__number", "-score", "name")


class Suggestion(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for an editor"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"

    episode = models.ForeignKey("episodes.Episode", on_delete=models.CASCADE, related_name="suggestions")
    name = models.CharField(max_length=300)
    key = models.CharField(max_length=300, help_text="The name folded for matching: case, plurals, possessives.")
    kind = models.CharField(max_length=20, choices=Kind, default=Kind.TERM)
    reason = models.CharField(max_length=200, help_text="Why it was suggested.")
    near = models.CharField(max_length=300, blank=True, help_text="An existing entry this looks like a spelling of.")
    # [[sentence id, start, end], …]: every mention, for showing it in context.
    mentions = models.JSONField(default=list)
    score = models.FloatField(default=0)
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING, db_index=True)
    term = models.ForeignKey("episodes.Term", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    person = models.ForeignKey("episodes.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created = models.DateTimeField(auto_now_add=True)
    decided = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    objects = SuggestionQuerySet.as_manager()

    class Meta:
        ordering = ["-score", "name"]
        constraints = [
            models.UniqueConstraint(fields=["episode", "key"], name="suggestion_once_per_episode"),
            models.CheckConstraint(condition=~Q(term__isnull=False, person__isnull=False), name="suggestion_one_entry"),
        ]

    def __str__(self):
        return f"{self.name} ({self.get_kind_display().lower()}, {self.episode.label})"

    @property
    def entry(self):
        return self.term or self.person


class RejectedName(models.Model):
    """A name an editor rejected: never suggested again, in any episode of the show."""

    key = models.CharField(max_length=300, unique=True)
    name = models.CharField(max_length=300)
    rejected_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.name

    @classmethod
    def remember(cls, name, user):
        return cls.objects.get_or_create(key=normalise(name), defaults={"name": name, "rejected_by": user})[0]

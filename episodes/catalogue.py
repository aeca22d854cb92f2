"""
The podcast around the episodes: its series, its credits, chapters, and the
transcripts its own feed points at.

These rows come from the podcast's RSS feed (episodes/feed_import.py) or from an
editor, and feed our own /feed.xml back out. Credits are the people who make
the show (host, narrator, producer); they are kept apart from the historical
Person entries an episode talks about.
"""

from django.db import models
from django.db.models import Q

from .reverse_cache import cached_reverse


class Podcast(models.Model):
    """The show itself: one row, filled from the feed's channel or by an editor."""

    title = models.CharField(max_length=300)
    link = models.URLField(max_length=500, blank=True)
    description = models.TextField(blank=True)
    language = models.CharField(max_length=20, default="en")
    author = models.CharField(max_length=300, blank=True)
    image_url = models.URLField("image URL", max_length=500, blank=True)
    feed_url = models.URLField("feed URL", max_length=500, blank=True)
    guid = models.CharField("podcast GUID", max_length=100, blank=True)
    # What the last feed import wrote, so a re-import leaves editors' changes alone.
    feed_values = models.JSONField(default=dict, blank=True, editable=False)

    def __str__(self):
        return self.title


class Series(models.Model):
    """A run of episodes on one subject, e.g. "The Soviet Union", parts 1-8."""

    title = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=200, unique=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["title"]
        verbose_name_plural = "series"

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return cached_reverse("episodes:series_detail", self.slug)


class Credit(models.Model):
    """Someone who makes the show: for one episode, or the whole podcast when episode is empty."""

    episode = models.ForeignKey(
        "episodes.Episode", null=True, blank=True, on_delete=models.CASCADE, related_name="credits"
    )
    name = models.CharField(max_length=200)
    # Podcasting 2.0 taxonomy: https://podcasttaxonomy.com (role "host", group "cast", …)
    role = models.CharField(max_length=60, default="host")
    group = models.CharField(max_length=60, default="cast")
    href = models.URLField(max_length=500, blank=True)
    img = models.URLField("image", max_length=500, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["episode", "position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["episode", "name", "role"], name="credit_unique_per_episode"
            ),
            models.CheckConstraint(condition=~Q(name=""), name="credit_name_not_empty"),
        ]

    def __str__(self):
        return f"{self.name} ({self.role})"


class Chapter(models.Model):
    """A titled section of an episode's audio (Podcasting 2.0 JSON chapters)."""

    episode = models.ForeignKey(
        "episodes.Episode", on_delete=models.CASCADE, related_name="chapters"
    )
    start = models.FloatField(help_text="Seconds from the start.")
    title = models.CharField(max_length=300)
    url = models.URLField("URL", max_length=500, blank=True)
    img = models.URLField("image", max_length=500, blank=True)
    sentence = models.ForeignKey(
        "episodes.Sentence", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["episode", "start"]
        constraints = [
            models.CheckConstraint(condition=Q(start__gte=0), name="chapter_start_not_negative"),
        ]

    def __str__(self):
        return f"{self.title} @ {self.start:.0f}s"


class TranscriptLink(models.Model):
    """A podcast:transcript the source feed lists for an episode."""

    episode = models.ForeignKey(
        "episodes.Episode", on_delete=models.CASCADE, related_name="transcript_links"
    )
    url = models.URLField("URL", max_length=1000)
    type = models.CharField(max_length=100)
    language = models.CharField(max_length=20, blank=True)
    rel = models.CharField(max_length=40, blank=True)
    imported_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["episode", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["episode", "url"], name="transcript_link_unique_url"),
        ]

    def __str__(self):
        return f"{self.type} {self.url}"

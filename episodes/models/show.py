"""
The podcast around the episodes: its series, its credits, chapters, and the
transcripts its own feed points at.

These rows come from the podcast's RSS feed (episodes/feeds/imports.py) or from an
editor, and feed our own /feed.xml back out. Credits are the people who make
the show (host, narrator, producer); they are kept apart from the historical
Person entries an episode talks about.
"""

import time
from dataclasses import dataclass, field

from django.db import models
from django.templatetags.static import static
from django.db.models import Count, F, Max, Min, Q

from ..artwork import validate_cover_art
from ..reverse_cache import cached_reverse


#: How long each worker keeps the show it read (Podcast.objects.current()).
SHOW_MEMORY_SECONDS = 60


@dataclass
class Show:
    """The podcast as our pages and feed describe it."""

    title: str
    author: str
    description: str
    language: str = "en"
    link: str = ""
    image_url: str = ""  # absolute, or a path on this site (an upload, the demo's cover)
    owner_name: str = ""
    owner_email: str = ""
    credits: list = field(default_factory=list)


#: The demo show's cover, drawn once by episodes/demo/make_cover.py (3000 px square PNG).
DEMO_COVER = "podcast/cover.png"


def default_show(with_credits=False):
    """The demo's show (episodes/demo/episode.yaml), for a site with no Podcast row yet."""
    show = Show(
        title="History of the Second World War",
        author="Wesley Livesay",
        description=(
            "Wesley Livesay's narrative history of the Second World War. This companion feed "
            "carries each episode's transcript, chapters and credits for podcast apps."
        ),
        image_url=static(DEMO_COVER),
    )
    if with_credits:
        show.credits = [Credit(name="Wesley Livesay", role="host", group="cast")]
    return show


class PodcastManager(models.Manager):
    remembered = None  # (valid until, Show), per worker

    def current(self, with_credits=False):
        """
        The Podcast row (imported from the feed or entered by an editor) as a Show, else the demo's.

        Every episode page names the show (link previews, JSON-LD), so without
        credits each worker keeps it in memory for SHOW_MEMORY_SECONDS: saving or
        deleting the row clears the copy of the process that saved it at once
        (forget_show, connected in episodes/apps.py), and the other workers'
        copies within that time. (Even a Redis lookup per page cost the uncached
        episode page a tenth of its time on PostgreSQL.)
        """
        if with_credits:
            return self.load(with_credits=True)
        now = time.monotonic()
        remembered = PodcastManager.remembered
        if remembered is None or remembered[0] <= now:
            remembered = PodcastManager.remembered = (now + SHOW_MEMORY_SECONDS, self.load())
        return remembered[1]

    def load(self, with_credits=False):
        podcast = self.order_by("pk").first()
        if podcast is None:
            return default_show(with_credits)
        fallback = default_show()
        return Show(
            title=podcast.title or fallback.title,
            author=podcast.author,
            description=podcast.description or fallback.description,
            language=podcast.language or "en",
            link=podcast.link,
            image_url=podcast.image.url if podcast.image else podcast.image_url,
            owner_name=podcast.owner_name,
            owner_email=podcast.owner_email,
            credits=list(Credit.objects.filter(episode=None)) if with_credits else [],
        )


def forget_show(**kwargs):
    """Drop this worker's copy of the show: connected to Podcast's saves and deletes."""
    PodcastManager.remembered = None


class Podcast(models.Model):
    """The show itself: one row, filled from the feed's channel or by an editor."""

    title = models.CharField(max_length=300)
    link = models.URLField(max_length=500, blank=True)
    description = models.TextField(blank=True)
    language = models.CharField(max_length=20, default="en")
    author = models.CharField(max_length=300, blank=True)
    image_url = models.URLField("image URL", max_length=500, blank=True)
    # Directories list a show only with square artwork of 1400–3000 px (JPEG or PNG);
    # an upload wins over image_url. Checked by episodes/artwork.py, without Pillow.
    image = models.FileField(
        "cover art", upload_to="podcast/", blank=True, validators=[validate_cover_art],
        help_text="A square JPEG or PNG, 1400 to 3000 pixels a side (what Apple Podcasts and Spotify ask).",
    )
    owner_name = models.CharField(
        max_length=200, blank=True, help_text="Who directories contact about the show (itunes:owner)."
    )
    owner_email = models.EmailField(
        max_length=254, blank=True,
        help_text="Where directories send ownership checks (itunes:owner); not shown to listeners.",
    )
    feed_url = models.URLField("feed URL", max_length=500, blank=True)
    guid = models.CharField("podcast GUID", max_length=100, blank=True)
    # What the last feed import wrote, so a re-import leaves editors' changes alone.
    feed_values = models.JSONField(default=dict, blank=True, editable=False)

    objects = PodcastManager()

    def __str__(self):
        return self.title


class SeriesQuerySet(models.QuerySet):
    def overview(self):
        """Each series with its size and where it sits in the show, in the show's order."""
        return self.annotate(
            episode_count=Count("episodes", filter=Q(episodes__is_draft=False)),
            first_number=Min("episodes__number", filter=Q(episodes__is_draft=False)),
            last_number=Max("episodes__number", filter=Q(episodes__is_draft=False)),
        ).order_by(F("first_number").asc(nulls_last=True), "title")


class Series(models.Model):
    """A run of episodes on one subject, e.g. "The Soviet Union", parts 1-8."""

    title = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=200, unique=True)
    description = models.TextField(blank=True)

    objects = SeriesQuerySet.as_manager()

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

"""
Dated events the episodes narrate: the timeline.

A date is stored as the first day it could mean plus its precision, so
"July 1937" is 1937-07-01 with precision MONTH, and a range adds an end.
"""

from django.db import models
from django.db.models import F, Q
from django.urls import reverse


class Event(models.Model):
    class Precision(models.TextChoices):
        DAY = "day", "Day"
        MONTH = "month", "Month"
        YEAR = "year", "Year"

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    date = models.DateField(help_text="The first day the date could mean.")
    precision = models.CharField(max_length=5, choices=Precision, default=Precision.DAY)
    end_date = models.DateField(
        null=True, blank=True, help_text="For a range: its last day, at the same precision."
    )
    description = models.TextField(help_text="A short account, in our own words.")
    people = models.ManyToManyField("episodes.Person", blank=True, related_name="events")
    terms = models.ManyToManyField("episodes.Term", blank=True, related_name="events")
    sentences = models.ManyToManyField(
        "episodes.Sentence", blank=True, related_name="events",
        help_text="Where an episode tells it.",
    )

    class Meta:
        ordering = ["date", "end_date", "title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("date")),
                name="event_end_not_before_start",
            ),
            models.CheckConstraint(condition=~Q(description=""), name="event_has_description"),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("episodes:timeline") + f"#{self.slug}"

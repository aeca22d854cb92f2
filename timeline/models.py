"""
Dated events the episodes narrate: the timeline.

A date is stored as the first day it could mean plus its precision, so
"July 1937" is 1937-07-01 with precision MONTH, and a range adds an end.
"""

import calendar
import datetime
import re

from django.db import models
from django.db.models import F, Prefetch, Q
from django.urls import reverse

from episodes.models import Sentence
from episodes.moments import moment_parameter

PARTIAL_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


class EventQuerySet(models.QuerySet):
    def involving(self, person=None, term=None):
        """Events linked to the person and/or term given (None means any)."""
        events = self
        if person is not None:
            events = events.filter(people=person)
        if term is not None:
            events = events.filter(terms=term)
        return events

    def with_links(self):
        """People, terms and the sentences (with their episodes) in one query each."""
        sentences = (
            Sentence.objects.filter(episode__is_draft=False).select_related("episode").order_by("episode__number", "position")
        )
        return self.prefetch_related(
            "people", "terms", Prefetch("sentences", queryset=sentences, to_attr="told_in")
        )


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

    objects = EventQuerySet.as_manager()

    class Meta:
        db_table = "episodes_event"  # made when events lived in the episodes app
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
        return reverse("timeline:index") + f"#{self.slug}"

    def clean(self):
        """Snap the dates to what the precision means, so "July 1937" sorts and reads as one."""
        if self.date:
            self.date = first_day(self.date, self.precision)
        if self.end_date:
            self.end_date = last_day(self.end_date, self.precision)

    def is_range(self):
        return self.end_date is not None and self.end_date > last_day(self.date, self.precision)

    @property
    def date_label(self):
        """'1 December 1934', 'July 1937', '1932', '19–24 August 1936', 'August 1936 – March 1938'."""
        if not self.is_range():
            return format_date(self.date, self.precision)
        return format_range(self.date, self.end_date, self.precision)

    @property
    def iso_date(self):
        """The start as ISO 8601 cut to the precision ('1937-07'), for <time datetime>."""
        return iso_date(self.date, self.precision)

    @property
    def year(self):
        return self.date.year

    def told_in_sentences(self):
        """Where the episodes tell it, in listening order (prefetched by with_links())."""
        if hasattr(self, "told_in"):
            return self.told_in
        return list(
            self.sentences.filter(episode__is_draft=False).select_related("episode").order_by("episode__number", "position")
        )

    def moments(self):
        """Each place it is told, in order: a link that plays from there when the episode is timed."""
        return [Moment(sentence) for sentence in self.told_in_sentences()]

    def first_moment(self):
        moments = self.moments()
        return moments[0] if moments else None

    def timelinejs_date(self, end=False):
        """A TimelineJS date object: month and day only when the precision has them."""
        value = self.end_date if end else self.date
        parts = {"year": value.year}
        if self.precision in (self.Precision.MONTH, self.Precision.DAY):
            parts["month"] = value.month
        if self.precision == self.Precision.DAY:
            parts["day"] = value.day
        return parts


def first_day(value, precision):
    if precision == Event.Precision.YEAR:
        return value.replace(month=1, day=1)
    if precision == Event.Precision.MONTH:
        return value.replace(day=1)
    return value


def last_day(value, precision):
    if precision == Event.Precision.YEAR:
        return value.replace(month=12, day=31)
    if precision == Event.Precision.MONTH:
        return value.replace(day=calendar.monthrange(value.year, value.month)[1])
    return value


def parse_partial_date(value):
    """
    '1934-12-01' → (1 Dec 1934, DAY), '1937-07' → (1 Jul 1937, MONTH),
    '1932' → (1 Jan 1932, YEAR): the precision is however much was written.
    """
    if isinstance(value, datetime.date):
        return value, Event.Precision.DAY
    match = PARTIAL_DATE.match(str(value).strip())
    if not match:
        raise ValueError(f"{value!r} is not a date written as YYYY, YYYY-MM or YYYY-MM-DD.")
    year, month, day = match.groups()
    precision = Event.Precision.DAY if day else Event.Precision.MONTH if month else Event.Precision.YEAR
    return datetime.date(int(year), int(month or 1), int(day or 1)), precision


def format_date(value, precision):
    if precision == Event.Precision.YEAR:
        return str(value.year)
    if precision == Event.Precision.MONTH:
        return f"{calendar.month_name[value.month]} {value.year}"
    return f"{value.day} {calendar.month_name[value.month]} {value.year}"


def format_range(start, end, precision):
    """Shares what both ends share: '19–24 August 1936', 'March–June 1932', '1937–1938'."""
    if precision == Event.Precision.YEAR:
        return f"{start.year}–{end.year}"
    if start.year != end.year:
        return f"{format_date(start, precision)} – {format_date(end, precision)}"
    if precision == Event.Precision.MONTH:
        return f"{calendar.month_name[start.month]}–{calendar.month_name[end.month]} {end.year}"
    if start.month == end.month:
        return f"{start.day}–{end.day} {calendar.month_name[end.month]} {end.year}"
    return f"{start.day} {calendar.month_name[start.month]} – {format_date(end, precision)}"


def iso_date(value, precision):
    if precision == Event.Precision.YEAR:
        return f"{value.year:04d}"
    if precision == Event.Precision.MONTH:
        return f"{value.year:04d}-{value.month:02d}"
    return value.isoformat()


class Moment:
    """Where in an episode an event is told: its sentence, and the start when it is timed."""

    def __init__(self, sentence):
        self.sentence = sentence
        self.episode = sentence.episode
        self.start = sentence.start if self.episode.is_timed() else None

    @property
    def url(self):
        """
        The sentence in its episode, with ?t= at its start when timed so the
        player starts there; rounded up to the millisecond, since the page
        highlights the last sentence started by then.
        """
        query = ""
        if self.start is not None:
            query = "?t=" + moment_parameter(self.start)
        return f"{self.episode.get_absolute_url()}{query}#{self.sentence.anchor}"

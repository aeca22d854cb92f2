"""
Where a term's or person's names link, beyond the site-wide aliases kept on
the entry itself: aliases that hold only in one series or one episode (an
episode's own wording, "the third show trial"), and ambiguity rules, the
places a name means something else ("Kirov Plant", "Molotov cocktail").
The linker reads both (episodes.linking); search expands a query by a
scoped alias only within its scope (episodes.search).
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from .entries import Person, Term, exactly_one_of


class OfEntry(models.Model):
    """A row that belongs to one term or one person."""

    term = models.ForeignKey(Term, null=True, blank=True, on_delete=models.CASCADE)
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.CASCADE)

    class Meta:
        abstract = True
        constraints = [
            models.CheckConstraint(condition=exactly_one_of("term", "person"), name="%(class)s_term_xor_person"),
        ]

    @property
    def entity(self):
        return self.term or self.person


class ScopedAlias(OfEntry):
    """An alias that links only in one series or in one episode."""

    text = models.CharField(
        "alias", max_length=200,
        help_text="Matched like a site-wide alias: whole words, plurals and possessives free.",
    )
    series = models.ForeignKey(
        "episodes.Series", null=True, blank=True, on_delete=models.CASCADE,
        help_text="Links only in this series' episodes…",
    )
    episode = models.ForeignKey(
        "episodes.Episode", null=True, blank=True, on_delete=models.CASCADE,
        help_text="…or only in this episode.",
    )

    class Meta:
        verbose_name = "alias in one series or episode"
        verbose_name_plural = "aliases in one series or episode"
        ordering = ["text", "pk"]
        constraints = [
            *OfEntry.Meta.constraints,
            models.CheckConstraint(
                condition=exactly_one_of("series", "episode"), name="scopedalias_series_xor_episode"
            ),
        ]

    def __str__(self):
        return f"{self.text} (only in {self.series or self.episode})"

    def clean(self):
        if (self.series_id is None) == (self.episode_id is None):
            raise ValidationError(
                "Choose a series or an episode; a site-wide alias goes in the entry's aliases."
            )


class AmbiguityRule(OfEntry):
    """Where one of an entry's names means something else, so it must not link there."""

    alias = models.CharField(
        max_length=200, blank=True,
        help_text="The name or alias this is about (any of its scoped aliases too); blank for all of them.",
    )
    phrase = models.CharField(
        "not near", max_length=200, blank=True,
        help_text=(
            "A phrase containing the alias (Kirov Plant, Molotov cocktail): nothing links inside it. "
            "Any other word or phrase (aircraft): the alias doesn't link in a sentence that also says it."
        ),
    )
    series = models.ForeignKey(
        "episodes.Series", null=True, blank=True, on_delete=models.CASCADE,
        verbose_name="not in series", help_text="Or: the alias never links in this series.",
    )

    class Meta:
        verbose_name = "ambiguity rule"
        ordering = ["alias", "phrase", "pk"]
        constraints = [
            *OfEntry.Meta.constraints,
            models.CheckConstraint(
                condition=(~Q(phrase="") & Q(series__isnull=True)) | (Q(phrase="") & Q(series__isnull=False)),
                name="ambiguityrule_phrase_xor_series",
            ),
        ]

    def __str__(self):
        where = f"near “{self.phrase}”" if self.phrase else f"in {self.series}"
        return f"{self.alias or 'any name'}: not {where}"

    def clean(self):
        if (not self.phrase.strip()) == (self.series_id is None):
            raise ValidationError("Give a phrase or a series the alias doesn't link in, not both.")

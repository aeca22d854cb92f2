"""The glossary and the people index, and where the episodes mention them."""

from django.db import models
from django.db.models import Count, F, OuterRef, Q, Subquery

from ..reverse_cache import cached_reverse
from ..splitter import split_sentences
from .search_fields import search_document, search_names


def exactly_one_of(first, second):
    """A constraint's condition: one of two nullable fields is set, never both."""
    return (Q(**{f"{first}__isnull": False}) & Q(**{f"{second}__isnull": True})) | (
        Q(**{f"{first}__isnull": True}) & Q(**{f"{second}__isnull": False})
    )


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
            Mention.objects.filter(**{field: OuterRef("pk")}, sentence__episode__is_draft=False)
            .exclude(kind=Mention.Kind.SUPPRESSED)
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

    def add_alias(self, text, episode=None, series=None):
        """
        Have the linker also look for `text`: everywhere (a line of `aliases`), or
        only in one episode or one series (a ScopedAlias). Adding one twice does
        nothing. The caller relinks (episodes.linking), as after any edit.
        """
        text = " ".join(text.split())
        if episode is None and series is None:
            if text.casefold() not in {alias.casefold() for alias in [self.name, *self.alias_list]}:
                self.aliases = "\n".join([*self.alias_list, text])
                self.save(update_fields=["aliases"])
        else:
            self.scopedalias_set.get_or_create(text=text, episode=episode, series=series)


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

    @property
    def gist(self):
        """The definition's first sentence: one line beside the name in the player's Now panel."""
        return next(iter(split_sentences(self.definition)), "")


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
    def gist(self):
        """The one-line role, as the Now panel shows it beside the name."""
        return self.role

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
        AUTO = "auto", "Linked automatically (a relink may change it)"
        ADDED = "added", "Added by an editor"
        SUPPRESSED = "suppressed", "Suppressed by an editor"

    sentence = models.ForeignKey("episodes.Sentence", on_delete=models.CASCADE, related_name="mentions")
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
            models.CheckConstraint(condition=exactly_one_of("term", "person"), name="mention_term_xor_person"),
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

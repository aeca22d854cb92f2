"""Works the episodes quote or rely on, and where they cite them."""

from django.db import models

from ..reverse_cache import cached_reverse
from .search_fields import search_document, search_names


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

    sentence = models.ForeignKey("episodes.Sentence", on_delete=models.CASCADE, related_name="citations")
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

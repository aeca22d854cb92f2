"""The episodes app's models, by topic; Django and the rest of the code import them from here."""

from .aliases import AmbiguityRule, ScopedAlias
from .entries import Entity, Mention, Person, SpanInSentence, Term
from .episode import Episode, Sentence
from .search_fields import PostgresSearchDocument, search_document, search_names
from .show import Chapter, Credit, Podcast, Series, TranscriptLink
from .sources import Citation, Source
from .timing_imports import TimingImport
from .transcript_imports import TranscriptImport

__all__ = [
    "AmbiguityRule", "Chapter", "Citation", "Credit", "Entity", "Episode", "Mention", "Person", "Podcast",
    "PostgresSearchDocument", "ScopedAlias", "Sentence", "Series", "Source", "SpanInSentence", "Term",
    "TimingImport", "TranscriptImport", "TranscriptLink", "search_document", "search_names",
]

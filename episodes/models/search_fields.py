"""
Stored search columns: a weighted tsvector on PostgreSQL, every name an entry
goes by for exact and fuzzy matching. Old migrations refer to these by their
path, episodes.models.PostgresSearchDocument (re-exported by the package).
"""

from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models import Func, Value
from django.db.models.functions import Concat, Lower


class PostgresSearchDocument(Func):
    """
    A weighted tsvector stored on PostgreSQL. SQLite searches its FTS5 tables
    (see the search migration) instead, so there the column stays NULL.
    """

    output_field = SearchVectorField()

    def __init__(self, *weighted_fields):
        vector = None
        for field, weight in weighted_fields:
            part = SearchVector(field, weight=weight, config="english")
            vector = part if vector is None else vector + part
        super().__init__(vector)

    def as_sql(self, compiler, connection, **extra_context):
        return "NULL", []

    def as_postgresql(self, compiler, connection, **extra_context):
        return compiler.compile(self.source_expressions[0])


def search_document(*weighted_fields):
    return models.GeneratedField(
        expression=PostgresSearchDocument(*weighted_fields),
        output_field=SearchVectorField(null=True),
        db_persist=True,
        editable=False,
    )


def search_names(*fields):
    """Every name an entry goes by, lower-cased, one per line: for exact and fuzzy matching."""
    parts = []
    for field in fields:
        parts += [field, Value("\n")]
    return models.GeneratedField(
        expression=Lower(Concat(*parts[:-1], output_field=models.TextField())),
        output_field=models.TextField(),
        db_persist=True,
        editable=False,
    )

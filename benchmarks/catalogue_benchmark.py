"""
Time the catalogue's pages against a show far bigger than the demo.

300 timed episodes of 600 sentences; Joseph Stalin and the NKVD are each
named in every third sentence (60,000 mentions apiece) and 50 other people
share the rest: 180,000 mentions in all, a worst case for the X-Ray strips.
Each page is fetched once to warm up, then timed once; the output gives
milliseconds, the page's size and its query count. About a minute on
SQLite (the default); set DATABASE_URL for PostgreSQL. From the repository root:

    .venv/bin/python -m pytest -q -s -p no:cacheprovider benchmarks/catalogue_benchmark.py
"""

import datetime
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from episodes.models import Episode, Mention, Person, Sentence, Term

EPISODES, SENTENCES = 300, 600
URLS = ["/", "/episodes/", "/series/", "/episodes/e150/", "/people/joseph-stalin/", "/glossary/nkvd/", "/people/p1/"]


@pytest.mark.django_db
def test_catalogue_pages(client):
    stalin = Person.objects.create(name="Joseph Stalin", slug="joseph-stalin", role="Leader.")
    nkvd = Term.objects.create(name="NKVD", slug="nkvd", definition="Secret police.")
    others = [Person.objects.create(name=f"P{i}", slug=f"p{i}", role="Someone.") for i in range(50)]
    for number in range(1, EPISODES + 1):
        episode = Episode.objects.create(
            number=number, slug=f"e{number}", title=f"Episode {number}",
            duration=datetime.timedelta(minutes=40), timing=Episode.Timing.TIMED,
        )
        sentences = Sentence.objects.bulk_create(
            Sentence(episode=episode, position=p, paragraph=1 + p // 10, text="Stalin and the NKVD and P1 here.",
                     start=p * 4.0, end=p * 4.0 + 3)
            for p in range(1, SENTENCES + 1)
        )
        mentions = []
        for sentence in sentences[::3]:
            mentions += [
                Mention(sentence=sentence, person=stalin, start=0, end=6),
                Mention(sentence=sentence, term=nkvd, start=15, end=19),
                Mention(sentence=sentence, person=others[sentence.position % 50], start=24, end=26),
            ]
        Mention.objects.bulk_create(mentions)
    print(f"\n{connection.vendor}: {Episode.objects.count()} episodes, {Mention.objects.count()} mentions")
    for url in URLS:
        assert client.get(url).status_code == 200, url
        with CaptureQueriesContext(connection) as queries:
            began = time.perf_counter()
            response = client.get(url)
            elapsed = time.perf_counter() - began
        print(f"{url:28} {elapsed * 1000:6.0f} ms {len(response.content) // 1024:6} KiB {len(queries):3} queries")

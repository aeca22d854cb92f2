"""
What a transcript import costs while it holds the episode, and what the one
fetcher costs to cut a gigabyte at the audio cap (issue 16; docs/writers-benchmark.md).

1. Re-anchoring: an episode of 300 sentences with 0 (the bare reference: the
   import alone), 40 or 400 threads of notes, each with a reply, placed at
   random (one seed per round); the transcript is re-imported, alternating two
   versions that move a paragraph, so every note is re-anchored each time.
   Prints the queries and the milliseconds of each import (median and max over
   the rounds), all of it inside the episode's lock.
2. Fetching: a local server streams a gigabyte with no length announced; the
   fetcher (companion.fetch.download, as the aligner calls it, 400 MB cap) reads
   it through a RoutedNetwork name to the cap and gives up. The bare reference
   reads the same stream from a plain socket into a file up to the same byte
   count. Prints seconds (median, max) and the fetcher's peak of Python memory
   (tracemalloc, a separate run, since tracing slows it), and how often a run
   did not end the way it should (a FetchError at the cap).

From the repository root (about a minute; set DATABASE_URL for PostgreSQL):

    .venv/bin/python -m pytest -q -s -n 0 -p no:cacheprovider benchmarks/writers_benchmark.py
"""

import random
import socket
import statistics
import tempfile
import time
import tracemalloc
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from episodes.models import Episode
from episodes.transcripts import import_transcript
from notes.models import Note

ROUNDS = 5
SENTENCES = 300
CAP = 400 * 1024 * 1024


def versions():
    """Two texts of 30 paragraphs of 10 sentences; the second moves the first paragraph to the end."""
    paragraphs = [
        " ".join(f"Sentence {p * 10 + n} of paragraph {p} is here." for n in range(10)) for p in range(30)
    ]
    return ["9: Bench\n\n" + "\n\n".join(order) + "\n" for order in (paragraphs, paragraphs[1:] + paragraphs[:1])]


def place_notes(episode, author, threads, seed):
    """Threads on random sentences (each quoting its sentence), each with one reply; no signals, as in both versions."""
    chosen = random.Random(seed).choices(list(episode.sentences.all()), k=threads)
    made = Note.objects.bulk_create(
        Note(episode=episode, author=author, body="b", body_html="<p>b</p>", idempotency_key=uuid.uuid4().hex,
             first_sentence=s, last_sentence=s, quote_exact=s.text, position_start=0, position_end=len(s.text))
        for s in chosen
    )
    Note.objects.bulk_create(
        Note(episode=episode, author=author, parent=thread, body="r", body_html="<p>r</p>",
             idempotency_key=uuid.uuid4().hex, first_sentence=thread.first_sentence,
             last_sentence=thread.last_sentence, quote_exact=thread.quote_exact)
        for thread in made
    )


@pytest.mark.django_db
def test_re_anchoring():
    texts = versions()
    author = User.objects.create(username="bench")
    print(f"\nRe-anchoring on {connection.vendor}: one import of {SENTENCES} sentences, {ROUNDS} rounds")
    print(f"{'threads':>8} {'notes':>6} {'queries':>8} {'median ms':>10} {'max ms':>8}")
    for threads in (0, 40, 400):
        queries, seconds = set(), []
        for seed in range(ROUNDS):
            episode = Episode.objects.create(number=9, slug="9-bench", title="Bench")
            import_transcript(episode, texts[0], relink=False)
            place_notes(episode, author, threads, seed)
            for text in (texts[1], texts[0]):
                with CaptureQueriesContext(connection) as captured:
                    began = time.perf_counter()
                    import_transcript(episode, text, relink=False)
                    seconds.append(time.perf_counter() - began)
                queries.add(len(captured))
            assert not Note.objects.filter(orphaned=True).exists()
            episode.delete()
        print(f"{threads:>8} {threads * 2:>6} {'/'.join(map(str, sorted(queries))):>8} "
              f"{statistics.median(seconds) * 1000:>10.1f} {max(seconds) * 1000:>8.1f}")


@pytest.mark.django_db
def test_re_anchoring_lightly_edited_words():
    """
    Issue 18: every sentence's words lightly edited ("of paragraph" → "of para"),
    so no quote is found word for word and every note goes through approximate
    matching, among 300 look-alike sentences. Prints the milliseconds of the
    import and how many notes landed on the wrong sentence or were orphaned.
    """
    original = versions()[0]
    edited = original.replace(" of paragraph ", " of para ")
    author = User.objects.create(username="bench")
    print(f"\nApproximate re-anchoring on {connection.vendor}: {SENTENCES} look-alike sentences, {ROUNDS} rounds")
    print(f"{'threads':>8} {'median ms':>10} {'max ms':>8} {'misplaced':>10} {'orphaned':>9}")
    for threads in (40, 400):
        seconds, misplaced, orphaned = [], 0, 0
        for seed in range(ROUNDS):
            episode = Episode.objects.create(number=9, slug="9-bench", title="Bench")
            import_transcript(episode, original, relink=False)
            place_notes(episode, author, threads, seed)
            began = time.perf_counter()
            import_transcript(episode, edited, relink=False)
            seconds.append(time.perf_counter() - began)
            for note in Note.objects.filter(parent__isnull=True).select_related("first_sentence"):
                orphaned += note.orphaned
                misplaced += not note.orphaned and note.quote_exact != note.first_sentence.text
            episode.delete()
        print(f"{threads:>8} {statistics.median(seconds) * 1000:>10.1f} {max(seconds) * 1000:>8.1f} "
              f"{misplaced:>10} {orphaned:>9}")


def bare_read(port, limit, folder):
    """The reference: a GET over a plain socket, the bytes after the headers into a file, up to limit."""
    with socket.create_connection(("127.0.0.1", port)) as sock, tempfile.TemporaryFile(dir=folder) as file:
        sock.sendall(b"GET /gigabyte HTTP/1.0\r\nHost: feeds.example\r\n\r\n")
        header, size = b"", 0
        while b"\r\n\r\n" not in header:
            header += sock.recv(65536)
        body = header.split(b"\r\n\r\n", 1)[1]
        while size <= limit:
            file.write(body)
            size += len(body)
            body = sock.recv(65536)
        return size


def test_fetching_a_gigabyte_to_the_cap(monkeypatch, tmp_path):
    from companion import fetch
    from tests.servers import RoutedNetwork, serve_origin

    def one(run, traced=False):
        with serve_origin({}) as origin:
            monkeypatch.setattr(fetch, "network", RoutedNetwork(["feeds.example"], origin.port))
            if traced:
                tracemalloc.start()
            began = time.perf_counter()
            try:
                run(origin)
                outcome = "no error"
            except fetch.FetchError as error:
                outcome = "cut" if "larger than the limit of 400 MB" in str(error) else str(error)
            elapsed = time.perf_counter() - began
            peak = tracemalloc.get_traced_memory()[1] if traced else 0
            if traced:
                tracemalloc.stop()
            return elapsed, outcome, peak

    fetcher = lambda origin: fetch.download("http://feeds.example/gigabyte", max_bytes=CAP, what="audio",  # noqa: E731
                                            folder=tmp_path)
    reference = lambda origin: bare_read(origin.port, CAP, tmp_path)  # noqa: E731
    runs = {"fetcher": [one(fetcher) for _ in range(ROUNDS)], "bare socket": [one(reference) for _ in range(ROUNDS)]}
    peaks = [one(fetcher, traced=True)[2] for _ in range(2)]
    print(f"\nA gigabyte streamed, cut at {CAP // 2**20} MB, {ROUNDS} runs each")
    print(f"{'reader':>12} {'median s':>9} {'max s':>7} {'not cut':>8}")
    for name, results in runs.items():
        times = [elapsed for elapsed, _, _ in results]
        wrong = sum(outcome != ("cut" if name == "fetcher" else "no error") for _, outcome, _ in results)
        print(f"{name:>12} {statistics.median(times):>9.2f} {max(times):>7.2f} {wrong:>5}/{ROUNDS}")
    print(f"fetcher's peak of Python memory (tracemalloc): {max(peaks) / 1024:.0f} KiB")
    assert list(tmp_path.iterdir()) == []

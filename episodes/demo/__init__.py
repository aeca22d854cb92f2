"""
Load the demo episode, glossary, people and sources from readable YAML files.

The files live beside this module and are edited by hand; loading is
idempotent (everything is keyed by slug) and happens in one transaction, so
a mistake in any file leaves the database as it was. The timeline app loads
its events.yaml from the same folder (episodes.signals.demo_loaded).
"""

import datetime
import json
import os
import tempfile
from itertools import groupby
from pathlib import Path

import yaml
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.text import slugify

# The aligner's narration, free of Django: the demo's audio is the voice alignment hears.
from alignment.engine.narration import NarrationUnavailable, synthesise, text_hash, write_mp3

from ..linking import relink_all
from ..models import AmbiguityRule, Chapter, Citation, Episode, Person, ScopedAlias, Series, Source, Term
from ..signals import demo_loaded
from ..transcripts import import_transcript, read_transcript

VOICE, WORDS_PER_MINUTE = "en-us", 170


class DemoContentError(Exception):
    pass


def read_yaml(directory, name, kind):
    path = Path(directory) / name
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DemoContentError(f"Missing demo file: {path}") from None
    except yaml.YAMLError as error:
        raise DemoContentError(f"{path} is not valid YAML: {error}") from None
    if not isinstance(data, kind):
        raise DemoContentError(f"{path} should hold a {kind.__name__}.")
    return data


def require(entry, key, where):
    value = entry.get(key)
    if value in (None, ""):
        raise DemoContentError(f"{where}: '{key}' is required.")
    return value


def aliases_text(entry):
    return "\n".join(str(alias) for alias in entry.get("aliases") or [])


def by_slug(model, slug, where, key):
    found = model.objects.filter(slug=slug).first()
    if found is None:
        raise DemoContentError(f"{where}: '{key}' names {model._meta.verbose_name} {slug!r}, which does not exist.")
    return found


def load_alias_rules(entity, entry, where):
    """
    The entry's aliases for one episode or series (`aliases_in_episode`,
    `aliases_in_series`: slug to list) and its ambiguity rules (`not_when`:
    a list of {alias (optional: every name), near: [phrases], in_series: [slugs]}),
    replacing the ones it had.
    """
    owner = {entity._meta.model_name: entity}
    ScopedAlias.objects.filter(**owner).delete()
    AmbiguityRule.objects.filter(**owner).delete()
    scoped = []
    for key, model in (("aliases_in_episode", Episode), ("aliases_in_series", Series)):
        places = entry.get(key) or {}
        if not isinstance(places, dict):
            raise DemoContentError(f"{where}: '{key}' maps a slug to a list of aliases.")
        for slug, aliases in places.items():
            place = {model._meta.model_name: by_slug(model, slug, where, key)}
            scoped += [ScopedAlias(**owner, **place, text=str(alias)) for alias in aliases or []]
    rules = []
    for rule in entry.get("not_when") or []:
        if not isinstance(rule, dict) or not (rule.get("near") or rule.get("in_series")):
            raise DemoContentError(f"{where}: each 'not_when' needs 'near' phrases or 'in_series' slugs.")
        alias = str(rule.get("alias") or "")
        rules += [AmbiguityRule(**owner, alias=alias, phrase=str(phrase)) for phrase in rule.get("near") or []]
        rules += [
            AmbiguityRule(**owner, alias=alias, series=by_slug(Series, slug, where, "in_series"))
            for slug in rule.get("in_series") or []
        ]
    ScopedAlias.objects.bulk_create(scoped)
    AmbiguityRule.objects.bulk_create(rules)


def upsert(model, where, slug, values):
    """Create or update by slug, validated like a form would be."""
    instance = model.objects.filter(slug=slug).first() or model(slug=slug)
    for field, value in values.items():
        setattr(instance, field, value)
    try:
        instance.full_clean()
    except ValidationError as error:
        raise DemoContentError(f"{where}: {'; '.join(error.messages)}") from None
    instance.save()
    return instance


def load_series(title, description=""):
    """The series by title; the demo's description (ours) replaces what was there."""
    if not title:
        return None
    series, _ = Series.objects.get_or_create(title=title, defaults={"slug": slugify(title)})
    description = (description or "").strip()
    if description and series.description != description:
        series.description = description
        series.save(update_fields=["description"])
    return series


def load_episode(directory, data):
    duration = data.get("duration_seconds")
    episode = upsert(
        Episode,
        "episode.yaml",
        require(data, "slug", "episode.yaml"),
        {
            "number": require(data, "number", "episode.yaml"),
            "title": require(data, "title", "episode.yaml"),
            "tagline": data.get("tagline") or "",
            "series": load_series(data.get("series"), data.get("series_description")),
            "part": data.get("part"),
            "published": data.get("published"),
            "published_is_transcript_date": bool(data.get("published_is_transcript_date")),
            "audio_url": data.get("audio_url") or "",
            "duration": datetime.timedelta(seconds=duration) if duration else None,
            "summary": (data.get("summary") or "").strip(),
        },
    )
    text = read_transcript(Path(directory) / require(data, "transcript", "episode.yaml"))
    import_transcript(episode, text, relink=False)
    load_chapters(data.get("chapters") or [], episode)
    return episode


def resolve_quotes(quotes, sentences, where):
    """The sentences holding each quote, in the order given; each quote in exactly one."""
    if not isinstance(quotes, list) or not quotes:
        raise DemoContentError(f"{where}: 'quotes' should list words from the sentences that tell it.")
    found = []
    for quote in quotes:
        matches = [sentence for sentence in sentences if str(quote) in sentence.text]
        if len(matches) != 1:
            raise DemoContentError(
                f"{where}: the quote {quote!r} is in {len(matches)} sentences of the episode; "
                "it must be in exactly one."
            )
        found.append(matches[0])
    return found


def load_chapters(entries, episode):
    """
    The episode's chapters, replacing any it had: each opens at the sentence
    holding its quote and starts when that sentence is spoken (0 until the
    episode has timings; Episode.save_timings moves it).
    """
    if not isinstance(entries, list):
        raise DemoContentError("episode.yaml: 'chapters' should be a list of titles with quotes.")
    sentences = list(episode.sentences.all())
    episode.chapters.all().delete()
    for entry in entries:
        where = f"episode.yaml (chapter {entry.get('title', '?') if isinstance(entry, dict) else entry!r})"
        if not isinstance(entry, dict):
            raise DemoContentError(f"{where}: each chapter should have a title and a quote.")
        (sentence,) = resolve_quotes([require(entry, "quote", where)], sentences, where)
        Chapter.objects.create(
            episode=episode, title=require(entry, "title", where), sentence=sentence, start=sentence.start or 0
        )


def load_terms(entries):
    terms = {}
    for entry in entries:
        where = f"terms.yaml ({entry.get('slug', '?')})"
        term = terms[entry["slug"]] = upsert(
            Term,
            where,
            require(entry, "slug", where),
            {
                "name": require(entry, "name", where),
                "category": require(entry, "category", where),
                "aliases": aliases_text(entry),
                "definition": require(entry, "definition", where).strip(),
                "article": (entry.get("article") or "").strip(),
                "episode_wording": (entry.get("episode_wording") or "").strip(),
                "reference": entry.get("reference") or "",
            },
        )
        load_alias_rules(term, entry, where)
    for entry in entries:
        related = [terms[slug] for slug in entry.get("related") or [] if slug in terms]
        terms[entry["slug"]].related.set(related)
    return terms


def load_people(entries):
    for entry in entries:
        where = f"people.yaml ({entry.get('slug', '?')})"
        person = upsert(
            Person,
            where,
            require(entry, "slug", where),
            {
                "name": require(entry, "name", where),
                "full_name": entry.get("full_name") or "",
                "aliases": aliases_text(entry),
                "born": entry.get("born"),
                "died": entry.get("died"),
                "role": require(entry, "role", where).strip(),
                "biography": (entry.get("biography") or "").strip(),
                "reference": entry.get("reference") or "",
            },
        )
        load_alias_rules(person, entry, where)


def load_sources(entries, episode):
    sentences = list(episode.sentences.all())
    for entry in entries:
        where = f"sources.yaml ({entry.get('slug', '?')})"
        source = upsert(
            Source,
            where,
            require(entry, "slug", where),
            {
                "author": entry.get("author") or "",
                "title": require(entry, "title", where),
                "year": entry.get("year"),
                "publisher": entry.get("publisher") or "",
                "kind": entry.get("kind") or Source.Kind.BOOK,
                "url": entry.get("url") or "",
                "isbn": entry.get("isbn") or "",
                "note": (entry.get("note") or "").strip(),
            },
        )
        for citation in entry.get("citations") or []:
            needle = require(citation, "sentence_contains", where)
            found = [s for s in sentences if needle in s.text]
            if len(found) != 1:
                raise DemoContentError(
                    f"{where}: {needle!r} is in {len(found)} sentences; it must be in exactly one."
                )
            quoted = citation.get("quoted_text") or ""
            if quoted not in found[0].text:
                raise DemoContentError(f"{where}: the quoted text is not in sentence {found[0].position}.")
            Citation.objects.update_or_create(
                sentence=found[0],
                source=source,
                defaults={"quoted_text": quoted, "locator": citation.get("locator") or ""},
            )


def load_demo(directory):
    """Load everything; returns the episode."""
    episode_data = read_yaml(directory, "episode.yaml", dict)
    terms = read_yaml(directory, "terms.yaml", list)
    people = read_yaml(directory, "people.yaml", list)
    sources = read_yaml(directory, "sources.yaml", list)
    # One transaction, with the episode locked first when it is there already (a reload).
    with Episode.objects.filter(slug=require(episode_data, "slug", "episode.yaml")).writing():
        episode = load_episode(directory, episode_data)
        load_terms(terms)
        load_people(people)
        load_sources(sources, episode)
        demo_loaded.send(sender=Episode, episode=episode, directory=directory)
        relink_all([episode])
    return episode


def write_json_atomically(path, data):
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(handle, "w", encoding="utf-8") as file:
        json.dump(data, file)
    os.replace(temporary, path)


def narrate(episode):
    """
    Give the episode a synthetic narration with exact timings, so the demo is
    listenable offline. Generated once per text (cached by its hash); an
    editor's real audio is never replaced. Returns a line for the log.
    """
    if episode.audio and not episode.audio_is_synthetic:
        return "kept the episode's own audio"
    sentences = episode.sentences.order_by("position").values_list("paragraph", "text")
    paragraphs = [[text for _, text in group] for _, group in groupby(sentences, key=lambda s: s[0])]
    stem = f"narration/{text_hash(paragraphs, VOICE, WORDS_PER_MINUTE)[:20]}"
    audio_path = Path(settings.MEDIA_ROOT) / f"{stem}.mp3"
    timings_path = audio_path.with_suffix(".json")
    if audio_path.exists() and timings_path.exists():
        timings = json.loads(timings_path.read_text(encoding="utf-8"))
        outcome = "reused the cached synthetic narration"
    else:
        try:
            narration = synthesise(paragraphs, voice=VOICE, words_per_minute=WORDS_PER_MINUTE)
            audio_path.parent.mkdir(parents=True, exist_ok=True)
            write_mp3(narration, audio_path)
        except NarrationUnavailable as error:
            episode.audio_note = f"the synthetic narration could not be made here ({error})"
            episode.save(update_fields=["audio_note"])
            return f"no narration: {error}"
        timings = {
            "duration": narration.duration,
            "sentences": narration.sentences,
            "words": narration.words,
        }
        write_json_atomically(timings_path, timings)
        outcome = f"generated a synthetic narration ({narration.duration / 60:.1f} minutes)"
    with episode.writing():
        episode.audio.name = f"{stem}.mp3"
        episode.audio_is_synthetic = True
        episode.audio_note = ""
        episode.duration = datetime.timedelta(seconds=round(timings["duration"], 3))
        episode.save(update_fields=["audio", "audio_is_synthetic", "audio_note", "duration"])
        episode.save_timings(
            [
                (round(start, 3), round(end, 3), [[a, b, round(t0, 3), round(t1, 3)] for a, b, t0, t1 in words])
                for (start, end), words in zip(timings["sentences"], timings["words"], strict=True)
            ],
            Episode.Timing.TIMED,
        )
    return outcome

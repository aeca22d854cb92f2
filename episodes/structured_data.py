"""
What other sites read from our pages: schema.org JSON-LD for search
engines, and Open Graph / Twitter card tags for link previews.

Both are built from the object the page shows (chosen by the URL's name, so
templates need not pass anything) and cost no queries beyond the page's own,
except on episode pages: the show's name and the transcript's text.
"""

import html
import json
import mimetypes
from urllib.parse import urlsplit

from django.template.loader_tags import BLOCK_CONTEXT_KEY
from django.urls import NoReverseMatch
from django.utils.html import format_html, strip_tags
from django.utils.safestring import mark_safe

from .feeds.podcast import SYNTHETIC_NOTE
from .models import Podcast
from .moments import format_moment, moment_parameter
from .reverse_cache import cached_reverse

SITE_NAME = "Companion"
SITE_DESCRIPTION = (
    "Read along with History of the Second World War: transcripts timed to the audio, "
    "with a glossary, the people and the sources behind each episode."
)
GLOSSARY_NAME = "Companion glossary"
DESCRIPTION_CHARS = 200
MOMENT_QUOTE_CHARS = 120

# Which context variable holds the page's object, by URL name.
PAGE_OBJECTS = {
    "episodes:detail": "episode",
    "episodes:person_detail": "person",
    "episodes:term_detail": "term",
    "episodes:source_detail": "source",
    "episodes:series_detail": "series",
}
SOURCE_TYPES = {"book": "Book", "report": "Report", "article": "Article", "newspaper": "NewsArticle"}
# json_script's escapes: the JSON can never close the <script> element or open a comment.
# Applied with str.replace: str.translate with a dict walks a 20 KB transcript a
# character at a time in Python and took 7 ms per episode page.
SCRIPT_ESCAPES = [("&", "\\u0026"), ("<", "\\u003C"), (">", "\\u003E")]


def page_object(context):
    """('episode', <Episode>) on an episode page, and so on; (None, None) elsewhere."""
    match = getattr(context.get("request"), "resolver_match", None)
    kind = PAGE_OBJECTS.get(match.view_name) if match else None
    obj = context.get(kind) if kind else None
    return (kind, obj) if obj is not None else (None, None)


def show_for(request):
    """The show, looked up once per request (both the JSON-LD and the preview tags use it)."""
    if not hasattr(request, "_companion_show"):
        request._companion_show = Podcast.objects.current()
    return request._companion_show


def plain(text, limit=DESCRIPTION_CHARS):
    """One line of plain text from text or HTML, cut at a word with an ellipsis."""
    text = " ".join(html.unescape(strip_tags(text or "")).split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(",;:—–- ") + "…"


def iso_duration(seconds):
    """ISO 8601 duration, as schema.org wants: 3725 → 'PT1H2M5S'."""
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "") + f"{seconds}S"


def reverse_or_none(name, *args):
    try:
        return cached_reverse(name, *args)
    except NoReverseMatch:
        return None


def audio_type(episode):
    name = episode.audio.name if episode.audio else urlsplit(episode.audio_url).path
    return episode.audio_type or mimetypes.guess_type(name)[0] or "audio/mpeg"


def episode_description(episode):
    return plain(episode.summary or episode.tagline or episode.description)


# --- JSON-LD ------------------------------------------------------------------


def episode_json_ld(request, episode):
    url = request.build_absolute_uri(episode.get_absolute_url())
    show = show_for(request)
    data = {"@context": "https://schema.org", "@type": "PodcastEpisode", "@id": url, "url": url,
            "name": episode.title, "inLanguage": show.language}
    if episode.number is not None:
        data["episodeNumber"] = episode.number
    if episode.published and not episode.published_is_transcript_date:
        data["datePublished"] = episode.published.isoformat()
    if description := plain(episode.summary or episode.tagline or episode.description, 2000):
        data["description"] = description
    data["partOfSeries"] = {
        "@type": "PodcastSeries",
        "name": show.title,
        "url": show.link or request.build_absolute_uri(cached_reverse("episodes:home")),
        "webFeed": request.build_absolute_uri(cached_reverse("episodes:podcast_feed")),
    }
    if episode.series_id:
        series = {"@type": "CreativeWorkSeries", "name": episode.series.title}
        if series_url := reverse_or_none("episodes:series_detail", episode.series.slug):
            series["url"] = request.build_absolute_uri(series_url)
        data["isPartOf"] = series
        if episode.part:
            data["position"] = episode.part
    # schema.org gives a transcript to the audio, not to the episode: an AudioObject
    # for the episode's sound, with a contentUrl when we know where it is.
    audio = {"@type": "AudioObject"}
    if episode.audio_source:
        audio["contentUrl"] = request.build_absolute_uri(episode.audio_source)
        audio["encodingFormat"] = audio_type(episode)
        if episode.audio_is_synthetic:
            audio["description"] = SYNTHETIC_NOTE
    if episode.duration:
        data["timeRequired"] = data["duration"] = audio["duration"] = iso_duration(
            episode.duration.total_seconds()
        )
    if text := episode.transcript_plain:
        audio["transcript"] = text
    if len(audio) > 1:
        data["associatedMedia"] = audio
    return data


def person_json_ld(request, person):
    url = request.build_absolute_uri(person.get_absolute_url())
    data = {"@context": "https://schema.org", "@type": "Person", "@id": url, "url": url, "name": person.name}
    names = [name for name in [person.full_name, *person.alias_list] if name and name != person.name]
    if names:
        data["alternateName"] = names
    # Years only: ISO 8601 allows a date to stop at the year, and that is all we record.
    if person.born is not None:
        data["birthDate"] = f"{person.born:04d}"
    if person.died is not None:
        data["deathDate"] = f"{person.died:04d}"
    if person.role:
        data["description"] = person.role
    if person.reference:
        data["sameAs"] = person.reference
    return data


def term_json_ld(request, term):
    url = request.build_absolute_uri(term.get_absolute_url())
    glossary = request.build_absolute_uri(cached_reverse("episodes:term_list"))
    data = {
        "@context": "https://schema.org", "@type": "DefinedTerm", "@id": url, "url": url,
        "name": term.name, "description": term.definition,
        "inDefinedTermSet": {"@type": "DefinedTermSet", "@id": glossary, "url": glossary, "name": GLOSSARY_NAME},
    }
    if term.alias_list:
        data["alternateName"] = term.alias_list
    if term.reference:
        data["sameAs"] = term.reference
    return data


def source_json_ld(request, source):
    url = request.build_absolute_uri(source.get_absolute_url())
    kind = SOURCE_TYPES.get(source.kind, "CreativeWork")
    data = {"@context": "https://schema.org", "@type": kind, "@id": url, "url": url, "name": source.title}
    if source.author:
        data["author"] = {"@type": "Person", "name": source.author}
    if source.year is not None:
        data["datePublished"] = f"{source.year:04d}"
    if source.publisher:
        data["publisher"] = {"@type": "Organization", "name": source.publisher}
    if source.isbn and kind == "Book":
        data["isbn"] = source.isbn
    if source.url:
        data["sameAs"] = source.url
    if source.note:
        data["description"] = plain(source.note, 500)
    return data


JSON_LD = {
    "episode": episode_json_ld,
    "person": person_json_ld,
    "term": term_json_ld,
    "source": source_json_ld,
}


def json_ld_script(data):
    """
    <script type="application/ld+json">: a data block, which browsers never run,
    so the CSP needs no nonce for it (and cached pages stay shareable).
    """
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for character, escape in SCRIPT_ESCAPES:
        text = text.replace(character, escape)
    return format_html('<script type="application/ld+json">{}</script>', mark_safe(text))


def page_json_ld(context):
    kind, obj = page_object(context)
    if kind not in JSON_LD:
        return ""
    return json_ld_script(JSON_LD[kind](context["request"], obj))


# --- Open Graph and Twitter cards --------------------------------------------


def page_title(context):
    """The text of the page's {% block title %}, so every page's preview matches its tab."""
    blocks = context.render_context.get(BLOCK_CONTEXT_KEY)
    block = blocks.get_block("title") if blocks else None
    return plain(block.nodelist.render(context), 300) if block else SITE_NAME


def moment_title(episode, moment, sentence):
    """'“…the sentence…” — The Great Purges at 12:34' for a shared moment."""
    at = f"{episode.title} at {format_moment(moment)}"
    if sentence is None:
        return at
    return f"“{plain(sentence.text, MOMENT_QUOTE_CHARS)}” — {at}"


def social_meta(context):
    """The values of the preview tags for this page."""
    request = context["request"]
    kind, obj = page_object(context)
    path = request.path
    meta = {
        "title": page_title(context),
        "description": SITE_DESCRIPTION,
        "type": "website",
        "url": request.build_absolute_uri(path),
        "canonical": request.build_absolute_uri(path),
        "image": "",
        "audio": "",
        "audio_type": "",
        "properties": [],
    }
    if kind == "episode":
        episode, show = obj, show_for(request)
        meta.update(type="article", image=request.build_absolute_uri(show.image_url) if show.image_url else "",
                    description=episode_description(episode) or meta["description"])
        moment = context.get("moment")
        if moment is not None:
            # The view found the moment's sentence already (None when untimed).
            meta["title"] = moment_title(episode, moment, context.get("moment_sentence"))
            meta["url"] = request.build_absolute_uri(f"{path}?t={moment_parameter(moment)}")
        if episode.audio_source:
            meta["audio"] = request.build_absolute_uri(episode.audio_source)
            meta["audio_type"] = audio_type(episode)
        if episode.published and not episode.published_is_transcript_date:
            meta["properties"].append(("article:published_time", episode.published.isoformat()))
        if episode.series_id:
            meta["properties"].append(("article:section", episode.series.title))
    elif kind == "person":
        meta.update(type="profile", description=plain(obj.role) or meta["description"])
    elif kind == "term":
        meta.update(description=plain(obj.definition))
    elif kind == "source":
        meta.update(description=plain(obj.note) or obj.short_reference)
        if obj.kind == "book":
            meta["type"] = "book"
            if obj.isbn:
                meta["properties"].append(("book:isbn", obj.isbn))
            if obj.year is not None:
                meta["properties"].append(("book:release_date", f"{obj.year:04d}"))
    elif kind == "series":
        meta.update(description=plain(obj.description) or meta["description"])
    return meta

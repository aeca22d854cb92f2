"""
Hostile and odd input, generated: no request answers 5xx, and what is refused leaves nothing stored.

Hypothesis (a property-based testing library) draws the values: any Unicode, digits of
other scripts (², ①, ٣, ３), control and invisible format characters, numbers of any
size and sign, empty strings. Every endpoint that reads a request is driven with them,
anonymous, signed in and as staff. Runs are derandomised, so CI meets the same examples
every time; to explore further, set HOSTILE_INPUT_EXAMPLES (e.g. 2000), which also draws
new examples on each run:

    HOSTILE_INPUT_EXAMPLES=2000 .venv/bin/pytest -n 0 tests/test_hostile_input.py

Each example runs in a savepoint rolled back after it, so examples never see each
other's rows (or each other's rate-limit counters).
"""

import datetime
import json
import os
import unicodedata
import xml.etree.ElementTree as ET
from contextlib import contextmanager

import pytest
from django.conf import settings as django_settings
from django.core.cache import caches
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from accounts.models import User
from episodes.models import Episode
from episodes.models.show import forget_show
from episodes.page_cache import transcripts
from notes.models import Flag, Note
from suggestions.models import Suggestion
from tests.factories import (
    make_anchored_note,
    make_episode,
    make_person,
    make_sentences,
    make_term,
    make_user,
)
from tests.test_notes import CREATE, EPISODE, FEED, HTMX, NOTES, SLUG
from timeline.models import Event

pytestmark = pytest.mark.django_db

ADMIN = "/" + django_settings.ADMIN_PATH

EXPLORE = int(os.environ.get("HOSTILE_INPUT_EXAMPLES", "0"))


def examples(count):
    """A bounded, derandomised run for `make test`; HOSTILE_INPUT_EXAMPLES explores at random."""
    return hypothesis_settings(
        max_examples=EXPLORE or count,
        derandomize=not EXPLORE,
        database=None,  # nothing written into the work tree
        deadline=None,  # a request's time varies with the machine; the suite's speed is measured elsewhere
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


# ---- what is drawn -------------------------------------------------------------------

# Characters that broke or could break something: C0 and C1 controls, DEL, bidirectional
# overrides and isolates, zero-width and other invisible format characters, XML's
# non-characters, and digits that are not ASCII (superscript, circled, Arabic-Indic,
# Devanagari, full-width, mathematical).
ODD_CHARACTERS = (
    "\x00\x01\x08\x0b\x0c\r\x1b\x1f\x7f\x80\x85\x9f"
    "\u00ad\u061c\u200b\u200c\u200d\u200e\u200f\u202a\u202e\u2060\u2066\u2069\ufeff\ufffe\uffff"
    "\u2028\u2029\U000e0001\U000e0041\U0010fffd"
    "²³¹①⑳٠٣۹३３𝟘𝟗"
)
# Any character a client can send (UTF-8 has no lone surrogates), or one of the odd ones.
any_character = st.one_of(st.characters(codec="utf-8"), st.sampled_from(ODD_CHARACTERS))
hostile_text = st.one_of(
    st.text(any_character, max_size=40),
    st.text(st.sampled_from(ODD_CHARACTERS + "ab 1\n\t*_`[]()<>&\"'#-"), max_size=20),
)
# Strings str.isdigit() says are digits, of several scripts: int() takes some (٣, ３), not others (², ①).
digits = st.text(st.sampled_from("0123456789²³¹①⑳٠٣۹३３𝟘"), min_size=1, max_size=8)
number_like = st.one_of(
    digits,
    st.integers(min_value=-10, max_value=10).map(str),
    st.integers().map(str),
    st.integers(min_value=10**15, max_value=10**40).map(str),
    st.text(st.sampled_from("0123456789²①٣３ +-.:e_s"), min_size=1, max_size=12),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["", " ", "0", "00", "1", "2", "3", "1.5", "12:34", "1:02:03", "754s", "9" * 5000]),
)
value = st.one_of(number_like, hostile_text)


# ---- the site they are thrown at -----------------------------------------------------------

@pytest.fixture(autouse=True)
def generous_limits(settings):
    """Rate limits have tests of their own; every example here starts with fresh counters anyway."""
    settings.RATE_LIMITS = {scope: (1000, 60) for scope in settings.RATE_LIMITS}
    settings.NOTES_HELD_FOR_NEW_ACCOUNTS = 0


@pytest.fixture
def site(settings, tmp_path):
    """A timed episode with audio, a term, a person, an event, listeners, a moderator and a note."""
    settings.MEDIA_ROOT = tmp_path
    episode = make_episode(number=138, slug=SLUG, title="The Great Purges", series="The Soviet Union", part=8,
                           timing=Episode.Timing.TIMED, duration=datetime.timedelta(seconds=15))
    sentences = make_sentences(episode, "The NKVD arrested thousands.", "Stalin signed the lists.") + \
        make_sentences(episode, "Kopelev remembered it.", paragraph=2)
    for index, sentence in enumerate(sentences):
        sentence.start, sentence.end = index * 5.0, index * 5.0 + 4.5
        sentence.save(update_fields=["start", "end"])
    episode.audio.save("narration.mp3", ContentFile(b"ID3" + bytes(range(256)) * 8))
    episode.render_transcript()
    make_term("NKVD", slug="nkvd")
    make_person("Joseph Stalin", slug="joseph-stalin")
    event = Event.objects.create(title="Kirov is shot", slug="kirov", date=datetime.date(1934, 12, 1),
                                 description="Kirov is shot in Leningrad.")
    event.sentences.add(sentences[0])
    reader = make_user("reader", display_name="Reader")
    other = make_user("other", display_name="Other")
    staff = make_user("moderator", display_name="Moderator", is_staff=True, is_superuser=True)
    note = make_anchored_note(episode, other, 1, body="The lists were long.", status=Note.Status.APPROVED)
    return {"episode": episode, "reader": reader, "other": other, "staff": staff, "note": note}


def signed_in(user):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@contextmanager
def example():
    """One example: fresh caches, and a savepoint rolled back afterwards."""
    caches["pages"].clear()
    transcripts.kept.clear()
    forget_show()
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def answered(response):
    assert response.status_code < 500, (response.status_code, response.content[:500])
    return response


# ---- what stored text must look like -------------------------------------------------------

def is_clean(text, *, joiners=True):
    """No control character but tab and newline; no invisible format character (bar joiners in notes)."""
    allowed = "\u200c\u200d" if joiners else ""
    return not any(
        (unicodedata.category(char) == "Cc" and char not in "\t\n")
        or (unicodedata.category(char) == "Cf" and char not in allowed)
        for char in text
    )


def published_everywhere(note):
    """An approved note shows on its episode's notes page, in notes.atom and as JSON-LD."""
    client = Client()
    page = answered(client.get(NOTES)).content.decode()
    assert f'id="note-{note.pk}"' in page
    feed = ET.fromstring(answered(client.get(FEED)).content)
    links = [link.get("href") for link in feed.iter("{http://www.w3.org/2005/Atom}link")]
    assert any(link.endswith(note.get_absolute_url()) for link in links)
    annotation = json.loads(answered(client.get(f"/notes/{note.pk}/annotation.jsonld")).content)
    assert annotation["body"]["value"] == note.body


# ---- the properties ------------------------------------------------------------------------

# Each page that reads its query string, with the parameters it reads.
PAGE_PARAMETERS = {
    "/episodes/": ["page", "order"],
    EPISODE: ["t", "paragraph"],
    NOTES: ["paragraph", "passage", "sort"],
    "/search/": ["q", "group", "page"],
    "/glossary/": ["q"],
    "/people/": ["q"],
    "/glossary/nkvd/": ["mentions"],
    "/people/joseph-stalin/": ["mentions"],
    "/timeline/": ["person", "term"],
}


@pytest.mark.parametrize("path", PAGE_PARAMETERS)
@examples(25)
@given(data=st.data(), who=st.sampled_from([None, "reader", "staff"]), htmx=st.booleans())
def test_query_parameters_never_answer_5xx_and_a_refusal_says_why(site, path, data, who, htmx):
    params = data.draw(st.dictionaries(st.sampled_from(PAGE_PARAMETERS[path]), value, min_size=1))
    with example():
        response = answered(signed_in(site.get(who)).get(path, params, headers=HTMX if htmx else {}))
        assert response.status_code != 400 or "must be" in response.content.decode()


@examples(20)
@given(paragraph=value, htmx=st.booleans())
def test_the_new_note_page_never_answers_5xx(site, paragraph, htmx):
    with example():
        answered(signed_in(site["reader"]).get(CREATE, {"paragraph": paragraph}, headers=HTMX if htmx else {}))


@examples(40)
@given(header=st.one_of(number_like, hostile_text, st.builds("bytes={}-{}".format, number_like, number_like)))
def test_audio_ranges_never_answer_5xx(site, header):
    with example():
        answered(Client().get(f"{EPISODE}audio/", headers={"Range": header}))


@examples(40)
@given(year=value)
def test_the_timeline_admin_year_filter_never_answers_5xx(site, year):
    with example():
        answered(signed_in(site["staff"]).get(f"{ADMIN}timeline/event/", {"year": year}))


@examples(80)
@given(body=hostile_text, first=number_like, last=number_like, exact=hostile_text, start=number_like,
       key=st.one_of(st.just(None), hostile_text), htmx=st.sampled_from([None, "discussion", "compose"]))
def test_a_new_note_is_stored_whole_or_not_at_all(site, body, first, last, exact, start, key, htmx):
    data = {"body": body, "first": first, "last": last, "exact": exact, "start": start}
    if key is not None:
        data["idempotency_key"] = key
    headers = {**HTMX, "HX-Target": htmx} if htmx else {}
    with example():
        before = set(Note.objects.values_list("pk", flat=True))
        answered(signed_in(site["reader"]).post(CREATE, data, headers=headers))
        new = Note.objects.exclude(pk__in=before)
        assert new.count() <= 1
        if note := new.first():
            assert note.body and is_clean(note.body), repr(note.body)
            published_everywhere(note)


@examples(60)
@given(action=st.sampled_from(["reply", "edit", "flag"]), body=hostile_text, reason=hostile_text,
       detail=hostile_text, key=hostile_text, htmx=st.booleans())
def test_replies_edits_and_flags_are_stored_whole_or_not_at_all(site, action, body, reason, detail, key, htmx):
    note = site["note"]
    with example():
        author = site["other"] if action == "edit" else site["reader"]
        notes_before = set(Note.objects.values_list("pk", "body"))
        flags_before = Flag.objects.count()
        data = {"body": body, "reason": reason, "detail": detail, "idempotency_key": key}
        answered(signed_in(author).post(f"/notes/{note.pk}/{action}/", data, headers=HTMX if htmx else {}))
        changed = set(Note.objects.values_list("pk", "body")) - notes_before
        if action == "flag":
            assert not changed and Flag.objects.count() - flags_before in (0, 1)
            return
        assert len(changed) <= 1 and Flag.objects.count() == flags_before
        if changed:
            pk, stored = changed.pop()
            assert stored and is_clean(stored), repr(stored)
            published_everywhere(Note.objects.get(pk=pk))


@examples(50)
@given(username=hostile_text, display_name=hostile_text, email=hostile_text, password=hostile_text,
       website=st.one_of(st.just(""), hostile_text), then_login=st.booleans())
def test_sign_up_log_in_and_password_reset_never_answer_5xx(site, username, display_name, email, password, website, then_login):
    with example():
        users = User.objects.count()
        client = Client()
        answered(client.post("/accounts/signup/", {
            "username": username, "display_name": display_name, "email": email,
            "password1": password, "password2": password, "website": website,
        }))
        created = User.objects.order_by("-pk").first() if User.objects.count() > users else None
        if created is not None:
            assert User.objects.count() == users + 1
            assert is_clean(created.display_name, joiners=False), repr(created.display_name)
        if then_login:
            answered(Client().post("/accounts/login/", {"username": username, "password": password}))
        else:
            answered(Client().post("/accounts/password_reset/", {"email": email}))


@examples(40)
@given(action=st.sampled_from(["approve", "reject", "spam", "ban", "restore"]), reason=hostile_text,
       start=value, nudge=st.one_of(st.just(None), value), entry=hostile_text)
def test_moderating_reviewing_and_suggestions_never_answer_5xx(site, action, reason, start, nudge, entry):
    staff = signed_in(site["staff"])
    sentence = site["episode"].sentences.order_by("position").first()
    review = {"start": start} if nudge is None else {"nudge": nudge}
    with example():
        suggestion = Suggestion.objects.create(episode=site["episode"], name="Yezhov", key="yezhov", reason="A name.")
        answered(staff.post(f"/moderation/notes/{site['note'].pk}/{action}/", {"reason": reason}))
        answered(staff.post(f"{EPISODE}review/{sentence.pk}/", review))
        answered(staff.post(f"/suggestions/{suggestion.pk}/alias/", {"entry": entry}))


@examples(30)
@given(text=hostile_text)
def test_stored_text_never_breaks_a_feed_or_an_export(site, text):
    """Rows written before input was cleaned (or by an import) still give valid XML and JSON."""
    episode, note = site["episode"], site["note"]
    if connection.vendor == "postgresql":  # its text columns can't hold NUL, so no row can
        text = text.replace("\x00", "")
    with example():
        User.objects.filter(pk=note.author_id).update(display_name=text)
        Note.objects.filter(pk=note.pk).update(body=text or "x", body_html=text or "x", quote_exact=text)
        episode.title, episode.description = text or "x", text
        episode.save(update_fields=["title", "description"])
        episode.sentences.filter(position=1).update(text=text or "x")
        episode.render_transcript()
        Event.objects.update(title=text or "x", description=text or "x")
        client = Client()
        for path in (FEED, "/feed.xml", "/sitemap.xml"):
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
            ET.fromstring(response.content)
        for path in (f"/notes/{note.pk}/annotation.jsonld", "/timeline.json", f"{EPISODE}chapters.json",
                     f"{EPISODE}transcript.json"):
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
            json.loads(response.content)
        for path in (EPISODE, NOTES, f"{EPISODE}transcript.html", f"{EPISODE}transcript.vtt"):
            assert client.get(path).status_code == 200, path

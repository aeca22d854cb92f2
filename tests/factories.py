"""Small factory functions: sensible defaults, override what the test is about."""

from itertools import count

from django.utils.text import slugify

from episodes.models import Citation, Episode, Mention, Person, Sentence, Series, Source, Term

_numbers = count(1000)


def make_series(title="The Soviet Union", **overrides):
    values = {"slug": slugify(title)} | overrides
    return Series.objects.get_or_create(title=title, defaults=values)[0]


def make_episode(**overrides):
    number = overrides.pop("number", next(_numbers))
    if isinstance(overrides.get("series"), str):
        overrides["series"] = make_series(overrides["series"])
    values = {"title": f"Episode {number}", "slug": f"{number}-episode", "number": number}
    values.update(overrides)
    return Episode.objects.create(**values)


def make_sentences(episode, *texts, paragraph=1):
    start = episode.sentences.count() + 1
    return [
        Sentence.objects.create(episode=episode, position=position, paragraph=paragraph, text=text)
        for position, text in enumerate(texts, start=start)
    ]


def make_term(name="NKVD", **overrides):
    values = {"name": name, "slug": name.lower().replace(" ", "-").replace("'", ""),
              "definition": f"What {name} means."}
    values.update(overrides)
    return Term.objects.create(**values)


def make_person(name="Joseph Stalin", **overrides):
    values = {"name": name, "slug": name.lower().replace(" ", "-"), "role": f"{name}'s role."}
    values.update(overrides)
    return Person.objects.create(**values)


def make_source(title="Stalin: New Biography of a Dictator", **overrides):
    values = {"title": title, "slug": title.lower().replace(" ", "-").replace(":", ""),
              "author": "Oleg V. Khlevniuk", "year": 2015}
    values.update(overrides)
    return Source.objects.create(**values)


def make_citation(sentence, source, **overrides):
    return Citation.objects.create(sentence=sentence, source=source, **overrides)


def make_mention(sentence, entity, start, end, kind=Mention.Kind.ADDED):
    field = "person" if isinstance(entity, Person) else "term"
    return Mention.objects.create(sentence=sentence, start=start, end=end, kind=kind,
                                  **{field: entity})



# Accounts and discussion notes.
from accounts.models import User  # noqa: E402
from notes.markup import render_markdown  # noqa: E402
from notes.models import Flag, Note  # noqa: E402

_users = count(1)


def make_user(username=None, **overrides):
    username = username or f"listener{next(_users)}"
    password = overrides.pop("password", "a long listening password")
    return User.objects.create_user(username=username, password=password, **overrides)


def make_note(episode, author, body="A note on this passage.", **overrides):
    values = {"body": body, "body_html": render_markdown(body), "idempotency_key": f"key-{next(_users)}"}
    values.update(overrides)
    with episode.writing():  # as every writer of notes does
        return Note.objects.create(episode=episode, author=author, **values)


def make_flag(note, reporter, reason=Flag.Reason.SPAM, **overrides):
    return Flag.objects.create(note=note, reporter=reporter, reason=reason, **overrides)


def make_anchored_note(episode, author, first, last=None, exact="", body="A note on this passage.", **overrides):
    """A note anchored the way note_create anchors one (quote, positions, moment)."""
    from notes.anchoring import anchor_selection

    note = Note(episode=episode, author=author, body=body, body_html=render_markdown(body),
                idempotency_key=overrides.pop("idempotency_key", f"key-{next(_users)}"), **overrides)
    anchor_selection(episode, first, last or first, exact).apply(note)
    with episode.writing():
        note.save()
    return note


def make_reply(parent, author, body="A reply.", **overrides):
    values = {"parent": parent, "first_sentence": parent.first_sentence, "last_sentence": parent.last_sentence,
              "quote_exact": parent.quote_exact, "orphaned": parent.orphaned}
    values.update(overrides)
    return make_note(parent.episode, author, body, **values)


def make_aligned_episode(texts):
    """Episode 138 with four aligned sentences, the second's start set by an editor (the editor's tests)."""
    episode = make_episode(number=138, title="The Great Purges", slug="138-the-great-purges")
    make_sentences(episode, *texts)
    episode.save_timings([(0.5, 2.5, []), (2.9, 5.5, []), (5.8, 8.5, []), (8.8, 11.0, [])], Episode.Timing.ALIGNED)
    episode.sentences.filter(position=2).update(start=3.4, start_set_by_editor=True)
    return episode

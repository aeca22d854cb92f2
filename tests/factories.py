"""Small factory functions: sensible defaults, override what the test is about."""

from itertools import count

from episodes.models import Citation, Episode, Mention, Person, Sentence, Source, Term

_numbers = count(1000)


def make_episode(**overrides):
    number = overrides.pop("number", next(_numbers))
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

"""Database constraints and the relinking rules that live on models."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from episodes.linking import relink_episode
from episodes.models import Mention, Sentence
from tests.factories import (
    make_citation, make_episode, make_mention, make_person, make_sentences, make_source, make_term,
)

pytestmark = pytest.mark.django_db


def refused(callable_):
    with pytest.raises(IntegrityError), transaction.atomic():
        callable_()


def test_slugs_are_unique():
    make_term("NKVD")
    refused(lambda: make_term("NKVD"))
    make_person("Sergei Kirov")
    refused(lambda: make_person("Sergei Kirov"))
    make_episode(slug="one")
    refused(lambda: make_episode(slug="one"))


def test_sentence_positions_are_unique_per_episode():
    episode = make_episode()
    make_sentences(episode, "One.")
    refused(lambda: Sentence.objects.create(episode=episode, position=1, paragraph=1, text="Two."))


def test_sentence_start_is_not_after_its_end():
    [sentence] = make_sentences(make_episode(), "One.")
    sentence.start, sentence.end = 5.0, 4.0
    refused(sentence.save)
    sentence.start, sentence.end = -1.0, 4.0
    refused(sentence.save)


def test_a_mention_is_of_a_term_or_a_person_not_both():
    [sentence] = make_sentences(make_episode(), "Stalin and the NKVD.")
    term, person = make_term(), make_person()
    refused(lambda: Mention.objects.create(sentence=sentence, term=term, person=person, start=0, end=6))
    refused(lambda: Mention.objects.create(sentence=sentence, start=0, end=6))


def test_a_mention_span_is_not_empty():
    [sentence] = make_sentences(make_episode(), "Stalin.")
    refused(lambda: make_mention(sentence, make_person(), 3, 3))


def test_a_mention_span_lies_inside_its_sentence():
    [sentence] = make_sentences(make_episode(), "Stalin.")
    mention = Mention(sentence=sentence, person=make_person(), start=0, end=40)
    with pytest.raises(ValidationError, match="only 7 characters"):
        mention.full_clean()


def test_a_person_is_born_before_dying():
    refused(lambda: make_person("Backwards", born=1950, died=1900))


def test_a_citations_quote_must_be_in_its_sentence():
    [sentence] = make_sentences(make_episode(), "He said “no”.")
    citation = make_citation(sentence, make_source(), quoted_text="yes")
    with pytest.raises(ValidationError, match="not in the sentence"):
        citation.full_clean()


def test_relinking_keeps_suppressed_and_added_mentions():
    episode = make_episode()
    [sentence] = make_sentences(episode, "Stalin and Kirov met the NKVD.")
    stalin, kirov = make_person(aliases="Stalin"), make_person("Sergei Kirov", aliases="Kirov")
    secret_police = make_term("Secret police", slug="secret-police")
    make_term("NKVD")
    relink_episode(episode)
    assert Mention.objects.filter(kind=Mention.Kind.AUTO).count() == 3

    make_mention(sentence, kirov, 11, 16, kind=Mention.Kind.SUPPRESSED)
    make_mention(sentence, secret_police, 25, 29, kind=Mention.Kind.ADDED)
    relink_episode(episode)

    visible = {(m.sentence.text[m.start:m.end], str(m.entity)) for m in Mention.objects.visible().select_related("sentence", "term", "person")}
    assert visible == {("Stalin", str(stalin)), ("NKVD", "Secret police")}
    episode.refresh_from_db()
    assert 'href="/people/sergei-kirov/"' not in episode.transcript_html
    assert 'href="/glossary/secret-police/"' in episode.transcript_html


def test_relinking_picks_up_a_new_alias():
    episode = make_episode()
    make_sentences(episode, "Ezhov was arrested.")
    yezhov = make_person("Nikolai Yezhov")
    assert relink_episode(episode) == 0
    yezhov.aliases = "Yezhov\nEzhov"
    yezhov.save()
    assert relink_episode(episode) == 1

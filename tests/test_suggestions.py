"""Suggested entries: the finder, suggesting after an import, and the editor's decisions."""

import pytest
from django.urls import reverse

from episodes.models import Mention, Person, Term
from episodes.transcripts import import_transcript
from suggestions.finder import Finder
from suggestions.models import RejectedName, Suggestion
from suggestions.suggesting import suggest_for
from tests.factories import make_episode, make_person, make_user

TEXT = (
    "In March 1932 Martemian Ryutin wrote a platform against Stalin.\n\n"
    "Ryutin was arrested by the OGPU, and the OGPU kept him in Suzdal.\n\n"
    "However, the kulaks were blamed too; the kulaks always were.\n\n"
    "Jagoda ran the secret police. Later Ryutin was shot.\n\n"
    "Vyshinsky said: “These mad dogs must be shot, every one of them.”\n"
)


def names(candidates):
    return [candidate.name for candidate in candidates]


# ---- the finder -----------------------------------------------------------------------


def test_a_surname_is_folded_into_the_full_name_it_belongs_to():
    found = {c.name: c for c in Finder(["Martemian Ryutin wrote it.", "Then Ryutin was shot."]).find()}
    assert "Ryutin" not in found
    assert len(found["Martemian Ryutin"].mentions) == 2
    assert found["Martemian Ryutin"].kind == "person"


def test_a_capital_at_a_sentence_start_is_not_a_name():
    found = names(Finder(["However, the OGPU came.", "The OGPU came, however it could."]).find())
    assert "However" not in found and "OGPU" in found


def test_acronyms_quoted_titles_and_places():
    sentences = ["He wrote “Stalin and the Crisis of Proletarian Dictatorship” in Moscow, for the OGPU to find."]
    found = {c.name: c.kind for c in Finder(sentences).find()}
    assert found["Stalin and the Crisis of Proletarian Dictatorship"] == "document"
    assert found["OGPU"] == "organisation"
    assert found["Moscow"] == "place"


def test_a_quotation_lends_the_episode_none_of_its_words():
    sentences = ["He said: “Pulverise the malefactors and their barbarity.”", "Nothing more."]
    assert not {"malefactor", "barbarity"} & set(names(Finder(sentences).find()))


def test_a_rare_word_outside_quotes_is_a_subject():
    found = names(Finder(["The kulaks were deported.", "Every kulak lost his land."]).find())
    assert "kulak" in found


def test_a_near_miss_of_an_entry_is_marked_as_a_spelling_of_it():
    known = {"Genrikh Yagoda": "Genrikh Yagoda", "Yagoda": "Genrikh Yagoda", "NKVD": "NKVD"}
    [jagoda] = [c for c in Finder(["Jagoda ran the NKVD."], known=known).find() if c.name == "Jagoda"]
    assert jagoda.near == "Genrikh Yagoda"
    assert "spelling of Yagoda" in jagoda.reason


def test_rejected_and_known_names_are_not_suggested():
    found = names(Finder(["Ryutin met Kamenev."], known=["Kamenev"], rejected=["ryutin"]).find())
    assert found == []


# ---- suggesting for an episode -----------------------------------------------------------


@pytest.fixture
def imported(db, django_capture_on_commit_callbacks):
    """An episode whose transcript was imported: the suggestions task ran after the commit."""
    episode = make_episode(number=201, slug="201-ryutin", title="Ryutin")
    make_person("Joseph Stalin", aliases="Stalin")
    with django_capture_on_commit_callbacks(execute=True):
        import_transcript(episode, TEXT)
    return episode


def test_an_import_queues_suggestions_for_the_names_without_entries(imported):
    found = dict(imported.suggestions.values_list("name", "kind"))
    assert found["Martemian Ryutin"] == "person"
    assert found["OGPU"] == "organisation"
    assert "kulak" in found
    assert "Stalin" not in found  # it links already
    assert not Mention.objects.filter(sentence__episode=imported, person__name="Martemian Ryutin").exists()


def test_each_suggestion_keeps_its_mentions_in_context(imported):
    ryutin = imported.suggestions.get(name="Martemian Ryutin")
    texts = dict(imported.sentences.values_list("pk", "text"))
    spans = [texts[sentence][start:end] for sentence, start, end in ryutin.mentions]
    assert spans == ["Martemian Ryutin", "Ryutin", "Ryutin"]


def test_looking_again_replaces_only_what_is_still_pending(imported):
    kulak = imported.suggestions.get(name="kulak")
    kulak.status = Suggestion.Status.REJECTED
    kulak.save()
    before = imported.suggestions.count()
    assert suggest_for(imported) == before - 1
    assert imported.suggestions.get(name="kulak").status == Suggestion.Status.REJECTED


# ---- the queue ---------------------------------------------------------------------------


@pytest.fixture
def editor(client, imported):
    client.force_login(make_user("editor", is_staff=True, is_superuser=True))
    return client


def decide(client, suggestion, action, headers=None, **data):
    return client.post(reverse("suggestions:decide", args=[suggestion.pk, action]), data, headers=headers)


def test_the_queue_shows_each_suggestion_in_context_with_its_choices(editor, imported):
    html = editor.get(reverse("suggestions:queue")).content.decode()
    assert "<mark>Martemian Ryutin</mark> wrote a platform" in html
    assert "Write a new person" in html and "Add as alias" in html and "Reject" in html
    assert "/admin/episodes/person/add/?name=Martemian+Ryutin" in html


def test_only_staff_see_or_decide(client, imported):
    suggestion = imported.suggestions.first()
    assert client.get(reverse("suggestions:queue")).status_code == 302  # to log in
    client.force_login(make_user("listener"))
    assert client.get(reverse("suggestions:queue")).status_code == 403
    assert decide(client, suggestion, "reject").status_code == 403
    assert Suggestion.objects.get(pk=suggestion.pk).status == Suggestion.Status.PENDING


def test_a_rejected_name_is_not_suggested_again_on_reimport(editor, imported, django_capture_on_commit_callbacks):
    ogpu = imported.suggestions.get(name="OGPU")
    assert decide(editor, ogpu, "reject").status_code == 302
    assert RejectedName.objects.filter(key="ogpu").exists()
    with django_capture_on_commit_callbacks(execute=True):
        import_transcript(imported, TEXT.replace("Later Ryutin", "In 1937 Ryutin"))
    assert imported.suggestions.pending().filter(name="OGPU").count() == 0


def test_accepting_as_an_alias_links_the_name_in_the_episode(editor, imported):
    stalin = Person.objects.get(name="Joseph Stalin")
    ryutin = imported.suggestions.get(name="Martemian Ryutin")
    assert decide(editor, ryutin, "alias", entry="joseph stalin").status_code == 302  # case aside
    stalin.refresh_from_db()
    assert "Martemian Ryutin" in stalin.alias_list
    linked = Mention.objects.filter(sentence__episode=imported, person=stalin).select_related("sentence")
    assert "Martemian Ryutin" in {mention.matched_text for mention in linked}
    ryutin.refresh_from_db()
    assert (ryutin.status, ryutin.person) == (Suggestion.Status.ACCEPTED, stalin)


def test_an_alias_must_name_an_entry(editor, imported):
    ryutin = imported.suggestions.get(name="Martemian Ryutin")
    response = decide(editor, ryutin, "alias", entry="Nobody at all", headers={"HX-Request": "true"})
    assert response.status_code == 400 and "Choose an existing entry" in response.content.decode()
    assert decide(editor, ryutin, "alias", entry="").status_code == 302
    assert Suggestion.objects.get(pk=ryutin.pk).status == Suggestion.Status.PENDING
    assert decide(editor, ryutin, "promote").status_code == 404
    assert editor.get(reverse("suggestions:decide", args=[ryutin.pk, "reject"])).status_code == 405


def test_writing_the_new_entry_in_the_admin_accepts_the_suggestion(editor, imported):
    ogpu = imported.suggestions.get(name="OGPU")
    form = editor.get(reverse("admin:episodes_term_add") + "?name=OGPU&category=organisation")
    assert 'value="OGPU"' in form.content.decode()
    saved = editor.post(reverse("admin:episodes_term_add"), {
        "name": "OGPU", "slug": "ogpu", "category": "organisation", "aliases": "",
        "definition": "The Soviet political police from 1923 to 1934.", "article": "", "episode_wording": "",
        "reference": "",
    })
    assert saved.status_code == 302, saved.content.decode()[:2000]
    ogpu.refresh_from_db()
    assert (ogpu.status, ogpu.term) == (Suggestion.Status.ACCEPTED, Term.objects.get(slug="ogpu"))

"""
An admin edit to a term's or person's names, scoped aliases or ambiguity
rules shows the links it would change, and writes nothing until applied.
"""

from html.parser import HTMLParser

import pytest

from episodes.linking import preview_relink, relink_all
from episodes.models import AmbiguityRule, Mention, Person, ScopedAlias
from tests.factories import make_episode, make_person, make_sentences, make_term

pytestmark = pytest.mark.django_db


@pytest.fixture
def show(db):
    purges = make_episode(number=138, slug="138-the-great-purges", title="The Great Purges")
    leningrad = make_episode(number=180, slug="180-leningrad", title="Leningrad")
    make_sentences(purges, "Kirov was shot.", "Kostrikov took the name Kirov.")
    make_sentences(leningrad, "Tanks came from the Kirov Plant.", "Kirov's city held out.")
    kirov = make_person("Sergei Kirov", slug="sergei-kirov", aliases="Kirov", role="Leningrad party chief.")
    relink_all()
    return {"purges": purges, "leningrad": leningrad, "kirov": kirov}


def person_form(person, rules=(), **changes):
    """What the admin's change form posts for a person with no scoped aliases, plus new ambiguity rules."""
    data = {
        "name": person.name, "full_name": person.full_name, "slug": person.slug, "aliases": person.aliases,
        "born": person.born or "", "died": person.died or "", "role": person.role,
        "biography": person.biography, "reference": person.reference,
        "scopedalias_set-TOTAL_FORMS": "0", "scopedalias_set-INITIAL_FORMS": "0",
        "ambiguityrule_set-TOTAL_FORMS": str(len(rules)), "ambiguityrule_set-INITIAL_FORMS": "0",
        "_save": "Save",
    }
    for index, (alias, phrase) in enumerate(rules):
        data |= {f"ambiguityrule_set-{index}-alias": alias, f"ambiguityrule_set-{index}-phrase": phrase,
                 f"ambiguityrule_set-{index}-series": ""}
    return data | changes


def change_url(person):
    return f"/admin/episodes/person/{person.pk}/change/"


def stored(person):
    return sorted(Mention.objects.filter(person=person).values_list("sentence__text", "start"))


class FormFields(HTMLParser):
    """The fields a page's last form would post (hidden inputs and the named submit button)."""

    def __init__(self):
        super().__init__()
        self.fields = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.fields = []
        elif tag == "input" and attrs.get("name") and attrs.get("type") in ("hidden", "submit"):
            self.fields.append((attrs["name"], attrs.get("value", "")))


def posted_by(page):
    parser = FormFields()
    parser.feed(page)
    data = {}
    for name, value in parser.fields:
        data.setdefault(name, []).append(value)
    return data


def test_an_ambiguity_rule_added_in_the_admin_is_previewed_and_nothing_is_written(admin_client, show):
    kirov = show["kirov"]
    before = stored(kirov)
    response = admin_client.post(change_url(kirov), person_form(kirov, rules=[("Kirov", "Kirov Plant")]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Links this edit would change" in page
    assert "1 episode:" in page and "0 links added, 1 removed" in page
    assert "180: Leningrad: 0 added, 1 removed" in page
    assert "Tanks came from the <mark>Kirov</mark> Plant." in page
    assert "138: The Great Purges" not in page
    assert AmbiguityRule.objects.count() == 0
    assert stored(kirov) == before


def test_applying_the_preview_saves_the_edit_and_relinks(admin_client, show, django_capture_on_commit_callbacks):
    kirov = show["kirov"]
    preview = admin_client.post(change_url(kirov), person_form(kirov, rules=[("Kirov", "Kirov Plant")]))
    data = posted_by(preview.content.decode())
    assert "_apply_links" in data
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(change_url(kirov), data)
    assert response.status_code == 302
    assert AmbiguityRule.objects.filter(person=kirov, alias="Kirov", phrase="Kirov Plant").exists()
    assert "Tanks came from the Kirov Plant." not in [text for text, _ in stored(kirov)]
    assert len(stored(kirov)) == 3


def test_a_new_alias_lists_the_links_it_adds_per_episode(admin_client, show):
    kirov = show["kirov"]
    response = admin_client.post(change_url(kirov), person_form(kirov, aliases="Kirov\nKostrikov"))
    page = response.content.decode()
    assert "1 link added, 0 removed" in page
    assert "<mark>Kostrikov</mark> took the name Kirov." in page
    kirov.refresh_from_db()
    assert kirov.aliases == "Kirov"


def test_the_edited_form_comes_back_whole_with_apply_and_cancel(admin_client, show):
    kirov = show["kirov"]
    response = admin_client.post(change_url(kirov), person_form(kirov, aliases="Kirov\r\nKostrikov"))
    data = posted_by(response.content.decode())
    assert data["aliases"] == ["Kirov\r\nKostrikov"]
    assert data["_save"] == ["Save"] and "csrfmiddlewaretoken" in data
    assert f'href="{change_url(kirov)}"' in response.content.decode()  # Cancel


def test_an_episode_scoped_alias_is_previewed_only_where_it_holds(admin_client, show):
    kirov = show["kirov"]
    data = person_form(kirov) | {
        "scopedalias_set-TOTAL_FORMS": "1", "scopedalias_set-0-text": "Kostrikov",
        "scopedalias_set-0-episode": str(show["leningrad"].pk), "scopedalias_set-0-series": "",
    }
    response = admin_client.post(change_url(kirov), data)
    assert response.status_code == 302  # Kostrikov is only written in 138: nothing changes
    assert ScopedAlias.objects.filter(person=kirov).count() == 1


def test_an_edit_that_changes_no_link_is_saved_at_once(admin_client, show, django_capture_on_commit_callbacks):
    kirov = show["kirov"]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = admin_client.post(change_url(kirov), person_form(
            kirov, aliases="Kirov\nSergei Mironovich Kirov", biography="Born in Urzhum."))
    assert response.status_code == 302
    kirov.refresh_from_db()
    assert kirov.aliases == "Kirov\nSergei Mironovich Kirov" and kirov.biography == "Born in Urzhum."
    assert len(callbacks) == 1  # the relink on save, as before


def test_a_new_entry_is_previewed_too(admin_client, show):
    response = admin_client.post("/admin/episodes/person/add/", person_form(
        Person(name="Leonid Kostrikov", slug="kostrikov", role="Nobody."), aliases="Kostrikov"))
    assert "1 link added, 0 removed" in response.content.decode()
    assert not Person.objects.filter(slug="kostrikov").exists()
    assert 'href="/admin/episodes/person/"' in response.content.decode()  # Cancel


def test_a_term_edit_can_take_links_from_a_person(admin_client, show):
    """The longest match wins: a new term alias 'Kirov Plant' removes Kirov's link there and adds its own."""
    plant = make_term("Kirov Plant", slug="kirov-plant", definition="A Leningrad works.")
    [changes] = preview_relink({"Kirov Plant"})
    assert [(change.added, str(change.entity)) for change in changes.changes] == [(False, "Sergei Kirov"), (True, "Kirov Plant")]
    assert changes.episode == show["leningrad"]
    plant.delete()
    assert preview_relink({"Kirov Plant"}) == []


def test_editors_see_scoped_aliases_and_ambiguity_rules_on_the_entry(admin_client, show):
    kirov = show["kirov"]
    AmbiguityRule.objects.create(person=kirov, alias="Kirov", phrase="Kirov Plant")
    ScopedAlias.objects.create(person=kirov, text="Mironych", episode=show["purges"])
    page = admin_client.get(change_url(kirov)).content.decode()
    assert "ambiguity rules: where a name means something else" in page.lower()
    assert 'value="Kirov Plant"' in page and 'value="Mironych"' in page
    term = make_term("Moscow Trials", slug="moscow-trials")
    assert "aliases only in one series or episode" in admin_client.get(
        f"/admin/episodes/term/{term.pk}/change/").content.decode().lower()


def test_an_alias_that_takes_another_entrys_words_is_named_before_saving(admin_client, db):
    """The issue's case: a new person's alias "tsarist officials" would take the words a term linked."""
    episode = make_episode(number=138, slug="138-the-great-purges", title="The Great Purges")
    make_sentences(episode, "The tsarist officials fled.", "Party officials were arrested.")
    officials = make_term("officials", definition="Those who held a post in the state or the party.")
    okhrana = make_person("Okhrana chief", slug="okhrana-chief", role="Head of the tsarist police.")
    relink_all()
    response = admin_client.post(change_url(okhrana), person_form(okhrana, aliases="tsarist officials"))
    page = response.content.decode()
    assert "1 link would be taken from another entry" in page
    assert ("“tsarist officials” would link to <strong>Okhrana chief</strong>, "
            "no longer to <strong>officials</strong> (“officials”)") in page
    assert "Party officials" not in page.split("would be taken")[1].split("</ul>")[0]  # still the term's
    okhrana.refresh_from_db()
    assert okhrana.aliases == "" and Mention.objects.get(sentence__position=1).term == officials


def test_a_plain_new_alias_takes_nothing(admin_client, show):
    kirov = show["kirov"]
    page = admin_client.post(change_url(kirov), person_form(kirov, aliases="Kirov\nKostrikov")).content.decode()
    assert "1 link added" in page and "taken from another entry" not in page

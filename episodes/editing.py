"""
The staff's transcript editor: the episode's text, a sentence at a time,
each edited in place (htmx; a plain form without JavaScript).

A sentence keeps its row when its text is edited, so its timing, citations
and notes stay with it (the notes re-anchor, as after an import); word
timings go (their character offsets were the old text's); an editor's own
mentions move to where their words are now, or are dropped and said so; the
linker's are found again.

Words are linked to a glossary entry or person, or unlinked, by selecting
them (static/js/editor.js fills the small form; without JavaScript the
editor types them): a link is the editor's (a relink keeps it); unlinking a
link the linker made suppresses it, so a relink leaves the words alone.
Selected words can also become an alias of an entry, so they link in every
episode; what that would change across the show, and above all any words it
would take from another entry, is shown before it is saved.
"""

from django import forms
from django.contrib import messages
from django.db import transaction
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.decorators import staff_required
from companion.params import int_or_none
from companion.text import CleanTextField

from .linking import names_of, preview_relink, relink_episode
from .models import Episode, Mention, Person, Sentence, Term
from .signals import transcript_replaced
from .tasks import relink_episodes

MAX_SENTENCE = 5000


EMPTY = "A sentence can't be empty; to remove one, import the transcript without it."


class SentenceForm(forms.Form):
    text = CleanTextField(
        label="Sentence", max_length=MAX_SENTENCE, widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": EMPTY},
    )

    def clean_text(self):
        return " ".join(self.cleaned_data["text"].split())  # one sentence: one line


def edit_sentence(sentence, text):
    """Store the sentence's new text (see the module docstring); returns what happened, for the editor."""
    episode = sentence.episode
    with episode.writing():
        sentence.refresh_from_db(fields=["text", "words"])
        if text == sentence.text:
            return f"§{sentence.position} is unchanged."
        old, dropped = sentence.text, []
        for mention in Mention.objects.filter(sentence=sentence).exclude(kind=Mention.Kind.AUTO):
            words = old[mention.start:mention.end]
            at = text.find(words)
            if at == -1:
                dropped.append(words)
                mention.delete()
            else:
                mention.start, mention.end = at, at + len(words)
                mention.save(update_fields=["start", "end"])
        sentence.text, sentence.words = text, []
        sentence.save(update_fields=["text", "words"])
        transcript_replaced.send(sender=Episode, episode=episode)
        relink_episode(episode)
    summary = f"§{sentence.position} saved."
    if dropped:
        summary += " Links an editor had made were removed, their words being gone: " + ", ".join(
            f"“{words}”" for words in dropped) + "."
    return summary


class LinkError(Exception):
    """The words or the entry can't be used; the message says why."""


class LinkForm(forms.Form):
    words = CleanTextField(label="Words", max_length=300, error_messages={"required": "Select or type the words first."})
    entry = CleanTextField(label="Glossary entry or person", max_length=200, required=False)


def span_of(sentence, words, at=None):
    """(start, end) of the words in the sentence: at the offset the selection gave, else their first place."""
    text = sentence.text
    if at is not None and text[at:at + len(words)] == words:
        return at, at + len(words)
    found = text.find(words)
    if found == -1:
        raise LinkError(f"“{words}” isn't in §{sentence.position}.")
    return found, found + len(words)


def entry_named(name):
    """The one Term or Person of that name (or full name, or alias); LinkError when none or several."""
    name = " ".join(name.split())
    if not name:
        raise LinkError("Name the glossary entry or person to link to.")
    found = [*Term.objects.filter(name__iexact=name), *Person.objects.filter(Q(name__iexact=name) | Q(full_name__iexact=name))]
    if not found:
        folded = name.casefold()
        found = [entry for model in (Term, Person) for entry in model.objects.matching(name)
                 if folded in {alias.casefold() for alias in entry.alias_list}]
    if not found:
        raise LinkError(f"No glossary entry or person is called “{name}”; add one in the admin first.")
    if len(found) > 1:
        raise LinkError(f"Several entries are called “{name}”: " + ", ".join(map(str, found)) + "; use the full name.")
    return found[0]


def overlapping(sentence, start, end):
    return Mention.objects.filter(sentence=sentence, start__lt=end, end__gt=start)


def link_words(sentence, words, at, name):
    """Link the words to the entry named, as the editor's link; returns what happened."""
    entry = entry_named(name)
    with sentence.episode.writing():
        sentence.refresh_from_db(fields=["text", "position"])
        start, end = span_of(sentence, words, at)
        overlapping(sentence, start, end).delete()
        field = "person" if isinstance(entry, Person) else "term"
        Mention.objects.create(sentence=sentence, start=start, end=end, kind=Mention.Kind.ADDED, **{field: entry})
        relink_episode(sentence.episode)
    return f"“{words}” in §{sentence.position} now links to {entry}."


def unlink_words(sentence, words, at):
    """Take the links off the words: the editor's are removed, the linker's suppressed; returns what happened."""
    with sentence.episode.writing():
        sentence.refresh_from_db(fields=["text", "position"])
        start, end = span_of(sentence, words, at)
        found = overlapping(sentence, start, end).exclude(kind=Mention.Kind.SUPPRESSED)
        if not found:
            raise LinkError(f"Nothing is linked in “{words}”.")
        names = sorted({str(mention.entity) for mention in found})
        found.filter(kind=Mention.Kind.ADDED).delete()
        found.filter(kind=Mention.Kind.AUTO).update(kind=Mention.Kind.SUPPRESSED)
        relink_episode(sentence.episode)
    return f"“{words}” in §{sentence.position} no longer links to {', '.join(names)}."


def alias_preview(entry, words):
    """What adding the words as the entry's alias everywhere would change: computed, then rolled back."""
    with transaction.atomic():
        entry.add_alias(words)
        changes = preview_relink(names_of(entry))
        transaction.set_rollback(True)
    entry.refresh_from_db(fields=["aliases"])
    return changes


def add_alias(sentence, words, name):
    """The words become an alias of the entry named: this episode relinks now, the others soon."""
    entry = entry_named(name)
    with sentence.episode.writing():
        entry = type(entry).objects.select_for_update().get(pk=entry.pk)
        entry.add_alias(words)
        relink_episode(sentence.episode)
        transaction.on_commit(lambda: relink_episodes.enqueue(None))
    return f"“{words}” is now an alias of {entry}: it links here now, and in the other episodes in a moment."


def mentions_by_sentence(episode):
    """{sentence id: [mention, …]} of the links shown (the editor's and the linker's), one query."""
    found = {}
    for mention in Mention.objects.visible().filter(sentence__episode=episode).select_related("term", "person", "sentence"):
        found.setdefault(mention.sentence_id, []).append(mention)
    return found


def editor_context(episode, **extra):
    return {"episode": episode, "edit_url": reverse("episodes:edit", args=[episode.slug]), **extra}


@staff_required
@require_safe
def edit_transcript(request, slug):
    episode = get_object_or_404(Episode, slug=slug)
    sentences = list(episode.sentences.order_by("position").only("pk", "episode_id", "position", "paragraph", "text", "start"))
    editing = request.GET.get("sentence")
    links = mentions_by_sentence(episode)
    for sentence in sentences:
        sentence.links = links.get(sentence.pk, [])
        if editing == str(sentence.pk):  # without JavaScript: the form in place, from ?sentence=
            sentence.form = SentenceForm(initial={"text": sentence.text})
    paragraphs = {}
    for sentence in sentences:
        paragraphs.setdefault(sentence.paragraph, []).append(sentence)
    entries = [*Term.objects.values_list("name", flat=True), *Person.objects.values_list("name", flat=True)]
    context = editor_context(episode, paragraphs=paragraphs.items(), entry_names=sorted(set(entries)))
    return render(request, "episodes/edit_transcript.html", context)


@staff_required
@require_http_methods(["GET", "HEAD", "POST"])
def edit_sentence_view(request, slug, pk):
    sentence = get_object_or_404(Sentence.objects.select_related("episode"), pk=pk, episode__slug=slug)
    episode = sentence.episode
    if request.method == "POST":
        form = SentenceForm(request.POST)
        if form.is_valid():
            summary = edit_sentence(sentence, form.cleaned_data["text"])
            if not request.htmx:
                messages.success(request, summary)
                return redirect(f"{reverse('episodes:edit', args=[episode.slug])}#edit-s-{sentence.position}")
            return sentence_row(request, sentence, summary)
        status = 400
    elif request.GET.get("cancel"):
        form, status = None, 200
    else:
        form, status = SentenceForm(initial={"text": sentence.text}), 200
    if not request.htmx:
        return redirect(f"{reverse('episodes:edit', args=[episode.slug])}?sentence={sentence.pk}#edit-s-{sentence.position}")
    sentence.form = form
    sentence.links = mentions_by_sentence(episode).get(sentence.pk, [])
    return render(request, "episodes/edit_transcript.html#sentence", editor_context(episode, sentence=sentence), status=status)


def sentence_row(request, sentence, flash, level="success", status=200):
    """The sentence's row as the page shows it, with a message for #flash (htmx)."""
    sentence.links = mentions_by_sentence(sentence.episode).get(sentence.pk, [])
    context = editor_context(sentence.episode, sentence=sentence, flash=flash, flash_level=level)
    return render(request, "episodes/edit_transcript.html#sentence", context, status=status)


@staff_required
@require_POST
def link_view(request, slug, pk):
    sentence = get_object_or_404(Sentence.objects.select_related("episode"), pk=pk, episode__slug=slug)
    form = LinkForm(request.POST)
    try:
        if not form.is_valid():
            raise LinkError(" ".join(message for errors in form.errors.values() for message in errors))
        words = form.cleaned_data["words"]
        at = int_or_none(request.POST.get("at", ""), minimum=0, maximum=len(sentence.text))
        action = request.POST.get("action")
        if action == "unlink":
            summary = unlink_words(sentence, words, at)
        elif action == "alias":
            return alias_preview_view(request, sentence, words, form.cleaned_data["entry"])
        elif action == "add_alias":
            summary = add_alias(sentence, words, form.cleaned_data["entry"])
        else:
            summary = link_words(sentence, words, at, form.cleaned_data["entry"])
        level, status = "success", 200
    except LinkError as error:
        summary, level, status = str(error), "error", 400
    if not request.htmx:
        getattr(messages, level)(request, summary)
        return redirect(f"{reverse('episodes:edit', args=[slug])}#edit-s-{sentence.position}")
    return sentence_row(request, sentence, summary, level, status)


def alias_preview_view(request, sentence, words, name):
    """Before the words become an alias: the links it would add, remove and take, with Add and Cancel."""
    span_of(sentence, words)  # selected here: refused like a link if they aren't
    entry = entry_named(name)
    changes = alias_preview(entry, words)
    context = editor_context(
        sentence.episode, sentence=sentence, words=words, entry=entry, changes=changes,
        added=sum(len(episode.added) for episode in changes),
        removed=sum(len(episode.removed) for episode in changes),
        taken=[pair for episode in changes for pair in episode.taken],
    )
    template = "episodes/alias_preview.html#preview" if request.htmx else "episodes/alias_preview.html"
    return render(request, template, context)

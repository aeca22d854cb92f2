"""
The staff's transcript editor: the episode's text, a sentence at a time,
each edited in place (htmx; a plain form without JavaScript).

A sentence keeps its row when its text is edited, so its timing, citations
and notes stay with it (the notes re-anchor, as after an import); word
timings go (their character offsets were the old text's); an editor's own
mentions move to where their words are now, or are dropped and said so; the
linker's are found again.
"""

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe

from accounts.decorators import staff_required
from companion.text import CleanTextField

from .linking import relink_episode
from .models import Episode, Mention, Sentence
from .signals import transcript_replaced

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


def editor_context(episode, **extra):
    return {"episode": episode, "edit_url": reverse("episodes:edit", args=[episode.slug]), **extra}


@staff_required
@require_safe
def edit_transcript(request, slug):
    episode = get_object_or_404(Episode, slug=slug)
    sentences = list(episode.sentences.order_by("position").only("pk", "episode_id", "position", "paragraph", "text", "start"))
    editing = request.GET.get("sentence")
    for sentence in sentences:
        if editing == str(sentence.pk):  # without JavaScript: the form in place, from ?sentence=
            sentence.form = SentenceForm(initial={"text": sentence.text})
    paragraphs = {}
    for sentence in sentences:
        paragraphs.setdefault(sentence.paragraph, []).append(sentence)
    return render(request, "episodes/edit_transcript.html", editor_context(episode, paragraphs=paragraphs.items()))


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
            context = editor_context(episode, sentence=sentence, flash=summary, flash_level="success")
            return render(request, "episodes/edit_transcript.html#sentence", context)
        status = 400
    elif request.GET.get("cancel"):
        form, status = None, 200
    else:
        form, status = SentenceForm(initial={"text": sentence.text}), 200
    if not request.htmx:
        return redirect(f"{reverse('episodes:edit', args=[episode.slug])}?sentence={sentence.pk}#edit-s-{sentence.position}")
    sentence.form = form
    return render(request, "episodes/edit_transcript.html#sentence", editor_context(episode, sentence=sentence), status=status)

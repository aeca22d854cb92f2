"""The editor's queue of suggested entries: see each in context, then accept or reject it."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST, require_safe

from accounts.decorators import staff_required
from episodes.models import Person, Sentence, Term
from episodes.moments import moment_parameter

from .models import Kind, Suggestion
from .suggesting import accept_as_alias, new_entry_fields, reject

QUEUE_SIZE = 60
CONTEXTS_SHOWN = 3
CONTEXT_CHARS = 70


def with_contexts(suggestions):
    """Each suggestion's first mentions as (before, words, after, moment link), from one query."""
    wanted = {sentence_id for s in suggestions for sentence_id, _, _ in s.mentions[:CONTEXTS_SHOWN]}
    sentences = Sentence.objects.select_related("episode").in_bulk(wanted)
    for suggestion in suggestions:
        suggestion.contexts = []
        for sentence_id, start, end in suggestion.mentions[:CONTEXTS_SHOWN]:
            if (sentence := sentences.get(sentence_id)) is None:
                continue  # the transcript changed since; the next look replaces this suggestion
            text = sentence.text
            before = text[max(0, start - CONTEXT_CHARS):start]
            after = text[end:end + CONTEXT_CHARS]
            url = sentence.episode.get_absolute_url()
            if sentence.start is not None:
                url += f"?t={moment_parameter(sentence.start)}"
            suggestion.contexts.append({
                "before": ("…" if start > CONTEXT_CHARS else "") + before, "words": text[start:end],
                "after": after + ("…" if end + CONTEXT_CHARS < len(text) else ""),
                "url": f"{url}#{sentence.anchor}",
            })
        admin = "admin:episodes_person_add" if suggestion.kind == Kind.PERSON else "admin:episodes_term_add"
        suggestion.new_entry_url = f"{reverse(admin)}?{urlencode(new_entry_fields(suggestion))}"
    return suggestions


def entry_named(name):
    """The term or person an editor typed, by its name (case aside), or None."""
    name = " ".join(name.split())
    if not name:
        return None
    return Term.objects.filter(name__iexact=name).first() or Person.objects.filter(name__iexact=name).first()


@staff_required
@require_safe
def queue(request):
    pending = Suggestion.objects.for_queue()
    suggestions = with_contexts(list(pending[:QUEUE_SIZE]))
    names = sorted([*Term.objects.values_list("name", flat=True), *Person.objects.values_list("name", flat=True)])
    context = {"suggestions": suggestions, "total": pending.count(), "entry_names": names}
    return render(request, "suggestions/queue.html", context)


@staff_required
@require_POST
def decide(request, pk, action):
    if action not in ("alias", "reject"):
        raise Http404("No such decision.")
    suggestion = get_object_or_404(Suggestion.objects.select_related("episode"), pk=pk)
    status = 200
    if suggestion.status != Suggestion.Status.PENDING:
        summary, level = f"“{suggestion.name}” was already {suggestion.get_status_display().lower()}.", messages.INFO
    elif action == "reject":
        reject(suggestion, request.user)
        summary, level = f"“{suggestion.name}” rejected; it won’t be suggested again.", messages.SUCCESS
    elif (entry := entry_named(request.POST.get("entry", "")[:300])) is None:
        summary, level, status = "Choose an existing entry by its name.", messages.ERROR, 400
    else:
        accept_as_alias(suggestion, entry, request.user)
        summary, level = f"“{suggestion.name}” is now an alias of {entry.name}; the episode is relinked.", messages.SUCCESS
    if request.htmx:
        suggestion.refresh_from_db()
        context = {"suggestion": with_contexts([suggestion])[0], "flash": summary,
                   "flash_level": messages.DEFAULT_TAGS[level]}
        return render(request, "suggestions/queue.html#row", context, status=status)
    messages.add_message(request, level, summary)
    return redirect("suggestions:queue")

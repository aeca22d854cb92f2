"""
Discussion notes: the episode's notes page, writing, replying, editing,
deleting and flagging; and the moderators' queue.

Who may do what is checked here, in each view, never only in a template: an
htmx partial can be asked for on its own. Every form carries an idempotency
key, so a double click, a resubmitted form or a retried request makes one
note, never two.
"""

import json
import re
import uuid

from django.conf import settings
from django.contrib import messages
from django.db import IntegrityError
from django.db.models import Count, Prefetch, Q
from django.db.models.functions import Length
from django.http import Http404, HttpResponse, JsonResponse
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django.views.decorators.vary import vary_on_headers

from accounts.decorators import login_to_write, refuse, staff_required
from accounts.ratelimit import rate_limit
from companion.params import InvalidNumber, int_or_none, int_param, parse_int
from companion.text import without_controls
from companion.shared_pages import shared_when_anonymous
from episodes.models import Episode

from .anchoring import ANCHOR_FIELDS
from .forms import AnchoredNoteForm, FlagForm, NoteForm
from .markup import render_markdown
from .models import Flag, ModerationEvent, Note
from .moderation import ACTIONS, LOG_SIZE, QUEUE_SIZE, ModerationError, awaiting_moderation, flag_reasons, for_moderators, moderate

TEMPLATE = "notes/notes.html"
MAX_POSITION = 2**31 - 1  # the largest sentence or paragraph number a PositiveIntegerField holds
SORTS = {"position": "By passage", "time": "Newest first"}


# ---- saving once ------------------------------------------------------------------

class PassageGone(Exception):
    """A note's sentences went (a transcript import) between checking its form and saving it."""


PASSAGE_GONE = (
    "The transcript changed while you were writing, and the passage you chose is gone. "
    "Your note is still here: choose its passage again."
)


def save_once(note):
    """Save a new note, or return the one this author already sent with the same key."""
    try:
        # The episode, then (by the note's foreign keys) its sentences: the order
        # every writer takes them in.
        with note.episode.writing():
            note.save()
    except (IntegrityError, Episode.DoesNotExist):
        # The same key sent twice, or a foreign key to a sentence (or episode) now deleted.
        sent = Note.objects.filter(author=note.author, idempotency_key=note.idempotency_key).first()
        if sent is None:
            raise PassageGone(PASSAGE_GONE) from None
        return sent
    return note


def sent_before(request):
    key = without_controls(request.POST.get("idempotency_key", "")).strip()
    if not key:
        return None
    return Note.objects.filter(author=request.user, idempotency_key=key[:64]).first()


# ---- reading ---------------------------------------------------------------------

def notes_for(user):
    return Note.objects.visible_to(user).select_related("author", "first_sentence")


def threads_for(user, episode):
    """Visible threads with their visible, undeleted replies: three queries however many."""
    replies = notes_for(user).filter(deleted_at__isnull=True).order_by("created", "pk")
    return (
        notes_for(user)
        .filter(episode=episode)
        .threads()
        .prefetch_related(Prefetch("replies", queryset=replies, to_attr="shown_replies"))
    )


def shown(threads, episode):
    """Drop deleted threads nobody answered; tell every note its episode (no query per link)."""
    kept = []
    for thread in threads:
        if thread.is_deleted and not thread.shown_replies:
            continue
        thread.episode = episode
        for reply in thread.shown_replies:
            reply.episode = episode
        kept.append(thread)
    return kept


def load_thread(request, note):
    """The thread a note belongs to, as the single-note partial shows it."""
    root_id = note.parent_id or note.pk
    thread = threads_for(request.user, note.episode).filter(pk=root_id).first()
    if thread is None:
        return None
    thread.episode = note.episode
    for reply in thread.shown_replies:
        reply.episode = note.episode
    return thread


def flagged_by(user, episode):
    if not user.is_authenticated:
        return set()
    return set(
        Flag.objects.filter(reporter=user, note__episode=episode).values_list("note_id", flat=True)
    )


def can_write(user):
    return user.is_authenticated and not user.is_banned()


def base_context(request, episode, **extra):
    context = {
        "episode": episode,
        "key": uuid.uuid4().hex,
        "can_write": can_write(request.user),
        "flagged": flagged_by(request.user, episode),
        "reasons": Flag.Reason.choices,
        "note_max": settings.NOTE_MAX_LENGTH,
    }
    context.update(extra)
    return context


def compose_context(episode, *, form=None, paragraph=None, created=None, target=""):
    """
    The new-note form. `target` is where htmx puts the answer: "discussion" (the
    notes page, with a sentence picker), "compose" (the episode page's dialog,
    whose hidden fields notes.js fills from the selection) or "" (the plain page).
    """
    data = form.data if form is not None and not created else {}
    pick = target != "compose"
    compose = {
        "form": form if not created else None,
        "pick": pick,
        "target": target,
        "body": data.get("body", ""),
        "first": data.get("first", ""),
        "last": data.get("last", ""),
        "exact": data.get("exact", ""),
        "start": data.get("start", ""),
        "created": created,
        "paragraph": paragraph,
        "sentences": [],
    }
    if pick:
        # A form sent back may name no sentence, or nonsense: its errors say so.
        if paragraph is None and (first := int_or_none(compose["first"], minimum=1, maximum=MAX_POSITION)):
            paragraph = episode.sentences.filter(position=first).values_list("paragraph", flat=True).first()
        paragraph = paragraph or 1
        compose["paragraph"] = paragraph
        compose["sentences"] = list(
            episode.sentences.filter(paragraph=paragraph).order_by("position").only("position", "text", "start")
        )
        if not compose["first"] and compose["sentences"]:
            compose["first"] = str(compose["sentences"][0].position)
    return compose


def passage_choices(episode):
    """
    Each paragraph as a reader finds it on the page, by its moment and its first
    words (the no-JavaScript composer lists them; the number stays in the link).
    """
    choices = {}
    for paragraph, start, text in episode.sentences.order_by("position").values_list("paragraph", "start", "text"):
        if paragraph not in choices:
            choices[paragraph] = {"paragraph": paragraph, "start": start, "text": text}
    return list(choices.values())


def paragraph_param(request):
    """?paragraph=, or None for every paragraph; a 400 for anything but a paragraph number."""
    return int_param(request, "paragraph", minimum=1, maximum=MAX_POSITION)


PASSAGE = re.compile(r"([0-9]{1,6})-([0-9]{1,6})")


def passage_param(request):
    """(first, last) sentence positions from ?passage=12-30 (a segment's badge links so), or None."""
    match = PASSAGE.fullmatch(request.GET.get("passage", ""))
    if not match or int(match[1]) > int(match[2]):
        return None
    return int(match[1]), int(match[2])


def sees_orphan(user, thread):
    """An orphaned note is kept for its author and the moderators; other readers lost its passage too."""
    return user.is_staff or thread.author_id == user.pk


def discussion_context(request, episode, *, form=None):
    user = request.user
    sort = request.GET.get("sort") if request.GET.get("sort") in SORTS else "position"
    paragraph = paragraph_param(request)
    passage = passage_param(request)
    threads = threads_for(user, episode)
    if paragraph:
        threads = threads.filter(first_sentence__paragraph=paragraph)
    if passage:
        threads = threads.filter(first_sentence__position__range=passage)
    threads = threads.order_by("-created", "-pk") if sort == "time" else threads.in_reading_order()
    threads = shown(threads, episode)
    context = base_context(
        request, episode,
        mode="discussion",
        sort=sort,
        sorts=SORTS,
        paragraph=paragraph,
        passage=passage,
        threads=[thread for thread in threads if not thread.orphaned],
        orphans=[thread for thread in threads if thread.orphaned and sees_orphan(user, thread)],
    )
    if paragraph and can_write(user):
        context["compose"] = compose_context(
            episode, form=form, paragraph=paragraph, target="discussion"
        )
    return context


@require_safe
@vary_on_headers("HX-Request")
@shared_when_anonymous
def note_list(request, slug):
    episode = get_object_or_404(Episode.objects.visible_to(request.user), slug=slug)
    context = discussion_context(request, episode)
    return render(request, TEMPLATE + "#discussion" if request.htmx else TEMPLATE, context)


def highlight_of(note, starts, user):
    """What notes.js needs to highlight a thread's words in place: offsets within its sentences."""
    first, last = note.first_sentence.position, note.last_sentence.position
    return {
        "id": note.pk,
        "first": first,
        "last": last,
        "start": note.position_start - starts[first],
        "end": note.position_end - starts[last],
        "quote": note.quote_exact,
        "moment": note.media_start,
        "mine": note.author_id == user.pk,
        "pending": note.status == Note.Status.PENDING,
        "replies": note.reply_count,
        "author": note.author.public_name,
    }


@require_safe
@shared_when_anonymous
def note_highlights(request, slug):
    """
    The threads this reader sees, placed in the transcript for notes.js to
    highlight: three queries however many notes (the episode, the sentences'
    offsets, the threads with their reply counts). Anonymous readers share one
    copy for the page cache's lifetime, so a moderator's decision reaches them
    within it.
    """
    episode = get_object_or_404(Episode.objects.visible_to(request.user), slug=slug)
    starts, offset = {}, 0
    for position, length in episode.sentences.order_by("position").values_list("position", Length("text")):
        starts[position] = offset
        offset += length + 1
    user = request.user
    shown = Q(replies__status=Note.Status.APPROVED)
    if user.is_authenticated:
        shown |= Q(replies__author=user, replies__status=Note.Status.PENDING)
    replies = Count("replies", filter=shown & Q(replies__deleted_at__isnull=True))
    threads = (
        notes_for(user)
        .filter(episode=episode, deleted_at__isnull=True, orphaned=False, last_sentence__isnull=False)
        .threads()
        .select_related("last_sentence")
        .annotate(reply_count=replies)
        .in_reading_order()
    )
    notes = [
        highlight_of(note, starts, user) for note in threads
        if note.first_sentence.position in starts and note.last_sentence.position in starts
    ]
    return JsonResponse({"notes": notes})


@require_safe
def note_thread(request, pk):
    """One thread, for the episode page's side panel (htmx); the discussion page otherwise."""
    note = get_object_or_404(Note.objects.visible_to(request.user).select_related("episode"), pk=pk)
    if not request.htmx:
        return redirect(note.get_absolute_url())
    return thread_response(request, note, in_panel=True)


#: How many of their own notes a listener's page lists, newest first.
MY_NOTES = 200


# ---- writing -----------------------------------------------------------------------

def after_create(request, episode, note):
    """PRG to the note; with htmx, the discussion list or the dialog's confirmation."""
    if not request.htmx:
        return redirect(note.get_absolute_url())
    if request.htmx.target == "discussion":
        return render(request, TEMPLATE + "#discussion", discussion_context(request, episode))
    note.episode = episode
    # notes.js sums these over the note's segment for its badge (segments live in the page).
    created = {"note": note, "counts": json.dumps(Note.objects.badges_for(request.user, episode))}
    context = base_context(request, episode, compose=compose_context(episode, created=created, target="compose"))
    return render(request, TEMPLATE + "#compose", context)


@require_http_methods(["GET", "HEAD", "POST"])
@login_to_write
@rate_limit("note")
def note_create(request, slug):
    episode = get_object_or_404(Episode.objects.visible_to(request.user), slug=slug)
    if request.method != "POST":
        context = base_context(
            request, episode,
            mode="compose",
            compose=compose_context(episode, paragraph=paragraph_param(request)),
            passages=passage_choices(episode),
        )
        return render(request, TEMPLATE, context)
    if existing := sent_before(request):
        return after_create(request, episode, existing)
    form = AnchoredNoteForm(request.POST, episode=episode)
    if form.is_valid():
        body = form.cleaned_data["body"]
        note = Note(
            episode=episode, author=request.user, body=body, body_html=render_markdown(body),
            status=Note.initial_status_for(request.user),
            idempotency_key=form.cleaned_data["idempotency_key"],
        )
        form.anchor.apply(note)
        try:
            return after_create(request, episode, save_once(note))
        except PassageGone as gone:
            form.add_error(None, str(gone))
    if request.htmx and request.htmx.target == "discussion":
        return render(request, TEMPLATE + "#discussion", discussion_context(request, episode, form=form))
    context = base_context(
        request, episode, mode="compose",
        compose=compose_context(episode, form=form, target="compose" if request.htmx else ""),
        passages=passage_choices(episode),
    )
    if request.htmx:
        return render(request, TEMPLATE + "#compose", context)
    return render(request, TEMPLATE, context, status=400)


def thread_response(request, note, status=200, **extra):
    """The single-note partial: the note's whole thread, as the discussion page shows it."""
    thread = load_thread(request, note)
    if thread is None:
        return HttpResponse("")
    context = base_context(request, note.episode, note=thread, **extra)
    return render(request, "notes/note.html", context, status=status)


def form_page(request, note, mode, form, status=200):
    """The no-JavaScript page for replying to or editing one note."""
    thread = load_thread(request, note)
    if mode == "edit":
        extra = {"editing": note.pk, "edit_form": form}
    else:
        extra = {"reply_to": thread.pk, "reply_form": form}
    context = base_context(request, note.episode, mode=mode, note=thread, **extra)
    return render(request, TEMPLATE, context, status=status)


@require_POST
@login_to_write
@rate_limit("note")
def note_reply(request, pk):
    parent = get_object_or_404(Note.objects.visible_to(request.user).select_related("episode"), pk=pk)
    root = parent.parent if parent.parent_id else parent  # threads are one level deep
    if root.is_deleted or root.status not in (Note.Status.APPROVED, Note.Status.PENDING):
        return refuse(request, "This note was deleted; it can't be answered.", 409)
    if existing := sent_before(request):
        return redirect(existing.get_absolute_url()) if not request.htmx else thread_response(request, existing)
    form = NoteForm(request.POST)
    if not form.is_valid():
        if request.htmx:
            return thread_response(request, root, reply_to=root.pk, reply_form=form)
        return form_page(request, root, "reply", form, status=400)
    body = form.cleaned_data["body"]
    reply = Note(
        episode=root.episode, author=request.user, parent=root, body=body,
        body_html=render_markdown(body), status=Note.initial_status_for(request.user),
        idempotency_key=form.cleaned_data["idempotency_key"],
    )
    for field in ANCHOR_FIELDS:
        setattr(reply, field, getattr(root, field))
    try:
        reply = save_once(reply)
    except PassageGone:
        return refuse(request, "The transcript changed while you were writing; send your reply again.", 409)
    if request.htmx:
        return thread_response(request, reply)
    return redirect(reply.get_absolute_url())


def own_note(request, pk):
    note = get_object_or_404(Note.objects.select_related("episode", "author"), pk=pk)
    return note, note.author_id == request.user.pk


@require_http_methods(["GET", "HEAD", "POST"])
@login_to_write
@rate_limit("note")
def note_edit(request, pk):
    note, mine = own_note(request, pk)
    if not mine or not note.can_edit(request.user):
        return refuse(request, "Only its author can edit a note.", 403)
    if request.method != "POST":
        if request.htmx:
            return thread_response(request, note, editing=note.pk)
        return form_page(request, note, "edit", NoteForm(initial={"body": note.body}))
    form = NoteForm(request.POST)
    if not form.is_valid():
        if request.htmx:
            return thread_response(request, note, editing=note.pk, edit_form=form)
        return form_page(request, note, "edit", form, status=400)
    body = form.cleaned_data["body"]
    if body != note.body:
        note.body, note.body_html, note.edited_at = body, render_markdown(body), timezone.now()
        with note.episode.writing():
            note.save(update_fields=["body", "body_html", "edited_at"])
    if request.htmx:
        return thread_response(request, note)
    return redirect(note.get_absolute_url())


@require_POST
@login_to_write
def note_delete(request, pk):
    note, mine = own_note(request, pk)
    if not mine:
        return refuse(request, "Only its author can delete a note.", 403)
    if not note.is_deleted:  # deleting twice (a double click) is not an error
        note.deleted_at = timezone.now()
        with note.episode.writing():
            note.save(update_fields=["deleted_at"])
    if request.htmx:
        return thread_response(request, note)  # empty once a thread has nothing left to show
    messages.info(request, "Your note was deleted.")
    url = reverse("notes:list", args=[note.episode.slug])
    return redirect(f"{url}#note-{note.parent_id}" if note.parent_id else url)


ANNOTATION_TYPE = 'application/ld+json; profile="http://www.w3.org/ns/anno.jsonld"'
ANNOTATIONS_PER_PAGE = 100


def annotation_response(data):
    return JsonResponse(data, content_type=ANNOTATION_TYPE, json_dumps_params={"ensure_ascii": False})


@require_safe
def note_annotation(request, pk):
    """An approved note as a W3C Web Annotation, for annotation tools and clients."""
    note = get_object_or_404(Note.objects.public().select_related("episode", "author"), pk=pk)
    return annotation_response(note.as_annotation(request.build_absolute_uri))


@require_safe
@shared_when_anonymous
def annotation_collection(request, slug):
    """
    The episode's visible notes as a W3C Web Annotation AnnotationCollection:
    without ?page= the collection (its total, first and last pages), with it an
    AnnotationPage of ANNOTATIONS_PER_PAGE annotations in reading order. Two
    queries a page, however many notes.
    """
    episode = get_object_or_404(Episode.objects.visible_to(request.user), slug=slug)
    notes = Note.objects.public().filter(episode=episode)
    total = notes.count()
    pages = max(1, -(-total // ANNOTATIONS_PER_PAGE))
    url = request.build_absolute_uri(reverse("notes:annotations", args=[slug]))
    collection = {
        "id": url,
        "type": "AnnotationCollection",
        "label": f"Listeners’ notes on {episode.numbered_title}",
        "total": total,
    }
    page = int_param(request, "page", minimum=1, maximum=pages)
    if page is None:
        if total:
            collection |= {"first": f"{url}?page=1", "last": f"{url}?page={pages}"}
        return annotation_response({"@context": "http://www.w3.org/ns/anno.jsonld", **collection})
    offset = (page - 1) * ANNOTATIONS_PER_PAGE
    items = list(
        notes.select_related("author")
        .order_by("first_sentence__position", "position_start", "parent_id", "created", "pk")
        [offset : offset + ANNOTATIONS_PER_PAGE]
    )
    annotations = []
    for note in items:
        note.episode = episode
        annotation = note.as_annotation(request.build_absolute_uri)
        del annotation["@context"]  # the page's context covers its items
        annotations.append(annotation)
    data = {
        "@context": "http://www.w3.org/ns/anno.jsonld",
        "id": f"{url}?page={page}",
        "type": "AnnotationPage",
        "partOf": collection,
        "startIndex": offset,
        "items": annotations,
    }
    if page > 1:
        data["prev"] = f"{url}?page={page - 1}"
    if page < pages:
        data["next"] = f"{url}?page={page + 1}"
    return annotation_response(data)


@require_POST
@login_to_write
@rate_limit("flag")
def note_flag(request, pk):
    note = get_object_or_404(Note.objects.visible_to(request.user).select_related("episode"), pk=pk)
    if note.author_id == request.user.pk:
        return refuse(request, "You can't flag your own note; edit or delete it instead.", 403)
    form = FlagForm(request.POST)
    if not form.is_valid():
        return refuse(request, next(iter(form.errors.values()))[0], 400)
    try:
        with note.episode.writing():
            flag = Flag.objects.create(
                note=note, reporter=request.user, reason=form.cleaned_data["reason"],
                detail=form.cleaned_data["detail"],
            )
            ModerationEvent.objects.create(
                actor=request.user, note=note, subject=note.author, action=ModerationEvent.Action.FLAG,
                reason=f"{flag.get_reason_display()}: {flag.detail}".rstrip(": ")[:300],
            )
        message = "Thank you: a moderator will look at this note."
    except IntegrityError:
        message = "You have already flagged this note."
    if request.htmx:
        return thread_response(request, note, flag_message=message, flag_note=note.pk)
    messages.info(request, message)
    return redirect(note.get_absolute_url())


# ---- moderation ------------------------------------------------------------------

@staff_required
@require_safe
def moderation_queue(request):
    notes = list(awaiting_moderation()[:QUEUE_SIZE])
    for note in notes:
        note.flag_reasons = flag_reasons(note)
    events = ModerationEvent.objects.select_related("actor", "subject", "note__episode")[:LOG_SIZE]
    context = {
        "notes": notes,
        "total": awaiting_moderation().count() if len(notes) == QUEUE_SIZE else len(notes),
        "events": events,
        "reasons": Flag.Reason,
    }
    return render(request, "notes/moderation.html", context)


BULK_ACTIONS = ["approve", "reject", "spam"]  # banning stays one author at a time, with its own button


@staff_required
@require_POST
def moderation_bulk(request):
    """One decision on every note ticked in the queue; each goes through moderate(), and the log."""
    action = request.POST.get("action")
    if action not in BULK_ACTIONS:
        return refuse(request, "Choose approve, reject or spam for the notes you ticked.", 400)
    try:
        ids = {
            parse_int(value, minimum=1, maximum=MAX_POSITION, name="A note")
            for value in request.POST.getlist("notes")
        }
    except InvalidNumber as error:
        return refuse(request, str(error), 400)
    if not ids:
        messages.error(request, "Tick the notes to decide on first.")
        return redirect("notes:moderation")
    if len(ids) > QUEUE_SIZE:
        return refuse(request, f"At most {QUEUE_SIZE} notes at once.", 400)
    reason = request.POST.get("reason", "")
    done, problems = 0, []
    for note in Note.objects.filter(pk__in=ids).select_related("author").order_by("pk"):
        try:
            moderate(note, action, request.user, reason)
            done += 1
        except ModerationError as error:
            problems.append(f"Note {note.pk}: {error}")
    verb = {"approve": "Approved", "reject": "Rejected", "spam": "Marked as spam"}[action]
    messages.success(request, f"{verb}: {done} note{'' if done == 1 else 's'}.")
    for problem in problems:
        messages.error(request, problem)
    return redirect("notes:moderation")


@staff_required
@require_POST
def moderation_act(request, pk, action):
    if action not in ACTIONS:
        raise Http404("No such moderation action.")
    note = get_object_or_404(Note.objects.select_related("author"), pk=pk)
    try:
        summary = moderate(note, action, request.user, request.POST.get("reason", ""),
                           unban=bool(request.POST.get("unban")), body=request.POST.get("body"))
        level = messages.SUCCESS
    except ModerationError as error:
        summary, level = str(error), messages.ERROR
    if request.htmx:
        # Swap the note's row in place; the summary goes to #flash out of band.
        note = for_moderators(Note.objects.filter(pk=pk)).get()
        note.flag_reasons = flag_reasons(note)
        context = {"note": note, "flash": summary, "flash_level": messages.DEFAULT_TAGS[level]}
        return render(request, "notes/moderation.html#row", context)
    messages.add_message(request, level, summary)
    return redirect("notes:moderation")


@require_safe
def my_notes(request):
    """A listener's own notes with what moderators decided, and why: the one place a rejection's reason reaches its author."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    decisions = ModerationEvent.objects.exclude(action=ModerationEvent.Action.FLAG).order_by("-created")
    notes = (
        Note.objects.filter(author=request.user, deleted_at__isnull=True)
        .select_related("episode").prefetch_related(Prefetch("events", queryset=decisions, to_attr="decisions"))
        .order_by("-created")[:MY_NOTES]
    )
    return render(request, "notes/mine.html", {"notes": notes})

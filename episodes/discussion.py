"""
Discussion notes: the episode's notes page, writing, replying, editing,
deleting and flagging, and the notes' Atom feed.

Who may do what is checked here, in each view, never only in a template: an
htmx partial can be asked for on its own. Every form carries an idempotency
key, so a double click, a resubmitted form or a retried request makes one
note, never two.
"""

import uuid
from functools import wraps

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.contrib.syndication.views import Feed
from django.db import IntegrityError, transaction
from django.db.models import Max, Prefetch
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django.views.decorators.vary import vary_on_headers

from accounts.ratelimit import rate_limit
from companion.params import StrictIntegerField, int_or_none, int_param
from companion.text import CleanTextField, XMLSafeGenerator, without_controls

from .anchoring import AnchorError, anchor_selection
from .markup import render_markdown
from .models import Episode
from .notes import Flag, ModerationEvent, Note
from .reverse_cache import cached_reverse

TEMPLATE = "episodes/notes.html"
MAX_POSITION = 2**31 - 1  # the largest sentence or paragraph number a PositiveIntegerField holds
SORTS = {"position": "By passage", "time": "Newest first"}
# What a reply copies from the note it answers: it sits beside the same passage.
ANCHOR_FIELDS = [  # sentence ids, not objects: copying them loads nothing
    "first_sentence_id", "last_sentence_id", "quote_exact", "quote_prefix", "quote_suffix",
    "position_start", "position_end", "media_start", "media_end", "orphaned",
]


# ---- forms -------------------------------------------------------------------

class NoteForm(forms.Form):
    # Control characters removed, invisible format characters refused (companion/text.py);
    # joiners kept, as Persian, Indic scripts and emoji are written with them.
    body = CleanTextField(allow_joiners=True, error_messages={"required": "Write something first."})
    idempotency_key = CleanTextField(max_length=64, required=False)

    def clean_body(self):
        body = self.cleaned_data["body"]
        limit = settings.NOTE_MAX_LENGTH
        if len(body) > limit:
            raise forms.ValidationError(
                f"A note can be at most {limit:,} characters; this one has {len(body):,}."
            )
        return body

    def clean_idempotency_key(self):
        # A form without a key (an old page, a script) still posts, just without the guard.
        return self.cleaned_data["idempotency_key"] or uuid.uuid4().hex


class AnchoredNoteForm(NoteForm):
    """A new note: the passage (sentence positions, optional quote and offset) and the body."""

    first = StrictIntegerField(min_value=1, error_messages={"required": "Choose a sentence."})
    last = StrictIntegerField(min_value=1, required=False)
    exact = forms.CharField(required=False, strip=False, max_length=20000)
    start = StrictIntegerField(min_value=0, required=False)

    def __init__(self, *args, episode, **kwargs):
        super().__init__(*args, **kwargs)
        self.episode = episode
        self.anchor = None

    def clean(self):
        data = super().clean()
        if data.get("first") is not None:
            try:
                self.anchor = anchor_selection(
                    self.episode, data["first"], data.get("last") or data["first"],
                    data.get("exact", ""), data.get("start"),
                )
            except AnchorError as error:
                raise forms.ValidationError(str(error)) from None
        return data


class FlagForm(forms.Form):
    reason = forms.ChoiceField(choices=Flag.Reason.choices, error_messages={
        "required": "Choose why you are flagging this note.",
        "invalid_choice": "Choose why you are flagging this note.",
    })
    detail = CleanTextField(max_length=300, required=False)


# ---- preconditions -------------------------------------------------------------

def refuse(request, message, status):
    """An error a person can read; htmx shows it in #flash (notes.js swaps 4xx there)."""
    response = HttpResponse(format_html('<p class="message message-error">{}</p>', message), status=status)
    if request.htmx:
        response["HX-Retarget"] = "#flash"
        response["HX-Reswap"] = "innerHTML"
    return response


def login_to_write(view):
    """Writing needs an account in good standing: anonymous → log in, banned → 403."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            if request.htmx:
                # A redirect would be followed by XMLHttpRequest and swapped in; send the page instead.
                back = request.htmx.current_url_abs_path or "/"
                response = HttpResponse("Log in to write notes.", status=401)
                response["HX-Redirect"] = redirect_to_login(back).url
                return response
            back = request.META.get("HTTP_REFERER", "")
            if request.method != "GET" and url_has_allowed_host_and_scheme(
                back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
            ):
                return redirect_to_login(back)
            return redirect_to_login(request.get_full_path())
        if request.user.is_banned():
            return refuse(request, "This account can no longer post, edit or flag notes.", 403)
        return view(request, *args, **kwargs)

    return wrapped


class PassageGone(Exception):
    """A note's sentences went (a transcript import) between checking its form and saving it."""


PASSAGE_GONE = (
    "The transcript changed while you were writing, and the passage you chose is gone. "
    "Your note is still here: choose its passage again."
)


def save_once(note):
    """Save a new note, or return the one this author already sent with the same key."""
    try:
        with transaction.atomic():
            # The episode, then (by the note's foreign keys) its sentences: the order
            # every writer takes them in.
            Episode.objects.filter(pk=note.episode_id).lock_for_writing()
            note.save()
    except IntegrityError:
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
            episode.sentences.filter(paragraph=paragraph).order_by("position").only("position", "text")
        )
        if not compose["first"] and compose["sentences"]:
            compose["first"] = str(compose["sentences"][0].position)
    return compose


def paragraph_param(request):
    """?paragraph=, or None for every paragraph; a 400 for anything but a paragraph number."""
    return int_param(request, "paragraph", minimum=1, maximum=MAX_POSITION)


def discussion_context(request, episode, *, form=None):
    user = request.user
    sort = request.GET.get("sort") if request.GET.get("sort") in SORTS else "position"
    paragraph = paragraph_param(request)
    threads = threads_for(user, episode)
    if paragraph:
        threads = threads.filter(first_sentence__paragraph=paragraph)
    threads = threads.order_by("-created", "-pk") if sort == "time" else threads.in_reading_order()
    threads = shown(threads, episode)
    context = base_context(
        request, episode,
        mode="discussion",
        sort=sort,
        sorts=SORTS,
        paragraph=paragraph,
        threads=[thread for thread in threads if not thread.orphaned],
        orphans=[thread for thread in threads if thread.orphaned],
    )
    if paragraph and can_write(user):
        context["compose"] = compose_context(
            episode, form=form, paragraph=paragraph, target="discussion"
        )
    return context


@require_safe
@vary_on_headers("HX-Request")
def note_list(request, slug):
    episode = get_object_or_404(Episode, slug=slug)
    context = discussion_context(request, episode)
    return render(request, TEMPLATE + "#discussion" if request.htmx else TEMPLATE, context)


def paragraph_note_counts(user, episode):
    """{paragraph: visible threads beside it}; anonymous readers' were counted at write time."""
    if not user.is_authenticated:
        return dict(episode.public_note_counts)
    return Note.objects.filter(episode=episode).visible_to(user).badge_counts()


def add_note_badges(transcript, episode, counts):
    """Insert a link to each paragraph's notes into the stored transcript HTML (per request)."""
    url = cached_reverse("episodes:notes", episode.slug)
    for paragraph, count in counts.items():
        opening = f'<p class="paragraph" id="p-{paragraph}"'
        at = transcript.find(opening)
        if paragraph is None or at < 0:
            continue
        end = transcript.index(">", at) + 1
        badge = format_html(
            '<a class="note-badge" href="{}?paragraph={}" data-paragraph="{}" '
            'aria-label="{} note{} on this paragraph">{}</a>',
            url, paragraph, paragraph, count, "" if count == 1 else "s", count,
        )
        transcript = transcript[:end] + badge + transcript[end:]
    return transcript


def episode_notes_context(request, episode, counts):
    """What the episode page needs for its badges and its note dialog."""
    return {
        "note_counts": counts,
        "note_total": sum(counts.values()),
        "can_write": can_write(request.user),
        "key": uuid.uuid4().hex,
        "note_max": settings.NOTE_MAX_LENGTH,
        "compose": compose_context(episode, target="compose") if can_write(request.user) else None,
    }


# ---- writing -----------------------------------------------------------------------

def after_create(request, episode, note):
    """PRG to the note; with htmx, the discussion list or the dialog's confirmation."""
    if not request.htmx:
        return redirect(note.get_absolute_url())
    if request.htmx.target == "discussion":
        return render(request, TEMPLATE + "#discussion", discussion_context(request, episode))
    note.episode = episode
    paragraph = note.first_sentence.paragraph if note.first_sentence else None
    created = {
        "note": note,
        "paragraph": paragraph,
        "count": paragraph_note_counts(request.user, episode).get(paragraph, 0),
    }
    context = base_context(request, episode, compose=compose_context(episode, created=created, target="compose"))
    return render(request, TEMPLATE + "#compose", context)


@require_http_methods(["GET", "HEAD", "POST"])
@login_to_write
@rate_limit("note")
def note_create(request, slug):
    episode = get_object_or_404(Episode, slug=slug)
    if request.method != "POST":
        context = base_context(
            request, episode,
            mode="compose",
            compose=compose_context(episode, paragraph=paragraph_param(request)),
            paragraphs=episode.sentences.aggregate(last=Max("paragraph"))["last"] or 1,
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
        paragraphs=episode.sentences.aggregate(last=Max("paragraph"))["last"] or 1,
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
    return render(request, "includes/note.html", context, status=status)


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
        note.save(update_fields=["deleted_at"])
    if request.htmx:
        return thread_response(request, note)  # empty once a thread has nothing left to show
    messages.info(request, "Your note was deleted.")
    url = reverse("episodes:notes", args=[note.episode.slug])
    return redirect(f"{url}#note-{note.parent_id}" if note.parent_id else url)


@require_safe
def note_annotation(request, pk):
    """An approved note as a W3C Web Annotation, for annotation tools and clients."""
    note = get_object_or_404(
        Note.objects.filter(status=Note.Status.APPROVED, deleted_at__isnull=True)
        .select_related("episode"),
        pk=pk,
    )
    return JsonResponse(
        note.as_annotation(),
        content_type='application/ld+json; profile="http://www.w3.org/ns/anno.jsonld"',
    )


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
        with transaction.atomic():
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


# ---- the feed ----------------------------------------------------------------------

class NotesAtom(Atom1Feed):
    """Atom with the note's sanitised HTML as the entry's <content>."""

    def write(self, outfile, encoding):
        # Atom1Feed.write, with a writer that drops what XML can't carry: a note or a
        # name stored before input was cleaned must not break the feed for everyone.
        handler = XMLSafeGenerator(outfile, encoding, short_empty_elements=True)
        handler.startDocument()
        handler.startElement("feed", self.root_attributes())
        self.add_root_elements(handler)
        self.write_items(handler)
        handler.endElement("feed")

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        handler.addQuickElement("content", item["content"], {"type": "html"})


class NotesFeed(Feed):
    feed_type = NotesAtom

    def get_object(self, request, slug):
        return get_object_or_404(Episode, slug=slug)

    def title(self, episode):
        return f"Notes on episode {episode.number}: {episode.title}"

    def link(self, episode):
        return reverse("episodes:notes", args=[episode.slug])

    def subtitle(self, episode):
        return "Listeners' notes on passages of the episode, newest first."

    def items(self, episode):
        return (
            Note.objects.filter(episode=episode, status=Note.Status.APPROVED, deleted_at__isnull=True)
            .select_related("author", "episode")
            .order_by("-created", "-pk")[:50]
        )

    def item_title(self, note):
        verb = "replied about" if note.parent_id else "on"
        quote = " ".join(note.quote_exact.split())
        quote = quote if len(quote) <= 80 else quote[:79] + "…"
        return f"{note.author.public_name} {verb} “{quote}”"

    def item_description(self, note):
        return None

    def item_link(self, note):
        return note.get_absolute_url()

    def item_author_name(self, note):
        return note.author.public_name

    def item_pubdate(self, note):
        return note.created

    def item_updateddate(self, note):
        return note.edited_at or note.created

    def item_extra_kwargs(self, note):
        return {"content": note.body_html}

"""
Moderation: what a moderator does to a note, and the queue they work through
(its views are in notes/views.py).

moderate() is the one place a moderator changes a note or bans its author:
the queue's buttons and the admin's actions both call it, so every change is
logged as a ModerationEvent and closes the note's open flags.
"""

from collections import Counter

from django.conf import settings
from django.db.models import Count, Prefetch, Q

from companion.text import without_controls
from episodes.models import Episode

from .markup import render_markdown
from .models import Flag, ModerationEvent, Note

Action = ModerationEvent.Action
# What a moderator can do from the queue (FLAG is a listener's action).
ACTIONS = [Action.APPROVE, Action.REJECT, Action.SPAM, Action.BAN, Action.RESTORE]
QUEUE_SIZE = 50
LOG_SIZE = 30


class ModerationError(Exception):
    """The action makes no sense for this note (the message says why)."""


def moderate(note, action, actor, reason="", unban=False, body=None):
    """Apply a moderator's action to a note, log it, close its flags; returns a summary.

    ban also rejects the note and every other note of the author's still
    waiting; restore puts a rejected or spam note back, or with unban=True
    lifts the author's ban instead. The note's episode is locked before the
    note is touched (for a ban, every episode with a note it rejects, in id
    order), as every writer does. With body, an approval first replaces the
    note's text with the moderator's edit (the log keeps what it said).
    """
    if action not in ACTIONS:
        raise ModerationError(f"“{action}” is not a moderator's action.")
    action = Action(action)
    episodes = Q(pk=note.episode_id)
    if action == Action.BAN:
        waiting = note.author.notes.filter(status=Note.Status.PENDING).values("episode_id")
        episodes |= Q(pk__in=waiting)
    with Episode.objects.filter(episodes).writing():
        note.refresh_from_db(fields=["status", "body"])  # another moderator may have been first
        if body is not None and action == Action.APPROVE:
            reason = edit_body(note, body, reason)
        return apply_action(note, action, actor, reason, unban)


def edit_body(note, body, reason):
    """A moderator's edit of the note's text, made as it is approved; returns the log's reason, naming the old text."""
    body = without_controls(body).strip()
    if not body:
        raise ModerationError("An edited note can't be empty; reject it instead.")
    if len(body) > settings.NOTE_MAX_LENGTH:
        raise ModerationError(f"A note can be at most {settings.NOTE_MAX_LENGTH:,} characters; the edit has {len(body):,}.")
    if body == note.body:
        return reason
    said = note.body if len(note.body) <= 200 else note.body[:199] + "…"
    note.body, note.body_html = body, render_markdown(body)
    note.save(update_fields=["body", "body_html"])
    return f"Edited before approval; it said: “{said}”. {reason}".strip()


def apply_action(note, action, actor, reason, unban):
    reason = without_controls(reason).strip()[:300]  # an edit's reason is cut here too: the field holds 300
    author = note.author
    events = []
    if action == Action.BAN:
        if author.is_staff or author == actor:
            raise ModerationError("Staff accounts can’t be banned from here.")
        held = list(author.notes.filter(status=Note.Status.PENDING).exclude(pk=note.pk))
        for other in held:
            events.append(ModerationEvent(
                actor=actor, note=other, subject=author, action=Action.REJECT,
                reason=f"Author banned. {reason}".strip(),
            ))
        author.notes.filter(pk__in=[other.pk for other in held]).update(status=Note.Status.REJECTED)
        author.ban()
        note.status = Note.Status.REJECTED
        summary = f"Banned {author.public_name}; rejected this note and {len(held)} waiting."
    elif action == Action.RESTORE and unban:
        if not author.is_banned():
            raise ModerationError(f"{author.public_name} isn’t banned.")
        author.unban()
        summary = f"Lifted the ban on {author.public_name}."
    elif action == Action.RESTORE:
        if note.status not in (Note.Status.REJECTED, Note.Status.SPAM):
            raise ModerationError("Only a rejected or spam note can be restored.")
        note.status = Note.Status.APPROVED
        summary = f"Restored {author.public_name}’s note."
    else:
        note.status, summary = {
            Action.APPROVE: (Note.Status.APPROVED, f"Approved {author.public_name}’s note."),
            Action.REJECT: (Note.Status.REJECTED, f"Rejected {author.public_name}’s note."),
            Action.SPAM: (Note.Status.SPAM, f"Marked {author.public_name}’s note as spam."),
        }[action]
    note.save(update_fields=["status"])
    note.flags.filter(resolved=False).update(resolved=True)
    events.append(ModerationEvent(actor=actor, note=note, subject=author, action=action, reason=reason))
    ModerationEvent.objects.bulk_create(events)
    return summary


def for_moderators(notes):
    """Notes with what a moderator needs on one screen, in a fixed number of queries."""
    open_flags = Flag.objects.filter(resolved=False).select_related("reporter").order_by("created")
    return notes.select_related("author", "episode", "first_sentence", "parent").annotate(
        open_flag_count=Count("flags", filter=Q(flags__resolved=False))
    ).prefetch_related(Prefetch("flags", queryset=open_flags, to_attr="open_flags"))


def flag_reasons(note):
    """[(reason label, how many), …] of the note's open flags, most common first."""
    return Counter(flag.get_reason_display() for flag in note.open_flags).most_common()


def awaiting_moderation():
    """Notes waiting for a first look, or flagged since: most-flagged, then oldest first."""
    waiting = Q(status=Note.Status.PENDING) | Q(flags__resolved=False)
    ids = Note.objects.filter(waiting).values("pk")
    return for_moderators(Note.objects.filter(pk__in=ids)).order_by("-open_flag_count", "created")

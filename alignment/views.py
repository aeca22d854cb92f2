"""
The editor's review of an episode's timings (staff only).

Every sentence with its start, end and the aligner's confidence; the doubtful
ones are listed first, and the audio the aligner skipped (matched to no text)
is shown on a strip, each stretch playable. An editor plays a sentence from its start, nudges the
start by a tenth of a second or sets it to the playback time (static/js/
review.js), or types it into the plain form. A start an editor sets is marked
start_set_by_editor, so a re-alignment keeps it.
"""

import math

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from accounts.decorators import staff_required
from episodes.models import Episode, Sentence
from episodes.moments import parse_moment

from .runs import LOW_CONFIDENCE, latest_run

#: What the nudge buttons move a start by, in seconds.
NUDGE = 0.1
#: No episode is longer than a day; a start past this is a typing slip.
MAX_START = 24 * 3600.0


class StartError(Exception):
    """The start given can't be used; the message says why."""


def needs_review(sentence, episode_timed=False):
    """
    The aligner was unsure of the start and no editor has set it since; or,
    in an episode otherwise timed, the sentence has no time at all (its text
    was rewritten, or the timings file lacked it).
    """
    if sentence.start is None:
        return episode_timed
    return (
        sentence.confidence is not None
        and sentence.confidence < LOW_CONFIDENCE
        and not sentence.start_set_by_editor
    )


def parse_start(value):
    """Seconds from '12.3', '754' or '12:34.5'; StartError for anything else."""
    value = (value or "").strip()[:20]
    if not value.isascii():  # float() would read any script's digits: "٣" is 3.0
        raise StartError("Enter the start in seconds, for example 12.3 or 1:02.5.")
    try:
        seconds = float(value)
    except ValueError:
        seconds = parse_moment(value)
    if seconds is None or not math.isfinite(seconds):
        raise StartError("Enter the start in seconds, for example 12.3 or 1:02.5.")
    return round(seconds, 3)


def check_start(sentence, start):
    """Refuse a start that is negative, after the sentence's end, or out of order with its neighbours."""
    if start < 0:
        raise StartError("A start can't be negative.")
    if start > MAX_START:
        raise StartError(f"{start:,.1f} s is longer than any episode.")
    if sentence.end is not None and start > sentence.end:
        raise StartError(f"The start ({start:.2f} s) can't be after the sentence's end ({sentence.end:.2f} s).")
    timed = sentence.episode.sentences.filter(start__isnull=False).only("position", "start")
    before = timed.filter(position__lt=sentence.position).order_by("-position").first()
    after = timed.filter(position__gt=sentence.position).order_by("position").first()
    if before and start <= before.start:
        raise StartError(
            f"The start must come after the previous sentence's (§{before.position} at {before.start:.2f} s)."
        )
    if after and start >= after.start:
        raise StartError(
            f"The start must come before the next sentence's (§{after.position} at {after.start:.2f} s)."
        )


def set_start(sentence, data):
    """
    Store the start a POST asks for, mark it the editor's, and re-render the
    transcript. A start inside the previous sentence ends that one there, so
    no two sentences overlap; returns that sentence's position, or None.
    """
    with sentence.episode.writing():
        try:  # as it is now, under the lock: an import or another editor may have been first
            sentence.refresh_from_db(fields=["position", "start", "end", "start_set_by_editor"])
        except Sentence.DoesNotExist:
            raise StartError("The transcript was imported again and this sentence is gone; reload the page.") from None
        start = requested_start(sentence, data)
        check_start(sentence, start)
        sentence.start, sentence.start_set_by_editor = start, True
        sentence.save(update_fields=["start", "start_set_by_editor"])
        trimmed = sentence.episode.sentences.filter(
            position=sentence.position - 1, end__gt=start, start__lte=start
        ).update(end=start)
        sentence.episode.render_transcript()
        return sentence.position - 1 if trimmed else None


def requested_start(sentence, data):
    """The start a POST asks for: a nudge of the stored start, or the typed value."""
    nudge = data.get("nudge")
    if nudge is not None:
        if nudge not in ("-0.1", "0.1"):
            raise StartError("A nudge is 0.1 s either way.")
        if sentence.start is None:
            raise StartError("This sentence has no start to nudge; type one in.")
        return round(sentence.start + float(nudge), 3)
    return parse_start(data.get("start"))


def review_sentences(episode):
    """The episode's sentences for the page, with needs_review set: one query."""
    sentences = list(
        episode.sentences.order_by("position").only(
            "pk", "episode_id", "position", "text", "start", "end", "confidence", "start_set_by_editor"
        )
    )
    timed = any(sentence.start is not None for sentence in sentences)
    for sentence in sentences:
        sentence.needs_review = needs_review(sentence, timed)
    return sentences


def skipped_stretches(run):
    """
    The audio the last alignment matched to no text, for the strip: each stretch's start and
    end (seconds) and its place on the strip (percent of the recording), so an editor can
    check by ear that it is an ad or music and no sentence of the script.
    """
    result = run.result if run and isinstance(run.result, dict) else {}
    duration = result.get("duration") or 0
    stretches = []
    for start, end in result.get("skipped") or []:
        if duration > 0 and 0 <= start < end:
            stretches.append({
                "start": start, "end": end,
                "left": round(100 * min(start / duration, 1), 2),
                "width": round(100 * max(min(end, duration) - start, 0) / duration, 2),
            })
    return stretches


def render_review(request, episode, error_sentence=None, status=200):
    sentences = review_sentences(episode)
    if error_sentence:
        for sentence in sentences:
            if sentence.pk == error_sentence.pk:
                sentence.error = error_sentence.error
    doubtful = [sentence for sentence in sentences if sentence.needs_review]
    only_doubtful = request.GET.get("show") == "review"
    run = latest_run(episode)
    context = {
        "episode": episode,
        "sentences": doubtful if only_doubtful else sentences,
        "doubtful": doubtful,
        "total": len(sentences),
        "only_doubtful": only_doubtful,
        "run": run,
        "skipped": skipped_stretches(run),
        "threshold": LOW_CONFIDENCE,
        "audio": episode.audio_source,
    }
    return render(request, "alignment/review.html", context, status=status)


@staff_required
@require_safe
def review(request, slug):
    episode = get_object_or_404(Episode, slug=slug)
    return render_review(request, episode)


@staff_required
@require_POST
def review_start(request, slug, pk):
    sentence = get_object_or_404(
        Sentence.objects.select_related("episode").defer("words"), pk=pk, episode__slug=slug
    )
    try:
        trimmed = set_start(sentence, request.POST)
        error = None
    except StartError as problem:  # set_start read the sentence afresh; nothing was written
        error, trimmed = str(problem), None
    done = f"§{sentence.position} now starts at {sentence.start:.2f} s." if sentence.start is not None else ""
    if trimmed:
        done += f" §{trimmed} now ends there."
    if request.htmx:
        sentence.needs_review = needs_review(sentence, sentence.episode.is_timed())
        sentence.error = error
        context = {
            "episode": sentence.episode,
            "sentence": sentence,
            "audio": sentence.episode.audio_source,
            "threshold": LOW_CONFIDENCE,
            "flash": error or done,
            "flash_level": "error" if error else "success",
        }
        return render(request, "alignment/review.html#row", context, status=400 if error else 200)
    if error:
        sentence.error = error
        return render_review(request, sentence.episode, error_sentence=sentence, status=400)
    messages.success(request, done)
    return redirect(reverse("alignment:review", args=[slug]) + f"#review-s-{sentence.position}")

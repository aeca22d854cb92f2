"""
The editor's home: what is waiting, counted, each with a link to the list
that holds it. The project sits above every app, so it alone may ask each
of them (notes, alignment, episodes) what needs doing.
"""

from dataclasses import dataclass

from django.urls import reverse

from alignment.models import AlignmentRun
from alignment.runs import needing_review, with_failed_alignment
from episodes.models import Episode
from notes.moderation import awaiting_moderation


@dataclass
class DeskItem:
    key: str
    label: str
    count: int
    url: str
    hint: str

    @property
    def needs_action(self):
        return self.count > 0


def desk_items():
    episodes = reverse("admin:episodes_episode_changelist")
    runs = reverse("admin:alignment_alignmentrun_changelist")
    running = AlignmentRun.objects.filter(status__in=[AlignmentRun.Status.QUEUED, AlignmentRun.Status.RUNNING])
    return [
        DeskItem("notes", "Notes waiting for a moderator", awaiting_moderation().count(),
                 reverse("notes:moderation"), "New listeners' notes and flagged ones."),
        DeskItem("review", "Episodes with sentences to review", needing_review(Episode.objects.all()).count(),
                 f"{episodes}?needs=review", "A start the aligner was unsure of, or a sentence with no time."),
        DeskItem("failed", "Episodes whose alignment failed", with_failed_alignment(Episode.objects.all()).count(),
                 f"{episodes}?needs=failed", "The run's page says why."),
        DeskItem("running", "Alignments running or queued", running.count(),
                 f"{runs}?status__in=queued,running", "They refresh themselves; nothing to do but wait."),
        DeskItem("drafts", "Drafts waiting to be published", Episode.objects.filter(is_draft=True).count(),
                 f"{episodes}?is_draft__exact=1", "Listeners don't see them yet."),
        DeskItem("untimed", "Episodes with no timings yet", Episode.objects.untimed().count(),
                 f"{episodes}?needs=untimed", "Align them to their audio or upload a timings file."),
    ]

"""
Align an episode's transcript to its real audio, offline, and store the timings:

    manage.py align 138-the-great-purges episode-138.mp3
    manage.py align 138-the-great-purges https://example.com/138.mp3 --discard-manual
    manage.py align 138-the-great-purges episode-138.mp3 --dry-run

The alignment runs here, in this process (it takes a few seconds per audio
minute), and is recorded as an AlignmentRun like one started from the admin.
Starts an editor set by hand are kept unless --discard-manual is given.
--dry-run aligns and reports without recording or changing anything.
"""

from django.core.management.base import BaseCommand, CommandError

from alignment.runs import (
    LOW_CONFIDENCE,
    AlignmentRefused,
    AudioUnavailable,
    align_audio,
    create_run,
    local_audio,
    run_alignment,
)
from alignment.models import AlignmentRun
from episodes.models import Episode
from episodes.moments import format_moment


class Command(BaseCommand):
    help = "Align an episode's sentences to an audio file or URL (MP3, Ogg/Opus, FLAC, WAV)."

    def add_arguments(self, parser):
        parser.add_argument("episode", help="The episode's slug.")
        parser.add_argument("audio", help="An audio file, or an http(s) URL to download.")
        parser.add_argument(
            "--discard-manual", action="store_true", help="Replace starts an editor set by hand too."
        )
        parser.add_argument("--dry-run", action="store_true", help="Align and report; write nothing.")

    def handle(self, *args, episode, audio, discard_manual, dry_run, **options):
        try:
            target = Episode.objects.get(slug=episode)
        except Episode.DoesNotExist:
            raise CommandError(f"No episode with slug {episode!r}.") from None
        if dry_run:
            return self.dry_run(target, audio)
        try:
            run = create_run(target, audio, keep_manual=not discard_manual)
        except AlignmentRefused as error:
            raise CommandError(str(error)) from None
        run = run_alignment(run, echo=self.echo)
        if run.status != AlignmentRun.Status.DONE:
            raise CommandError(run.message)
        self.report(target, run.result)

    def dry_run(self, episode, audio):
        from alignment.engine.align import AlignmentError

        try:
            with local_audio(audio, self.echo) as path:
                _, alignment, compute = align_audio(episode, path, self.echo)
        except (AlignmentError, AudioUnavailable, AlignmentRefused) as error:
            raise CommandError(str(error)) from None
        sentences = list(episode.sentences.order_by("position"))
        low = [sentences[index].position for index in alignment.low_confidence(LOW_CONFIDENCE)]
        confidence = {
            sentence.position: timing.confidence for sentence, timing in zip(sentences, alignment.sentences)
        }
        starts = {sentence.position: timing.start for sentence, timing in zip(sentences, alignment.sentences)}
        self.stdout.write("Dry run, nothing written.")
        self.report(episode, {
            "duration": alignment.duration, "compute_seconds": compute, "sentences": len(sentences),
            "skipped": alignment.skipped, "low_confidence": low, "kept_manual": [],
        }, starts=starts, confidence=confidence)

    def echo(self, fraction, stage):
        """Progress on stderr: each new stage, and every tenth of the way."""
        step = (stage, int(fraction * 10))
        if step != getattr(self, "last_step", None):
            self.last_step = step
            self.stderr.write(f"{fraction:4.0%} {stage}")

    def report(self, episode, result, starts=None, confidence=None):
        duration = result["duration"]
        compute = result["compute_seconds"]
        per_minute = compute / (duration / 60) if duration else 0
        self.stdout.write(self.style.SUCCESS(
            f"Aligned {result['sentences']} sentences to {format_moment(duration)} of audio "
            f"in {compute:.1f} s ({per_minute:.1f} s per audio minute)."
        ))
        for start, end in result["skipped"]:
            self.stdout.write(f"Skipped {format_moment(start)}–{format_moment(end)} ({end - start:.0f} s not in the script).")
        if result["kept_manual"]:
            self.stdout.write(f"Kept the editor's start of {len(result['kept_manual'])} sentence(s).")
        low = result["low_confidence"]
        if not low:
            self.stdout.write("No sentence has low confidence.")
            return
        self.stdout.write(f"{len(low)} sentence(s) to review (confidence below {LOW_CONFIDENCE}):")
        rows = episode.sentences.filter(position__in=low).order_by("position")
        for sentence in rows:
            start = starts[sentence.position] if starts else sentence.start
            sure = confidence[sentence.position] if confidence else sentence.confidence
            self.stdout.write(
                f"  §{sentence.position} at {start:.2f} s, confidence {sure:.2f}: {sentence.text[:70]}"
            )

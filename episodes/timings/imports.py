"""Read a timed transcript file and store its timings on an episode's sentences."""

from pathlib import Path

from episodes.timings.cuemap import CueMappingError, map_cues
from episodes.timings.formats import MAX_TIMING_BYTES, TimingFormatError, read_timings, validate_cues
from episodes.models import Episode


class TimingImportError(Exception):
    pass


def read_timing_file(path):
    path = Path(path)
    if not path.is_file():
        raise TimingImportError(f"No such file: {path}")
    if path.stat().st_size > MAX_TIMING_BYTES:
        raise TimingImportError(
            f"{path.name} is {path.stat().st_size:,} bytes; the limit is {MAX_TIMING_BYTES:,}."
        )
    return path.read_bytes(), path.name


def import_timings(episode, data, filename, *, dry_run=False):
    """Map the file's cues onto the sentences; returns the CueMapping."""
    try:
        cues = read_timings(data, filename)
        validate_cues(cues)
    except TimingFormatError as error:  # already names the file and line
        raise TimingImportError(str(error)) from None
    texts = sentence_texts(episode)
    mapping = map_onto(cues, texts, filename)
    if not dry_run:
        with episode.writing():
            # Mapped before the lock, so as not to hold it for that; a transcript
            # imported meanwhile means mapping again, onto what is there now.
            if (now := sentence_texts(episode)) != texts:
                mapping = map_onto(cues, now, filename)
            episode.save_timings(
                [(t.start, t.end, t.words) for t in mapping.timings], Episode.Timing.TIMED
            )
    return mapping


def sentence_texts(episode):
    return list(episode.sentences.order_by("position").values_list("text", flat=True))


def map_onto(cues, texts, filename):
    if not texts:
        raise TimingImportError("The episode has no transcript to time; import the text first.")
    try:
        return map_cues(cues, texts)
    except CueMappingError as error:
        raise TimingImportError(f"{filename}: {error}") from None


def import_timings_file(episode, path, *, dry_run=False):
    data, name = read_timing_file(path)
    return import_timings(episode, data, name, dry_run=dry_run)

"""Moments: a time in an episode, as people write it in links (?t=754, ?t=12:34)."""

import math
import re

# ASCII digits only: \d matches any script's (Arabic-Indic ٧٥٤ too), which no link of ours writes.
MOMENT = re.compile(r"^(?:(?:([0-9]{1,3}):)?([0-9]{1,2}):)?([0-9]{1,6}(?:\.[0-9]{1,3})?)s?$")


def parse_moment(value):
    """Seconds from '754', '754.5', '12:34', '1:02:03' or '754s'; None for anything else."""
    if not value:
        return None
    match = MOMENT.match(value.strip()[:20])
    if not match:
        return None
    hours, minutes, seconds = match.groups()
    if (hours or minutes) and float(seconds) >= 60:
        return None
    return int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(seconds)


def format_moment(seconds):
    """'12:34' or '1:02:03', as the player shows time."""
    seconds = int(seconds or 0)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{seconds:02d}"
    return f"{minutes}:{seconds:02d}"


def moment_parameter(seconds):
    """
    ?t= for a sentence start, rounded up to the millisecond: the episode page
    highlights the last sentence started by then, so rounding down (754.2 to
    754) would land on the sentence before.
    """
    value = math.ceil(seconds * 1000) / 1000
    return f"{value:.3f}".rstrip("0").rstrip(".")

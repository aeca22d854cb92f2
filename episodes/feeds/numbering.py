"""
Episode numbers in titles, read only where they are numbers.

itunes:episode and podcast:episode say it outright and come first. A title
says it in the forms shows use for numbering: "Episode 138 - …",
"Ep. 138: …", "#138 …". A bare "138: …" or "138 – …" counts only in a feed
most of whose titles start that way with numbers that increase over time;
elsewhere it may be a year or a count. Never a date ("18.03.2022 – …") or a
decimal ("0.00000015: …"): the number must not run on into more digits.

The title itself is never cut here: the parser keeps it as published and
offers a shorter one for pages that show the number beside it.
"""

import re
from itertools import pairwise

# The word makes the number safe; it must not run on into a date, decimal or time.
_NAMED = re.compile(
    r"^\s*(?:episode|ep\.?|#)\s*(\d{1,5})(?![.,/:-]?\d)\s*(?:[:.|\-–—]\s*)?(.*)$", re.I
)
# "138: …" or "138 – …" (a colon straight after, or a dash between spaces).
_BARE = re.compile(r"^\s*(\d{1,5})(?::\s+|\s+[-–—|]\s+)(\S.*)$")
# Most titles numbered, and the numbers rising this often from one episode to the next.
MOSTLY_RISING = 0.8


def named_number(title):
    """(number, the rest of the title) for "Episode 138 - …", "Ep. 138: …", "#138 …"; else (None, title)."""
    if match := _NAMED.match(title):
        return int(match[1]), match[2].strip()
    return None, title


def bare_number(title):
    """(number, the rest) for "138: …" or "138 – …"; else (None, title). Trust it only feed-wide."""
    if match := _BARE.match(title):
        return int(match[1]), match[2].strip()
    return None, title


def titles_are_numbered(titles_by_date):
    """
    Whether a feed numbers its titles bare: titles_by_date is every item's
    title, oldest first. True when more than half start with a bare number
    and those numbers rise from one to the next at least MOSTLY_RISING of the time.
    """
    numbers = [number for number, _ in map(bare_number, titles_by_date) if number is not None]
    if not titles_by_date or len(numbers) * 2 <= len(titles_by_date):
        return False
    steps = list(pairwise(numbers))
    return not steps or sum(later > earlier for earlier, later in steps) >= MOSTLY_RISING * len(steps)

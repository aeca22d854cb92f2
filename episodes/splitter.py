"""
Plain-text transcript → title, tagline, paragraphs → sentences.

Sentences are the unit of reading and timing, so the rules lean towards
keeping a reader's idea of a sentence together:

- A quotation is never split, even when it holds several sentences: it stays
  in the sentence that introduces it ("… would later write that: “A. B.”").
  Only “curly” and "straight" double quotes count; ’ is an apostrophe.
- A sentence ends at . ! or ? (plus any closing quotes or brackets) followed
  by white space and a capital letter, a digit or an opening quote.
- Not after a known abbreviation ("Dr.", "No.", "Dec.") or an initial ("J.").
- Numbers, dates and ordinals ("Part 8", "Order Number 447",
  "December 1, 1934", "the 1930s", "1.6 million") never end a sentence.
- The first lines may be a title ("138: The Great Purges") and a one-line
  tagline; they are returned apart, never as sentences.
"""

import re
from dataclasses import dataclass, field

OPENING_QUOTES = "“\""
CLOSING_QUOTES = "”\""
CLOSERS = "”\"’')]"
TERMINATORS = ".!?"
ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "st", "gen", "lt", "col", "capt", "sgt", "maj", "adm",
    "gov", "sen", "rep", "jr", "sr", "no", "nos", "vs", "e.g", "i.e", "cf", "approx", "vol",
    "pp", "p", "ch", "fig", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept",
    "oct", "nov", "dec", "u.s", "u.k", "u.s.s.r", "ca", "c", "mt", "ft", "inc", "ltd", "co",
}
TITLE_LINE = re.compile(r"^\s*(?:episode\s+)?(?P<number>\d+)\s*[:.\-–—]\s*(?P<title>\S.*)$", re.I)
WORD_BEFORE = re.compile(r"([\w.]+)$")


@dataclass
class SplitTranscript:
    title: str = ""
    number: int | None = None
    tagline: str = ""
    paragraphs: list[list[str]] = field(default_factory=list)

    @property
    def sentences(self):
        return [sentence for paragraph in self.paragraphs for sentence in paragraph]


def split_transcript(text):
    """Split a whole transcript; the header lines are recognised, not read as sentences."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    blocks = [normalise_space(block) for block in re.split(r"\n\s*\n", text)]
    blocks = [block for block in blocks if block]
    parsed = SplitTranscript()
    if blocks and "\n" not in blocks[0].strip() and (match := TITLE_LINE.match(blocks[0])):
        parsed.number = int(match["number"])
        parsed.title = match["title"].strip()
        blocks = blocks[1:]
        if len(blocks) > 1 and is_tagline(blocks[0]):
            parsed.tagline = blocks[0]
            blocks = blocks[1:]
    parsed.paragraphs = [split_sentences(block) for block in blocks]
    return parsed


def normalise_space(block):
    return re.sub(r"\s+", " ", block).strip()


def is_tagline(block):
    return len(block) <= 160 and len(split_sentences(block)) == 1


def split_sentences(paragraph):
    """Split one paragraph into sentences, keeping quotations whole."""
    text = normalise_space(paragraph)
    honour_quotes = quotes_balance(text)
    sentences = []
    start = 0
    depth = 0
    i = 0
    while i < len(text):
        char = text[i]
        if honour_quotes and char in OPENING_QUOTES + CLOSING_QUOTES:
            depth = toggle_quote(char, depth)
        elif char in TERMINATORS:
            end = i + 1
            while end < len(text) and text[end] in TERMINATORS:
                end += 1
            while end < len(text) and text[end] in CLOSERS:
                if honour_quotes and text[end] in OPENING_QUOTES + CLOSING_QUOTES:
                    depth = toggle_quote(text[end], depth)
                end += 1
            if depth == 0 and ends_sentence(text, i, end):
                sentences.append(text[start:end].strip())
                start = end
            i = end
            continue
        i += 1
    rest = text[start:].strip()
    if rest:
        sentences.append(rest)
    return sentences


def toggle_quote(char, depth):
    if char == '"':
        return 0 if depth else 1
    if char in OPENING_QUOTES:
        return depth + 1
    return max(depth - 1, 0)


def quotes_balance(text):
    """Unbalanced quotes (a typo) would glue the rest of a paragraph together."""
    curly = text.count("“") == text.count("”")
    return curly and text.count('"') % 2 == 0


def ends_sentence(text, terminator_at, after):
    if after >= len(text) or not text[after].isspace():
        return False
    following = text[after:].lstrip()
    if not following:
        return False
    first = following[0]
    if not (first.isupper() or first.isdigit() or first in OPENING_QUOTES + "‘('"):
        return False
    if text[terminator_at] != ".":
        return True
    word = WORD_BEFORE.search(text[:terminator_at])
    if not word:
        return True
    token = word.group(1).lower().rstrip(".")
    if token in ABBREVIATIONS:
        return False
    # An initial: a lone capital letter, as in "J. V. Stalin".
    if len(token) == 1 and token.isalpha() and word.group(1).isupper():
        return False
    return True

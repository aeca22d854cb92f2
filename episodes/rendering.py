"""
Render an episode's transcript once, at write time.

The result is stored on the episode, so showing the page costs one query
however long the episode is. It holds:

- segments (episodes/segments.py), each opening with its time as a link to
  that moment, under chapter headings where the episode has chapters;
- mention links, one per entry per segment: the first time a segment names
  an entry it links to it (with its popover); later mentions in the segment
  are marked up but not linked (span.mention-repeat with data-entity), so
  static/js/names.js can light them up on hover or underline them all when
  the reader asks, without a request;
- citation markers, each opening a preview of its source (a popover) and
  falling back to the list of sources at the end, where repeated citations
  of one source share one entry;
- one popover per term or person, and one per citation.
"""

from string import ascii_lowercase

from django.template.loader import render_to_string
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.text import Truncator

from .moments import format_moment, moment_parameter
from .segments import segment

QUOTE_WORDS = 40  # words of a citation's quote shown in its preview


def popover_id(entity):
    return f"pop-{entity._meta.model_name}-{entity.slug}"


def sentence_html(sentence, mentions, footnotes, linked):
    """
    The sentence text with mention links and citation markers, escaped.

    `linked` holds the popover ids already linked in this segment: those
    mentions are marked up but not linked again (it is updated here).
    """
    events = [(m.start, 1, m) for m in mentions] + [(offset, 0, c) for offset, c in footnotes]
    parts = []
    cursor = 0
    for offset, order, item in sorted(events, key=lambda e: (e[0], e[1])):
        if order == 1:  # a mention: link the span, or mark it as said again
            mention = item
            if mention.start < cursor:
                continue
            parts.append(escape(sentence.text[cursor : mention.start]))
            entity = mention.entity
            kind, pid = entity._meta.model_name, popover_id(entity)
            words = sentence.text[mention.start : mention.end]
            if pid in linked:
                parts.append(
                    format_html('<span class="mention-repeat mention-{}" data-entity="{}">{}</span>', kind, pid, words)
                )
            else:
                linked.add(pid)
                parts.append(
                    format_html(
                        '<a class="mention mention-{}" href="{}" data-popover="{}">{}</a>',
                        kind, entity.get_absolute_url(), pid, words,
                    )
                )
            cursor = mention.end
        else:  # a citation marker after the quoted words
            citation = item
            offset = max(offset, cursor)
            parts.append(escape(sentence.text[cursor:offset]))
            parts.append(
                format_html(
                    '<sup class="fnref"><a href="#fn-{}" id="{}" data-popover="{}" '
                    'aria-label="Source {}: {}">{}</a></sup>',
                    citation.number, citation.anchor, citation.preview_id,
                    citation.number, citation.source.title, citation.number,
                )
            )
            cursor = offset
    parts.append(escape(sentence.text[cursor:]))
    return mark_safe("".join(parts))


def number_citations(citations):
    """
    One number per source, in order of first citation (repeats share it), and
    for each citation its own marker id and preview. Returns the sources'
    notes in order: [(number, source, [citations…]), …].
    """
    notes = {}
    for citation in citations:
        entry = notes.setdefault(citation.source_id, (len(notes) + 1, citation.source, []))
        number, _, cited = entry
        cited.append(citation)
        citation.number = number
        citation.anchor = f"fnref-{number}-{len(cited)}"
        citation.preview_id = f"cite-{number}-{len(cited)}"
        citation.quote_preview = Truncator(citation.quoted_text).words(QUOTE_WORDS)
        start = citation.sentence.start
        citation.moment = format_moment(start) if start is not None else ""
        # How the list names its way back to this citation: the moment, else a letter (a, b, c…).
        place = len(cited) - 1
        citation.place = citation.moment or (ascii_lowercase[place] if place < 26 else str(place + 1))
    return list(notes.values())


def moment_link(episode, sentence):
    """?t=… for the sentence's start, landing on it with or without JavaScript."""
    return f"{episode.get_absolute_url()}?t={moment_parameter(sentence.start)}#{sentence.anchor}"


def paragraph_blocks(episode, segments):
    """
    The segments grouped for the template: [{chapter, paragraph, anchored,
    segments}, …], a new block at each paragraph or chapter. A paragraph a
    chapter cuts in two keeps its id (p-<n>) on the first part only.
    """
    blocks = []
    for item in segments:
        if item.chapter is not None or item.paragraph_start or not blocks:
            paragraph = item.sentences[0].paragraph
            blocks.append(
                {"chapter": item.chapter, "paragraph": paragraph, "anchored": item.paragraph_start, "segments": []}
            )
        if item.start is not None:
            first_timed = next(s for s in item.sentences if s.start is not None)
            item.moment_url = moment_link(episode, first_timed)
            item.moment = format_moment(item.start)
            item.seconds = int(item.start)
        blocks[-1]["segments"].append(item)
    return blocks


def transcript_html(episode, sentences, visible_mentions, citations):
    """
    The stored transcript of an episode, from its sentences in order, their visible
    mentions (with their entries) and its citations (with their sources), in order.
    Episode.render_transcript() reads those and stores the result; this module
    reads nothing itself, so the models can call it.
    """
    mentions = {}
    entities = {}
    for mention in visible_mentions:
        mentions.setdefault(mention.sentence_id, []).append(mention)
        entities[popover_id(mention.entity)] = mention.entity
    citations = list(citations)
    notes = number_citations(citations)
    footnotes = {}
    for citation in citations:
        footnotes.setdefault(citation.sentence_id, []).append((citation.quote_end, citation))

    chapters = list(episode.chapters.all())
    segments = segment(sentences, chapters)
    for item in segments:
        linked = set()
        for sentence in item.sentences:
            sentence.html = sentence_html(
                sentence, mentions.get(sentence.pk, []), footnotes.get(sentence.pk, []), linked
            )
    blocks = paragraph_blocks(episode, segments)
    headed = [block for block in blocks if block["chapter"] is not None]
    for number, block in enumerate(headed, start=1):
        first = block["segments"][0]
        block["chapter"].anchor = f"chapter-{number}"
        block["chapter"].moment = getattr(first, "moment", "")
    return render_to_string(
        "episodes/transcript.html",
        {
            "episode": episode,
            "blocks": blocks,
            "chapters": [block["chapter"] for block in headed],
            "notes": notes,
            "citations": citations,
            "popovers": [
                {"id": pid, "entity": entity, "kind": entity._meta.model_name}
                for pid, entity in sorted(entities.items())
            ],
        },
    )

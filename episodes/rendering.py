"""
Render an episode's transcript once, at write time.

The result (paragraphs of anchored sentences, mention links, footnote
markers, the notes list and one popover per term or person) is stored on the
episode, so showing the page costs one query however long the episode is.
"""

from itertools import groupby

from django.template.loader import render_to_string
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe



def popover_id(entity):
    return f"pop-{entity._meta.model_name}-{entity.slug}"


def sentence_html(sentence, mentions, footnotes):
    """The sentence text with mention links and footnote markers, escaped."""
    events = [(m.start, 1, m) for m in mentions] + [(offset, 0, n) for offset, n in footnotes]
    parts = []
    cursor = 0
    for offset, order, item in sorted(events, key=lambda e: (e[0], e[1])):
        if order == 1:  # a mention: link the span
            mention = item
            if mention.start < cursor:
                continue
            parts.append(escape(sentence.text[cursor : mention.start]))
            entity = mention.entity
            parts.append(
                format_html(
                    '<a class="mention mention-{}" href="{}" data-popover="{}">{}</a>',
                    entity._meta.model_name,
                    entity.get_absolute_url(),
                    popover_id(entity),
                    sentence.text[mention.start : mention.end],
                )
            )
            cursor = mention.end
        else:  # a footnote marker after the quoted words
            number = item
            offset = max(offset, cursor)
            parts.append(escape(sentence.text[cursor:offset]))
            parts.append(
                format_html(
                    '<sup class="fnref"><a href="#fn-{0}" id="fnref-{0}" '
                    'aria-label="Source note {0}">{0}</a></sup>',
                    number,
                )
            )
            cursor = offset
    parts.append(escape(sentence.text[cursor:]))
    return mark_safe("".join(parts))


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
    footnotes = {}
    for number, citation in enumerate(citations, start=1):
        citation.number = number
        footnotes.setdefault(citation.sentence_id, []).append((citation.quote_end, number))

    for sentence in sentences:
        sentence.html = sentence_html(
            sentence, mentions.get(sentence.pk, []), footnotes.get(sentence.pk, [])
        )
    paragraphs = [
        (number, list(group)) for number, group in groupby(sentences, key=lambda s: s.paragraph)
    ]
    sources = list({citation.source.pk: citation.source for citation in citations}.values())
    return render_to_string(
        "episodes/transcript.html",
        {
            "episode": episode,
            "paragraphs": paragraphs,
            "citations": citations,
            "sources": sorted(sources, key=lambda s: (s.author, s.title)),
            "popovers": [
                {"id": pid, "entity": entity, "kind": entity._meta.model_name}
                for pid, entity in sorted(entities.items())
            ],
        },
    )

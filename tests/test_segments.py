"""The transcript as it is stored: segments with times, chapters, one link per entry per segment, sources grouped."""

import re
from types import SimpleNamespace

import pytest

from episodes.models import Chapter
from episodes.models import Episode
from episodes.segments import SEGMENT_SECONDS, SEGMENT_WORDS, segment
from tests.factories import make_citation, make_episode, make_mention, make_person, make_sentences, make_source

pytestmark = pytest.mark.django_db


def spoken(*lengths, paragraph=1, words=10, pause=0.5, first=1, at=0.0):
    """Plain sentences of the given spoken lengths (seconds), one after another."""
    sentences = []
    for position, length in enumerate(lengths, start=first):
        sentences.append(SimpleNamespace(pk=position, position=position, paragraph=paragraph,
                                         text=" ".join(["word"] * words), start=at, end=at + length))
        at += length + pause
    return sentences


def spans(segments):
    return [(item.first, item.last) for item in segments]


# ---- cutting ------------------------------------------------------------------------------

def test_a_timed_paragraph_is_cut_into_blocks_of_at_most_90_seconds():
    sentences = spoken(*[14] * 20)  # 20 sentences, 289.5 s
    segments = segment(sentences)
    assert len(segments) == 4  # the fewest that fit: 289.5 / 90 rounds up to 4
    for item in segments:
        assert item.sentences[-1].end - item.sentences[0].start <= SEGMENT_SECONDS
    assert [s.position for item in segments for s in item.sentences] == list(range(1, 21))


def test_the_cuts_are_as_even_as_the_sentences_allow():
    """A 100-second paragraph becomes two of about 50, not 90 and 10."""
    segments = segment(spoken(*[9.5] * 10))  # 99.5 s
    assert spans(segments) == [(1, 5), (6, 10)]


def test_a_segment_never_spans_two_paragraphs():
    sentences = spoken(10, 10, paragraph=1) + spoken(10, first=3, paragraph=2, at=21)
    segments = segment(sentences)
    assert spans(segments) == [(1, 2), (3, 3)]
    assert [item.paragraph_start for item in segments] == [True, True]


def test_a_sentence_longer_than_the_limit_is_a_segment_of_its_own():
    assert spans(segment(spoken(20, 120, 20))) == [(1, 1), (2, 2), (3, 3)]


def test_untimed_text_is_cut_by_words():
    sentences = spoken(*[0] * 12, words=50)
    for sentence in sentences:
        sentence.start = sentence.end = None
    segments = segment(sentences)
    assert spans(segments) == [(1, 4), (5, 8), (9, 12)]  # 600 words, at most 220 each
    assert all(item.start is None for item in segments)
    assert max(sum(len(s.text.split()) for s in item.sentences) for item in segments) <= SEGMENT_WORDS


def test_a_chapter_starts_a_segment_even_mid_paragraph():
    sentences = spoken(10, 10, 10, 10)
    chapter = SimpleNamespace(sentence_id=3, start=0)
    segments = segment(sentences, [chapter])
    assert spans(segments) == [(1, 2), (3, 4)]
    assert [item.chapter for item in segments] == [None, chapter]
    assert [item.paragraph_start for item in segments] == [True, False]


@pytest.mark.parametrize("at", [20.2, 21, 22.5])
def test_a_chapter_with_only_a_time_opens_at_the_sentence_starting_then(at):
    """A mark a little before the words, on them, or a moment after they begin."""
    sentences = spoken(10, 10, 10, 10)  # starts 0, 10.5, 21, 31.5
    assert spans(segment(sentences, [SimpleNamespace(sentence_id=None, start=at)])) == [(1, 2), (3, 4)]


def test_a_chapter_past_the_last_sentence_has_no_heading():
    segments = segment(spoken(10, 10), [SimpleNamespace(sentence_id=None, start=420.5)])
    assert [item.chapter for item in segments] == [None]


def test_a_chapter_with_only_a_time_is_left_out_of_untimed_text():
    sentences = spoken(0, 0)
    for sentence in sentences:
        sentence.start = sentence.end = None
    assert [item.chapter for item in segment(sentences, [SimpleNamespace(sentence_id=None, start=5)])] == [None]


# ---- the stored HTML --------------------------------------------------------------------

@pytest.fixture
def timed():
    """Two paragraphs: Stalin named three times in the first, once in the second; two citations of one source."""
    episode = make_episode(number=9, slug="nine", timing=Episode.Timing.TIMED)
    first = make_sentences(episode, "Stalin spoke.", "Then Stalin spoke again, and Stalin once more.", paragraph=1)
    second = make_sentences(episode, "Years later Stalin died.", paragraph=2)
    for sentence, start in zip(first + second, [0, 4.25, 75.5]):
        sentence.start, sentence.end = start, start + 3
        sentence.save()
    stalin = make_person("Joseph Stalin")
    for sentence in first + second:
        for match in re.finditer("Stalin", sentence.text):
            make_mention(sentence, stalin, match.start(), match.end())
    source = make_source()
    make_citation(first[0], source, quoted_text="Stalin spoke.", locator="p. 1")
    make_citation(second[0], source, quoted_text="Stalin died.")
    episode.render_transcript()
    return episode


def segment_html(html, number):
    return html.split(f'id="seg-{number}"')[1].split('<div class="segment"')[0]


def test_an_entry_is_linked_once_per_segment_and_its_other_mentions_are_marked(timed):
    html = timed.transcript_html
    first, second = segment_html(html, 1), segment_html(html, 2)
    assert first.count('<a class="mention mention-person"') == 1
    assert first.count('<span class="mention-repeat mention-person" data-entity="pop-person-joseph-stalin">'
                       'Stalin</span>') == 2
    # A new segment links the entry again.
    assert second.count('<a class="mention mention-person"') == 1 and "mention-repeat" not in second


def test_each_segment_opens_with_its_time_as_a_link_to_that_moment(timed):
    html = timed.transcript_html
    assert ('<a class="segment-time" href="/episodes/nine/?t=75.5#s-3"><span class="visually-hidden">'
            'Listen from </span><time datetime="PT75S">1:15</time></a>') in segment_html(html, 2)
    assert 'href="/episodes/nine/?t=0#s-1"' in segment_html(html, 1)


def test_citations_of_one_source_share_its_number_and_its_entry_in_the_list(timed):
    html = timed.transcript_html
    assert re.findall(r'<sup class="fnref"><a href="#fn-(\d+)" id="([\w-]+)"', html) == [
        ("1", "fnref-1-1"), ("1", "fnref-1-2")
    ]
    assert html.count('<li id="fn-') == 1
    entry = html.split('<li id="fn-1">')[1].split("</li>")[0]
    assert 'href="#fnref-1-1"' in entry and 'href="#fnref-1-2"' in entry
    assert ">0:00</a> (p. 1) ·" in entry and ">1:15</a></span>" in entry
    # Each citation previews its own quoted words.
    assert "Stalin spoke.</blockquote>" in html.split('id="cite-1-1"')[1].split("</div>")[0]
    assert "Stalin died.</blockquote>" in html.split('id="cite-1-2"')[1].split("</div>")[0]


def test_untimed_citations_of_one_source_are_told_apart_by_letters():
    episode = make_episode(number=10, slug="ten")
    first, second = make_sentences(episode, "One said so.", "Two said so.")
    source = make_source()
    make_citation(first, source)
    make_citation(second, source)
    episode.render_transcript()
    entry = episode.transcript_html.split('<li id="fn-1">')[1].split("</li>")[0]
    assert re.findall(r'<a class="backref" href="#([\w-]+)" aria-label="Back to the text, place (\w)">\2</a>', entry) == [
        ("fnref-1-1", "a"), ("fnref-1-2", "b")
    ]


def test_chapters_are_headings_and_a_list_of_them(timed):
    sentence = timed.sentences.get(position=2)
    Chapter.objects.create(episode=timed, title="The second <time>", start=99, sentence=sentence)
    Chapter.objects.create(episode=timed, title="The opening", start=0)
    timed.render_transcript()
    html = timed.transcript_html
    assert re.findall(r'<h3 class="chapter-title" id="([\w-]+)">([^<]*)</h3>', html) == [
        ("chapter-1", "The opening"), ("chapter-2", "The second &lt;time&gt;")
    ]
    assert '<a href="#chapter-2">The second &lt;time&gt;</a> <span class="chapter-time">0:04</span>' in html
    # The chapter opens a segment of its own in the middle of the paragraph.
    assert re.findall(r'id="seg-(\d+)" data-first="(\d+)" data-last="(\d+)"', html) == [
        ("1", "1", "1"), ("2", "2", "2"), ("3", "3", "3")
    ]


def test_timings_move_the_chapters_that_open_at_a_sentence(timed):
    sentence = timed.sentences.get(position=3)
    chapter = Chapter.objects.create(episode=timed, title="Later", start=0, sentence=sentence)
    free = Chapter.objects.create(episode=timed, title="By time", start=12)
    timed.save_timings([(0, 1, []), (2, 3, []), (40.5, 45, [])], Episode.Timing.TIMED)
    chapter.refresh_from_db()
    free.refresh_from_db()
    assert (chapter.start, free.start) == (40.5, 12)


def test_the_chapters_file_gives_a_sentence_chapter_its_sentences_time(client, timed):
    Chapter.objects.create(episode=timed, title="Later", start=0, sentence=timed.sentences.get(position=3))
    timed.save_timings([(0, 1, []), (2, 3, []), (40.5, 45, [])], Episode.Timing.TIMED)
    chapters = client.get("/episodes/nine/chapters.json").json()["chapters"]
    assert [(c["startTime"], c["title"]) for c in chapters] == [(40.5, "Later")]


def test_the_chapters_file_leaves_out_a_chapter_at_a_sentence_without_a_time(client, timed):
    untimed = timed.sentences.get(position=3)
    untimed.start = untimed.end = None
    untimed.save()
    Chapter.objects.create(episode=timed, title="Untimed", start=0, sentence=untimed)
    Chapter.objects.create(episode=timed, title="Timed", start=2)
    chapters = client.get("/episodes/nine/chapters.json").json()["chapters"]
    assert [c["title"] for c in chapters] == ["Timed"]

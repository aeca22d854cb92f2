"""import_transcript: what it writes, what it keeps, and what it refuses."""

import pytest
from django.core.management import CommandError, call_command

from episodes.transcripts import MAX_TRANSCRIPT_BYTES
from episodes.models import Citation, Mention, Sentence
from tests.factories import make_citation, make_episode, make_mention, make_person, make_source, make_term

pytestmark = pytest.mark.django_db

TEXT = """7: A Test Episode


A tagline.

Stalin met Kirov. The NKVD watched.

Then came the show trials. Nobody was safe.
"""


@pytest.fixture
def episode():
    return make_episode(number=7, slug="7-a-test-episode")


def write(tmp_path, content, name="transcript.txt"):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def run(*args):
    call_command("import_transcript", *map(str, args))


def texts(episode):
    return list(episode.sentences.order_by("position").values_list("paragraph", "position", "text"))


def test_import_creates_numbered_sentences_in_paragraphs(tmp_path, episode):
    run(episode.slug, write(tmp_path, TEXT))
    assert texts(episode) == [
        (1, 1, "Stalin met Kirov."),
        (1, 2, "The NKVD watched."),
        (2, 3, "Then came the show trials."),
        (2, 4, "Nobody was safe."),
    ]


def test_import_links_mentions_and_renders_the_transcript(tmp_path, episode):
    make_person("Joseph Stalin", aliases="Stalin")
    run(episode.slug, write(tmp_path, TEXT))
    episode.refresh_from_db()
    assert Mention.objects.filter(sentence__episode=episode).count() == 1
    assert 'id="s-1"' in episode.transcript_html
    assert 'href="/people/joseph-stalin/"' in episode.transcript_html


def test_reimporting_the_same_text_changes_nothing(tmp_path, episode):
    path = write(tmp_path, TEXT)
    run(episode.slug, path)
    before = list(episode.sentences.values_list("pk", "position", "text"))
    run(episode.slug, path)
    assert list(episode.sentences.values_list("pk", "position", "text")) == before


def test_an_edit_keeps_citations_and_overrides_on_surviving_sentences(tmp_path, episode):
    run(episode.slug, write(tmp_path, TEXT))
    nkvd_sentence = episode.sentences.get(text="The NKVD watched.")
    citation = make_citation(nkvd_sentence, make_source(), quoted_text="NKVD")
    override = make_mention(nkvd_sentence, make_term("Secret police", slug="secret-police"), 4, 8)
    doomed = episode.sentences.get(text="Nobody was safe.")
    make_citation(doomed, make_source("Other", slug="other"))

    edited = TEXT.replace("Stalin met Kirov.", "Stalin met Kirov in Leningrad.").replace(
        "Nobody was safe.", "Nobody at all was safe."
    )
    run(episode.slug, write(tmp_path, edited))

    assert [t for _, _, t in texts(episode)] == [
        "Stalin met Kirov in Leningrad.",
        "The NKVD watched.",
        "Then came the show trials.",
        "Nobody at all was safe.",
    ]
    assert Citation.objects.get(pk=citation.pk).sentence_id == nkvd_sentence.pk
    assert Mention.objects.filter(pk=override.pk).exists()
    assert not Citation.objects.filter(source__slug="other").exists()


def test_sentences_can_move_between_positions(tmp_path, episode):
    run(episode.slug, write(tmp_path, TEXT))
    swapped = TEXT.replace("Stalin met Kirov. The NKVD watched.", "The NKVD watched. Stalin met Kirov.")
    run(episode.slug, write(tmp_path, swapped))
    assert [t for _, _, t in texts(episode)][:2] == ["The NKVD watched.", "Stalin met Kirov."]


def assert_refused(episode, message, *args):
    before = texts(episode)
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert texts(episode) == before


@pytest.fixture
def imported(tmp_path, episode):
    run(episode.slug, write(tmp_path, TEXT))
    return episode


def test_missing_file_is_refused(tmp_path, imported):
    assert_refused(imported, "No such file", imported.slug, tmp_path / "nope.txt")


def test_a_directory_is_refused(tmp_path, imported):
    assert_refused(imported, "Not a regular file", imported.slug, tmp_path)


def test_empty_file_is_refused(tmp_path, imported):
    assert_refused(imported, "is empty", imported.slug, write(tmp_path, "  \n\n "))


def test_binary_file_is_refused(tmp_path, imported):
    assert_refused(imported, "binary", imported.slug, write(tmp_path, b"\x89PNG\r\n\x1a\n\x00\x00\x00"))


def test_non_utf8_file_is_refused_naming_the_line(tmp_path, imported):
    latin1 = "Line one.\nGrüße aus Köln.".encode("latin-1")
    assert_refused(imported, r"not UTF-8 text: byte \d+ \(line 2\)", imported.slug, write(tmp_path, latin1))


def test_control_characters_are_refused(tmp_path, imported):
    assert_refused(imported, "control characters", imported.slug, write(tmp_path, "Stalin\x1b[31m met Kirov."))


def test_huge_file_is_refused(tmp_path, imported):
    huge = ("Stalin met Kirov. " * (MAX_TRANSCRIPT_BYTES // 18 + 10))
    assert_refused(imported, "at most", imported.slug, write(tmp_path, huge))


def test_unknown_episode_is_refused(tmp_path, imported):
    with pytest.raises(CommandError, match="No episode with slug 'no-such-episode'"):
        run("no-such-episode", write(tmp_path, TEXT))


def test_a_transcript_for_another_episode_is_refused(tmp_path, imported):
    assert_refused(imported, "episode 8", imported.slug, write(tmp_path, TEXT.replace("7:", "8:")))


def test_a_header_without_text_is_refused(tmp_path, imported):
    assert_refused(imported, "no transcript text", imported.slug, write(tmp_path, "7: Title\n"))


def test_hostile_markup_is_stored_as_text_and_escaped(tmp_path, episode):
    run(episode.slug, write(tmp_path, "<script>alert(1)</script> was typed here. Then <b>bold</b>."))
    episode.refresh_from_db()
    assert episode.sentences.first().text.startswith("<script>")
    assert "<script>alert" not in episode.transcript_html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in episode.transcript_html


def test_dry_run_writes_nothing(tmp_path, episode, capsys):
    call_command("import_transcript", episode.slug, str(write(tmp_path, TEXT)), "--dry-run")
    assert not Sentence.objects.filter(episode=episode).exists()
    assert "Dry run" in capsys.readouterr().out

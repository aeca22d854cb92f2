"""The demo's synthetic narration: made once per text, and the page says when it can't be."""

import pytest
from django.core.management import call_command

from episodes import demo as demo_content
from episodes.models import Episode
from alignment.engine.narration import NarrationUnavailable

pytestmark = pytest.mark.django_db


def test_the_demo_is_narrated_with_exact_timings_and_labelled(client):
    call_command("load_demo", verbosity=0)
    episode = Episode.objects.get(slug="138-the-great-purges")
    assert episode.audio_is_synthetic and episode.timing == Episode.Timing.TIMED
    assert episode.duration.total_seconds() > 600
    assert episode.sentences.filter(start__isnull=True).count() == 0
    assert episode.sentences.exclude(words=[]).count() == episode.sentences.count()
    html = client.get(episode.get_absolute_url()).content.decode()
    assert "Computer-read demo narration" in html  # for a listener; what to replace is for editors
    assert 'src="/episodes/138-the-great-purges/audio/"' in html


def test_a_second_load_reuses_the_narration(capsys):
    call_command("load_demo")
    capsys.readouterr()
    call_command("load_demo")
    assert "reused the cached synthetic narration" in capsys.readouterr().out


def test_when_synthesis_is_impossible_the_page_says_why(client, monkeypatch, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path  # nothing cached here

    def unavailable(*args, **kwargs):
        raise NarrationUnavailable("eSpeak NG is not installed")

    monkeypatch.setattr(demo_content, "synthesise", unavailable)
    call_command("load_demo", verbosity=0)
    episode = Episode.objects.get(slug="138-the-great-purges")
    assert not episode.audio and episode.timing == Episode.Timing.NONE
    html = client.get(episode.get_absolute_url()).content.decode()
    assert "No audio for this episode yet: the synthetic narration could not be made here (eSpeak NG is not installed)" in html
    assert 'id="s-1"' in html


def test_an_editors_own_audio_is_never_replaced(monkeypatch):
    call_command("load_demo", verbosity=0)
    episode = Episode.objects.get(slug="138-the-great-purges")
    episode.audio.name = "audio/real-episode.mp3"
    episode.audio_is_synthetic = False
    episode.save()
    monkeypatch.setattr(demo_content, "synthesise", lambda *a, **k: pytest.fail("should not synthesise"))
    call_command("load_demo", verbosity=0)
    episode.refresh_from_db()
    assert episode.audio.name == "audio/real-episode.mp3"

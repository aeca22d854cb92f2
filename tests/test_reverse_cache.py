"""cached_reverse: the same answers as reverse(), kept per script prefix and URLconf."""

import pytest
from django.test import override_settings
from django.urls import NoReverseMatch, clear_script_prefix, path, reverse, set_script_prefix

from episodes.reverse_cache import cached_reverse


def test_it_answers_as_reverse_does():
    assert cached_reverse("episodes:home") == reverse("episodes:home")
    assert cached_reverse("episodes:transcript_export", "a-slug", "vtt") == reverse(
        "episodes:transcript_export", args=["a-slug", "vtt"]
    )
    assert cached_reverse("episodes:detail", "other") != cached_reverse("episodes:detail", "a-slug")


def test_a_site_under_a_path_gets_its_prefix():
    plain = cached_reverse("episodes:term_list")
    set_script_prefix("/companion/")
    try:
        assert cached_reverse("episodes:term_list") == "/companion" + plain
    finally:
        clear_script_prefix()
    assert cached_reverse("episodes:term_list") == plain


def swapped_view(request):
    raise AssertionError("never called")


urlpatterns = [path("swapped/glossary/", swapped_view, name="term_list")]


def test_a_swapped_urlconf_is_not_answered_from_memory():
    with override_settings(ROOT_URLCONF=__name__):
        assert cached_reverse("term_list") == "/swapped/glossary/"
    with pytest.raises(NoReverseMatch):
        cached_reverse("term_list")  # the project's URLconf has it only under episodes:

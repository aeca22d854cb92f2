"""
reverse(), remembered for the life of the worker.

Every page names the same few URLs (the header's links), and an episode page
a dozen more (its exports, notes, word timings). Django's reverse() matches
the patterns afresh each time, about 30 µs a call: a fifth of the template
time of an uncached episode page (benchmarks/page_profile.py). URLs change
only with the code, so each answer is kept, per script prefix and URLconf.
"""

from functools import lru_cache

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import get_script_prefix, get_urlconf, reverse


def cached_reverse(viewname, *args):
    """reverse(viewname, args=args); the args must be hashable (slugs, numbers, strings)."""
    return _reverse(get_script_prefix(), get_urlconf(), viewname, args)


@lru_cache(maxsize=4096)
def _reverse(prefix, urlconf, viewname, args):
    # prefix is only part of the key: reverse() reads the same script prefix itself.
    return reverse(viewname, urlconf=urlconf, args=args)


@receiver(setting_changed)
def forget_urls(*, setting, **kwargs):
    """Tests that swap the URLconf get fresh answers, as Django's own caches do."""
    if setting in ("ROOT_URLCONF", "FORCE_SCRIPT_NAME"):
        _reverse.cache_clear()

"""
Fixed-window rate limits shared by every gunicorn worker.

With Redis configured (REDIS_URL) counters live there (INCR is atomic);
otherwise in the database, incremented with an atomic UPDATE, so the limit
holds across processes on the embedded SQLite default too — a per-process
memory cache would let each worker count on its own. (tests/test_ratelimit.py
counts hits from several OS processes sharing one SQLite file.)
"""

import hashlib
import random
import time
from datetime import timedelta
from functools import wraps

from django.conf import settings
from django.core.cache import caches
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone

from .models import RateCounter


def client_ip(request):
    """The address that made the request.

    Behind a proxy, set DJANGO_TRUSTED_PROXY_HEADER (e.g. HTTP_X_FORWARDED_FOR).
    The right-most address is the one our proxy appended; anything left of it
    came from the client and could be anything, so trusting it would let a
    script pick a fresh "address" for every attempt.
    """
    header = getattr(settings, "TRUSTED_PROXY_HEADER", "")
    if header and request.META.get(header):
        return request.META[header].split(",")[-1].strip()[:64]
    return request.META.get("REMOTE_ADDR", "unknown")


def counter_key(scope, ident, bucket):
    """A short, cache-safe key whatever the ident: an attempted username can be
    any length and hold spaces, which RateCounter.key and memcached refuse."""
    kind, _, value = str(ident).partition(":")
    digest = hashlib.sha256(value.encode()).hexdigest()[:32]
    return f"rl:{scope}:{kind}:{digest}:{bucket}"


def count_hit(key, window):
    """Add one hit to the key's current window; returns the hits so far in it."""
    if settings.RATE_LIMIT_USE_CACHE:
        cache = caches["default"]
        cache.add(key, 0, timeout=window)
        try:
            return cache.incr(key)
        except ValueError:  # it expired between add() and incr()
            cache.add(key, 1, timeout=window)
            return 1
    expires = timezone.now() + timedelta(seconds=window)
    with transaction.atomic():
        if not RateCounter.objects.filter(key=key).update(count=F("count") + 1):
            try:
                with transaction.atomic():
                    RateCounter.objects.create(key=key, count=1, expires_at=expires)
            except IntegrityError:  # another worker created it first
                RateCounter.objects.filter(key=key).update(count=F("count") + 1)
        count = RateCounter.objects.filter(key=key).values_list("count", flat=True).get()
    if random.random() < 0.01:
        RateCounter.objects.filter(expires_at__lt=timezone.now()).delete()
    return count


def is_limited(scope, ident):
    """Count this attempt; True when it goes over the scope's limit."""
    limit, window = settings.RATE_LIMITS[scope]
    bucket = int(time.time() // window)
    return count_hit(counter_key(scope, ident, bucket), window) > limit


def retry_after(scope):
    """Seconds until the scope's current window ends (windows start on the epoch)."""
    window = settings.RATE_LIMITS[scope][1]
    return max(1, int(window - time.time() % window))


def too_many_requests(request, scope):
    limit, window = settings.RATE_LIMITS[scope]
    wait = retry_after(scope)
    context = {"scope": scope, "limit": limit, "window": window, "retry_after": wait,
               "retry_minutes": -(-wait // 60)}
    if getattr(request, "htmx", False):
        # A short notice for the page's #flash region (base.html), which
        # htmx swaps in for a 429 (see htmx-config's responseHandling).
        response = HttpResponse(render_to_string("includes/rate_limited.html", context), status=429)
        response["HX-Retarget"] = "#flash"
        response["HX-Reswap"] = "innerHTML"
    else:
        response = HttpResponse(render_to_string("429.html", context, request=request), status=429)
    response["Retry-After"] = str(wait)
    response["Vary"] = "HX-Request"
    return response


def rate_limit(scope, methods=("POST",), key=None):
    """Limit a view per user (when signed in) and per IP address.

    key(request) may name one more thing to count, e.g. the username a login
    attempt is for, so guessing one account's password from many addresses
    is slowed down too.
    """

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.method in methods:
                idents = [f"ip:{client_ip(request)}"]
                if request.user.is_authenticated:
                    idents.append(f"user:{request.user.pk}")
                if key is not None and (extra := key(request)):
                    idents.append(f"key:{extra}")
                # A list, not a generator: every ident counts the attempt.
                if any([is_limited(scope, ident) for ident in idents]):
                    return too_many_requests(request, scope)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator

"""
Fixed-window rate limits shared by every gunicorn worker.

With Redis configured (REDIS_URL) counters live there (INCR is atomic);
otherwise in the database, incremented with an atomic UPDATE, so the limit
holds across processes on the embedded SQLite default too — a per-process
memory cache would let each worker count on its own.
"""

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
    # Behind a proxy, set DJANGO_TRUSTED_PROXY_HEADER (e.g. HTTP_X_FORWARDED_FOR).
    header = getattr(settings, "TRUSTED_PROXY_HEADER", "")
    if header and request.META.get(header):
        return request.META[header].split(",")[0].strip()
    return request.META.get("REMOTE_ADDR", "unknown")


def count_hit(key, window):
    """Add one hit to the key's current window; returns the hits so far in it."""
    if settings.RATE_LIMIT_USE_CACHE:
        cache = caches["default"]
        cache.add(key, 0, timeout=window)
        return cache.incr(key)
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
    return count_hit(f"rl:{scope}:{ident}:{bucket}", window) > limit


def too_many_requests(request, scope):
    limit, window = settings.RATE_LIMITS[scope]
    context = {"scope": scope, "limit": limit, "window": window}
    if request.htmx:
        response = HttpResponse(render_to_string("includes/rate_limited.html", context), status=429)
        response["HX-Retarget"] = "#flash"
        response["HX-Reswap"] = "innerHTML"
    else:
        response = HttpResponse(render_to_string("429.html", context, request=request), status=429)
    response["Retry-After"] = str(window)
    return response


def rate_limit(scope, methods=("POST",)):
    """Limit a view per user (when signed in) and per IP address."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.method in methods:
                idents = [f"ip:{client_ip(request)}"]
                if request.user.is_authenticated:
                    idents.append(f"user:{request.user.pk}")
                if any([is_limited(scope, ident) for ident in idents]):
                    return too_many_requests(request, scope)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator

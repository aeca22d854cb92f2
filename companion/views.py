"""Operational endpoints, and the page for a database that can't be reached."""

import sys

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.contrib.staticfiles.storage import staticfiles_storage
from django.http import HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.template.loader import render_to_string
from django.utils.cache import add_never_cache_headers
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


@never_cache
@require_safe
@require_safe
def favicon(request):
    """Browsers ask for /favicon.ico on pages that name none (the admin, a JSON file): send them ours."""
    return HttpResponsePermanentRedirect(staticfiles_storage.url("favicon.svg"))


def healthz(request):
    """200 when the database answers, 503 when it doesn't: for load balancers and monitors."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # any database failure means "not healthy"
        return JsonResponse({"status": "unavailable", "database": type(error).__name__}, status=503)
    return JsonResponse({"status": "ok"})


def database_error(error):
    """The OperationalError/InterfaceError behind an exception, if any (psycopg and
    sqlite3 errors arrive wrapped in Django's, sometimes as another error's cause)."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, (OperationalError, InterfaceError)):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


def server_error(request):
    """handler500: "the database is unavailable, try again in N seconds" is a 503
    with Retry-After, so people and scripts know to retry; anything else a 500.

    Django calls this inside its except block, from any layer (view or
    middleware), so sys.exc_info() is the error. The 503 page is rendered
    without the request: its context processors would ask the database again.
    """
    if database_error(sys.exc_info()[1]) is None:
        return defaults.server_error(request)
    wait = settings.DATABASE_RETRY_AFTER
    response = HttpResponse(render_to_string("503.html", {"retry_after": wait}), status=503)
    response["Retry-After"] = str(wait)
    add_never_cache_headers(response)  # no cache or proxy may keep serving the outage
    return response

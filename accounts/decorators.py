"""
Preconditions the apps' views share: an account in good standing to write, staff
to moderate or edit. Who may do what is checked in each view with these, never
only in a template: an htmx partial can be asked for on its own.
"""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect


def refuse(request, message, status):
    """An error a person can read; htmx shows it in #flash (notes.js swaps 4xx there)."""
    response = HttpResponse(format_html('<p class="message message-error">{}</p>', message), status=status)
    if request.htmx:
        response["HX-Retarget"] = "#flash"
        response["HX-Reswap"] = "innerHTML"
    return response


def login_to_write(view):
    """Writing needs an account in good standing: anonymous → log in, banned → 403."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            if request.htmx:
                # A redirect would be followed by XMLHttpRequest and swapped in; send the page instead.
                back = request.htmx.current_url_abs_path or "/"
                response = HttpResponse("Log in to write notes.", status=401)
                response["HX-Redirect"] = redirect_to_login(back).url
                return response
            back = request.META.get("HTTP_REFERER", "")
            if request.method != "GET" and url_has_allowed_host_and_scheme(
                back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
            ):
                return redirect_to_login(back)
            return redirect_to_login(request.get_full_path())
        if request.user.is_banned():
            return refuse(request, "This account can no longer post, edit or flag notes.", 403)
        return view(request, *args, **kwargs)

    return wrapped


def staff_required(view):
    """Staff only: a stranger is asked to log in, a listener is refused."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            if request.htmx:
                return HttpResponseClientRedirect(redirect_to_login(request.get_full_path()).url)
            return redirect_to_login(request.get_full_path())
        if not (user.is_active and user.is_staff):
            raise PermissionDenied("Staff only.")
        return view(request, *args, **kwargs)

    return wrapped

"""Sign-up; the rest (log in and out, passwords) is django.contrib.auth's."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.views import LoginView
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.debug import sensitive_post_parameters

from .forms import SignupForm
from .ratelimit import rate_limit


def safe_next(request):
    """The ?next= page to return to, if it is on this site (never an open redirect)."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if allowed else ""


@sensitive_post_parameters("password1", "password2")
@rate_limit("signup")
def signup(request):
    if request.user.is_authenticated:
        return redirect("episodes:home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome, {user.public_name}. You are signed in.")
        return redirect(safe_next(request) or settings.LOGIN_REDIRECT_URL)
    return render(request, "registration/signup.html", {"form": form, "next": safe_next(request)})


def attempted_username(request):
    return request.POST.get("username", "").strip().lower()


@method_decorator(rate_limit("login", key=attempted_username), name="dispatch")
class ThrottledLoginView(LoginView):
    """Django's login, with guessing slowed down per IP and per account.

    Every attempt counts, not only failures: a listener signs in once, so the
    limit (RATE_LIMITS["login"]) only ever stops a script.
    """

    redirect_authenticated_user = True

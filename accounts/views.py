"""Sign-up; the rest (log in and out, passwords) is django.contrib.auth's."""

from django.contrib.auth import login
from django.contrib.auth.views import LoginView
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters

from .forms import SignupForm
from .ratelimit import rate_limit


@sensitive_post_parameters("password1", "password2")
@rate_limit("signup")
def signup(request):
    if request.user.is_authenticated:
        return redirect("episodes:home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect(request.GET.get("next") or "episodes:home")
    return render(request, "registration/signup.html", {"form": form})


@method_decorator(rate_limit("login"), name="dispatch")
class ThrottledLoginView(LoginView):
    """Django's login, with guessing slowed down per IP and per account."""

    redirect_authenticated_user = True

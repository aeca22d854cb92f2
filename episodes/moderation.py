"""Placeholder: being written (moderation views)."""
from django.http import Http404


def queue(request):
    raise Http404("Not yet.")


def act(request, pk, action):
    raise Http404("Not yet.")

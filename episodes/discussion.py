"""Placeholder: being written (discussion notes views)."""
from django.contrib.syndication.views import Feed
from django.http import Http404


def _todo(*args, **kwargs):
    raise Http404("Not yet.")


note_list = note_create = note_reply = note_edit = note_delete = note_flag = _todo


class NotesFeed(Feed):
    def __call__(self, request, *args, **kwargs):
        raise Http404("Not yet.")

"""The forms of writing notes: a note on a passage, a reply or an edit, a flag."""

import uuid

from django import forms
from django.conf import settings

from companion.params import StrictIntegerField
from companion.text import CleanTextField

from .anchoring import AnchorError, anchor_selection
from .models import Flag


class NoteForm(forms.Form):
    # Control characters removed, invisible format characters refused (companion/text.py);
    # joiners kept, as Persian, Indic scripts and emoji are written with them.
    body = CleanTextField(allow_joiners=True, error_messages={"required": "Write something first."})
    idempotency_key = CleanTextField(max_length=64, required=False)

    def clean_body(self):
        body = self.cleaned_data["body"]
        limit = settings.NOTE_MAX_LENGTH
        if len(body) > limit:
            raise forms.ValidationError(
                f"A note can be at most {limit:,} characters; this one has {len(body):,}."
            )
        return body

    def clean_idempotency_key(self):
        # A form without a key (an old page, a script) still posts, just without the guard.
        return self.cleaned_data["idempotency_key"] or uuid.uuid4().hex


class AnchoredNoteForm(NoteForm):
    """A new note: the passage (sentence positions, optional quote and offset) and the body."""

    first = StrictIntegerField(min_value=1, error_messages={"required": "Choose a sentence."})
    last = StrictIntegerField(min_value=1, required=False)
    exact = forms.CharField(required=False, strip=False, max_length=20000)
    start = StrictIntegerField(min_value=0, required=False)

    def __init__(self, *args, episode, **kwargs):
        super().__init__(*args, **kwargs)
        self.episode = episode
        self.anchor = None

    def clean(self):
        data = super().clean()
        if data.get("first") is not None:
            try:
                self.anchor = anchor_selection(
                    self.episode, data["first"], data.get("last") or data["first"],
                    data.get("exact", ""), data.get("start"),
                )
            except AnchorError as error:
                raise forms.ValidationError(str(error)) from None
        return data


class FlagForm(forms.Form):
    reason = forms.ChoiceField(choices=Flag.Reason.choices, error_messages={
        "required": "Choose why you are flagging this note.",
        "invalid_choice": "Choose why you are flagging this note.",
    })
    detail = CleanTextField(max_length=300, required=False)

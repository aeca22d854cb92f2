"""Sign-up: Django's user creation plus a public name and a honeypot."""

from django import forms
from django.contrib.auth.forms import UserCreationForm

from companion.text import CleanTextField

from .models import User


class SignupForm(UserCreationForm):
    # A field people never see (hidden with CSS, skipped by keyboard and
    # screen readers): only a bot fills it in.
    website = forms.CharField(
        required=False,
        label="Leave this empty",
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ["username", "display_name", "email"]
        labels = {"display_name": "Display name", "email": "Email (optional)"}
        # Control characters removed, direction overrides and other invisible characters
        # refused (companion/text.py): they could make a name read as someone else's.
        field_classes = {"display_name": CleanTextField}
        help_texts = {
            "display_name": "Shown beside your notes. Leave it empty to show your username.",
            "email": "Only used to reset a forgotten password; never shown.",
        }

    def clean_display_name(self):
        """One line: line breaks, tabs and runs of spaces become single spaces."""
        return " ".join(self.cleaned_data.get("display_name", "").split())

    def clean_website(self):
        if self.cleaned_data.get("website"):
            raise forms.ValidationError("Please leave this field empty.")
        return ""

"""Sign-up: Django's user creation plus a public name and a honeypot."""

from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.password_validation import MinimumLengthValidator, get_default_password_validators

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
        # In plain words, not Django's stock "Required. 150 characters or fewer. Letters, digits and @/./+/-/_ only."
        help_texts = {
            "username": "The name you log in with. Letters and digits, no spaces (you may use . _ - + @).",
            "display_name": "Shown beside your notes. Leave it empty to show your username.",
            "email": "Only used to reset a forgotten password; never shown.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The settings' validators, said as one sentence instead of Django's list of four.
        length = minimum_password_length()
        self.fields["password1"].help_text = (f"At least {length} characters. " if length else "") + (
            "Not a common password, not only digits, and not like your username or email."
        )
        self.fields["password2"].label = "Password again"
        self.fields["password2"].help_text = "Type it once more, to be sure."

    def clean_display_name(self):
        """One line: line breaks, tabs and runs of spaces become single spaces."""
        return " ".join(self.cleaned_data.get("display_name", "").split())

    def clean_website(self):
        if self.cleaned_data.get("website"):
            raise forms.ValidationError("Please leave this field empty.")
        return ""


def minimum_password_length():
    """The shortest password the settings' validators accept (0: no such rule)."""
    lengths = [v.min_length for v in get_default_password_validators() if isinstance(v, MinimumLengthValidator)]
    return max(lengths, default=0)

from django import forms
from django.contrib.auth.forms import UserCreationForm

from .models import User


class SignupForm(UserCreationForm):
    # A field people never see (hidden with CSS, skipped by keyboard and
    # screen readers): only a bot fills it in.
    website = forms.CharField(required=False, label="Leave this empty")

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ["username", "display_name", "email"]

    def clean_website(self):
        if self.cleaned_data.get("website"):
            raise forms.ValidationError("Please leave this field empty.")
        return ""

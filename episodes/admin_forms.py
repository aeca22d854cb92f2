"""Admin forms shared by the pages that take a file from a URL or an upload (align, import feed)."""

from django import forms
from django.core.validators import URLValidator


def url_field(label, help_text):
    return forms.URLField(
        label=label, required=False, assume_scheme="https", max_length=1000,
        validators=[URLValidator(schemes=["http", "https"])], help_text=help_text,
    )


class UrlOrUploadForm(forms.Form):
    """
    An http(s) URL or an uploaded file, never both, the upload under max_bytes.
    Subclasses declare the `url` and `upload` fields with their own wording,
    and say what is missing when neither is given (None: that is allowed).
    """

    max_bytes = None

    def missing_source_message(self):
        return "Give a URL or upload a file."

    def clean_upload(self):
        upload = self.cleaned_data.get("upload")
        if upload and upload.size > self.max_bytes:
            raise forms.ValidationError(
                f"The file is {upload.size:,} bytes; the limit is {self.max_bytes // 2**20} MB "
                f"({self.max_bytes:,} bytes)."
            )
        return upload

    def clean(self):
        data = super().clean()
        if data.get("url") and data.get("upload"):
            raise forms.ValidationError("Give a URL or upload a file, not both.")
        if not (data.get("url") or data.get("upload") or self.errors):
            if message := self.missing_source_message():
                raise forms.ValidationError(message)
        return data

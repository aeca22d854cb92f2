"""The admin's URL-or-upload form, shared by the align and import-feed pages."""

from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile

from episodes.admin_forms import UrlOrUploadForm, url_field


class SmallFileForm(UrlOrUploadForm):
    max_bytes = 2**20
    url = url_field("URL", "")
    upload = forms.FileField(required=False)


class OptionalSourceForm(SmallFileForm):
    def missing_source_message(self):
        return None


def form(cls=SmallFileForm, url="", size=None):
    files = {"upload": SimpleUploadedFile("a.bin", b"x" * size)} if size is not None else {}
    return cls({"url": url}, files)


def test_a_url_or_a_small_upload_is_accepted():
    assert form(url="https://example.com/a.mp3").is_valid()
    assert form(size=10).is_valid()


def test_both_at_once_is_refused():
    f = form(url="https://example.com/a.mp3", size=10)
    assert not f.is_valid() and f.non_field_errors() == ["Give a URL or upload a file, not both."]


def test_neither_is_refused_unless_the_form_allows_it():
    f = form()
    assert not f.is_valid() and f.non_field_errors() == ["Give a URL or upload a file."]
    assert form(OptionalSourceForm).is_valid()


def test_an_upload_over_the_cap_names_the_limit():
    f = form(size=2**20 + 1)
    assert not f.is_valid()
    assert f.errors["upload"] == ["The file is 1,048,577 bytes; the limit is 1 MB (1,048,576 bytes)."]


def test_only_http_urls_are_taken():
    assert not form(url="file:///etc/passwd").is_valid()

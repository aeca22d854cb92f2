"""
Numbers from requests, parsed strictly: ASCII digits within bounds, or a clear error.

str.isdigit() and int() take far more than a person types in a URL: "²".isdigit() is
true and int("²") raises, int("٣") is 3, int(" 7 ") is 7, and a 5,000-digit string
raises, or makes a database driver overflow. Every number a query string, a form or a
header carries goes through parse_int instead. A view reads its query string with
int_param or page_param, whose BadParameter Django answers with a 400 (companion/views.py
renders its message), and free text with text_param. This module is the bottom layer
(with companion/text.py): it imports nothing from the apps.
"""

import re

from django import forms
from django.core.exceptions import BadRequest

from .text import without_controls

ASCII_DIGITS = re.compile(r"[0-9]+")  # \d would match any script's digits
LARGEST = 2**63 - 1  # the largest integer every database column here can hold


class InvalidNumber(ValueError):
    """Text that is not a whole number in range; the message says what was expected."""


def parse_int(text, *, minimum=0, maximum=LARGEST, clamp=False, name="The number"):
    """
    The whole number written in ASCII digits in text (no sign, no spaces), between
    minimum and maximum. Out of range it raises InvalidNumber, or with clamp=True
    returns the nearer bound (a page past the last shows the last). Never converts
    more digits than the maximum has, so no length of input costs more than that.
    """
    text = text if isinstance(text, str) else ""
    if not ASCII_DIGITS.fullmatch(text):
        raise InvalidNumber(f"{name} must be a whole number written with the digits 0–9.")
    significant = text.lstrip("0") or "0"
    value = maximum + 1 if len(significant) > len(str(maximum)) else int(significant)
    if minimum <= value <= maximum:
        return value
    if clamp:
        return min(max(value, minimum), maximum)
    raise InvalidNumber(f"{name} must be between {minimum:,} and {maximum:,}.")


def int_or_none(text, **bounds):
    """parse_int's number, or None for anything else: a header we won't trust, a form sent back."""
    try:
        return parse_int(text, **bounds)
    except InvalidNumber:
        return None


class BadParameter(BadRequest):
    """A query parameter the view can't use: a 400 whose message the reader sees."""


def int_param(request, name, *, default=None, minimum=0, maximum=LARGEST, clamp=False):
    """
    The number in ?name=, or default when it is absent or empty; BadParameter (a 400)
    for anything else that is not a number in range (see parse_int).
    """
    text = request.GET.get(name, "")
    if text == "":
        return default
    try:
        return parse_int(text, minimum=minimum, maximum=maximum, clamp=clamp, name=f"“{name}”")
    except InvalidNumber as error:
        raise BadParameter(str(error)) from None


def page_param(request, name="page", *, last=LARGEST):
    """
    ?name= as a page number: 1 when absent, a 400 for anything but ASCII digits
    (Paginator.get_page would quietly show page 1), and a number past either end
    the nearest page (0 the first; past `last`, or past the list's end in get_page,
    the last), as a reader who edits the address expects.
    """
    return int_param(request, name, default=1, minimum=1, maximum=last, clamp=True)


def text_param(request, name, *, max_length):
    """
    ?name= as text: empty when absent, at most max_length characters, without control
    characters (PostgreSQL refuses a query holding NUL, and nobody types one).
    """
    return without_controls(request.GET.get(name, "")[:max_length])


class StrictIntegerField(forms.IntegerField):
    """A form's IntegerField that takes ASCII digits only (Django's also takes "٣" and "+3")."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return parse_int(str(value).strip(), minimum=0, maximum=LARGEST)
        except InvalidNumber:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None

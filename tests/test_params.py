"""Numbers from requests (companion/params.py): ASCII digits within bounds, or a clear error."""

import pytest
from django import forms
from django.test import Client

from companion.params import LARGEST, InvalidNumber, StrictIntegerField, int_or_none, parse_int


@pytest.mark.parametrize("text, number", [("0", 0), ("7", 7), ("007", 7), ("1934", 1934), (str(LARGEST), LARGEST)])
def test_ascii_digits_are_a_number(text, number):
    assert parse_int(text) == number


# int() reads some of these (٣ is 3, " 7" is 7, "+7" is 7, "1_000" is 1000); str.isdigit() passes ² and ①.
@pytest.mark.parametrize("text", ["", " ", "²", "①", "٣", "३", "３", "𝟗", " 7", "7 ", "+7", "-7", "1_000",
                                  "1.0", "1e3", "0x1f", "7\n", None, 7])
def test_anything_else_is_refused_with_what_was_expected(text):
    with pytest.raises(InvalidNumber, match="must be a whole number written with the digits 0–9"):
        parse_int(text)


def test_bounds_are_checked_and_named():
    with pytest.raises(InvalidNumber, match="^The year must be between 1 and 9,999.$"):
        parse_int("0", minimum=1, maximum=9999, name="The year")
    with pytest.raises(InvalidNumber, match="between 1 and 9,999"):
        parse_int("10000", minimum=1, maximum=9999)


def test_clamping_gives_the_nearer_bound():
    assert parse_int("0", minimum=1, maximum=50, clamp=True) == 1
    assert parse_int("51", minimum=1, maximum=50, clamp=True) == 50
    assert parse_int("0" * 100 + "7", minimum=1, maximum=50, clamp=True) == 7


def test_any_length_of_digits_is_cheap_and_never_overflows():
    """int() refuses past 4,300 digits; a database driver overflows past 19."""
    assert parse_int("9" * 100_000, clamp=True) == LARGEST
    with pytest.raises(InvalidNumber):
        parse_int("9" * 100_000)
    with pytest.raises(InvalidNumber):
        parse_int(str(LARGEST + 1))


def test_int_or_none_is_none_for_what_parse_int_refuses():
    assert (int_or_none("12"), int_or_none("²"), int_or_none("0", minimum=1)) == (12, None, None)


class NumberForm(forms.Form):
    number = StrictIntegerField(min_value=1, required=False)


@pytest.mark.parametrize("text, number", [("3", 3), (" 3 ", 3), ("", None)])
def test_the_form_field_takes_ascii_digits(text, number):
    form = NumberForm({"number": text})
    assert form.is_valid() and form.cleaned_data["number"] == number


@pytest.mark.parametrize("text", ["٣", "３", "²", "+3", "3.0", "9" * 5000])
def test_the_form_field_refuses_other_digits_with_the_usual_message(text):
    form = NumberForm({"number": text})
    assert not form.is_valid() and form.errors["number"] == ["Enter a whole number."]


def test_the_form_field_keeps_its_bounds():
    assert NumberForm({"number": "0"}).errors["number"] == ["Ensure this value is greater than or equal to 1."]


@pytest.mark.django_db
def test_a_bad_parameter_is_a_400_page_that_says_which_and_why(client):
    response = client.get("/search/", {"q": "Stalin", "page": "²"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "<h1>This address can’t be read</h1>" in html
    assert "<p>“page” must be a whole number written with the digits 0–9.</p>" in html


def test_any_other_400_says_nothing_of_its_cause():
    """A bad Host header is a 400 too; its message is for the log, not the page."""
    response = Client(HTTP_HOST="evil.example").get("/search/")
    assert response.status_code == 400
    html = response.content.decode()
    assert "<h1>This address can’t be read</h1>" in html and "evil.example" not in html

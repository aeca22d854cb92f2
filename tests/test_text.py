"""Text in and out (companion/text.py): control characters removed, invisible ones refused, XML kept well-formed."""

import xml.etree.ElementTree as ET
from io import StringIO

import pytest
from django import forms

from companion.text import CleanTextField, InvisibleCharacter, XMLSafeGenerator, clean_text, xml_safe


def test_control_characters_go_and_tab_and_newline_stay():
    assert clean_text("a\x00b\x01c\x0bd\x0ce\x1bf\x7fg\x80h\x85i\x9fj\tk\nl") == "abcdefghij\tk\nl"


def test_every_kind_of_line_break_becomes_a_newline():
    assert clean_text("one\r\ntwo\rthree\nfour") == "one\ntwo\nthree\nfour"


@pytest.mark.parametrize("char", ["\u202e", "\u202a", "\u2066", "\u2067", "\u2068", "\u2069", "\u200b", "\u200e",
                                  "\u200f", "\ufeff", "\u00ad", "\u2060", "\u061c", "\U000e0041"])
def test_invisible_format_characters_are_refused_by_name(char):
    with pytest.raises(InvisibleCharacter, match=f"U\\+{ord(char):04X}"):
        clean_text(f"before{char}after")


def test_joiners_are_refused_unless_allowed():
    with pytest.raises(InvisibleCharacter, match="U\\+200D \\(zero width joiner\\)"):
        clean_text("👩\u200d💻")
    assert clean_text("👩\u200d💻 می\u200cخواهم", allow_joiners=True) == "👩\u200d💻 می\u200cخواهم"


def test_the_message_says_where_the_character_is():
    with pytest.raises(InvisibleCharacter, match="after “the second line”"):
        clean_text("first line\nthe second line\u202e")


def test_visible_text_of_any_script_is_kept_whole():
    text = "Сталин 斯大林 ستالين 🙂 ²① naïve — “quoted” \u2028"
    assert clean_text(text) == text


class BodyForm(forms.Form):
    body = CleanTextField(max_length=5)


def test_the_form_field_checks_emptiness_and_length_after_cleaning():
    form = BodyForm({"body": "ab\x01\x02\x03\x04cde"})
    assert form.is_valid() and form.cleaned_data["body"] == "abcde"
    assert BodyForm({"body": "\x01 \x02"}).errors["body"] == ["This field is required."]
    assert "U+202E" in BodyForm({"body": "a\u202eb"}).errors["body"][0]


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1f", "\ufffe", "\uffff"])
def test_what_xml_cannot_carry_is_dropped(char):
    assert xml_safe(f"a{char}b") == "ab"


def test_what_xml_can_carry_is_kept():
    text = "\t\n\r \x7f\x85 ~ \ud7ff \ue000 \ufffd \U00010000 \U0010ffff"
    assert xml_safe(text) == text


def test_the_xml_writer_keeps_the_document_well_formed():
    out = StringIO()
    writer = XMLSafeGenerator(out, "utf-8", short_empty_elements=True)
    writer.startDocument()
    writer.addQuickElement("entry", "Bad\x01 text\ufffe", {"title": "Bad\x0b title"})
    writer.endDocument()
    entry = ET.fromstring(out.getvalue().encode())
    assert (entry.text, entry.get("title")) == ("Bad text", "Bad title")

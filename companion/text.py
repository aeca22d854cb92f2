"""
Text people type, cleaned on the way in; text we write out as XML, made fit for it.

In: control characters are removed (text pasted from word processors carries U+000B
and U+000C; nobody means U+0001), tab and newline kept, \\r\\n and \\r made \\n. Invisible
format characters (Unicode category Cf: bidirectional overrides and isolates such as
U+202E and U+2066–U+2069, zero-width spaces, U+FEFF) are refused with a message that
names them, not removed: they can make text read differently from what is stored,
and silently changing what someone wrote is worse than asking.

Out: XML 1.0 can't carry most control characters or U+FFFE/U+FFFF at all, and rows
written before this cleaning (or by an import) may hold them, so XMLSafeGenerator
drops them as a feed is written rather than failing the whole feed.
"""

import re
import unicodedata

from django import forms
from django.utils.xmlutils import SimplerXMLGenerator

# C0 controls but tab and newline (\r is made \n first), DEL and the C1 controls.
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# The zero-width non-joiner and joiner are how Persian, Indic scripts and emoji
# sequences (👩‍💻) are written; a note may keep them, a display name may not.
JOINERS = frozenset("\u200c\u200d")
# Everything XML 1.0 can't carry (its Char production, complemented).
XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class InvisibleCharacter(ValueError):
    """Text holding a format character we refuse; the message names it and where it is."""


def without_controls(text):
    """text with newlines as \\n and every other control character but tab removed."""
    return CONTROL_CHARACTERS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def clean_text(text, *, allow_joiners=False):
    """
    Text as typed, with newlines as \\n and no other control character but tab;
    InvisibleCharacter, naming it and where it is, for a format character (category Cf).
    """
    text = without_controls(text)
    if text.isascii():  # the common case, without a look at each character
        return text
    allowed = JOINERS if allow_joiners else frozenset()
    for index, char in enumerate(text):
        if char not in allowed and unicodedata.category(char) == "Cf":
            name = unicodedata.name(char, "a format character")
            before = text[max(0, index - 20):index].rsplit("\n", 1)[-1].strip()
            where = f" after “{before}”" if before else " at the start" if index == 0 else ""
            raise InvisibleCharacter(
                f"Remove the invisible character U+{ord(char):04X} ({name.lower()}){where}: "
                "it can make text read differently from what it says."
            )
    return text


class CleanTextField(forms.CharField):
    """A CharField whose value goes through clean_text before it is checked for length or emptiness."""

    def __init__(self, *, allow_joiners=False, **kwargs):
        self.allow_joiners = allow_joiners
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return value
        try:
            value = clean_text(value, allow_joiners=self.allow_joiners)
        except InvisibleCharacter as error:
            raise forms.ValidationError(str(error), code="invisible") from None
        return (value.strip() if self.strip else value) or self.empty_value


def xml_safe(text):
    """text without the characters XML 1.0 can't carry."""
    return XML_INVALID.sub("", text)


class XMLSafeGenerator(SimplerXMLGenerator):
    """
    Django's XML writer for feeds, dropping what XML can't carry instead of raising
    (it refuses C0 controls for the whole feed, and lets U+FFFE through unparseable).
    """

    def characters(self, content):
        super().characters(xml_safe(content) if content else content)

    def startElement(self, name, attrs):
        super().startElement(
            name, {key: xml_safe(value) if isinstance(value, str) else value for key, value in attrs.items()}
        )

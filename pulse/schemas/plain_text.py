"""Text that people type or import, checked for characters that hide or reorder what is shown.

Control characters (Unicode category Cc) and format characters (Cf: the bidirectional overrides and isolates
such as U+202E, zero-width spaces and joiners, a stray byte-order mark) are invisible or rearrange the text
around them, so a name or identifier holding one can look like another ("Trojan Source"). They are never
needed in a name, an email address or a staff number, so they are refused rather than silently removed:
the person fixing the file should know which line held one.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from marshmallow import ValidationError, validate

HIDDEN_CATEGORIES = ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")


def hidden_characters(text: str) -> list[str]:
    """The code points in `text` that are control, format, surrogate, private-use, unassigned, or line or
    paragraph separator characters, as U+XXXX, each once, in order of appearance."""
    found: list[str] = []
    for char in text:
        if unicodedata.category(char) in HIDDEN_CATEGORIES:
            name = f"U+{ord(char):04X}"
            if name not in found:
                found.append(name)
    return found


def hidden_characters_message(found: list[str]) -> str:
    return (
        f"Remove the hidden control or formatting character{'s' if len(found) > 1 else ''} "
        f"({', '.join(found)}): they can hide or reorder what is shown."
    )


class PlainText(validate.Validator):
    """A marshmallow validator refusing hidden control and formatting characters (see module docstring)."""

    def __call__(self, value: Any) -> Any:
        if isinstance(value, str):
            found = hidden_characters(value)
            if found:
                raise ValidationError(hidden_characters_message(found))
        return value

"""Names and other one-line text people type into Pulse: printable characters only.

Refused, wherever a name or label comes in (the admin forms, the structure CSV, the `pulse` commands):
- control characters (NUL, tab, CR, LF, DEL and the C1 range) and the Unicode line and paragraph separators:
  a name is one line; a CR/LF can split a header or a log line, and PostgreSQL cannot store NUL at all;
- the bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069), which make text show
  in another order than it is stored ("Trojan Source"): a name must read as it is;
- lone surrogates, which are no characters at all and cannot be stored as UTF-8.
The ordinary direction marks (U+200E, U+200F, U+061C) stay allowed: right-to-left names need them and they
reorder nothing on their own.
"""

from __future__ import annotations

import unicodedata

from marshmallow import ValidationError, validate

BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
REFUSED_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})


def refused_character(text: str) -> str | None:
    """The first character a name may not hold, as U+XXXX with its kind; None when there is none."""
    for character in text:
        if character in BIDI_CONTROLS:
            return f"U+{ord(character):04X}, a bidirectional control"
        if unicodedata.category(character) in REFUSED_CATEGORIES:
            return f"U+{ord(character):04X}, a control character or line break"
    return None


class PlainText(validate.Validator):
    """A marshmallow validator: one line of printable text (see the module's docstring)."""

    def __call__(self, value: str) -> str:
        found = refused_character(value)
        if found is not None:
            raise ValidationError(f"Use one line of ordinary text: this has {found}.")
        return value


PLAIN_TEXT = PlainText()

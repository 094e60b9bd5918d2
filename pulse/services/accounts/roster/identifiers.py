"""Staff identifiers as the trust's Electronic Staff Record exports them: an email address or a staff number.

One spelling per person, so that the roster, the CSV and the identity provider's email claim all meet:
trimmed, Unicode NFC, and email addresses lower-cased (mailbox names are case-insensitive in practice at
every NHS provider). Staff numbers are kept as given.
"""

from __future__ import annotations

import unicodedata

from pulse.models.roster import IDENTIFIER_LENGTH
from pulse.schemas.plain_text import hidden_characters, hidden_characters_message
from pulse.services.errors import InvalidInput

FIELD = "identifier"
# A cell starting with one of these is run as a formula when a spreadsheet opens the exported CSV.
FORMULA_STARTS = ("=", "+", "-", "@")


def normalise_identifier(raw: str) -> str:
    """The identifier's one spelling; raises InvalidInput (field "identifier") for one Pulse cannot take."""
    text = unicodedata.normalize("NFC", raw.strip())
    if not text:
        raise InvalidInput("Enter the person's email address or staff number.", FIELD)
    found = hidden_characters(text)
    if found:
        raise InvalidInput(hidden_characters_message(found), FIELD)
    if any(char.isspace() for char in text):
        raise InvalidInput("An email address or staff number has no spaces in it.", FIELD)
    if len(text) > IDENTIFIER_LENGTH:
        raise InvalidInput(f"Use at most {IDENTIFIER_LENGTH} characters.", FIELD)
    if text.startswith(FORMULA_STARTS):
        raise InvalidInput("An identifier cannot start with =, +, - or @.", FIELD)
    if "@" in text:
        local, _, domain = text.rpartition("@")
        if not local or not domain or domain.startswith(".") or domain.endswith("."):
            raise InvalidInput("Enter a whole email address, like name@trust.nhs.uk.", FIELD)
        return text.lower()
    return text


def identifier_or_none(raw: str) -> str | None:
    """The normalised identifier, or None where `raw` cannot be one (for look-ups: nothing can match it)."""
    try:
        return normalise_identifier(raw)
    except InvalidInput:
        return None

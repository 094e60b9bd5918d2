"""Base64url without padding: how every byte string of a token travels, to and from the rating page."""

from __future__ import annotations

import base64
import re

_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


def encode_base64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def decode_base64url(text: str) -> bytes:
    """The bytes of unpadded base64url `text`; ValueError for anything else (padding, other characters).

    Stricter than base64.urlsafe_b64decode, which skips characters outside the alphabet: a token must have
    exactly one spelling.
    """
    if not _BASE64URL.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("expected base64url without padding")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if encode_base64url(data) != text:
        raise ValueError("not the canonical base64url of any bytes")
    return data

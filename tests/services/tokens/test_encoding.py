"""Base64url without padding, strictly: one spelling per byte string."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pulse.services.tokens import decode_base64url, encode_base64url


@given(st.binary(max_size=130))
def test_bytes_survive_the_round_trip(data: bytes) -> None:
    text = encode_base64url(data)
    assert "=" not in text and "+" not in text and "/" not in text
    assert decode_base64url(text) == data


def test_known_spellings() -> None:
    assert encode_base64url(b"\xfb\xff\xbf") == "-_-_"
    assert encode_base64url(b"\x00") == "AA"
    assert decode_base64url("-_-_") == b"\xfb\xff\xbf"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("AA==", id="padded"),
        pytest.param("+/+/", id="plain-base64-alphabet"),
        pytest.param("A", id="impossible-length"),
        pytest.param("AA AA", id="space"),
        pytest.param("AB", id="non-canonical-trailing-bits"),
    ],
)
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        decode_base64url(text)

"""The VOPRF under anonymous tokens: per-slot keys, blind evaluation with a proof, and checking a token.

RFC 9497, suite ristretto255-SHA512, VOPRF mode, through the `voprf` package (a binding of the RustCrypto
`voprf` crate): Pulse does no group arithmetic of its own. The browser half is pulse/web/static/tokens.js, on
@cloudflare/voprf-ts; the two agree byte for byte on `build_token_input` and on the evaluation's wire form.

A token, as in Privacy Pass (RFC 9578) with privately verifiable tokens:
1. the device picks a random 32-byte nonce, blinds `build_token_input(public key, nonce)` and sends the
   blinded element (32 bytes);
2. the server answers `evaluate_blinded`: the element under the slot's secret key, with a DLEQ proof that the
   key behind the published public key was used;
3. the device checks the proof against the public key from the published list, and unblinds: the token is
   the nonce and the 64-byte PRF output (the authenticator);
4. on spending, the server recomputes the PRF on the token input under the same key (`verify_token`).
The server sees neither the nonce nor the authenticator before the token is spent, so it cannot link spending
to issuance.

Keys. Every key is derived (RFC 9497 DeriveKeyPair) from a secret 32-byte seed and a public `info` string that
names what the key is for; nothing per key is stored. The caller builds `info` with the helpers below:
- `build_slot_info`: b"pulse/v1/slot/<team_id>/<shift_date ISO>/<band_id>", rating tokens of one shift slot;
- `build_week_info`: b"pulse/v1/week/<team_id>/<week_start ISO>", a team's weekly contributor pseudonyms;
- `build_day_info`:  b"pulse/v1/day/<shift_date ISO>", the organisation-day pseudonyms;
- `build_org_week_info`: b"pulse/v1/orgweek/<week_start ISO>", the organisation-week pseudonyms.
A leaked seed lets its holder mint tokens (forge ratings) under every key derived from it; it links nothing,
as the server never learns which token it issued to whom.

Byte strings travel as base64url without padding on both sides; that encoding belongs to the callers (the API
schemas), not to this module, which takes and returns raw bytes.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
from dataclasses import dataclass

from voprf import ristretto

from pulse.services.errors import InvalidInput

SUITE = "ristretto255-SHA512"
SEED_SIZE = 32  # RFC 9497's Ns for ristretto255: DeriveKeyPair's seed
NONCE_SIZE = 32
ELEMENT_SIZE = 32  # a serialized ristretto255 element: a blinded or evaluated element, a public key
PROOF_SIZE = 64  # a DLEQ proof: the scalars c then s
OUTPUT_SIZE = 64  # the PRF output (SHA-512): a token's authenticator
VOPRF_MODE = 0x01  # RFC 9497's mode identifier for VOPRF
TOKEN_INPUT_PREFIX = b"pulse/v1/token"
# The evaluation as voprf-ts's Evaluation.deserialize reads it: a u16 count of evaluated elements (always 1
# here), the elements, the mode byte, then the proof.
EVALUATION_SIZE = 2 + ELEMENT_SIZE + 1 + PROOF_SIZE
# Derived keys kept per process. Deriving one costs about 0.05 ms, so the cache only spares the repeat work of
# spending many tokens of the same slot. 8192 entries hold every key that a large trust (800 teams, 3 bands)
# has open for spending over two days, at under 1 kB each (under 8 MB in all).
KEY_CACHE_SIZE = 8192


class MalformedBlindedElement(InvalidInput):
    """The blinded element is not the encoding of a valid ristretto255 element (or is the identity)."""

    def __init__(self, message: str, field: str | None = "blinded"):
        super().__init__(message, field)


def build_slot_info(team_id: int, shift_date: dt.date, band_id: int) -> bytes:
    """The info string of the key that signs rating tokens for one team, shift date and shift band."""
    day = _day(shift_date).isoformat()
    return f"pulse/v1/slot/{_positive_id(team_id)}/{day}/{_positive_id(band_id)}".encode()


def build_week_info(team_id: int, week_start: dt.date) -> bytes:
    """The info string of the key for a team's weekly contributor pseudonyms; weeks start on Monday."""
    if _day(week_start).weekday() != 0:
        raise ValueError(f"a week starts on a Monday, not on {week_start:%A} {week_start.isoformat()}")
    return f"pulse/v1/week/{_positive_id(team_id)}/{week_start.isoformat()}".encode()


def build_day_info(shift_date: dt.date) -> bytes:
    """The info string of the key for the organisation-day pseudonyms of one shift date."""
    return f"pulse/v1/day/{_day(shift_date).isoformat()}".encode()


def build_org_week_info(week_start: dt.date) -> bytes:
    """The info string of the key for the organisation-week pseudonyms; weeks start on Monday."""
    if _day(week_start).weekday() != 0:
        raise ValueError(f"a week starts on a Monday, not on {week_start:%A} {week_start.isoformat()}")
    return f"pulse/v1/orgweek/{week_start.isoformat()}".encode()


@dataclass(frozen=True, slots=True)
class DerivedKey:
    """One derived key pair: the evaluator holding the secret key, the public key and its key id."""

    evaluator: ristretto.Evaluator
    public_key: bytes
    key_id: bytes


@functools.lru_cache(maxsize=KEY_CACHE_SIZE)  # thread-safe: CPython's lru_cache guards its own state
def derive_key(seed: bytes, info: bytes) -> DerivedKey:
    """RFC 9497 DeriveKeyPair(seed, info): the key pair for `info` (cached per process)."""
    if len(seed) != SEED_SIZE:
        raise ValueError(f"the seed must be {SEED_SIZE} bytes, not {len(seed)}")
    evaluator = ristretto.Evaluator.from_seed(seed, info)
    public_key = evaluator.public_key.serialize()
    return DerivedKey(evaluator, public_key, compute_key_id(public_key))


def clear_key_cache() -> None:
    """Forget every derived key of this process (benchmarks measure a cold cache with it)."""
    derive_key.cache_clear()


def derive_public_key(seed: bytes, info: bytes, *, cache: bool = True) -> bytes:
    """The serialized public key (32 bytes) for `info`: what the open data publishes for every slot.

    `cache=False` derives it without keeping it: listing every key of a large trust's week must not push
    the keys that ratings are being checked with out of the cache.
    """
    if cache:
        return derive_key(seed, info).public_key
    if len(seed) != SEED_SIZE:
        raise ValueError(f"the seed must be {SEED_SIZE} bytes, not {len(seed)}")
    return ristretto.Evaluator.from_seed(seed, info).public_key.serialize()


def compute_key_id(public_key: bytes) -> bytes:
    """SHA-256 of the serialized public key, as RFC 9578's token_key_id."""
    if len(public_key) != ELEMENT_SIZE:
        raise ValueError(f"a public key is {ELEMENT_SIZE} bytes, not {len(public_key)}")
    return hashlib.sha256(public_key).digest()


def build_token_input(public_key: bytes, nonce: bytes) -> bytes:
    """The PRF input of a token: b"pulse/v1/token" + key id + nonce (78 bytes); tokens.js builds the same.

    The key id binds a token to the key it was issued under, as RFC 9578 binds its token_key_id.
    """
    if len(nonce) != NONCE_SIZE:
        raise ValueError(f"a token's nonce is {NONCE_SIZE} bytes, not {len(nonce)}")
    return TOKEN_INPUT_PREFIX + compute_key_id(public_key) + nonce


def evaluate_blinded(seed: bytes, info: bytes, blinded: bytes) -> bytes:
    """RFC 9497 BlindEvaluate with its proof, in the wire form that voprf-ts's Evaluation.deserialize reads.

    Returns EVALUATION_SIZE (99) bytes: 0x0001, the evaluated element, VOPRF_MODE, the proof (c, s). The proof
    is randomised, so two evaluations of the same element differ in their proof only. Raises
    MalformedBlindedElement if `blinded` is not a valid element.
    """
    element = parse_blinded(blinded)
    # The binding serializes a VerifiableOutput as the proof, then the evaluated element.
    output = derive_key(seed, info).evaluator.evaluate(element).serialize()
    assert len(output) == PROOF_SIZE + ELEMENT_SIZE, f"unexpected VerifiableOutput of {len(output)} bytes"
    proof, evaluated = output[:PROOF_SIZE], output[PROOF_SIZE:]
    return b"\x00\x01" + evaluated + bytes([VOPRF_MODE]) + proof


def parse_blinded(blinded: bytes) -> ristretto.BlindedInput:
    """The blinded element `blinded` encodes; MalformedBlindedElement if it is not a valid one."""
    if len(blinded) != ELEMENT_SIZE:
        raise MalformedBlindedElement(f"a blinded element is {ELEMENT_SIZE} bytes, not {len(blinded)}")
    try:
        return ristretto.BlindedInput.deserialize(blinded)
    except ValueError as exc:
        raise MalformedBlindedElement(
            "the blinded element is not a valid ristretto255 element (or is the identity)"
        ) from exc


def verify_token(seed: bytes, info: bytes, nonce: bytes, authenticator: bytes) -> bool:
    """Whether `authenticator` is the PRF output (RFC 9497 Evaluate) of the token input under `info`'s key.

    The comparison takes constant time. False for any token not issued under this key for this nonce, bad
    lengths included (the API's schema reports those by field before this is called).
    """
    if len(nonce) != NONCE_SIZE or len(authenticator) != OUTPUT_SIZE:
        return False
    key = derive_key(seed, info)
    output = key.evaluator.evaluate_known_input(TOKEN_INPUT_PREFIX + key.key_id + nonce)
    return hmac.compare_digest(output, authenticator)


def _positive_id(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"an id is a positive integer, not {value!r}")
    return value


def _day(value: dt.date) -> dt.date:
    # A datetime is a date too; its isoformat would carry the time and make another key.
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise ValueError(f"expected a date, not {value!r}")
    return value

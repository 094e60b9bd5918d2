"""What a rating leaves at rest before it is mixed: sealed inbox items, sealed receipts and masked counters.

Three tools, all from `cryptography` (OpenSSL underneath), none hand-made:
- inbox items are sealed with HPKE (RFC 9180: X25519, HKDF-SHA256, ChaCha20-Poly1305) to the open epoch's
  public key; only the mixer holds the private key, outside the database, and destroys it after mixing;
- a request receipt's payload (team, shift, reasons added) is sealed with ChaCha20-Poly1305 under a key that
  only the same requester's secret and idempotency key give back;
- a shift counter's values are stored plus a secret offset derived from the pepper and the shift's key, so a
  row reads as a random number to anyone without the pepper.
Every plaintext has one fixed length, so that the length of what is stored tells nothing either.
"""

from __future__ import annotations

import datetime as dt
import hmac
import os
import struct
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from pulse.services.tallies import COLOURS

_SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.CHACHA20_POLY1305)
_INFO = b"pulse/v1/inbox"
MAX_REASONS = 10
ITEM_PLAINTEXT_BYTES = 160
DIGEST_BYTES = 32
_NO_DIGEST = bytes(DIGEST_BYTES)
# version, kind, team, shift date (proleptic ordinal), band, colour, flags, number of reasons
_ITEM_HEAD = struct.Struct(">BBIIIBBB")
_KIND_RATING, _KIND_REASONS = 1, 2
_TAP = 1  # flag: a kiosk tap, counted as one contributor of its team's week, its day and its week

_RECEIPT = struct.Struct(">BIIIB")  # version, team, shift date, band, reasons added
_RECEIPT_SEALED = b"\x01"
_RECEIPT_LEGACY = b"L"  # written by migration 0011 for receipts made before receipts were sealed
_NONCE_BYTES = 12
MASK_BITS = 62


class UnreadableItem(ValueError):
    """An inbox item or receipt that does not open with the key given, or is not in a known format."""


def derive_pepper(secret_key: str) -> bytes:
    """The pepper mixed into every receipt key: from the application's secret key, which is not kept in the
    database, so that its credentials alone cannot recompute a digest over guessable inputs."""
    return hmac.digest(secret_key.encode(), b"pulse/v1/receipt-pepper", "sha256")


# -- Inbox items --


@dataclass(frozen=True)
class SealedRating:
    """One rating as the mixer needs it. The digests (None for a kiosk tap) let the mixer count each
    contributor once per team-week, once per organisation day and once per organisation week."""

    team_id: int
    shift_date: dt.date
    band_id: int
    colour: str
    reason_ids: tuple[int, ...] = ()
    contributor_digest: bytes | None = None
    day_digest: bytes | None = None
    org_week_digest: bytes | None = None
    tap: bool = False


@dataclass(frozen=True)
class SealedReasons:
    """Reasons added to a rating already counted: they belong to its team's week."""

    team_id: int
    shift_date: dt.date
    reason_ids: tuple[int, ...] = field(default=())


def seal_item(public_key: bytes, item: SealedRating | SealedReasons) -> bytes:
    """`item`, padded to one length and sealed to an epoch's public key."""
    return _SUITE.encrypt(_encode_item(item), X25519PublicKey.from_public_bytes(public_key), _INFO)


def open_item(private_key: X25519PrivateKey, sealed: bytes) -> SealedRating | SealedReasons:
    try:
        plaintext = _SUITE.decrypt(sealed, private_key, _INFO)
    except Exception as error:  # cryptography raises InvalidTag (or ValueError for a short blob)
        raise UnreadableItem("an inbox item that does not open with this epoch's key") from error
    return _decode_item(plaintext)


def _encode_item(item: SealedRating | SealedReasons) -> bytes:
    reasons = tuple(item.reason_ids)
    if len(reasons) > MAX_REASONS:
        raise ValueError(f"at most {MAX_REASONS} reasons")
    if isinstance(item, SealedRating):
        head = _ITEM_HEAD.pack(
            1,
            _KIND_RATING,
            item.team_id,
            item.shift_date.toordinal(),
            item.band_id,
            COLOURS.index(item.colour),
            _TAP if item.tap else 0,
            len(reasons),
        )
        digests = b"".join(
            d or _NO_DIGEST for d in (item.contributor_digest, item.day_digest, item.org_week_digest)
        )
    else:
        head = _ITEM_HEAD.pack(
            1, _KIND_REASONS, item.team_id, item.shift_date.toordinal(), 0, 0, 0, len(reasons)
        )
        digests = _NO_DIGEST * 3
    body = head + digests + struct.pack(f">{len(reasons)}I", *reasons)
    return body.ljust(ITEM_PLAINTEXT_BYTES, b"\0")


def _decode_item(plaintext: bytes) -> SealedRating | SealedReasons:
    if len(plaintext) != ITEM_PLAINTEXT_BYTES:
        raise UnreadableItem("an inbox item of the wrong length")
    version, kind, team_id, ordinal, band_id, colour, flags, count = _ITEM_HEAD.unpack_from(plaintext)
    if version != 1 or count > MAX_REASONS or kind not in (_KIND_RATING, _KIND_REASONS):
        raise UnreadableItem("an inbox item in an unknown format")
    offset = _ITEM_HEAD.size
    contributor, day, org_week = (
        plaintext[offset + i * DIGEST_BYTES : offset + (i + 1) * DIGEST_BYTES] for i in range(3)
    )
    reasons = struct.unpack_from(f">{count}I", plaintext, offset + 3 * DIGEST_BYTES)
    shift_date = dt.date.fromordinal(ordinal)
    if kind == _KIND_REASONS:
        return SealedReasons(team_id, shift_date, reasons)
    return SealedRating(
        team_id=team_id,
        shift_date=shift_date,
        band_id=band_id,
        colour=COLOURS[colour],
        reason_ids=reasons,
        contributor_digest=None if contributor == _NO_DIGEST else contributor,
        day_digest=None if day == _NO_DIGEST else day,
        org_week_digest=None if org_week == _NO_DIGEST else org_week,
        tap=bool(flags & _TAP),
    )


def new_epoch_key() -> tuple[X25519PrivateKey, bytes]:
    """A fresh epoch key pair: the private key, and the public key's 32 bytes."""
    private = X25519PrivateKey.generate()
    return private, private.public_key().public_bytes_raw()


# -- Request receipts --


@dataclass(frozen=True)
class ReceiptPayload:
    """What a request receipt remembers, for the retry and the reasons that may follow. team_id 0: a receipt
    made before receipts were sealed (it answers retries only)."""

    team_id: int
    shift_date: dt.date
    band_id: int
    reasons_added: bool = False


def seal_receipt(key: bytes, payload: ReceiptPayload) -> bytes:
    """`payload` under `key` (see receipt_key), with a fresh nonce: sealing it again after an update gives
    another ciphertext, so an update cannot be told from the first write by what is stored."""
    plaintext = _RECEIPT.pack(
        1, payload.team_id, payload.shift_date.toordinal(), payload.band_id, payload.reasons_added
    )
    nonce = os.urandom(_NONCE_BYTES)
    return _RECEIPT_SEALED + nonce + ChaCha20Poly1305(key).encrypt(nonce, plaintext, None)


def open_receipt(key: bytes, sealed: bytes) -> ReceiptPayload:
    if sealed[:1] == _RECEIPT_LEGACY:
        ordinal, band_id, reasons_added = struct.unpack(">IIB", sealed[1:])
        return ReceiptPayload(0, dt.date.fromordinal(ordinal), band_id, bool(reasons_added))
    if sealed[:1] != _RECEIPT_SEALED:
        raise UnreadableItem("a receipt in an unknown format")
    nonce, ciphertext = sealed[1 : 1 + _NONCE_BYTES], sealed[1 + _NONCE_BYTES :]
    try:
        plaintext = ChaCha20Poly1305(key).decrypt(nonce, ciphertext, None)
    except Exception as error:
        raise UnreadableItem("a receipt that does not open with this key") from error
    _version, team_id, ordinal, band_id, reasons_added = _RECEIPT.unpack(plaintext)
    return ReceiptPayload(team_id, dt.date.fromordinal(ordinal), band_id, bool(reasons_added))


def receipt_key(request_key: bytes, requester: str, idempotency_key: str) -> bytes:
    """The key a request receipt is sealed under: only the requester's own secret gives it back."""
    return hmac.digest(request_key, f"seal|{requester}|{idempotency_key}".encode(), "sha256")


# -- Shift counters --


@dataclass(frozen=True)
class CounterKey:
    """Where a team-shift's counter lives and the offsets that mask its values."""

    digest: bytes
    count_mask: int
    tap_mask: int


def counter_key(shift_key: bytes, team_id: int, shift_date: dt.date, band_id: int) -> CounterKey:
    """The counter of `team_id` in one shift under the (peppered) shift key.

    Each value is stored plus an offset below 2**62 derived with the same key: a single row then reads as a
    uniformly random number. Values stay far below 2**61, so the sums never wrap in a BIGINT.
    """
    message = f"counter|{team_id}|{shift_date.isoformat()}|{band_id}".encode()
    digest = hmac.digest(shift_key, message, "sha256")
    masks = hmac.digest(shift_key, b"mask|" + message, "sha256")
    count_mask = int.from_bytes(masks[:8], "big") >> (64 - MASK_BITS)
    tap_mask = int.from_bytes(masks[8:16], "big") >> (64 - MASK_BITS)
    return CounterKey(digest, count_mask, tap_mask)

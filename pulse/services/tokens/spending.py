"""Spending tokens: checking a rating's slot token and pseudonyms, and the digests a rating keeps of them.

A verified rating carries its slot's token (spent once) and three pseudonyms (shown again with every rating
of their team-week, day and week). Each is a nonce and the PRF output on it (the authenticator). The server
recomputes each PRF under the key of what it claims to be (tokens.crypto.verify_token) and compares in
constant time; all four are checked whatever the first gives, so the time taken says nothing about which one
failed. What the rating then keeps is keyed digests under the rating path's own rotating keys (rating.keys):
- the spent-token receipt HMAC(K_day, "token" | nonce), which refuses the token's second spending;
- the contributor digests HMAC(K, kind | nonce) of the pseudonyms, which the mixer counts distinct raters by;
- the request receipt keyed by the token's nonce, so a retry with the same idempotency key is recognised.
None of these can be matched to an issuance record: the nonce was blinded when it was issued.
"""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from pulse.services.tokens.crypto import verify_token
from pulse.services.tokens.encoding import encode_base64url
from pulse.services.tokens.keys import TokenSlot


@dataclass(frozen=True)
class Presented:
    """A token or pseudonym as a rating presents it."""

    nonce: bytes
    authenticator: bytes


@dataclass(frozen=True)
class SlotToken(Presented):
    """The rating token, with the slot it was issued for (its team is the join code's)."""

    shift_date: dt.date
    band_id: int


@dataclass(frozen=True)
class TokenProof:
    """What a verified rating presents instead of a device secret."""

    token: SlotToken
    week_pseudonym: Presented
    day_pseudonym: Presented
    orgweek_pseudonym: Presented

    @property
    def requester(self) -> str:
        return token_requester(self.token)


def token_requester(token: Presented) -> str:
    """Who a request receipt belongs to: the token's nonce (only its holder knows it), as a device secret is
    in open mode. Distinct from any device secret, which has no '|'."""
    return "token|" + encode_base64url(token.nonce)


def invalid_fields(seeds: Mapping[dt.date, bytes], team_id: int, proof: TokenProof) -> list[str]:
    """The fields whose PRF check fails, in the order of the request: [] if every one is valid.

    `seeds` holds the peppered seed of the token's week (missing: every check fails). Every check runs.
    """
    token = proof.token
    slot = TokenSlot.slot(team_id, token.shift_date, token.band_id)
    week = slot.week_start
    checks = [
        ("token", slot, token),
        ("week_pseudonym", TokenSlot.team_week(team_id, week), proof.week_pseudonym),
        ("day_pseudonym", TokenSlot.day(token.shift_date), proof.day_pseudonym),
        ("orgweek_pseudonym", TokenSlot.org_week(week), proof.orgweek_pseudonym),
    ]
    seed = seeds.get(week)
    results = [
        (name, seed is not None and verify_token(seed, what.info, shown.nonce, shown.authenticator))
        for name, what, shown in checks
    ]
    return [name for name, valid in results if not valid]


def check_token(seeds: Mapping[dt.date, bytes], team_id: int, token: SlotToken) -> bool:
    """Whether the slot token alone is valid (the reasons step, which presents it again)."""
    slot = TokenSlot.slot(team_id, token.shift_date, token.band_id)
    seed = seeds.get(slot.week_start)
    return seed is not None and verify_token(seed, slot.info, token.nonce, token.authenticator)


def spent_token_digest(day_key: bytes, token: Presented) -> bytes:
    """The spent-token receipt: HMAC(K_day, "token" | nonce), under the rating path's peppered day key."""
    return hmac.digest(day_key, b"token|" + token.nonce, "sha256")


def pseudonym_digest(key: bytes, kind: str, pseudonym: Presented) -> bytes:
    """A contributor digest from a pseudonym: HMAC(K, kind | nonce), K the week's or the day's key."""
    return hmac.digest(key, kind.encode() + b"|" + pseudonym.nonce, "sha256")

"""A phone for the tests: what the rating page does with tokens, in Python (the `voprf` package's client).

It holds an enrolment credential, fetches a team's published keys without it, asks for tokens with blinded
nonces, checks each answer's proof against the PUBLISHED key (never a key the answer brings) and unblinds,
then rates with a slot token and its pseudonyms. A proof that does not check out against the published key
raises KeyMismatch: the phone refuses tokens a server made with keys of its own for this person.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from typing import Any

from flask.testing import FlaskClient
from voprf import ristretto

from pulse.services.tokens import build_token_input, decode_base64url, encode_base64url

TOKENS_URL = "/api/v1/tokens"
KEYS_URL = "/api/v1/token-keys"
RATINGS_URL = "/api/v1/ratings"
REASONS_URL = "/api/v1/ratings/reasons"
IDENTIFYING = ("kind", "team_id", "shift_date", "band_id", "week_start")
# The identifying fields of each kind, as the wire contract names them (written out here, not imported: the
# phone is the server's counterpart, not a copy of it).
KIND_FIELDS = {
    "slot": ("team_id", "shift_date", "band_id"),
    "week": ("team_id", "week_start"),
    "day": ("shift_date",),
    "orgweek": ("week_start",),
}

# What a token is for, as the API names it: ("slot", team, date, band), ("week", team, Monday),
# ("day", date), ("orgweek", Monday); dates as ISO text.
TokenId = tuple[Any, ...]


class KeyMismatch(Exception):
    """An issuance answer whose proof does not check out against the published key."""


def token_id(entry: dict[str, Any]) -> TokenId:
    return tuple(entry[name] for name in IDENTIFYING if name in entry)


def slot_id(team_id: int, shift_date: dt.date, band_id: int) -> TokenId:
    return ("slot", team_id, shift_date.isoformat(), band_id)


@dataclass
class Held:
    """A token the phone holds: its nonce and authenticator."""

    nonce: bytes
    authenticator: bytes

    def wire(self) -> dict[str, str]:
        return {"nonce": encode_base64url(self.nonce), "authenticator": encode_base64url(self.authenticator)}


@dataclass
class Blinding:
    """A token asked for and not yet finished: kept so that a lost answer can be asked for again."""

    nonce: bytes
    client: Any
    blinded: bytes
    public_key: bytes


@dataclass
class Phone:
    client: FlaskClient
    credential: str | None = None
    keys: dict[TokenId, bytes] = field(default_factory=dict)  # published public keys
    pending: dict[TokenId, Blinding] = field(default_factory=dict)
    tokens: dict[TokenId, Held] = field(default_factory=dict)
    last_answer: dict[str, Any] = field(default_factory=dict)

    # -- keys and issuance --

    def fetch_keys(self, team_id: int, week: dt.date) -> list[dict[str, Any]]:
        """The team's published keys for the week (no credential), remembered."""
        response = self.client.get(KEYS_URL, query_string={"team_id": team_id, "week": week.isoformat()})
        assert response.status_code == 200, response.get_json()
        entries = response.get_json()["keys"]
        for entry in entries:
            self.keys[token_id(entry)] = decode_base64url(entry["public_key"])
        return entries

    def blind(self, wanted: TokenId) -> dict[str, Any]:
        """A request for the token `wanted`: its identifying fields and a blinded fresh nonce."""
        if wanted not in self.pending:
            # A token the list does not publish (a test asking for what it should not get) is blinded as if
            # under an all-zero key: the server refuses it before evaluating anything.
            public_key = self.keys.get(wanted, bytes(32))
            nonce = secrets.token_bytes(32)
            client, blinded = ristretto.Client.blind(build_token_input(public_key, nonce))
            self.pending[wanted] = Blinding(nonce, client, blinded.serialize(), public_key)
        request = dict(zip(("kind", *KIND_FIELDS[wanted[0]]), wanted, strict=True))
        request["blinded"] = encode_base64url(self.pending[wanted].blinded)
        return request

    def request_tokens(self, wanted: list[TokenId], **headers: str) -> Any:
        """POST the requests for `wanted` (blinding each once); the raw response."""
        body = {"requests": [self.blind(w) for w in wanted]}
        auth = {"Authorization": f"Bearer {self.credential}"} if self.credential else {}
        return self.client.post(TOKENS_URL, json=body, headers={**auth, **headers})

    def fetch_tokens(self, wanted: list[TokenId]) -> dict[str, Any]:
        """Ask for `wanted`, check every answer against the published keys, keep the tokens; the answer."""
        response = self.request_tokens(wanted)
        assert response.status_code == 200, response.get_json()
        answer = response.get_json()
        for issued in answer["issued"]:
            self.finish(token_id(issued), decode_base64url(issued["evaluation"]))
        self.last_answer = answer
        return answer

    def finish(self, wanted: TokenId, evaluation: bytes) -> Held:
        """Check the proof against the published key and unblind: the token."""
        blinding = self.pending[wanted]
        if self.keys.get(wanted) != blinding.public_key:
            raise KeyMismatch(f"{wanted}: the published key changed since the token was asked for")
        count, element, mode, proof = evaluation[:2], evaluation[2:34], evaluation[34], evaluation[35:]
        assert count == b"\x00\x01" and mode == 1 and len(proof) == 64
        output = ristretto.VerifiableOutput.deserialize(proof + element)
        try:
            authenticator = blinding.client.finalize(
                output, ristretto.PublicKey.deserialize(self.keys[wanted])
            )
        except Exception as error:  # the binding raises when the proof does not verify
            raise KeyMismatch(f"{wanted}: the proof does not check out against the published key") from error
        held = Held(blinding.nonce, bytes(authenticator))
        self.tokens[wanted] = held
        return held

    def forget(self, wanted: TokenId) -> None:
        """Drop a token and its blinding: the next request for it blinds a fresh nonce."""
        self.pending.pop(wanted, None)
        self.tokens.pop(wanted, None)

    def fetch_week(self, team_id: int, week: dt.date) -> dict[str, Any]:
        """Every token of the team's week that the phone does not hold yet (as the rating page fetches)."""
        entries = self.fetch_keys(team_id, week)
        wanted = [token_id(e) for e in entries if token_id(e) not in self.tokens]
        return self.fetch_tokens(wanted)

    # -- rating --

    def rating_body(
        self,
        join_code: str,
        team_id: int,
        shift_date: dt.date,
        band_id: int,
        colour: str = "green",
        **extra: Any,
    ) -> dict[str, Any]:
        """A verified rating with the slot's token and the pseudonyms of its team-week, day and week."""
        monday = (shift_date - dt.timedelta(days=shift_date.weekday())).isoformat()
        token = self.tokens[slot_id(team_id, shift_date, band_id)]
        body: dict[str, Any] = {
            "join_code": join_code,
            "colour": colour,
            "idempotency_key": secrets.token_hex(16),
            "token": {"shift_date": shift_date.isoformat(), "band_id": band_id, **token.wire()},
            "week_pseudonym": self.tokens[("week", team_id, monday)].wire(),
            "day_pseudonym": self.tokens[("day", shift_date.isoformat())].wire(),
            "orgweek_pseudonym": self.tokens[("orgweek", monday)].wire(),
        }
        body.update(extra)
        return body

    def rate(self, join_code: str, team_id: int, shift_date: dt.date, band_id: int, **extra: Any) -> Any:
        return self.client.post(
            RATINGS_URL, json=self.rating_body(join_code, team_id, shift_date, band_id, **extra)
        )

"""Why a well-formed rating was not counted: the refusals the API answers with problem details."""

from __future__ import annotations

from typing import Any


class RatingRefused(Exception):
    """A well-formed rating that cannot be counted. `field` names the input at fault, if one is; `extra`
    goes into the problem's body, `headers` into the answer's."""

    status = 409
    kind = "rating-refused"

    def __init__(
        self,
        detail: str,
        field: str | None = None,
        *,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.extra = extra or {}
        self.headers = headers or {}


class UnknownJoinCode(RatingRefused):
    status = 404
    kind = "unknown-join-code"


class UnknownReason(RatingRefused):
    status = 422
    kind = "unknown-reason"


class AlreadyRated(RatingRefused):
    kind = "already-rated"


class NoOpenShift(RatingRefused):
    kind = "no-open-shift"


class ShiftClosed(RatingRefused):
    kind = "shift-closed"


class ShiftFull(RatingRefused):
    """Open mode: the team's shift has as many ratings as the team has staff."""

    kind = "shift-full"


class TeamNotReady(RatingRefused):
    """Open mode: the team's headcount is not set, so its ratings cannot be capped."""

    kind = "team-not-ready"


class RatingNotFound(RatingRefused):
    status = 404
    kind = "rating-not-found"


class ReasonsAlreadyAdded(RatingRefused):
    kind = "reasons-already-added"


class EnrolmentNeeded(RatingRefused):
    """Verified mode: a rating without tokens. The answer says how to enrol."""

    status = 401
    kind = "enrolment-needed"


class TokensNotUsed(RatingRefused):
    """Open mode: a rating that sent tokens, which only verified teams take."""

    status = 422
    kind = "tokens-not-used"


class DeviceSecretNeeded(RatingRefused):
    """Open mode: a rating with neither a device secret nor tokens."""

    status = 422
    kind = "device-secret-needed"


class WrongSlot(RatingRefused):
    """Verified mode: the token is for another shift than the one open for rating (named in `open_slot`)."""

    kind = "wrong-slot"


class TokenInvalid(RatingRefused):
    """Verified mode: a token or pseudonym fails its check (forged, or for another team, slot or key)."""

    status = 422
    kind = "token-invalid"


class StaleKey(Exception):
    """A key taken from a KeyCache is no longer in the database. Nothing was counted: clear the cache and
    record the rating again."""

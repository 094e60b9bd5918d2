"""Anonymous tokens: the published keys (open data, the same for everyone) and issuance to enrolled phones."""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask.views import MethodView
from marshmallow import RAISE

from pulse.api.problems import ProblemBlueprint, problem
from pulse.api.rate_limits import rating_rate_limited
from pulse.runtime import db_session, runtime
from pulse.schemas.problem import ProblemSchema
from pulse.schemas.tokens import (
    KIND_FIELDS,
    TeamKeysSchema,
    TokenKeysQuerySchema,
    TokensInSchema,
    TokensOutSchema,
    WeekKeysSchema,
    WeekPathSchema,
)
from pulse.services.accounts.roster import DeviceRefused, Refusal
from pulse.services.tokens import MalformedBlindedElement
from pulse.services.tokens.issuance import IssuingClock, TokenRequest, VerifiedRatingOff, issue_tokens
from pulse.services.tokens.keys import PublishedKey, SeedCache, TokenKind, TokenSlot, derive_token_pepper
from pulse.services.tokens.listing import KeysUnavailable, list_team_keys, list_week_keys

blp = ProblemBlueprint(
    "tokens", __name__, url_prefix="/api/v1", description="Anonymous rating tokens for verified rating"
)
# The published lists change only when a week's seed is drawn or PULSE_SECRET_KEY changes.
KEYS_CACHE_CONTROL = "public, max-age=300"
# A token request may be larger than the rating API's small limit (PULSE_MAX_BODY_BYTES): 512 requests of
# about 110 bytes each.
MAX_TOKEN_REQUEST_BYTES = 96 * 1024
ENROL_CHALLENGE = 'Bearer realm="pulse"'


@blp.before_app_request
def allow_token_requests() -> None:
    """Set before anything reads the body (the API's JSON check does)."""
    if request.endpoint == "tokens.Tokens":
        request.max_content_length = MAX_TOKEN_REQUEST_BYTES


def seed_cache() -> SeedCache:
    """This process's token seeds (the rating path reads the same cache)."""
    seeds = current_app.extensions.get("pulse.token_seeds")
    if seeds is None:
        seeds = SeedCache(derive_token_pepper(runtime().settings.secret_key))
        current_app.extensions["pulse.token_seeds"] = seeds
    return seeds


def _clock() -> IssuingClock:
    rt = runtime()
    return IssuingClock(rt.now(), rt.settings.tz, rt.settings.grace)


def _key_entry(key: PublishedKey) -> dict[str, Any]:
    entry = _identifying(key.slot)
    if key.band_name is not None:
        entry["band"] = key.band_name
    entry["public_key"] = key.public_key
    return entry


def _identifying(slot: TokenSlot) -> dict[str, Any]:
    """A slot's identifying fields, as the requests and the key lists name them."""
    values = {
        "team_id": slot.team_id,
        "shift_date": slot.shift_date,
        "band_id": slot.band_id,
        "week_start": slot.week_start,
    }
    return {"kind": slot.kind.value, **{name: values[name] for name in KIND_FIELDS[slot.kind.value]}}


def _keys_problem(unavailable: KeysUnavailable) -> Any:
    errors = {unavailable.field: [unavailable.detail]} if unavailable.field else None
    return problem(unavailable.status, detail=unavailable.detail, errors=errors, kind=unavailable.kind)


def _cacheable(body: dict[str, Any], schema: Any) -> Any:
    response = current_app.response_class(
        current_app.json.dumps(schema.dump(body)), status=200, mimetype="application/json"
    )
    response.headers["Cache-Control"] = KEYS_CACHE_CONTROL
    return response


@blp.route("/token-keys")
class TeamTokenKeys(MethodView):
    @rating_rate_limited(blp)
    @blp.arguments(TokenKeysQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, TeamKeysSchema, description="Every public key of the team's week, as published to all")
    @blp.alt_response(404, schema=ProblemSchema, description="No such team, or rating is not verified here")
    def get(self, args: dict[str, Any]) -> Any:
        """The public keys of one team's week

        No credential: the same answer for everyone. The rating page checks every token it is issued
        against this list, so that a server cannot single anyone out with keys of their own. This week's
        and next week's keys are published.
        """
        session = db_session(write=True)
        try:
            week, keys = list_team_keys(session, seed_cache(), args["team_id"], args["week"], _clock())
        except KeysUnavailable as unavailable:
            session.rollback()
            return _keys_problem(unavailable)
        session.commit()  # a week's seed is drawn the first time its keys are asked for
        body = {"week_start": week, "team_id": args["team_id"], "keys": [_key_entry(k) for k in keys]}
        return _cacheable(body, TeamKeysSchema())


@blp.route("/token-keys/weeks/<week_start>")
class WeekTokenKeys(MethodView):
    @rating_rate_limited(blp)
    @blp.arguments(WeekPathSchema, location="path")
    @blp.response(200, WeekKeysSchema, description="Every public key of the week, for every team")
    @blp.alt_response(404, schema=ProblemSchema, description="Rating is not verified here")
    def get(self, args: dict[str, Any], week_start: str) -> Any:
        """The public keys of a week, for every team (open data)

        Anyone can fetch this list and compare it with what others were given: every key is published once,
        the same for everyone, before any token is issued with it.
        """
        session = db_session(write=True)
        try:
            keys = list_week_keys(session, seed_cache(), args["week_start"], _clock())
        except KeysUnavailable as unavailable:
            session.rollback()
            return _keys_problem(unavailable)
        session.commit()
        return _cacheable(
            {"week_start": args["week_start"], "keys": [_key_entry(k) for k in keys]}, WeekKeysSchema()
        )


def _slot(data: dict[str, Any]) -> TokenSlot:
    kind = TokenKind(data["kind"])
    if kind == TokenKind.SLOT:
        return TokenSlot.slot(data["team_id"], data["shift_date"], data["band_id"])
    if kind == TokenKind.WEEK:
        return TokenSlot.team_week(data["team_id"], data["week_start"])
    if kind == TokenKind.DAY:
        return TokenSlot.day(data["shift_date"])
    return TokenSlot.org_week(data["week_start"])


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, credential = header.partition(" ")
    return credential.strip() if scheme.lower() == "bearer" and credential.strip() else None


@blp.route("/tokens")
class Tokens(MethodView):
    @rating_rate_limited(blp)
    @blp.arguments(TokensInSchema())
    @blp.response(200, TokensOutSchema, description="The tokens issued, and those refused with their reasons")
    @blp.alt_response(401, schema=ProblemSchema, description="No, unknown or revoked device credential")
    @blp.alt_response(
        403,
        schema=ProblemSchema,
        description="The person is deactivated or on no roster, or rating is not verified here",
    )
    @blp.json_body_problems
    @blp.doc(security=[{"deviceCredential": []}])
    def post(self, data: dict[str, Any]) -> Any:
        """Fetch rating tokens for the coming shifts

        Send the device's credential as `Authorization: Bearer ...` and one blinded element per token:
        a slot token for each shift to rate, and the pseudonyms (team-week, day, organisation week). Each is
        evaluated under its published key, with a proof. Pulse issues at most one token per person per slot,
        ever: the same blinded element sent again is evaluated again (a retry), another one is refused.
        Pulse never sees the tokens themselves, so it cannot tell whose a rating is.
        """
        credential = _bearer()
        if credential is None:
            return _enrolment_needed("Send this phone's credential as Authorization: Bearer ...")
        requests = [TokenRequest(_slot(r), r["blinded"]) for r in data["requests"]]
        session = db_session(write=True)
        try:
            issuance = issue_tokens(session, credential, requests, clock=_clock(), seeds=seed_cache())
        except DeviceRefused as refused:
            session.rollback()
            if refused.reason in (Refusal.UNKNOWN, Refusal.REVOKED):
                return _enrolment_needed(str(refused))
            return problem(403, detail=str(refused), kind=refused.reason.value)
        except VerifiedRatingOff as off:
            session.rollback()
            return problem(403, detail=str(off), kind="verified-rating-off")
        except MalformedBlindedElement as malformed:
            session.rollback()
            return problem(422, errors={malformed.field or "requests": [str(malformed)]})
        session.commit()  # the issuance records, before any token leaves
        return {
            "teams": [
                {"id": t.id, "name": t.name, "department": t.department.name, "join_code": t.join_code}
                for t in issuance.teams
            ],
            "issued": [{**_identifying(i.request.slot), "evaluation": i.evaluation} for i in issuance.issued],
            "refused": [
                {**_identifying(r.request.slot), "reason": r.reason.value, "detail": r.detail}
                for r in issuance.refused
            ],
        }


def _enrolment_needed(detail: str) -> Any:
    return problem(
        401,
        detail=detail,
        kind="enrolment-needed",
        errors={"Authorization": [detail]},
        headers={"WWW-Authenticate": ENROL_CHALLENGE},
        extra={"enrol_url": "/enrol"},
    )

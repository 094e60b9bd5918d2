"""POST /api/v1/ratings (and its reasons), POST /api/v1/kiosk-ratings: parse, record, commit, respond."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Response, current_app
from flask.views import MethodView
from sqlalchemy.orm import Session, sessionmaker

from pulse.api.problems import ProblemBlueprint, problem
from pulse.api.rate_limits import rating_rate_limited
from pulse.api.tokens import seed_cache
from pulse.db import make_session_factory
from pulse.runtime import db_session, runtime
from pulse.schemas.problem import ProblemSchema
from pulse.schemas.ratings import (
    KioskRatingInSchema,
    KioskRatingOutSchema,
    RatingInSchema,
    RatingOutSchema,
    ReasonsInSchema,
    ReasonsOutSchema,
)
from pulse.services.rating import (
    Clock,
    EpochCache,
    KeyCache,
    PostgresRatings,
    RatingPath,
    RatingRefused,
    RatingRequest,
    ReasonsRequest,
    StaleKey,
    add_reasons,
    derive_pepper,
    record_rating,
)
from pulse.services.rating.kiosk import KioskCooldown, KioskRequest, record_kiosk_rating
from pulse.services.tokens.spending import Presented, SlotToken, TokenProof

blp = ProblemBlueprint("ratings", __name__, url_prefix="/api/v1", description="Submit an end-of-shift rating")
T = TypeVar("T")
ENROLMENT_NEEDED = "The problem's `enrol_url` says where to enrol the phone."


def _clock() -> Clock:
    settings = runtime().settings
    return Clock(settings.tz, settings.grace)


@dataclass(frozen=True)
class _Writers:
    """Per app: sessions for ratings and what the rating path keeps (keys, the inbox epoch, and on
    PostgreSQL the direct path, where each rating is one statement, so the sessions autocommit)."""

    sessions: sessionmaker[Session]
    path: RatingPath


def _writers() -> _Writers:
    writers = current_app.extensions.get("pulse.rating_path")
    if writers is None:
        engine = runtime().engine
        keys = KeyCache(pepper=derive_pepper(runtime().settings.secret_key))
        seeds = seed_cache()
        if engine.dialect.name == "postgresql":
            sessions = make_session_factory(engine, write=True, autocommit=True)
            path = RatingPath(keys, EpochCache(), PostgresRatings(engine), seeds=seeds)
            writers = _Writers(sessions, path)
        else:
            path = RatingPath(keys, EpochCache(), seeds=seeds)
            writers = _Writers(make_session_factory(engine, write=True), path)
        current_app.extensions["pulse.rating_path"] = writers
    return writers


def _commit_or_problem(record: Callable[[Any], T], session: Session | None = None) -> T | Response:
    """Run `record` in a writing session: commit what it did, or roll back and answer its refusal."""
    session = session or db_session(write=True)
    try:
        result = record(session)
    except RatingRefused as refused:
        session.rollback()
        errors = {refused.field: [refused.detail]} if refused.field else None
        extra: dict[str, Any] = dict(refused.extra)
        headers: dict[str, str] = dict(refused.headers)
        if isinstance(refused, KioskCooldown):
            extra["retry_after"] = refused.retry_after
            headers["Retry-After"] = str(refused.retry_after)
        return problem(
            refused.status,
            detail=refused.detail,
            errors=errors,
            kind=refused.kind,
            headers=headers,
            extra=extra,
        )
    if session.in_transaction():  # a rating on PostgreSQL has usually not used the session at all
        session.commit()
    return result


def _slot_token(data: dict[str, Any] | None) -> SlotToken | None:
    if data is None:
        return None
    return SlotToken(data["nonce"], data["authenticator"], data["shift_date"], data["band_id"])


def _presented(data: dict[str, Any]) -> Presented:
    return Presented(data["nonce"], data["authenticator"])


def _token_proof(data: dict[str, Any]) -> TokenProof | None:
    """A verified rating's token and pseudonyms (the schema sends all four or none)."""
    token = _slot_token(data["token"])
    if token is None:
        return None
    return TokenProof(
        token,
        _presented(data["week_pseudonym"]),
        _presented(data["day_pseudonym"]),
        _presented(data["orgweek_pseudonym"]),
    )


@blp.route("/ratings")
class Ratings(MethodView):
    @rating_rate_limited(blp)
    @blp.arguments(RatingInSchema())
    @blp.response(
        201,
        RatingOutSchema,
        description="Counted. A retry with the same idempotency key gets this answer again.",
    )
    @blp.alt_response(
        401, schema=ProblemSchema, description=f"Verified team, no token: enrol first. {ENROLMENT_NEEDED}"
    )
    @blp.alt_response(404, schema=ProblemSchema, description="Unknown or replaced join code")
    @blp.alt_response(
        409,
        schema=ProblemSchema,
        description="Already rated this shift (or this token was spent), no shift open, (for a queued "
        "rating) its shift has closed, or (verified) the token is for another shift than the open one "
        "(wrong-slot, with `open_slot`)",
    )
    @blp.json_body_problems
    @blp.alt_response(
        422,
        schema=ProblemSchema,
        description="Invalid fields; a token that fails its check (token-invalid, naming the field); tokens "
        "sent for an open team (tokens-not-used); no device secret for an open team",
    )
    def post(self, data: dict[str, Any]) -> Any:
        """Rate the shift that is ending

        Counts one rating for the team whose join code is given. Only tallies are stored: no time, address,
        device or person. The shift band and date come from the server's clock (less `age_seconds` for a
        rating that waited on a phone while it was offline).

        Open mode: send the device's secret. Verified mode: send instead the shift's rating token (spent
        once) and the three pseudonyms that count distinct raters, all fetched blind from /api/v1/tokens, so
        Pulse cannot tell whose rating it is.
        """
        request = RatingRequest(
            join_code=data["join_code"],
            colour=data["colour"],
            device_secret=data["device_secret"],
            idempotency_key=data["idempotency_key"],
            reason_ids=tuple(data["reasons"]),
            age_seconds=data["age_seconds"],
            tokens=_token_proof(data),
        )
        writers = _writers()

        def record(session: Session) -> Any:
            def attempt() -> Any:
                return record_rating(session, request, now=runtime().now(), clock=_clock(), path=writers.path)

            try:
                return attempt()
            except StaleKey:  # a key this process remembered was purged: forget them all and count afresh
                session.rollback()
                writers.path.keys.clear()
                return attempt()

        with writers.sessions() as session:
            receipt = _commit_or_problem(record, session)
        if isinstance(receipt, Response):
            return receipt
        return {"status": "recorded", "shift_date": receipt.shift_date, "shift_band": receipt.band_name}


@blp.route("/ratings/reasons")
class RatingReasons(MethodView):
    @rating_rate_limited(blp)
    @blp.arguments(ReasonsInSchema())
    @blp.response(200, ReasonsOutSchema, description="The reasons were added to the team's week")
    @blp.alt_response(401, schema=ProblemSchema, description=f"Verified team, no token. {ENROLMENT_NEEDED}")
    @blp.alt_response(404, schema=ProblemSchema, description="Unknown join code, or no such rating")
    @blp.alt_response(
        409, schema=ProblemSchema, description="Reasons already added to this rating, or its shift has closed"
    )
    @blp.alt_response(
        422,
        schema=ProblemSchema,
        description="Invalid fields, a token that fails its check, or tokens sent for an open team",
    )
    @blp.json_body_problems
    def post(self, data: dict[str, Any]) -> Any:
        """Add reasons to a rating just made

        The optional second step after one tap. Send the same join code, device secret (verified mode: the
        same token) and idempotency key as the rating. Reasons are added to the team's week once per
        rating, while its shift is open.
        """
        request = ReasonsRequest(
            join_code=data["join_code"],
            device_secret=data["device_secret"],
            idempotency_key=data["idempotency_key"],
            reason_ids=tuple(data["reasons"]),
            token=_slot_token(data["token"]),
        )
        path = _writers().path
        added = _commit_or_problem(
            lambda session: add_reasons(session, request, now=runtime().now(), clock=_clock(), path=path)
        )
        if isinstance(added, Response):
            return added
        return {"status": "recorded", "reasons": added}


@blp.route("/kiosk-ratings")
class KioskRatings(MethodView):
    @rating_rate_limited(blp)
    @blp.arguments(KioskRatingInSchema())
    @blp.response(201, KioskRatingOutSchema, description="Counted as one person")
    @blp.alt_response(404, schema=ProblemSchema, description="Unknown kiosk, or kiosk mode switched off")
    @blp.alt_response(
        409,
        schema=ProblemSchema,
        description="Too soon after the last tap (see retry_after and Retry-After), this shift's cap "
        "reached, or no shift open",
    )
    @blp.json_body_problems
    def post(self, data: dict[str, Any]) -> Any:
        """Rate a shift on a shared ward tablet

        Kiosk mode: no device secret, each tap counts as one person, with a cooldown between taps and at most
        the team's headcount of ratings per shift band.
        """
        request = KioskRequest(
            kiosk_token=data["kiosk_token"],
            colour=data["colour"],
            idempotency_key=data["idempotency_key"],
            age_seconds=data["age_seconds"],
        )
        settings = runtime().settings
        path = _writers().path

        def record(session: Session) -> Any:
            def attempt() -> Any:
                return record_kiosk_rating(
                    session,
                    request,
                    now=runtime().now(),
                    clock=_clock(),
                    cooldown=settings.kiosk_cooldown_seconds,
                    path=path,
                )

            try:
                return attempt()
            except StaleKey:  # a key this process remembered was purged: forget them all and count afresh
                session.rollback()
                path.keys.clear()
                return attempt()

        out = _commit_or_problem(record)
        if isinstance(out, Response):
            return out
        return {
            "status": "recorded",
            "shift_date": out.rating.shift_date,
            "shift_band": out.rating.band_name,
            "next_tap_in": out.next_tap_in,
        }

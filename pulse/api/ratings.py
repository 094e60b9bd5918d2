"""POST /api/v1/ratings (and its reasons), POST /api/v1/kiosk-ratings: parse, record, commit, respond."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Response, current_app
from flask.views import MethodView
from sqlalchemy.orm import Session, sessionmaker

from pulse.api.problems import ProblemBlueprint, problem
from pulse.api.rate_limits import RETRY_AFTER_HEADER, TOO_MANY, rating_rate_limited
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
from pulse.services.keys import KeyCache
from pulse.services.kiosk import KioskCooldown, KioskRequest, record_kiosk_rating
from pulse.services.rating_reasons import add_reasons
from pulse.services.ratings import (
    Clock,
    RatingRefused,
    RatingRequest,
    ReasonsRequest,
    StaleKey,
    record_rating,
)
from pulse.services.ratings_postgres import PostgresRatings

blp = ProblemBlueprint("ratings", __name__, url_prefix="/api/v1", description="Submit an end-of-shift rating")
T = TypeVar("T")


def _clock() -> Clock:
    settings = runtime().settings
    return Clock(settings.tz, dt.timedelta(minutes=settings.grace_minutes))


@dataclass(frozen=True)
class _RatingPath:
    """Per app: sessions for ratings, the keys seen, and on PostgreSQL the direct path (where each rating is
    one statement, so the sessions autocommit)."""

    sessions: sessionmaker[Session]
    key_cache: KeyCache
    postgres: PostgresRatings | None


def _rating_path() -> _RatingPath:
    path = current_app.extensions.get("pulse.rating_path")
    if path is None:
        engine = runtime().engine
        if engine.dialect.name == "postgresql":
            sessions = make_session_factory(engine, write=True, autocommit=True)
            path = _RatingPath(sessions, KeyCache(), PostgresRatings(engine))
        else:
            path = _RatingPath(make_session_factory(engine, write=True), KeyCache(), None)
        current_app.extensions["pulse.rating_path"] = path
    return path


def _commit_or_problem(record: Callable[[Any], T], session: Session | None = None) -> T | Response:
    """Run `record` in a writing session: commit what it did, or roll back and answer its refusal."""
    session = session or db_session(write=True)
    try:
        result = record(session)
    except RatingRefused as refused:
        session.rollback()
        errors = {refused.field: [refused.detail]} if refused.field else None
        extra: dict[str, Any] = {}
        headers: dict[str, str] = {}
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


@blp.route("/ratings")
class Ratings(MethodView):
    @rating_rate_limited
    @blp.arguments(RatingInSchema())
    @blp.response(
        201,
        RatingOutSchema,
        description="Counted. A retry with the same idempotency key gets this answer again.",
    )
    @blp.alt_response(404, schema=ProblemSchema, description="Unknown or replaced join code")
    @blp.alt_response(
        409,
        schema=ProblemSchema,
        description="Already rated this shift, no shift open, or (for a queued rating) its shift has closed",
    )
    @blp.alt_response(413, schema=ProblemSchema, description="Body too large")
    @blp.alt_response(415, schema=ProblemSchema, description="Not JSON")
    @blp.alt_response(429, schema=ProblemSchema, description=TOO_MANY, headers=RETRY_AFTER_HEADER)
    def post(self, data: dict[str, Any]) -> Any:
        """Rate the shift that is ending

        Counts one rating for the team whose join code is given. Only tallies are stored: no time, address,
        device or person. The shift band and date come from the server's clock (less `age_seconds` for a
        rating that waited on a phone while it was offline).
        """
        request = RatingRequest(
            join_code=data["join_code"],
            colour=data["colour"],
            device_secret=data["device_secret"],
            idempotency_key=data["idempotency_key"],
            reason_ids=tuple(data["reasons"]),
            age_seconds=data["age_seconds"],
        )
        path = _rating_path()

        def record(session: Session) -> Any:
            def attempt() -> Any:
                return record_rating(
                    session,
                    request,
                    now=runtime().now(),
                    clock=_clock(),
                    key_cache=path.key_cache,
                    postgres=path.postgres,
                )

            try:
                return attempt()
            except StaleKey:  # a key this process remembered was purged: forget them all and count afresh
                session.rollback()
                path.key_cache.clear()
                return attempt()

        with path.sessions() as session:
            receipt = _commit_or_problem(record, session)
        if isinstance(receipt, Response):
            return receipt
        return {"status": "recorded", "shift_date": receipt.shift_date, "shift_band": receipt.band_name}


@blp.route("/ratings/reasons")
class RatingReasons(MethodView):
    @rating_rate_limited
    @blp.arguments(ReasonsInSchema())
    @blp.response(200, ReasonsOutSchema, description="The reasons were added to the team's week")
    @blp.alt_response(404, schema=ProblemSchema, description="Unknown join code, or no such rating")
    @blp.alt_response(
        409, schema=ProblemSchema, description="Reasons already added to this rating, or its shift has closed"
    )
    @blp.alt_response(413, schema=ProblemSchema, description="Body too large")
    @blp.alt_response(415, schema=ProblemSchema, description="Not JSON")
    @blp.alt_response(429, schema=ProblemSchema, description=TOO_MANY, headers=RETRY_AFTER_HEADER)
    def post(self, data: dict[str, Any]) -> Any:
        """Add reasons to a rating just made

        The optional second step after one tap. Send the same join code, device secret and idempotency key
        as the rating. Reasons are added to the team's week once per rating, while its shift is open.
        """
        request = ReasonsRequest(
            join_code=data["join_code"],
            device_secret=data["device_secret"],
            idempotency_key=data["idempotency_key"],
            reason_ids=tuple(data["reasons"]),
        )
        added = _commit_or_problem(
            lambda session: add_reasons(session, request, now=runtime().now(), clock=_clock())
        )
        if isinstance(added, Response):
            return added
        return {"status": "recorded", "reasons": added}


@blp.route("/kiosk-ratings")
class KioskRatings(MethodView):
    @rating_rate_limited
    @blp.arguments(KioskRatingInSchema())
    @blp.response(201, KioskRatingOutSchema, description="Counted as one person")
    @blp.alt_response(404, schema=ProblemSchema, description="Unknown kiosk, or kiosk mode switched off")
    @blp.alt_response(
        409,
        schema=ProblemSchema,
        description="Too soon after the last tap (see retry_after and Retry-After), this shift's cap "
        "reached, or no shift open",
    )
    @blp.alt_response(413, schema=ProblemSchema, description="Body too large")
    @blp.alt_response(415, schema=ProblemSchema, description="Not JSON")
    @blp.alt_response(429, schema=ProblemSchema, description=TOO_MANY, headers=RETRY_AFTER_HEADER)
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
        out = _commit_or_problem(
            lambda session: record_kiosk_rating(
                session,
                request,
                now=runtime().now(),
                clock=_clock(),
                cooldown=settings.kiosk_cooldown_seconds,
            )
        )
        if isinstance(out, Response):
            return out
        return {
            "status": "recorded",
            "shift_date": out.rating.shift_date,
            "shift_band": out.rating.band_name,
            "next_tap_in": out.next_tap_in,
        }

"""POST /api/v1/ratings: parse, record, commit, respond."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from pulse.api.problems import problem
from pulse.runtime import db_session, runtime
from pulse.schemas.problem import ProblemSchema
from pulse.schemas.ratings import RatingInSchema, RatingOutSchema
from pulse.services.ratings import Clock, RatingRefused, RatingRequest, record_rating

blp = Blueprint(
    "ratings", __name__, url_prefix="/api/v1/ratings", description="Submit an end-of-shift rating"
)


@blp.route("")
class Ratings(MethodView):
    @blp.arguments(RatingInSchema)
    @blp.response(
        201,
        RatingOutSchema,
        description="Counted. A retry with the same idempotency key gets this answer again.",
    )
    @blp.alt_response(404, schema=ProblemSchema, description="Unknown or replaced join code")
    @blp.alt_response(409, schema=ProblemSchema, description="Already rated this shift, or no shift open")
    @blp.alt_response(413, schema=ProblemSchema, description="Body too large")
    @blp.alt_response(415, schema=ProblemSchema, description="Not JSON")
    def post(self, data: dict[str, Any]) -> Any:
        """Rate the shift that is ending

        Counts one rating for the team whose join code is given. Only tallies are stored: no time, address,
        device or person. The shift band and date come from the server's clock.
        """
        rt = runtime()
        session = db_session(write=True)
        request = RatingRequest(
            join_code=data["join_code"],
            colour=data["colour"],
            device_secret=data["device_secret"],
            idempotency_key=data["idempotency_key"],
            reason_ids=tuple(data["reasons"]),
        )
        clock = Clock(rt.settings.tz, dt.timedelta(minutes=rt.settings.grace_minutes))
        try:
            receipt = record_rating(session, request, now=rt.now(), clock=clock)
        except RatingRefused as refused:
            session.rollback()
            errors = {refused.field: [refused.detail]} if refused.field else None
            return problem(refused.status, detail=refused.detail, errors=errors, kind=refused.kind)
        session.commit()
        return {"status": "recorded", "shift_date": receipt.shift_date, "shift_band": receipt.band_name}

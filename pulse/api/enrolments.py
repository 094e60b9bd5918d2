"""POST /api/v1/enrolments: a personal enrolment code in, a device credential out (once)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from pulse.api.problems import ProblemBlueprint, Refused
from pulse.api.rate_limits import rating_rate_limited
from pulse.runtime import db_session, runtime
from pulse.schemas.enrolments import EnrolmentInSchema, EnrolmentOutSchema
from pulse.schemas.problem import ProblemSchema
from pulse.services.accounts.roster import EnrolmentRefused, redeem_code

blp = ProblemBlueprint(
    "enrolments", __name__, url_prefix="/api/v1", description="Enrol a device for verified rating"
)


@blp.route("/enrolments")
class Enrolments(MethodView):
    @rating_rate_limited(blp)
    @blp.arguments(EnrolmentInSchema())
    @blp.response(201, EnrolmentOutSchema, description="Enrolled; the credential is never shown again")
    @blp.alt_response(
        403, schema=ProblemSchema, description="The person is deactivated or on no team's roster"
    )
    @blp.alt_response(404, schema=ProblemSchema, description="No such enrolment code")
    @blp.alt_response(409, schema=ProblemSchema, description="The code has been used")
    @blp.alt_response(410, schema=ProblemSchema, description="The code has expired or been cancelled")
    @blp.json_body_problems
    def post(self, data: dict[str, Any]) -> Any:
        """Enrol this device with a personal enrolment code

        The code works once, until it expires. The answer holds the device's credential, with which it
        fetches anonymous rating tokens for the teams listed. Pulse knows the device is this person's; the
        tokens it fetches are blinded, so no rating can be linked to it.
        """
        rt = runtime()
        session = db_session(write=True)
        try:
            enrolment = redeem_code(session, data["code"], now=rt.now().astimezone(rt.settings.tz))
        except EnrolmentRefused as refused:
            session.rollback()
            raise Refused(
                refused.status,
                detail=refused.message,
                errors={refused.field: [refused.message]},
                kind=refused.kind,
            ) from refused
        session.commit()
        return enrolment

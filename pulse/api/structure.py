"""Read API for the organisation structure: departments, teams, shift bands, reason tags."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE

from pulse.api.problems import problem
from pulse.runtime import db_session
from pulse.schemas.problem import ProblemSchema
from pulse.schemas.structure import (
    ID_IN_PATH,
    DepartmentSchema,
    ReasonTagSchema,
    ShiftBandSchema,
    TeamQuerySchema,
    TeamSchema,
)
from pulse.services import structure

blp = Blueprint("structure", __name__, url_prefix="/api/v1", description="The organisation structure")


def _not_found(what: str, field: str, value: int) -> Any:
    return problem(
        404, detail=f"There is no {what} with id {value}.", errors={field: [f"No {what} with id {value}."]}
    )


@blp.route("/departments")
class Departments(MethodView):
    @blp.response(200, DepartmentSchema(many=True))
    def get(self) -> Any:
        """Active departments, each with its active teams"""
        return structure.list_departments(db_session())


@blp.route(f"/departments/<{ID_IN_PATH}:department_id>")
class DepartmentById(MethodView):
    @blp.response(200, DepartmentSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, department_id: int) -> Any:
        """One department with its active teams"""
        department = structure.get_department(db_session(), department_id)
        return (
            department if department is not None else _not_found("department", "department_id", department_id)
        )


@blp.route("/teams")
class Teams(MethodView):
    @blp.arguments(
        TeamQuerySchema, location="query", unknown=RAISE
    )  # a typo must not silently widen the list
    @blp.response(200, TeamSchema(many=True))
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, query: dict[str, Any]) -> Any:
        """Active teams, optionally of one department"""
        session = db_session()
        department_id = query.get("department_id")
        if department_id is not None and structure.get_department(session, department_id) is None:
            return _not_found("department", "department_id", department_id)
        return structure.list_teams(session, department_id=department_id)


@blp.route(f"/teams/<{ID_IN_PATH}:team_id>")
class TeamById(MethodView):
    @blp.response(200, TeamSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, team_id: int) -> Any:
        """One team"""
        team = structure.get_team(db_session(), team_id)
        return team if team is not None else _not_found("team", "team_id", team_id)


@blp.route("/shift-bands")
class ShiftBands(MethodView):
    @blp.response(200, ShiftBandSchema(many=True))
    def get(self) -> Any:
        """The shift bands, in local time; a band whose end is before its start runs past midnight"""
        return structure.list_shift_bands(db_session())


@blp.route("/reason-tags")
class ReasonTags(MethodView):
    @blp.response(200, ReasonTagSchema(many=True))
    def get(self) -> Any:
        """Reason tags staff may attach to a rating"""
        return structure.list_reason_tags(db_session())

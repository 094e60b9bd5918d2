"""Read API for the organisation structure: departments, teams, shift bands, reason tags."""

from __future__ import annotations

from typing import Any, TypeVar

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE

from pulse.api.problems import Refused
from pulse.models import Department, Team
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
from pulse.services.accounts.roster import team_headcounts

U = TypeVar("U", Department, Team)
blp = Blueprint("structure", __name__, url_prefix="/api/v1", description="The organisation structure")


def _teams(teams: list[Team]) -> list[dict[str, Any]]:
    """Teams as the API shows them: the headcount is the roster size in verified mode."""
    headcounts = team_headcounts(db_session(), teams)
    return [
        {
            "id": t.id,
            "name": t.name,
            "department_id": t.department_id,
            "headcount": headcounts[t.id],
            "active": t.active,
        }
        for t in teams
    ]


def _department(department: Department) -> dict[str, Any]:
    return {
        "id": department.id,
        "name": department.name,
        "active": department.active,
        "teams": _teams(department.active_teams),
    }


def _found(unit: U | None, what: str, unit_id: int) -> U:
    """`unit`, or a 404 naming the field (`<what>_id`) whose id found nothing."""
    if unit is None:
        raise Refused(
            404,
            detail=f"There is no {what} with id {unit_id}.",
            errors={f"{what}_id": [f"No {what} with id {unit_id}."]},
        )
    return unit


@blp.route("/departments")
class Departments(MethodView):
    @blp.response(200, DepartmentSchema(many=True))
    def get(self) -> Any:
        """Active departments, each with its active teams"""
        return [_department(d) for d in structure.list_departments(db_session())]


@blp.route(f"/departments/<{ID_IN_PATH}:department_id>")
class DepartmentById(MethodView):
    @blp.response(200, DepartmentSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, department_id: int) -> Any:
        """One department with its active teams"""
        session = db_session()
        department = _found(structure.get_department(session, department_id), "department", department_id)
        return _department(department)


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
        if department_id is not None:
            _found(structure.get_department(session, department_id), "department", department_id)
        return _teams(structure.list_teams(session, department_id=department_id))


@blp.route(f"/teams/<{ID_IN_PATH}:team_id>")
class TeamById(MethodView):
    @blp.response(200, TeamSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, team_id: int) -> Any:
        """One team"""
        team = _found(structure.get_team(db_session(), team_id), "team", team_id)
        return _teams([team])[0]


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

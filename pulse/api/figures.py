"""Read API for published figures: weekly series, the organisation's days, reasons, and the open-data export.

Every answer comes from pulse.published. Before answering, weeks that have closed since the last request are
published (pulse.runtime.published_session), so figures appear as soon as they are due without a scheduler.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

from flask import Response, json, stream_with_context
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE, Schema

from pulse import published
from pulse.api.problems import Refused
from pulse.csvfile import csv_chunks
from pulse.models.published import Level
from pulse.runtime import current_k, published_session, take_today_steps
from pulse.schemas.figures import (
    EXPORT_COLUMNS,
    DayFiguresSchema,
    DepartmentWeeksSchema,
    ExportRowSchema,
    TodayFiguresSchema,
    WeekFiguresSchema,
    WeekRangeSchema,
    WeekReasonsSchema,
)
from pulse.schemas.problem import ProblemSchema
from pulse.schemas.structure import ID_IN_PATH
from pulse.services import structure

blp = Blueprint(
    "figures",
    __name__,
    url_prefix="/api/v1/figures",
    description="Published figures: whole ISO weeks only; hidden and empty cells look the same (null)",
)
DEFAULT_WEEKS = 52
FIRST_MONDAY = dt.date(1, 1, 1)  # the earliest date there is, and a Monday
UNIT_LEVELS = {"departments": Level.DEPARTMENT, "teams": Level.TEAM}
UNIT_PATH = f"/<any(departments, teams):kind>/<{ID_IN_PATH}:unit_id>"  # a department's or team's figures


def _json(data: Any) -> Response:
    """The figures as JSON, as the documented schemas describe them.

    pulse.published returns exactly the documented fields as plain values, so they are encoded directly:
    running marshmallow over a year of days cost more than reading them.
    """
    return Response(json.dumps(data, default=dt.date.isoformat), mimetype="application/json")


def _range(session: Any, query: dict[str, Any]) -> tuple[dt.date, dt.date]:
    """The whole weeks asked for; by default the latest DEFAULT_WEEKS published."""
    last = query.get("to")
    if last is None:
        latest = published.latest_week(session) or FIRST_MONDAY
        last = latest + dt.timedelta(days=6)
    span = dt.timedelta(days=7 * DEFAULT_WEEKS - 1)
    first = query.get("from_") or (last - span if last - FIRST_MONDAY > span else FIRST_MONDAY)
    return first, last


def _unknown_unit(kind: str, unit_id: int) -> Refused:
    field = f"{kind[:-1]}_id"
    return Refused(
        404, detail=f"There is no {kind[:-1]} with id {unit_id}.", errors={field: [f"Unknown {kind[:-1]}."]}
    )


def _over_weeks(
    schema: type[Schema], unit: bool = False
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A GET of published figures: the weeks asked for in the query (by default the latest DEFAULT_WEEKS), a
    list of `schema` in answer, and for a department or team a problem when there is no such unit."""

    def document(get: Callable[..., Any]) -> Callable[..., Any]:
        if unit:
            get = blp.alt_response(404, schema=ProblemSchema)(get)
        get = blp.response(200, schema(many=True))(get)
        return blp.arguments(WeekRangeSchema, location="query", unknown=RAISE)(get)

    return document


def _answer(
    read: Callable[..., Any], query: dict[str, Any], kind: str | None = None, unit_id: int = 0
) -> Any:
    """Publish what is due, check the unit, read its figures for the weeks asked for, answer in JSON."""
    session = published_session()
    if kind is None:
        level = Level.ORGANISATION
    else:
        level = UNIT_LEVELS[kind]
        lookup = structure.get_team if level == Level.TEAM else structure.get_department
        if lookup(session, unit_id) is None and not published.unit_is_known(session, level, unit_id):
            raise _unknown_unit(kind, unit_id)
    return _json(read(session, level, unit_id, *_range(session, query)))


@blp.route("/organisation/weeks")
class OrganisationWeeks(MethodView):
    @_over_weeks(WeekFiguresSchema)
    def get(self, query: dict[str, Any]) -> Any:
        """The organisation's weekly figures"""
        return _answer(published.weekly_series, query)


@blp.route("/departments/weeks")
class DepartmentsWeeks(MethodView):
    @_over_weeks(DepartmentWeeksSchema)
    def get(self, query: dict[str, Any]) -> Any:
        """Every department's weekly figures, as published each week

        One answer for the organisation's overview: each department published in the weeks asked for (by
        default the latest 52), with the same series as /departments/{id}/weeks.
        """
        session = published_session()
        return _json(published.departments_weekly_series(session, *_range(session, query)))


@blp.route(f"{UNIT_PATH}/weeks")
class UnitWeeks(MethodView):
    @_over_weeks(WeekFiguresSchema, unit=True)
    def get(self, query: dict[str, Any], kind: str, unit_id: int) -> Any:
        """A department's or team's weekly figures, as published each week"""
        return _answer(published.weekly_series, query, kind, unit_id)


@blp.route("/organisation/days")
class OrganisationDays(MethodView):
    @_over_weeks(DayFiguresSchema)
    def get(self, query: dict[str, Any]) -> Any:
        """The organisation by shift date and shift band (published with each week)"""
        session = published_session()
        return _json(published.daily_series(session, *_range(session, query)))


@blp.route("/organisation/today")
class OrganisationToday(MethodView):
    @blp.response(200, TodayFiguresSchema)
    def get(self) -> Any:
        """Today so far, across the organisation: it moves only in steps of at least k new people"""
        session = published_session()
        day = take_today_steps()
        return _json(published.today_figures(session, day, current_k(session)))


@blp.route("/organisation/reasons")
class OrganisationReasons(MethodView):
    @_over_weeks(WeekReasonsSchema)
    def get(self, query: dict[str, Any]) -> Any:
        """How many ratings named each reason tag, per week, across the organisation"""
        return _answer(published.reason_counts, query)


@blp.route(f"{UNIT_PATH}/reasons")
class UnitReasons(MethodView):
    @_over_weeks(WeekReasonsSchema, unit=True)
    def get(self, query: dict[str, Any], kind: str, unit_id: int) -> Any:
        """How many ratings named each reason tag, per week, for a department or team"""
        return _answer(published.reason_counts, query, kind, unit_id)


def _export_json() -> Iterator[str]:
    yield "["
    session = published_session()
    for i, row in enumerate(published.iter_export_rows(session, current_k(session))):
        yield ("," if i else "") + json.dumps(row, default=dt.date.isoformat)
    yield "]"


def _export_csv() -> Iterator[str]:
    session = published_session()
    rows = published.iter_export_rows(session, current_k(session))
    return csv_chunks(rows, EXPORT_COLUMNS, every=published.EXPORT_BATCH)


@blp.route("/export.json")
class ExportJson(MethodView):
    @blp.response(200, ExportRowSchema(many=True))
    def get(self) -> Any:
        """Every published figure as open data (what the dashboard shows, and nothing more)"""
        # Streamed, not built in memory: three years of a large trust is hundreds of thousands of rows.
        return Response(stream_with_context(_export_json()), mimetype="application/json")


@blp.route("/export.csv")
class ExportCsv(MethodView):
    @blp.response(200, description="The same rows as export.json, as CSV", content_type="text/csv")
    def get(self) -> Any:
        """Every published figure as CSV"""
        return Response(
            stream_with_context(_export_csv()),
            mimetype="text/csv",
            headers={"Content-Disposition": 'attachment; filename="pulse-published-figures.csv"'},
        )

"""Hidden looks exactly like empty for retired units too (docs/anonymity.md A26; issue 17, 5(b)).

A team, its department and a shift band are retired (through the admin area) after two ratings in their
last week, or after none. Whether they hold ratings must not show: every output has the same rows for them,
with the same nulls, either way.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session

from pulse.db import Base
from pulse.models import Department, ShiftBand, Team
from pulse.services import accounts, structure
from pulse.services.accounts import Role
from tests.admin.conftest import PASSWORD, post, quick_password_hashing, sign_in  # noqa: F401 - a fixture
from tests.conftest import LONDON, FakeClock, open_inbox
from tests.factories import make_org, mix, rating_body

WEEK = dt.date(2026, 11, 16)
RANGE = {"from": WEEK.isoformat(), "to": (WEEK + dt.timedelta(days=6)).isoformat()}
RETIRED = {"Old Ward", "Old Wing", "Twilight"}


def run(app: Flask, session: Session, clock: FakeClock, ratings: int) -> dict[str, Any]:
    """A week in which the retiring team rates `ratings` times in the retiring band, published; every output
    with ids replaced by names, so that two runs compare."""
    session.rollback()
    with app.extensions["pulse"].engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
    open_inbox(app)
    org = make_org(session)
    wing = structure.add_department(session, "Old Wing")
    ward = structure.add_team(session, wing, "Old Ward", 20)
    twilight = structure.add_shift_band(session, "Twilight", dt.time(9, 0), dt.time(12, 0))
    accounts.create_user(session, email="admin@example.nhs.uk", name="A", role=Role.ADMIN, password=PASSWORD)
    session.commit()
    ids = {"team": {}, "department": {}, "shift": {}}
    for team in session.query(Team):
        ids["team"][team.id] = team.name
    for department in session.query(Department):
        ids["department"][department.id] = department.name
    for band in session.query(ShiftBand):
        ids["shift"][band.id] = band.name
    session.rollback()

    client = app.test_client()
    clock.set(dt.datetime(2026, 11, 18, 10, 0, tzinfo=LONDON))  # Twilight is open, and ends first
    for _ in range(ratings):
        assert (
            client.post("/api/v1/ratings", json=rating_body(ward.join_code, "red")).json["shift_band"]
            == "Twilight"
        )
    clock.set(dt.datetime(2026, 11, 18, 14, 40, tzinfo=LONDON))  # Early
    for _ in range(6):
        assert client.post("/api/v1/ratings", json=rating_body(org.team.join_code)).status_code == 201
    mix(app)

    admin = app.test_client()
    sign_in(admin, "admin@example.nhs.uk")
    retire_team = {"name": "Old Ward", "headcount": "20", "active": "false"}
    assert post(admin, f"/admin/teams/{ward.id}", **retire_team).status_code == 303
    assert post(admin, f"/admin/departments/{wing.id}", name="Old Wing", active="false").status_code == 303
    assert post(admin, f"/admin/shift-bands/{twilight.id}/retire").status_code == 303

    clock.set(dt.datetime(2026, 11, 24, 12, 0, tzinfo=LONDON))  # the next Tuesday: the week has closed
    figures = "/api/v1/figures"
    return {
        "export.json": [named(row, ids) for row in client.get(f"{figures}/export.json").get_json()],
        "export.csv": [
            named(row, ids)
            for row in csv.DictReader(io.StringIO(client.get(f"{figures}/export.csv").get_data(as_text=True)))
        ],
        "days": [
            {**day, "bands": [{k: v for k, v in b.items() if k != "band_id"} for b in day["bands"]]}
            for day in client.get(f"{figures}/organisation/days", query_string=RANGE).get_json()
        ],
        "departments": [
            {k: v for k, v in d.items() if k != "department_id"}
            for d in client.get(f"{figures}/departments/weeks", query_string=RANGE).get_json()
        ],
        "team": client.get(f"{figures}/teams/{ward.id}/weeks", query_string=RANGE).get_json(),
        "department": client.get(f"{figures}/departments/{wing.id}/weeks", query_string=RANGE).get_json(),
        "band": twilight.id,
    }


def named(row: dict[str, Any], ids: dict[str, dict[int, str]]) -> dict[str, Any]:
    """An export row with its unit and parent ids replaced by names (the ids differ from run to run)."""
    level = row["level"]
    unit = int(row["unit_id"]) if row["unit_id"] not in ("", None) else None
    parent = int(row["parent_id"]) if row["parent_id"] not in ("", None) else None
    names = ids.get("shift" if level in ("shift",) else level, {})
    return {
        **row,
        "unit_id": names.get(unit, unit) if unit else unit,
        "parent_id": ids["department"].get(parent, parent) if parent else parent,
    }


def retired_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if r["unit_id"] in RETIRED or r["name"] in RETIRED]


def shape(rows: list[dict[str, Any]]) -> list[tuple]:
    """Which rows there are: table, level, unit and period, whatever their figures."""
    return sorted((r["table"], r["level"], str(r["unit_id"]), str(r["period"])) for r in rows)


def test_a_retired_team_department_and_band_look_the_same_with_two_ratings_or_none(
    app: Flask, session: Session, clock: FakeClock
) -> None:
    rated = run(app, session, clock, ratings=2)
    empty = run(app, session, clock, ratings=0)

    for export in ("export.json", "export.csv"):
        assert retired_rows(rated[export]) == retired_rows(empty[export]), export
        assert shape(rated[export]) == shape(empty[export]), export
    assert {r["unit_id"] for r in retired_rows(rated["export.json"])} == RETIRED, "shown alike, not left out"
    assert all(r["ratings"] is None for r in retired_rows(rated["export.json"]))

    def twilight(days: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
        return [[b for b in day["bands"] if b["band"] == "Twilight"] for day in days]

    assert twilight(rated["days"]) == twilight(empty["days"])
    assert [[b["band"] for b in d["bands"]] for d in rated["days"]] == [
        [b["band"] for b in d["bands"]] for d in empty["days"]
    ]
    assert [d["name"] for d in rated["departments"]] == [d["name"] for d in empty["departments"]]
    assert [d for d in rated["departments"] if d["name"] == "Old Wing"] == [
        d for d in empty["departments"] if d["name"] == "Old Wing"
    ]
    assert rated["team"] == empty["team"]
    assert rated["department"] == empty["department"]
